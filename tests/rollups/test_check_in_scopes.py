"""The latest check-ins of a large scope (one hash join) are those of a small scope (one
index probe per key result): same rows whatever the size that picks the statement."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.rollups import repository
from service.rollups.snapshot import CheckInRow
from tests import factories

START = datetime(2027, 1, 1, tzinfo=UTC)
CYCLE_END = datetime(2027, 4, 1, tzinfo=UTC)
T = datetime(2027, 2, 15, tzinfo=UTC)


async def test_wide_and_narrow_latest_check_ins_agree(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given key results with ties on observed_at, a retracted check-in, one observed after t,
    # one after the cycle end, a confidence-only check-in and milestones
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    manual = await factories.create_key_result(session, objective)
    milestone = await factories.create_key_result(session, objective, measure="milestone")
    silent = await factories.create_key_result(session, objective)
    day = START + timedelta(days=3)
    await factories.create_check_in(session, manual, day, value=10.0, recorded_at=day)
    await factories.create_check_in(
        session, manual, day, value=20.0, recorded_at=day + timedelta(hours=1)
    )
    retracted = await factories.create_check_in(
        session, manual, day + timedelta(days=1), value=99.0
    )
    retracted.retracted_at = day + timedelta(days=2)
    await factories.create_check_in(session, manual, T + timedelta(days=1), value=77.0)
    await factories.create_check_in(session, milestone, day, done=True)
    await factories.create_check_in(session, milestone, day + timedelta(days=2), done=False)
    await factories.create_check_in(session, milestone, CYCLE_END, done=True)
    await session.flush()
    scope = [
        (manual.id, "value"),
        (milestone.id, "done"),
        (silent.id, "value"),
    ]

    # when each statement is asked at t and after the cycle's end
    async def latest(until: datetime) -> list[CheckInRow]:
        return await repository.check_ins(
            session, org.id, scope, until, latest_only=True, confidence=False
        )

    after_end = CYCLE_END + timedelta(days=1)
    narrow = [await latest(T), await latest(after_end)]
    monkeypatch.setattr(repository, "WIDE_CHECK_IN_SCOPE", 1)
    wide = [await latest(T), await latest(after_end)]

    # then they agree, and pick the right rows (a check-in at the cycle's end counts once
    # t has reached it)
    assert wide == narrow
    at_t = {row.key_result_id: row for row in wide[0]}
    at_end = {row.key_result_id: row for row in wide[1]}
    assert set(at_t) == set(at_end) == {manual.id, milestone.id}
    assert (at_t[manual.id].value, at_t[milestone.id].done) == (20.0, False)
    assert (at_end[manual.id].value, at_end[milestone.id].done) == (77.0, True)
