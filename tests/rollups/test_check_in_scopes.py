"""The latest check-ins of a large scope (one hash join) are those of a small scope (one
index probe per key result): same rows whatever the size that picks the statement. Likewise
a roll-up's key results with their check-ins (one statement for a subtree, two for a large
scope) and its commitments (index probes or one hash join)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.rollups import (
    HistoryPoint,
    Interval,
    ObjectiveRollup,
    objective_history,
    objective_rollup,
    repository,
)
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


async def test_small_and_large_scope_statements_give_the_same_rollups(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an objective with a child, manual, milestone and metric key results, check-ins
    # (one retracted, one after t), points and commitments
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    owner = await factories.create_person(session, org)
    parent = await factories.create_objective(session, org, cycle, rollup_mode="both")
    child = await factories.create_objective(session, org, cycle)
    await factories.create_alignment(session, child, parent, weight=2.0)
    metric = await factories.create_metric(session, org, aggregation="last")
    manual = await factories.create_key_result(session, parent)
    milestone = await factories.create_key_result(session, child, measure="milestone")
    on_metric = await factories.create_key_result(
        session, child, measure="metric", metric_id=metric.id
    )
    day = START + timedelta(days=3)
    await factories.create_check_in(session, manual, day, value=30.0)
    retracted = await factories.create_check_in(session, manual, day, value=90.0)
    retracted.retracted_at = day + timedelta(days=1)
    await factories.create_check_in(session, manual, T + timedelta(days=1), value=70.0)
    await factories.create_check_in(session, milestone, day + timedelta(days=2), done=True)
    await factories.create_point(session, metric, day, 40.0, {"region": "eu"})
    await factories.create_point(session, metric, day, 5.0, {"region": "us"})
    await factories.create_commitment(session, owner, [manual, on_metric])
    await factories.create_commitment(
        session, owner, [milestone], state="done", done_at=day, due_on=day.date()
    )
    await session.flush()

    # when rolled up with the statements of a small scope and of a large one
    async def rollups() -> tuple[ObjectiveRollup, list[HistoryPoint[ObjectiveRollup]]]:
        return (
            await objective_rollup(session, org.id, parent.id, as_of=T),
            await objective_history(
                session, org.id, parent.id, start=START, end=CYCLE_END, interval=Interval.week
            ),
        )

    small = await rollups()
    for name in ("WIDE_OBJECTIVE_SCOPE", "WIDE_CHECK_IN_SCOPE", "WIDE_COMMITMENT_SCOPE"):
        monkeypatch.setattr(repository, name, 1)
    large = await rollups()

    # then the answers are the same, and read every source
    assert large == small
    rollup = small[0]
    assert rollup.delivery.committed == 2 and rollup.delivery.delivered == 1
    assert [item.progress for item in rollup.breakdown] == pytest.approx([0.3, (1 + 0.45) / 2])
