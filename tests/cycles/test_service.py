import asyncio
import uuid
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.cycles import service
from service.cycles.schemas import CycleCreate, CycleUpdate
from service.errors import CycleDetected, DomainError, ErrorCode, Invalid, NotFound
from service.models import Cycle, Event
from tests.factories import create_cycle, create_org
from tests.real_transactions import committed_org, wait_for_lock_waiters

YEAR = (date(2027, 1, 1), date(2027, 12, 31))
Q1 = (date(2027, 1, 1), date(2027, 3, 31))


async def row_counts(session: AsyncSession) -> tuple[int, int]:
    cycles = await session.scalar(select(func.count()).select_from(Cycle))
    events = await session.scalar(select(func.count()).select_from(Event))
    return int(cycles or 0), int(events or 0)


async def events_about(session: AsyncSession, subject_id: uuid.UUID) -> list[tuple[str, Any]]:
    result = await session.execute(
        select(Event.type, Event.payload).where(Event.subject_id == subject_id).order_by(Event.seq)
    )
    return [(type_, payload) for type_, payload in result.all()]


async def test_create_a_quarter_inside_its_year_emits_cycle_created(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    year = await create_cycle(session, org, name="2027", starts_on=YEAR[0], ends_on=YEAR[1])

    # when
    quarter = await service.create_cycle(
        session,
        org.id,
        CycleCreate(name=" 2027-Q1 ", starts_on=Q1[0], ends_on=Q1[1], parent_cycle_id=year.id),
    )

    # then
    assert (quarter.name, quarter.parent_cycle_id) == ("2027-Q1", year.id)
    assert await events_about(session, quarter.id) == [
        (
            "cycle.created",
            {
                "id": str(quarter.id),
                "name": "2027-Q1",
                "starts_on": "2027-01-01",
                "ends_on": "2027-03-31",
                "parent_cycle_id": str(year.id),
                "archived_at": None,
            },
        )
    ]


@pytest.mark.parametrize("name", ["", "   ", "c" * 101])
async def test_create_refuses_a_name_out_of_bounds(session: AsyncSession, name: str) -> None:
    org = await create_org(session)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_cycle(
            session, org.id, CycleCreate(name=name, starts_on=Q1[0], ends_on=Q1[1])
        )

    assert error.value.field == "name"
    assert await row_counts(session) == before


async def test_create_input_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        CycleCreate.model_validate(
            {"name": "Q", "starts_on": "2027-01-01", "ends_on": "2027-01-02", "state": "open"}
        )


async def test_ends_on_before_starts_on_is_refused(session: AsyncSession) -> None:
    org = await create_org(session)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_cycle(
            session,
            org.id,
            CycleCreate(name="Backwards", starts_on=date(2027, 2, 1), ends_on=date(2027, 1, 31)),
        )

    assert error.value.field == "ends_on"
    assert await row_counts(session) == before


async def test_a_one_day_cycle_is_allowed(session: AsyncSession) -> None:
    org = await create_org(session)

    cycle = await service.create_cycle(
        session,
        org.id,
        CycleCreate(name="Launch day", starts_on=date(2027, 5, 4), ends_on=date(2027, 5, 4)),
    )

    assert cycle.starts_on == cycle.ends_on


async def test_a_name_taken_in_the_org_is_a_duplicate(session: AsyncSession) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    await create_cycle(session, org, name="2027-Q1")
    await create_cycle(session, other_org, name="2027-Q2")
    before = await row_counts(session)

    # when / then
    with pytest.raises(DomainError) as error:
        await service.create_cycle(
            session, org.id, CycleCreate(name="2027-Q1", starts_on=Q1[0], ends_on=Q1[1])
        )
    assert (error.value.code, error.value.field) == (ErrorCode.DUPLICATE, "name")
    assert await row_counts(session) == before
    # and a name taken only in another org is free
    await service.create_cycle(
        session, org.id, CycleCreate(name="2027-Q2", starts_on=Q1[0], ends_on=Q1[1])
    )


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field"),
    [
        (date(2026, 12, 31), date(2027, 3, 31), "starts_on"),
        (date(2027, 10, 1), date(2028, 1, 1), "ends_on"),
    ],
)
async def test_a_child_outside_its_parents_dates_is_refused(
    session: AsyncSession, starts_on: date, ends_on: date, field: str
) -> None:
    org = await create_org(session)
    year = await create_cycle(session, org, starts_on=YEAR[0], ends_on=YEAR[1])
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_cycle(
            session,
            org.id,
            CycleCreate(name="Q", starts_on=starts_on, ends_on=ends_on, parent_cycle_id=year.id),
        )

    assert (error.value.code, error.value.field) == (ErrorCode.OUT_OF_RANGE, field)
    assert await row_counts(session) == before


