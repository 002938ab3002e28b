"""SPEC §3 worked examples, each computed by the engine against a real database.

Cycle 2027-01-01..2027-03-31 is [Jan 1, Apr 1): 90 days, so Feb 15 00:00Z is e = 0.5.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Invalid, NotFound
from service.rollups import (
    Interval,
    ItemKind,
    ScoreBand,
    Status,
    Window,
    aligned_to_north_star,
    alignment_paths,
    cycle_history,
    cycle_rollup,
    key_result_history,
    key_result_rollup,
    metric_components,
    metric_history,
    metric_rollup,
    metric_series,
    metric_value,
    objective_history,
    objective_rollup,
    team_history,
    team_rollup,
)
from tests import factories

HALF = datetime(2027, 2, 15, tzinfo=UTC)
START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2027, 4, 1, tzinfo=UTC)


async def test_weighted_mean_leaves_out_a_zero_weight_key_result(session: AsyncSession) -> None:
    # given an objective with KRs at 50% (weight 3), 100% (weight 1) and 0% (weight 0)
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    half = await factories.create_key_result(session, objective, weight=3.0)
    full = await factories.create_key_result(session, objective, weight=1.0)
    zero = await factories.create_key_result(session, objective, weight=0.0)
    await factories.create_check_in(session, half, START, value=50.0)
    await factories.create_check_in(session, full, START, value=100.0)
    await factories.create_check_in(session, zero, START, value=0.0)

    # when
    rollup = await objective_rollup(session, org.id, objective.id, as_of=HALF)

    # then progress = (3·0.5 + 1·1) / 4, and the zero weight is listed but not counted
    assert rollup.progress == pytest.approx(0.625)
    shares = {item.id: (item.counted, item.share, item.contribution) for item in rollup.breakdown}
    assert shares[half.id] == (True, 0.75, 0.375)
    assert shares[full.id] == (True, 0.25, 0.25)
    assert shares[zero.id] == (False, 0.0, None)
    assert rollup.status is Status.on_track  # r = 0.625 / 0.5 ≥ 0.7


async def test_objective_without_items_has_null_progress_not_zero(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)

    rollup = await objective_rollup(session, org.id, objective.id, as_of=HALF)

    assert rollup.progress is None
    assert rollup.status is Status.no_data
    assert rollup.breakdown == ()
    assert rollup.worst_key_result_status is None


async def test_only_zero_weights_give_null_progress(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective, weight=0.0)
    await factories.create_check_in(session, kr, START, value=80.0)

    rollup = await objective_rollup(session, org.id, objective.id, as_of=HALF)

    assert rollup.progress is None


async def test_decrease_past_its_target_attains_above_one_and_is_done(
    session: AsyncSession,
) -> None:
    # given churn from 10 to 5, observed at 2
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(
        session, objective, direction="decrease", start_value=10.0, target_value=5.0
    )
    await factories.create_check_in(session, kr, START + timedelta(days=3), value=2.0)

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=HALF)

    assert rollup.current_value == 2.0
    assert rollup.attainment == pytest.approx(1.6)
    assert rollup.progress == 1.0
    assert rollup.status is Status.done


async def test_at_least_exactly_on_target_holds(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(
        session, objective, direction="at_least", start_value=None, target_value=99.9
    )
    await factories.create_check_in(session, kr, START, value=99.9)

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=HALF)

    assert rollup.progress == 1.0
    assert rollup.status is Status.on_track  # never `done` for conditions


async def test_at_most_above_target_is_off_track(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(
        session, objective, direction="at_most", start_value=None, target_value=3.0
    )
    await factories.create_check_in(session, kr, START, value=3.5)

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=HALF)

    assert (rollup.progress, rollup.status) == (0.0, Status.off_track)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (35.0, Status.on_track),  # r = 0.35 / 0.5 = 0.7 exactly
        (34.0, Status.at_risk),  # r = 0.68
        (20.0, Status.at_risk),  # r = 0.4 exactly
        (19.0, Status.off_track),  # r = 0.38
        (100.0, Status.done),
    ],
)
async def test_status_at_each_band_edge(
    session: AsyncSession, value: float, expected: Status
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, kr, START, value=value)

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=HALF)

    assert rollup.expected_progress == 0.5
    assert rollup.status is expected


async def test_organization_thresholds_move_the_band_edges(session: AsyncSession) -> None:
    org = await factories.create_org(session, settings={"on_track_ratio": 0.9})
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, kr, START, value=40.0)  # r = 0.8

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=HALF)

    assert rollup.status is Status.at_risk  # at_risk_ratio falls back to 0.4


async def test_before_the_cycle_starts_pace_is_zero_and_status_on_track(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, kr, START - timedelta(days=2), value=1.0)

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=START)

    assert (rollup.expected_progress, rollup.status) == (0.0, Status.on_track)


async def test_child_under_two_parents_counts_fully_in_each(session: AsyncSession) -> None:
    # given a child at 80% aligned under two parents, each with another child at 0%
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    parent_a = await factories.create_objective(session, org, cycle)
    parent_b = await factories.create_objective(session, org, cycle)
    shared = await factories.create_objective(session, org, cycle)
    lone = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, shared)
    await factories.create_check_in(session, kr, START, value=80.0)
    lone_kr = await factories.create_key_result(session, lone)
    await factories.create_check_in(session, lone_kr, START, value=0.0)
    await factories.create_alignment(session, shared, parent_a, weight=1.0)
    await factories.create_alignment(session, shared, parent_b, weight=3.0)
    await factories.create_alignment(session, lone, parent_a, weight=1.0)

    a = await objective_rollup(session, org.id, parent_a.id, as_of=HALF)
    b = await objective_rollup(session, org.id, parent_b.id, as_of=HALF)

    assert a.progress == pytest.approx(0.4)
    assert b.progress == pytest.approx(0.8)
    assert [item.kind for item in b.breakdown] == [ItemKind.objective]


async def test_draft_and_archived_items_are_ignored(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    parent = await factories.create_objective(session, org, cycle, rollup_mode="both")
    kr = await factories.create_key_result(session, parent)
    await factories.create_check_in(session, kr, START, value=50.0)
    archived_kr = await factories.create_key_result(session, parent, state="archived")
    await factories.create_check_in(session, archived_kr, START, value=0.0)
    draft = await factories.create_objective(session, org, cycle, state="draft")
    await factories.create_alignment(session, draft, parent)
    draft_kr = await factories.create_key_result(session, draft)
    await factories.create_check_in(session, draft_kr, START, value=0.0)

    rollup = await objective_rollup(session, org.id, parent.id, as_of=HALF)

    assert rollup.progress == 0.5
    assert [item.id for item in rollup.breakdown] == [kr.id]


async def test_late_check_in_after_the_cycle_ended_sets_the_final_value(
    session: AsyncSession,
) -> None:
    # given a check-in inside the cycle and a final one observed after the cycle ended
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, kr, END - timedelta(days=1), value=60.0)
    await factories.create_check_in(session, kr, END + timedelta(days=2), value=100.0)

    # when asked the day after the cycle ended, and after the late check-in
    before_late = await key_result_rollup(session, org.id, kr.id, as_of=END + timedelta(days=1))
    after_late = await key_result_rollup(session, org.id, kr.id, as_of=END + timedelta(days=10))

    # then SPEC §3 applies as written: the latest check-in observed by t wins
    assert (before_late.current_value, before_late.status) == (60.0, Status.at_risk)
    assert (after_late.current_value, after_late.progress) == (100.0, 1.0)
    assert after_late.status is Status.done


async def test_metric_key_result_window_is_capped_at_the_cycle_end(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    metric = await factories.create_metric(session, org, aggregation="sum")
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(
        session, objective, measure="metric", metric_id=metric.id, target_value=10.0
    )
    await factories.create_point(session, metric, START - timedelta(seconds=1), 100.0)
    await factories.create_point(session, metric, START, 2.0)
    await factories.create_point(session, metric, HALF, 3.0)
    await factories.create_point(session, metric, END, 50.0)

    at_half = await key_result_rollup(session, org.id, kr.id, as_of=HALF)
    after = await key_result_rollup(session, org.id, kr.id, as_of=END + timedelta(days=30))

    assert at_half.current_value == 2.0  # [start, t) leaves out the point at t itself
    assert after.current_value == 5.0


async def test_retracted_check_in_is_ignored(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, kr, START, value=40.0, confidence=0.9)
    await factories.create_check_in(
        session, kr, START + timedelta(days=1), value=90.0, confidence=0.2, retracted_at=HALF
    )

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=HALF)

    assert (rollup.current_value, rollup.confidence) == (40.0, 0.9)


async def test_same_observed_at_ties_go_to_the_later_recording(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, kr, START, value=10.0, recorded_at=HALF)
    await factories.create_check_in(session, kr, START, value=70.0, recorded_at=START)

    rollup = await key_result_rollup(session, org.id, kr.id, as_of=HALF)

    assert rollup.current_value == 10.0


async def test_milestone_done_and_no_check_in(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    done = await factories.create_key_result(session, objective, measure="milestone")
    await factories.create_check_in(session, done, START, done=True)
    silent = await factories.create_key_result(session, objective, measure="milestone")

    done_rollup = await key_result_rollup(session, org.id, done.id, as_of=HALF)
    silent_rollup = await key_result_rollup(session, org.id, silent.id, as_of=HALF)
    objective_result = await objective_rollup(session, org.id, objective.id, as_of=HALF)

    assert (done_rollup.progress, done_rollup.status) == (1.0, Status.done)
    assert (silent_rollup.progress, silent_rollup.status) == (0.0, Status.no_data)
    assert objective_result.progress == 0.5
    assert objective_result.worst_key_result_status is Status.no_data


async def test_delivery_counts_commitments_as_of_the_instant(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    person = await factories.create_person(session, org)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    due = date(2027, 2, 1)
    await factories.create_commitment(session, person, [kr], due_on=due)  # overdue at HALF
    await factories.create_commitment(
        session, person, [kr], due_on=due, state="done", done_at=datetime(2027, 1, 20, tzinfo=UTC)
    )
    await factories.create_commitment(
        session, person, [kr], due_on=due, state="done", done_at=datetime(2027, 2, 3, tzinfo=UTC)
    )
    await factories.create_commitment(
        session, person, [kr], due_on=due, state="done", done_at=END
    )  # open at HALF
    await factories.create_commitment(session, person, [kr], state="dropped", dropped_at=START)

    rollup = await objective_rollup(session, org.id, objective.id, as_of=HALF)

    delivery = rollup.delivery
    assert (delivery.committed, delivery.delivered, delivery.open, delivery.overdue) == (4, 2, 2, 2)
    assert delivery.on_time_rate == 0.5


async def test_cycle_rollup_counts_by_status_and_band(session: AsyncSession) -> None:
    # given two company objectives (35% and 100%) and a child under the first
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    top_a = await factories.create_objective(session, org, cycle)
    top_b = await factories.create_objective(session, org, cycle)
    child = await factories.create_objective(session, org, cycle)
    await factories.create_alignment(session, child, top_a)
    kr_child = await factories.create_key_result(session, child)
    await factories.create_check_in(session, kr_child, START, value=35.0)
    kr_b = await factories.create_key_result(session, top_b)
    await factories.create_check_in(session, kr_b, START, value=100.0)

    rollup = await cycle_rollup(session, org.id, cycle.id, as_of=HALF)

    assert rollup.progress == pytest.approx((0.35 + 1.0) / 2)
    assert {item.id for item in rollup.breakdown} == {top_a.id, top_b.id}
    assert rollup.objectives_by_status[Status.on_track] == 2  # 0.35/0.5 = 0.7
    assert rollup.objectives_by_status[Status.done] == 1
    assert rollup.objectives_by_band == {ScoreBand.low: 2, ScoreBand.mid: 0, ScoreBand.high: 1}
    assert rollup.key_results_by_band[ScoreBand.low] == 1
    assert rollup.key_results_by_status[Status.done] == 1


async def test_a_quarters_objectives_aligned_under_the_year_top_the_quarters_rollup(
    session: AsyncSession,
) -> None:
    # given a yearly company objective and a quarter whose two objectives align under it
    # (one of them with a child of its own in the quarter)
    org = await factories.create_org(session)
    year = await factories.create_cycle(
        session, org, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31)
    )
    quarter = await factories.create_cycle(
        session, org, starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31), parent_cycle_id=year.id
    )
    yearly = await factories.create_objective(session, org, year)
    first = await factories.create_objective(session, org, quarter)
    second = await factories.create_objective(session, org, quarter)
    child = await factories.create_objective(session, org, quarter)
    for objective in (first, second):
        await factories.create_alignment(session, objective, yearly)
    await factories.create_alignment(session, child, first)
    for objective, value in ((child, 40.0), (second, 80.0)):
        kr = await factories.create_key_result(session, objective)
        await factories.create_check_in(session, kr, START, value=value)

    # when
    quarterly = await cycle_rollup(session, org.id, quarter.id, as_of=HALF)
    annual = await cycle_rollup(session, org.id, year.id, as_of=HALF)

    # then the quarter's top level is its own two objectives (the yearly parent is in another
    # cycle), as a team's top level ignores parents outside the team's set
    assert {item.id for item in quarterly.breakdown} == {first.id, second.id}
    assert quarterly.progress == pytest.approx((0.4 + 0.8) / 2)
    assert sum(quarterly.objectives_by_status.values()) == 3
    # and the year's roll-up is its yearly objective, fed by the quarter through alignment
    assert [item.id for item in annual.breakdown] == [yearly.id]
    assert annual.progress == pytest.approx((0.4 + 0.8) / 2)


async def test_team_rollup_with_and_without_subteams(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)
    sub = await factories.create_team(session, org, parent_team_id=team.id)
    own = await factories.create_objective(session, org, cycle, owner_team_id=team.id)
    nested = await factories.create_objective(session, org, cycle, owner_team_id=team.id)
    await factories.create_alignment(session, nested, own)
    subs = await factories.create_objective(session, org, cycle, owner_team_id=sub.id)
    for objective, value in ((own, 20.0), (nested, 60.0), (subs, 100.0)):
        kr = await factories.create_key_result(session, objective)
        await factories.create_check_in(session, kr, START, value=value)

    alone = await team_rollup(session, org.id, team.id, cycle.id, as_of=HALF)
    with_subs = await team_rollup(
        session, org.id, team.id, cycle.id, include_subteams=True, as_of=HALF
    )

    assert [item.id for item in alone.breakdown] == [own.id]
    assert alone.progress == pytest.approx(0.2)
    assert with_subs.progress == pytest.approx(0.6)


async def test_history_points_are_the_rollup_at_each_bucket_end(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_check_in(session, kr, datetime(2027, 1, 2, 12, tzinfo=UTC), value=10.0)
    await factories.create_check_in(session, kr, datetime(2027, 1, 4, tzinfo=UTC), value=30.0)

    history = await objective_history(
        session,
        org.id,
        objective.id,
        start=datetime(2027, 1, 1, 5, tzinfo=UTC),
        end=datetime(2027, 1, 4, tzinfo=UTC),
        interval=Interval.day,
    )

    assert [p.as_of.day for p in history] == [2, 3, 4, 5]
    # a check-in at 00:00 on Jan 4 is observed "at or before" the Jan 3 bucket's end
    assert [p.rollup.progress for p in history] == [0.0, 0.1, 0.3, 0.3]
    single = await objective_rollup(session, org.id, objective.id, as_of=history[2].as_of)
    assert history[2].rollup == single


async def test_metric_value_last_sums_the_latest_point_per_series(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    metric = await factories.create_metric(session, org, aggregation="last", direction="decrease")
    day = timedelta(days=1)
    for offset, region, value in ((0, "eu", 1.0), (1, "eu", 2.0), (1, "us", 5.0), (8, "eu", 4.0)):
        await factories.create_point(
            session, metric, START + offset * day, value, dimensions={"region": region}
        )
    await factories.create_point(session, metric, START + 9 * day, 1.0, dimensions={"region": "us"})

    week2 = Window(START + 7 * day, START + 14 * day)
    value = await metric_value(session, org.id, metric.id, week2)
    eu = await metric_value(session, org.id, metric.id, week2, dimensions={"region": "eu"})

    assert (value.value, value.previous_value, value.change) == (5.0, 7.0, -2.0)
    assert value.improving is True  # lower is better
    assert (eu.value, eu.previous_value) == (4.0, 2.0)


async def test_metric_series_buckets_by_iso_week_in_utc(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    metric = await factories.create_metric(session, org, aggregation="count")
    # 2027-01-03 is a Sunday, 2027-01-04 a Monday
    await factories.create_point(session, metric, datetime(2027, 1, 3, 23, tzinfo=UTC), 1.0)
    await factories.create_point(session, metric, datetime(2027, 1, 4, 0, tzinfo=UTC), 1.0)
    await factories.create_point(session, metric, datetime(2027, 1, 10, 23, tzinfo=UTC), 1.0)

    series = await metric_series(
        session,
        org.id,
        metric.id,
        Window(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 25, tzinfo=UTC)),
        Interval.week,
    )

    assert [(p.bucket_start.day, p.value) for p in series] == [
        (28, 1.0),
        (4, 2.0),
        (11, 0.0),
        (18, 0.0),
    ]


async def test_components_sum_and_gap(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    total = await factories.create_metric(session, org)
    web = await factories.create_metric(session, org)
    app = await factories.create_metric(session, org)
    await factories.create_metric_edge(session, web, total, relation="component")
    await factories.create_metric_edge(session, app, total, relation="component")
    await factories.create_point(session, total, START, 10.0)
    await factories.create_point(session, web, START, 4.0)
    await factories.create_point(session, app, START, 5.0)

    result = await metric_components(session, org.id, total.id, Window(START, HALF))

    assert (result.components_sum, result.gap) == (9.0, 1.0)


async def test_alignment_paths_reach_the_north_star(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    person = await factories.create_person(session, org)
    cycle = await factories.create_cycle(session, org)
    north = await factories.create_metric(session, org, is_north_star=True)
    driver = await factories.create_metric(session, org)
    await factories.create_metric_edge(session, driver, north)
    from service.models import ObjectiveMetric

    parent = await factories.create_objective(session, org, cycle)
    child = await factories.create_objective(session, org, cycle)
    await factories.create_alignment(session, child, parent)
    session.add(ObjectiveMetric(org_id=org.id, objective_id=parent.id, metric_id=driver.id))
    await session.flush()
    kr = await factories.create_key_result(session, child)
    commitment = await factories.create_commitment(session, person, [kr])
    orphan = await factories.create_objective(session, org, cycle)

    paths = await alignment_paths(session, org.id, commitment.id)

    assert [[node.id for node in path.nodes] for path in paths] == [
        [commitment.id, kr.id, child.id, parent.id, driver.id, north.id]
    ]
    assert await aligned_to_north_star(session, org.id, kr.id)
    assert not await aligned_to_north_star(session, org.id, orphan.id)


async def test_another_organizations_ids_are_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    cycle = await factories.create_cycle(session, other)
    objective = await factories.create_objective(session, other, cycle)

    with pytest.raises(NotFound):
        await objective_rollup(session, org.id, objective.id)
    with pytest.raises(NotFound):
        await alignment_paths(session, org.id, objective.id)
    with pytest.raises(Invalid):
        await objective_rollup(session, other.id, objective.id, as_of=datetime(2027, 1, 1))


async def test_every_history_matches_the_rollup_at_each_bucket_end(
    session: AsyncSession,
) -> None:
    # given a team objective with a manual and a metric key result, and a weekly metric
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)
    objective = await factories.create_objective(session, org, cycle, owner_team_id=team.id)
    manual = await factories.create_key_result(session, objective)
    metric = await factories.create_metric(session, org, aggregation="sum")
    await factories.create_key_result(
        session, objective, measure="metric", metric_id=metric.id, target_value=10.0
    )
    for day in range(0, 40, 3):
        await factories.create_point(session, metric, START + timedelta(days=day), 1.0)
        await factories.create_check_in(
            session, manual, START + timedelta(days=day, hours=5), value=float(day)
        )
    span = {"start": START, "end": START + timedelta(days=35), "interval": Interval.week}

    # when
    kr_points = await key_result_history(session, org.id, manual.id, **span)
    team_points = await team_history(session, org.id, team.id, cycle.id, **span)
    cycle_points = await cycle_history(session, org.id, cycle.id, **span)
    metric_points = await metric_history(session, org.id, metric.id, **span)

    # then every point equals the single roll-up as of its bucket end
    assert len(kr_points) == len(team_points) == len(cycle_points) == len(metric_points) == 6
    for kr_point, team_point, cycle_point, metric_point in zip(
        kr_points, team_points, cycle_points, metric_points, strict=True
    ):
        t = kr_point.as_of
        assert kr_point.rollup == await key_result_rollup(session, org.id, manual.id, as_of=t)
        assert team_point.rollup == await team_rollup(session, org.id, team.id, cycle.id, as_of=t)
        assert cycle_point.rollup == await cycle_rollup(session, org.id, cycle.id, as_of=t)
        assert metric_point.rollup == await metric_rollup(session, org.id, metric.id, as_of=t)
    # trailing 7 days to each Monday: Jan 1 | Jan 4, 7, 10 | Jan 13, 16
    assert [p.rollup.value.value for p in metric_points][:3] == [1.0, 3.0, 2.0]


async def test_history_rejects_an_end_before_its_start(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)

    with pytest.raises(Invalid):
        await objective_history(
            session, org.id, objective.id, start=HALF, end=START, interval=Interval.day
        )


@pytest.mark.parametrize(
    ("start_value", "value", "target_value", "band", "status"),
    [
        (0.3, 0.7, 1.3, ScoreBand.mid, Status.at_risk),  # (0.7-0.3)/1.0 = 0.39999999999999997
        (1.2, 1.9, 2.2, ScoreBand.high, Status.on_track),  # 0.7/1.0 = 0.6999999999999998
    ],
)
async def test_float_noise_on_a_band_edge_counts_as_the_edge(
    session: AsyncSession,
    start_value: float,
    value: float,
    target_value: float,
    band: ScoreBand,
    status: Status,
) -> None:
    # given a key result whose progress is exactly on a band edge by hand, a hair under it
    # in floating point, read at the cycle's end (e = 1, so the ratio is the progress)
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(
        session, objective, start_value=start_value, target_value=target_value
    )
    await factories.create_check_in(session, kr, START, value=value)

    # when
    rollup = await key_result_rollup(session, org.id, kr.id, as_of=END)
    cycle_numbers = await cycle_rollup(session, org.id, cycle.id, as_of=END)

    # then the edge belongs to the upper band and status
    assert rollup.progress < (0.4 if band is ScoreBand.mid else 0.7)  # the noise is there
    assert rollup.status is status
    assert cycle_numbers.key_results_by_band[band] == 1
    assert cycle_numbers.objectives_by_band[band] == 1
    assert cycle_numbers.key_results_by_status[status] == 1
