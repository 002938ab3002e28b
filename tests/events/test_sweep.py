"""The daily sweep, key-result status announcements and the event catalog."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import outbox
from service.events import catalog
from service.models import Delivery, Event, WebhookEndpoint
from service.statuses import tracker
from service.worker.sweep import sweep_organization
from tests import factories


async def events_of(session: AsyncSession, org_id: object, type: str) -> list[Event]:
    result = await session.execute(
        select(Event).where(Event.org_id == org_id, Event.type == type).order_by(Event.seq)
    )
    return list(result.scalars())


async def test_the_sweep_announces_overdue_commitments_once_per_day(session: AsyncSession) -> None:
    # given an open commitment due yesterday, a done one, and one due today
    org = await factories.create_org(session)
    owner = await factories.create_person(session, org)
    late = await factories.create_commitment(session, owner, due_on=date(2027, 2, 14))
    await factories.create_commitment(session, owner, due_on=date(2027, 2, 15))
    await factories.create_commitment(
        session,
        owner,
        due_on=date(2027, 2, 14),
        state="done",
        done_at=datetime(2027, 2, 14, tzinfo=UTC),
    )
    now = datetime(2027, 2, 15, 6, tzinfo=UTC)

    # when the sweep runs twice that day
    first = await sweep_organization(session, org.id, now)
    second = await sweep_organization(session, org.id, now)

    # then one commitment.overdue for the late one, and the second run did nothing
    assert (first, second) == (True, False)
    [overdue] = await events_of(session, org.id, "commitment.overdue")
    assert overdue.subject_id == late.id
    assert overdue.payload["overdue_since"] == "2027-02-15"
    assert len(await events_of(session, org.id, catalog.MARKER)) == 1


async def test_a_check_in_that_changes_a_status_is_announced_with_before_and_after(
    session: AsyncSession,
) -> None:
    # given a manual key result with no data in a running cycle
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(
        session, org, starts_on=date(2020, 1, 1), ends_on=date(2099, 12, 31)
    )
    objective = await factories.create_objective(session, org, cycle)
    key_result = await factories.create_key_result(session, objective)
    before = await tracker.snapshot(session, org.id, [key_result.id])

    # when a check-in reaches the target
    await factories.create_check_in(session, key_result, value=100.0)
    events = await tracker.announce_changes(session, org.id, before)

    # then one status_changed event goes from no_data to done; nothing when unchanged
    [event] = events
    assert event.type == "key_result.status_changed"
    assert (event.payload["before"], event.payload["after"]) == ("no_data", "done")
    assert event.payload["objective_id"] == str(objective.id)
    again = await tracker.announce_changes(
        session, org.id, await tracker.snapshot(session, org.id, [key_result.id])
    )
    assert again == []


async def test_the_sweep_announces_a_status_changed_by_the_passing_of_time(
    session: AsyncSession,
) -> None:
    # given a key result half done early in its cycle (on track), swept then
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(
        session, org, starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31)
    )
    objective = await factories.create_objective(session, org, cycle)
    key_result = await factories.create_key_result(session, objective)
    await factories.create_check_in(
        session, key_result, observed_at=datetime(2027, 1, 10, tzinfo=UTC), value=50.0
    )
    await sweep_organization(session, org.id, datetime(2027, 1, 20, tzinfo=UTC))

    # when the next sweep runs near the end of the cycle, with no new data
    await sweep_organization(session, org.id, datetime(2027, 3, 25, tzinfo=UTC))

    # then the pace alone moved it to at_risk, announced once with cause "sweep"
    [event] = await events_of(session, org.id, "key_result.status_changed")
    assert event.subject_id == key_result.id
    assert (event.payload["before"], event.payload["after"]) == ("on_track", "at_risk")
    assert event.payload["cause"] == "sweep"


async def test_the_sweep_deletes_finished_deliveries_past_the_retention(
    session: AsyncSession,
) -> None:
    # given three deliveries: finished 40 days ago, pending 40 days ago, finished yesterday
    org = await factories.create_org(session)
    session.add(
        WebhookEndpoint(
            org_id=org.id,
            url="http://127.0.0.1/h",
            secret="whsec_x",
            event_types=["objective.created"],
        )
    )
    await session.flush()
    now = datetime(2027, 3, 1, tzinfo=UTC)
    ages = {
        "old_done": (40, "succeeded"),
        "old_pending": (40, "pending"),
        "recent_done": (1, "failed"),
    }
    ids = {}
    for name, (days, state) in ages.items():
        event = await outbox.emit(session, org.id, "objective.created", None, {"name": name})
        delivery = (
            await session.execute(select(Delivery).where(Delivery.event_id == event.id))
        ).scalar_one()
        delivery.status = state
        delivery.created_at = now - timedelta(days=days)
        ids[name] = delivery.id
    await session.flush()

    # when the sweep runs with a 30-day retention
    await sweep_organization(session, org.id, now, log_retention_days=30)

    # then only the old finished delivery is gone
    left = (await session.execute(select(Delivery.id).where(Delivery.org_id == org.id))).scalars()
    assert set(left) == {ids["old_pending"], ids["recent_done"]}