@pytest.mark.parametrize("whose", ["unknown", "another org"])
async def test_a_parent_outside_the_org_is_not_found(session: AsyncSession, whose: str) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    parent_id = (
        uuid.uuid4()
        if whose == "unknown"
        else (await create_cycle(session, other_org, starts_on=YEAR[0], ends_on=YEAR[1])).id
    )
    mine = await create_cycle(session, org, starts_on=Q1[0], ends_on=Q1[1])
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound) as create_error:
        await service.create_cycle(
            session,
            org.id,
            CycleCreate(name="Q", starts_on=Q1[0], ends_on=Q1[1], parent_cycle_id=parent_id),
        )
    with pytest.raises(NotFound) as update_error:
        await service.update_cycle(session, org.id, mine.id, CycleUpdate(parent_cycle_id=parent_id))
    assert create_error.value.field == update_error.value.field == "parent_cycle_id"
    await session.refresh(mine)
    assert mine.parent_cycle_id is None
    assert await row_counts(session) == before


async def test_an_archived_parent_takes_no_new_children(session: AsyncSession) -> None:
    org = await create_org(session)
    year = await create_cycle(session, org, starts_on=YEAR[0], ends_on=YEAR[1])
    await service.archive_cycle(session, org.id, year.id)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_cycle(
            session,
            org.id,
            CycleCreate(name="Q", starts_on=Q1[0], ends_on=Q1[1], parent_cycle_id=year.id),
        )

    assert error.value.code is ErrorCode.INVALID_STATE
    assert await row_counts(session) == before


async def test_a_cycle_cannot_be_its_own_parent(session: AsyncSession) -> None:
    org = await create_org(session)
    cycle = await create_cycle(session, org)
    before = await row_counts(session)

    with pytest.raises(CycleDetected) as error:
        await service.update_cycle(session, org.id, cycle.id, CycleUpdate(parent_cycle_id=cycle.id))

    assert error.value.field == "parent_cycle_id"
    assert await row_counts(session) == before


async def test_a_cycle_cannot_move_under_its_own_descendant(session: AsyncSession) -> None:
    # given: two cycles with the same dates, the second inside the first
    org = await create_org(session)
    outer = await create_cycle(session, org, name="FY", starts_on=YEAR[0], ends_on=YEAR[1])
    inner = await create_cycle(
        session, org, name="2027", starts_on=YEAR[0], ends_on=YEAR[1], parent_cycle_id=outer.id
    )
    before = await row_counts(session)

    # when / then: the dates fit, the loop does not
    with pytest.raises(CycleDetected) as error:
        await service.update_cycle(session, org.id, outer.id, CycleUpdate(parent_cycle_id=inner.id))
    assert error.value.field == "parent_cycle_id"
    await session.refresh(outer)
    assert outer.parent_cycle_id is None
    assert await row_counts(session) == before


