"""`key_result.status_changed` is written by every write that moves a key result's status
(check-ins, key-result edits, moves, cycle dates), in the write's transaction, exactly once,
and never by a write that leaves the status where it was. Ingested points are announced by
the worker's recheck after the commit (more in `test_recheck.py`)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.check_ins import service as check_ins
from service.check_ins.schemas import CheckInCreate
from service.cycles import service as cycles
from service.cycles.schemas import CycleUpdate
from service.errors import DomainError, Invalid
from service.key_results import service as key_results
from service.key_results.schemas import KeyResultUpdate
from service.models import Cycle, Event, KeyResult, Organization
from service.objectives import service as objectives
from service.objectives.schemas import ObjectiveUpdate
from service.organizations.schemas import OrganizationUpdate
from service.organizations.service import update_organization
from service.points.service import ingest
from service.rollups.service import key_result_rollups
from service.statuses import tracker
from service.statuses.recheck import announce_ingested
from tests import factories
from tests.conftest import StatementCounter

STATUS_CHANGED = "key_result.status_changed"
TODAY = datetime.now(UTC).date()


async def running_cycle(session: AsyncSession, org: Organization, *, days_left: int = 50) -> Cycle:
    """A cycle 50 days in: expected progress about 0.5 (0.9 with `days_left=5`)."""
    return await factories.create_cycle(
        session,
        org,
        starts_on=TODAY - timedelta(days=50),
        ends_on=TODAY + timedelta(days=days_left - 1),
    )


async def new_key_result(
    session: AsyncSession, org: Organization, cycle: Cycle | None = None, **fields: Any
) -> KeyResult:
    """An increase key result from 0 to 100 in a running cycle (pace about 0.5)."""
    cycle = cycle or await running_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    return await factories.create_key_result(session, objective, **fields)


async def last_seq(session: AsyncSession, org: Organization) -> int:
    seqs = await session.scalars(select(Event.seq).where(Event.org_id == org.id))
    return max(seqs, default=0)


async def status_changes(
    session: AsyncSession, org: Organization, after: int = 0
) -> list[tuple[uuid.UUID | None, str, str]]:
    """(key result, before, after) of the status events written after seq `after`."""
    events = await session.scalars(
        select(Event)
        .where(Event.org_id == org.id, Event.type == STATUS_CHANGED, Event.seq > after)
        .order_by(Event.seq)
    )
    return [(e.subject_id, e.payload["before"], e.payload["after"]) for e in events]


async def _status(session: AsyncSession, org: Organization, key_result: KeyResult) -> str:
    rollups = await key_result_rollups(session, org.id, [key_result.id])
    return rollups[key_result.id].status.value


def check_in(value: float) -> CheckInCreate:
    return CheckInCreate(value=value)


# Check-ins -------------------------------------------------------------------------------------


async def test_a_check_in_that_moves_the_status_announces_it_once(session: AsyncSession) -> None:
    # given a key result without data
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    # when a check-in puts it on pace
    created = await check_ins.create_check_in(session, org.id, key_result.id, check_in(50.0))

    # then one event from no_data to on_track, written after the check-in's own event
    assert await status_changes(session, org) == [(key_result.id, "no_data", "on_track")]
    types = await session.scalars(
        select(Event.type).where(Event.org_id == org.id).order_by(Event.seq)
    )
    assert list(types) == ["check_in.created", STATUS_CHANGED]
    [event] = await session.scalars(select(Event).where(Event.type == STATUS_CHANGED))
    assert event.payload["objective_id"] == str(key_result.objective_id)
    assert event.payload["cause"] == "write"
    assert created.value == 50.0


async def test_a_check_in_that_keeps_the_status_announces_nothing(session: AsyncSession) -> None:
    # given a key result on track
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(session, key_result, value=50.0)

    # when a new check-in keeps it on track
    await check_ins.create_check_in(session, org.id, key_result.id, check_in(60.0))

    # then no status event
    assert await status_changes(session, org) == []


async def test_each_check_in_that_moves_the_status_announces_its_own_change(
    session: AsyncSession,
) -> None:
    # given a key result on track
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(
        session, key_result, value=50.0, observed_at=datetime.now(UTC) - timedelta(hours=1)
    )

    # when it falls behind, recovers to at risk, then reaches its target
    for value in (10.0, 30.0, 100.0):
        await check_ins.create_check_in(session, org.id, key_result.id, check_in(value))

    # then one event per move, each from the previous status
    assert await status_changes(session, org) == [
        (key_result.id, "on_track", "off_track"),
        (key_result.id, "off_track", "at_risk"),
        (key_result.id, "at_risk", "done"),
    ]


async def test_a_refused_check_in_announces_nothing(session: AsyncSession) -> None:
    # given an archived key result without data
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org, state="archived")

    # when a check-in is refused
    with pytest.raises(DomainError):
        await check_ins.create_check_in(session, org.id, key_result.id, check_in(50.0))

    # then nothing is announced
    assert await status_changes(session, org) == []


async def test_a_rolled_back_check_in_takes_its_status_event_with_it(
    session: AsyncSession,
) -> None:
    # given a key result without data
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    # when a check-in that moves the status is rolled back with its transaction
    savepoint = await session.begin_nested()
    await check_ins.create_check_in(session, org.id, key_result.id, check_in(50.0))
    assert len(await status_changes(session, org)) == 1
    await savepoint.rollback()

    # then the status event is gone with it
    assert await status_changes(session, org) == []


async def test_retracting_the_latest_check_in_announces_the_status_it_falls_back_to(
    session: AsyncSession,
) -> None:
    # given a key result on track, then behind after a later check-in
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(
        session, key_result, value=50.0, observed_at=datetime.now(UTC) - timedelta(hours=2)
    )
    latest = await factories.create_check_in(
        session, key_result, value=10.0, observed_at=datetime.now(UTC) - timedelta(hours=1)
    )

    # when the later check-in is retracted
    await check_ins.retract_check_in(session, org.id, latest.id)

    # then it is on track again
    assert await status_changes(session, org) == [(key_result.id, "off_track", "on_track")]


async def test_retracting_a_superseded_check_in_announces_nothing(session: AsyncSession) -> None:
    # given an old check-in superseded by a newer one
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    old = await factories.create_check_in(
        session, key_result, value=10.0, observed_at=datetime.now(UTC) - timedelta(hours=2)
    )
    await factories.create_check_in(
        session, key_result, value=50.0, observed_at=datetime.now(UTC) - timedelta(hours=1)
    )

    # when the old one is retracted, and a retraction is refused
    await check_ins.retract_check_in(session, org.id, old.id)
    with pytest.raises(DomainError):
        await check_ins.retract_check_in(session, org.id, old.id)

    # then nothing is announced
    assert await status_changes(session, org) == []


# Key-result edits ------------------------------------------------------------------------------


async def test_a_key_result_edit_that_moves_the_status_announces_it(session: AsyncSession) -> None:
    # given a key result half way, on pace
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(session, key_result, value=50.0)

    # when its target comes down to its value
    await key_results.update_key_result(
        session, org.id, key_result.id, KeyResultUpdate(target_value=50.0)
    )

    # then it is done
    assert await status_changes(session, org) == [(key_result.id, "on_track", "done")]


@pytest.mark.parametrize(
    "update",
    [
        KeyResultUpdate(title="Renamed"),
        KeyResultUpdate(weight=3.0),
        KeyResultUpdate(target_value=90.0),
    ],
    ids=["title", "weight", "target that keeps the pace"],
)
async def test_a_key_result_edit_that_keeps_the_status_announces_nothing(
    session: AsyncSession, update: KeyResultUpdate
) -> None:
    # given a key result on track
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(session, key_result, value=50.0)

    # when an edit keeps it on track
    await key_results.update_key_result(session, org.id, key_result.id, update)

    # then the edit is announced, its status is not
    assert await status_changes(session, org) == []
    assert await last_seq(session, org) > 0


async def test_a_refused_key_result_edit_announces_nothing(session: AsyncSession) -> None:
    # given a key result on track
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(session, key_result, value=50.0)

    # when an edit that would make it done is refused (target equal to start)
    with pytest.raises(Invalid):
        await key_results.update_key_result(
            session, org.id, key_result.id, KeyResultUpdate(start_value=50.0, target_value=50.0)
        )

    # then nothing is written
    assert await status_changes(session, org) == []
    assert await last_seq(session, org) == 0


async def test_changing_the_measure_announces_the_new_status(session: AsyncSession) -> None:
    # given a manual key result on track, and a metric without points
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(session, key_result, value=50.0)
    metric = await factories.create_metric(session, org)

    # when it is measured on the metric instead
    await key_results.update_key_result(
        session,
        org.id,
        key_result.id,
        KeyResultUpdate(measure="metric", metric_id=metric.id),
    )

    # then its status follows the metric's (empty) value
    [(subject, before, after)] = await status_changes(session, org)
    assert (subject, before) == (key_result.id, "on_track")
    assert after != "on_track"


async def test_archiving_and_unarchiving_announce_only_real_moves(session: AsyncSession) -> None:
    # given a key result on track
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(session, key_result, value=50.0)
    rollup_before = await _status(session, org, key_result)

    # when it is archived then unarchived
    await key_results.archive_key_result(session, org.id, key_result.id)
    archived = await _status(session, org, key_result)
    await key_results.unarchive_key_result(session, org.id, key_result.id)

    # then an event exists exactly when the engine's status moved, and comes back on unarchive
    expected = (
        []
        if archived == rollup_before
        else [
            (key_result.id, rollup_before, archived),
            (key_result.id, archived, rollup_before),
        ]
    )
    assert await status_changes(session, org) == expected
    assert await _status(session, org, key_result) == "on_track"


async def test_moving_a_key_result_to_a_cycle_near_its_end_announces_the_new_pace(
    session: AsyncSession,
) -> None:
    # given a key result half way, on pace, and an objective in a cycle almost over
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    await factories.create_check_in(session, key_result, value=50.0)
    late = await factories.create_objective(
        session, org, await running_cycle(session, org, days_left=5)
    )
    same_pace = await factories.create_objective(session, org, await running_cycle(session, org))

    # when it moves to an objective of the same pace, then to the late one
    await key_results.move_key_result(session, org.id, key_result.id, same_pace.id)
    moved_same = await status_changes(session, org)
    await key_results.move_key_result(session, org.id, key_result.id, late.id)

    # then only the second move is announced
    assert moved_same == []
    assert await status_changes(session, org) == [(key_result.id, "on_track", "at_risk")]


# Cycles and objectives -------------------------------------------------------------------------


async def test_new_cycle_dates_announce_the_key_results_whose_pace_moved(
    session: AsyncSession,
) -> None:
    # given a cycle with a key result on pace, one done, and one in another cycle
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    on_pace = await new_key_result(session, org, cycle)
    await factories.create_check_in(session, on_pace, value=50.0)
    done = await new_key_result(session, org, cycle)
    await factories.create_check_in(session, done, value=100.0)
    elsewhere = await new_key_result(session, org)
    await factories.create_check_in(session, elsewhere, value=50.0)

    # when the cycle is renamed, then shortened to end in 5 days
    await cycles.update_cycle(session, org.id, cycle.id, CycleUpdate(name="Renamed"))
    renamed = await status_changes(session, org)
    await cycles.update_cycle(
        session, org.id, cycle.id, CycleUpdate(ends_on=TODAY + timedelta(days=4))
    )

    # then only the shortening is announced, for the key result whose status moved
    assert renamed == []
    assert await status_changes(session, org) == [(on_pace.id, "on_track", "at_risk")]


async def test_refused_cycle_dates_announce_nothing(session: AsyncSession) -> None:
    # given a cycle with a key result on pace
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    key_result = await new_key_result(session, org, cycle)
    await factories.create_check_in(session, key_result, value=50.0)

    # when dates ending before the start are refused
    with pytest.raises(Invalid):
        await cycles.update_cycle(
            session, org.id, cycle.id, CycleUpdate(ends_on=cycle.starts_on - timedelta(days=1))
        )

    # then nothing is announced
    assert await status_changes(session, org) == []


async def test_moving_an_objective_to_another_cycle_announces_its_key_results(
    session: AsyncSession,
) -> None:
    # given an objective with a key result on pace, and a cycle that starts next year
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    key_result = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, key_result, value=10.0)
    future = await factories.create_cycle(
        session,
        org,
        starts_on=date(TODAY.year + 1, 1, 1),
        ends_on=date(TODAY.year + 1, 3, 31),
    )

    # when the objective is retitled, then moved to the future cycle (no pace yet)
    await objectives.update_objective(session, org.id, objective.id, ObjectiveUpdate(title="New"))
    retitled = await status_changes(session, org)
    await objectives.update_objective(
        session, org.id, objective.id, ObjectiveUpdate(cycle_id=future.id)
    )

    # then only the move is announced: from behind to on track
    assert retitled == []
    assert await status_changes(session, org) == [(key_result.id, "off_track", "on_track")]


async def test_new_thresholds_announce_the_key_results_whose_status_they_move(
    session: AsyncSession,
) -> None:
    # given a key result at about 0.6 of its pace (at risk), one on pace, one archived
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    behind = await new_key_result(session, org, cycle)
    await factories.create_check_in(session, behind, value=30.0)
    on_pace = await new_key_result(session, org, cycle)
    await factories.create_check_in(session, on_pace, value=50.0)
    archived = await new_key_result(session, org, cycle, state="archived")
    await factories.create_check_in(session, archived, value=30.0)

    # when the organization is renamed, thresholds are refused, then on-track drops to 0.5
    await update_organization(session, org.id, OrganizationUpdate(name="Renamed"))
    with pytest.raises(DomainError):
        await update_organization(session, org.id, OrganizationUpdate(at_risk_ratio=0.9))
    unmoved = await status_changes(session, org)
    await update_organization(session, org.id, OrganizationUpdate(on_track_ratio=0.5))

    # then only the active key result the new ratio moves is announced
    assert unmoved == []
    assert await status_changes(session, org) == [(behind.id, "at_risk", "on_track")]


# Ingestion -------------------------------------------------------------------------------------


def points(key: str, values: list[float], start: datetime) -> list[dict[str, Any]]:
    return [
        {"metric": key, "ts": (start + timedelta(minutes=i)).isoformat(), "value": value}
        for i, value in enumerate(values)
    ]


async def test_ingested_points_announce_the_key_results_they_move(session: AsyncSession) -> None:
    # given two key results on a sum metric (targets 100 and 1000), and one on another metric
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    metric = await factories.create_metric(session, org, key="revenue", aggregation="sum")
    other = await factories.create_metric(session, org, key="other", aggregation="sum")
    small = await new_key_result(session, org, cycle, measure="metric", metric_id=metric.id)
    large = await new_key_result(
        session, org, cycle, measure="metric", metric_id=metric.id, target_value=1000.0
    )
    third = await new_key_result(session, org, cycle, measure="metric", metric_id=other.id)
    # (stored first statuses, as `key_results.create_key_result` stores them)
    await tracker.observe(session, org.id, [small.id, large.id, third.id])
    start = datetime.now(UTC) - timedelta(days=1)
    await ingest(session, org.id, points("revenue", [10.0] * 5, start))
    await announce_ingested(session)
    first = await status_changes(session, org)
    seq = await last_seq(session, org)

    # when a batch brings the sum to 100, then a batch keeps both where they are (each
    # followed by the worker's recheck)
    await ingest(session, org.id, points("revenue", [10.0] * 5, start + timedelta(hours=1)))
    await announce_ingested(session)
    second = await status_changes(session, org, seq)
    seq = await last_seq(session, org)
    await ingest(session, org.id, points("revenue", [1.0], start + timedelta(hours=2)))
    await announce_ingested(session)

    # then each batch announced exactly the moves it caused
    assert {(subject, after) for subject, _, after in first} == {
        (small.id, "on_track"),
        (large.id, "off_track"),
    }
    assert len(first) == 2
    assert second == [(small.id, "on_track", "done")]
    assert await status_changes(session, org, seq) == []


async def test_a_rejected_batch_announces_nothing(session: AsyncSession) -> None:
    # given a key result on a metric
    org = await factories.create_org(session)
    metric = await factories.create_metric(session, org, key="revenue", aggregation="sum")
    await new_key_result(session, org, measure="metric", metric_id=metric.id)

    # when a batch with one bad point is refused
    batch = points("revenue", [50.0], datetime.now(UTC) - timedelta(hours=1))
    batch.append({"metric": "revenue", "ts": "not a time", "value": 1.0})
    with pytest.raises(DomainError):
        await ingest(session, org.id, batch)

    # then nothing is written
    assert await last_seq(session, org) == 0


async def batch_statements(
    session: AsyncSession, statements: StatementCounter, key_results: int
) -> tuple[int, int]:
    """Statements to ingest one batch that would move every one of `key_results` key results
    on the metric, and the status events it wrote (none: the worker's recheck announces)."""
    org = await factories.create_org(session)
    cycle = await running_cycle(session, org)
    metric = await factories.create_metric(session, org, key="revenue", aggregation="sum")
    for _ in range(key_results):
        await new_key_result(session, org, cycle, measure="metric", metric_id=metric.id)
    batch = points("revenue", [1.0] * 100, datetime.now(UTC) - timedelta(days=1))
    statements.reset()
    await ingest(session, org.id, batch)
    return statements.count, len(await status_changes(session, org))


async def test_ingestion_statements_do_not_grow_with_the_key_results_on_the_metric(
    session: AsyncSession, statements: StatementCounter
) -> None:
    # given metrics with 1 and with 30 key results measured on them
    # when a batch moves every one of them
    one, one_events = await batch_statements(session, statements, 1)
    many, many_events = await batch_statements(session, statements, 30)

    # then the same statements, none reading a key result: ingestion announces nothing
    # itself (`test_recheck.py` counts the recheck's statements)
    assert (one_events, many_events) == (0, 0)
    assert many == one, statements.statements
    assert not any("key_results" in sql for sql in statements.statements), statements.statements
