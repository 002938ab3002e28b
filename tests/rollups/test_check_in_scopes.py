"""The latest check-ins of a large scope (one hash join) are those of a small scope (one
index probe per key result): same rows whatever the size that picks the statement. Likewise
a roll-up's key results, check-ins, metric windows and commitments (one statement for a
subtree, `subtree_scope`; separate statements that hash-join for a large scope)."""

from datetime import UTC, date, datetime, timedelta

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
    # given an objective with a child in its cycle and one in the next cycle, manual,
    # milestone and metric key results (two on one metric, in both cycles: windows of two
    # lengths), check-ins (one retracted, one after t), points, and commitments (one
    # supporting key results of both children)
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    later = await factories.create_cycle(
        session, org, starts_on=date(2027, 2, 1), ends_on=date(2027, 4, 30)
    )
    owner = await factories.create_person(session, org)
    parent = await factories.create_objective(session, org, cycle, rollup_mode="both")
    child = await factories.create_objective(session, org, cycle)
    next_child = await factories.create_objective(session, org, later)
    await factories.create_alignment(session, child, parent, weight=2.0)
    await factories.create_alignment(session, next_child, parent)
    metric = await factories.create_metric(session, org, aggregation="last")
    manual = await factories.create_key_result(session, parent)
    milestone = await factories.create_key_result(session, child, measure="milestone")
    on_metric = await factories.create_key_result(
        session, child, measure="metric", metric_id=metric.id
    )
    on_metric_later = await factories.create_key_result(
        session, next_child, measure="metric", metric_id=metric.id, target_value=20.0
    )
    day = START + timedelta(days=3)
    await factories.create_check_in(session, manual, day, value=30.0)
    retracted = await factories.create_check_in(session, manual, day, value=90.0)
    retracted.retracted_at = day + timedelta(days=1)
    await factories.create_check_in(session, manual, T + timedelta(days=1), value=70.0)
    await factories.create_check_in(session, milestone, day + timedelta(days=2), done=True)
    await factories.create_point(session, metric, day, 40.0, {"region": "eu"})
    await factories.create_point(session, metric, day, 5.0, {"region": "us"})
    await factories.create_point(session, metric, START + timedelta(days=35), 8.0)
    await factories.create_commitment(session, owner, [manual, on_metric])
    await factories.create_commitment(
        session, owner, [milestone], state="done", done_at=day, due_on=day.date()
    )
    await factories.create_commitment(session, owner, [on_metric, on_metric_later])
    await session.flush()

    # when rolled up with the statement of a subtree, and with the statements of a large
    # scope
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
    assert rollup.delivery.committed == 3 and rollup.delivery.delivered == 1
    children = sorted([child.id, next_child.id], key=lambda id: id.int)
    assert [item.id for item in rollup.breakdown] == [manual.id, *children]
    progress = {item.id: item.progress for item in rollup.breakdown}
    # `last`: each series' latest point, summed: over [Jan 1, Feb 15) 40 + 5 + 8 of 100,
    # over [Feb 1, Feb 15) the point of Feb 5 alone, 8 of 20
    expected = {manual.id: 0.3, child.id: (1 + 0.53) / 2, next_child.id: 0.4}
    assert progress == pytest.approx(expected)