async def test_a_parent_cannot_shrink_away_from_its_children(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    year = await create_cycle(session, org, starts_on=YEAR[0], ends_on=YEAR[1])
    await create_cycle(
        session,
        org,
        starts_on=date(2027, 10, 1),
        ends_on=date(2027, 12, 31),
        parent_cycle_id=year.id,
    )
    before = await row_counts(session)

    # when / then
    with pytest.raises(Invalid) as error:
        await service.update_cycle(
            session, org.id, year.id, CycleUpdate(ends_on=date(2027, 11, 30))
        )
    assert (error.value.code, error.value.field) == (ErrorCode.OUT_OF_RANGE, "ends_on")
    await session.refresh(year)
    assert year.ends_on == YEAR[1]
    assert await row_counts(session) == before


async def test_update_moves_dates_inside_the_parent_and_emits(session: AsyncSession) -> None:
    org = await create_org(session)
    year = await create_cycle(session, org, starts_on=YEAR[0], ends_on=YEAR[1])
    quarter = await create_cycle(
        session, org, starts_on=Q1[0], ends_on=Q1[1], parent_cycle_id=year.id
    )

    updated = await service.update_cycle(
        session,
        org.id,
        quarter.id,
        CycleUpdate(starts_on=date(2027, 4, 1), ends_on=date(2027, 6, 30)),
    )

    assert (updated.starts_on, updated.ends_on) == (date(2027, 4, 1), date(2027, 6, 30))
    events = await events_about(session, quarter.id)
    assert [e[0] for e in events] == ["cycle.updated"]
    assert events[0][1]["starts_on"] == "2027-04-01"


async def test_update_dates_that_cross_each_other_are_refused(session: AsyncSession) -> None:
    org = await create_org(session)
    cycle = await create_cycle(session, org, starts_on=Q1[0], ends_on=Q1[1])

    with pytest.raises(Invalid) as error:
        await service.update_cycle(
            session, org.id, cycle.id, CycleUpdate(starts_on=date(2027, 4, 1))
        )

    assert error.value.field == "ends_on"
    await session.refresh(cycle)
    assert cycle.starts_on == Q1[0]


async def test_renaming_onto_another_cycles_name_is_a_duplicate(session: AsyncSession) -> None:
    org = await create_org(session)
    await create_cycle(session, org, name="Taken")
    cycle = await create_cycle(session, org, name="Mine")

    with pytest.raises(DomainError) as error:
        await service.update_cycle(session, org.id, cycle.id, CycleUpdate(name="Taken"))

    assert error.value.code is ErrorCode.DUPLICATE
    await session.refresh(cycle)
    assert cycle.name == "Mine"


async def test_detaching_from_the_parent_works(session: AsyncSession) -> None:
    org = await create_org(session)
    year = await create_cycle(session, org, starts_on=YEAR[0], ends_on=YEAR[1])
    quarter = await create_cycle(
        session, org, starts_on=Q1[0], ends_on=Q1[1], parent_cycle_id=year.id
    )

    updated = await service.update_cycle(
        session, org.id, quarter.id, CycleUpdate(parent_cycle_id=None)
    )

    assert updated.parent_cycle_id is None


async def test_another_orgs_cycle_is_not_found_for_every_operation(session: AsyncSession) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    theirs = await create_cycle(session, other_org, name="Theirs")
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound):
        await service.get_cycle(session, org.id, theirs.id)
    with pytest.raises(NotFound):
        await service.update_cycle(session, org.id, theirs.id, CycleUpdate(name="Mine"))
    with pytest.raises(NotFound):
        await service.archive_cycle(session, org.id, theirs.id)
    await session.refresh(theirs)
    assert (theirs.name, theirs.archived_at) == ("Theirs", None)
    assert await row_counts(session) == before


async def test_archive_marks_the_cycle_once_and_emits_once(session: AsyncSession) -> None:
    org = await create_org(session)
    cycle = await create_cycle(session, org)

    archived_at = (await service.archive_cycle(session, org.id, cycle.id)).archived_at
    again = await service.archive_cycle(session, org.id, cycle.id)

    assert archived_at is not None
    assert again.archived_at == archived_at
    assert [e[0] for e in await events_about(session, cycle.id)] == ["cycle.archived"]


async def test_a_lost_race_on_the_name_is_reported_as_duplicate(engine: AsyncEngine) -> None:
    """Both transactions pass the pre-check; the unique constraint decides, with the same error."""
    async with committed_org(engine) as (sessions, org), sessions() as first, sessions() as second:
        # given: the first has written the name but not committed
        await service.create_cycle(
            first, org.id, CycleCreate(name="2027-Q1", starts_on=Q1[0], ends_on=Q1[1])
        )

        # when: the second writes the same name and waits on the constraint
        attempt = asyncio.create_task(
            service.create_cycle(
                second, org.id, CycleCreate(name="2027-Q1", starts_on=Q1[0], ends_on=Q1[1])
            )
        )
        await wait_for_lock_waiters(engine, attempt)
        await first.commit()

        # then
        with pytest.raises(DomainError) as error:
            await attempt
        assert (error.value.code, error.value.field) == (ErrorCode.DUPLICATE, "name")
        await second.rollback()


async def test_concurrent_opposite_moves_cannot_make_a_loop(engine: AsyncEngine) -> None:
    """Two same-dated cycles moved under each other at once: the advisory lock lets one through."""
    async with committed_org(engine) as (sessions, org):
        # given
        async with sessions() as setup:
            a = await create_cycle(setup, org, name="A", starts_on=YEAR[0], ends_on=YEAR[1])
            b = await create_cycle(setup, org, name="B", starts_on=YEAR[0], ends_on=YEAR[1])
            await setup.commit()

        async with sessions() as first, sessions() as second:
            # when: the first moves A under B and keeps its transaction open ...
            await service.update_cycle(first, org.id, a.id, CycleUpdate(parent_cycle_id=b.id))
            # ... while the second tries B under A and must wait for the lock
            attempt = asyncio.create_task(
                service.update_cycle(second, org.id, b.id, CycleUpdate(parent_cycle_id=a.id))
            )
            await wait_for_lock_waiters(engine, attempt)
            await first.commit()

            # then
            with pytest.raises(CycleDetected):
                await attempt
            await second.rollback()

        async with sessions() as check:
            rows = await check.execute(
                select(Cycle.id, Cycle.parent_cycle_id).where(Cycle.org_id == org.id)
            )
            assert dict(rows.all()) == {a.id: b.id, b.id: None}
