"""SPEC §3 review: worked examples for sentences where an implementation strayed from the text.

Each expected number is computed by hand from the quoted SPEC sentence. Cycle
2027-01-01..2027-03-31 is [Jan 1, Apr 1).
"""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from service.rollups import (
    Status,
    Window,
    aligned_to_north_star,
    alignment_paths,
    key_result_rollup,
    metric_components,
)
from tests import factories
from tests.rollups import reference as ref

START = datetime(2027, 1, 1, tzinfo=UTC)
HALF = datetime(2027, 2, 15, tzinfo=UTC)
PLUS_FIVE = timezone(timedelta(hours=5))
# 2027-02-15 01:00+05:00 is 2027-02-14 20:00Z: t's (UTC) date is Feb 14, its local date Feb 15.
AS_OF_EAST = datetime(2027, 2, 15, 1, tzinfo=PLUS_FIVE)
# Done 2027-02-14 01:00+05:00 = 2027-02-13 20:00Z: on a Feb 13 due date in UTC.
DONE_EAST = datetime(2027, 2, 14, 1, tzinfo=PLUS_FIVE)


async def test_overdue_and_on_time_use_utc_dates_when_as_of_has_another_offset(
    session: AsyncSession,
) -> None:
    # SPEC §3: "`overdue` = open with due_on before t's date; `onTimeRate` = done on or
    # before due_on ÷ done"; §2: "Timestamps are timezone-aware UTC".
    # given an open commitment due on t's UTC date and one done on its due date (UTC)
    org = await factories.create_org(session)
    person = await factories.create_person(session, org)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)
    await factories.create_commitment(session, person, [kr], due_on=date(2027, 2, 14))
    await factories.create_commitment(
        session, person, [kr], due_on=date(2027, 2, 13), state="done", done_at=DONE_EAST
    )

    # when asked as of an instant written with a +05:00 offset
    rollup = await key_result_rollup(session, org.id, kr.id, as_of=AS_OF_EAST)

    # then the open one is not overdue (Feb 14 is not before Feb 14) and the done one is on time
    delivery = rollup.delivery
    assert (delivery.committed, delivery.delivered, delivery.open, delivery.overdue) == (2, 1, 1, 0)
    assert delivery.on_time_rate == 1.0


def test_reference_delivery_judges_dates_in_utc() -> None:
    # Same example through the reference, whose instants need not be UTC.
    kr_id = uuid.uuid4()
    org = ref.Org(id=uuid.uuid4(), settings={})
    org.commitments = [
        ref.Commitment(uuid.uuid4(), "open", date(2027, 2, 14), None, None, [kr_id]),
        ref.Commitment(uuid.uuid4(), "done", date(2027, 2, 13), DONE_EAST, None, [kr_id]),
    ]

    assert ref.delivery(org, {kr_id}, AS_OF_EAST) == (2, 1, 1, 0, 1.0)


async def test_components_sum_is_the_plain_sum_of_the_components(session: AsyncSession) -> None:
    # SPEC §2: "`component` means the parent is the sum of its components"; §3: "For a
    # parent with `component` children, report `componentsSum` and the gap to the
    # parent's own value." The edge weight is not part of that sum.
    # given revenue 10 = web 4 + app 6, the component edges carrying weights 0.5 and 2
    org = await factories.create_org(session)
    total = await factories.create_metric(session, org)
    web = await factories.create_metric(session, org)
    app = await factories.create_metric(session, org)
    await factories.create_metric_edge(session, web, total, relation="component", weight=0.5)
    await factories.create_metric_edge(session, app, total, relation="component", weight=2.0)
    await factories.create_point(session, total, START, 10.0)
    await factories.create_point(session, web, START, 4.0)
    await factories.create_point(session, app, START, 6.0)

    # when
    result = await metric_components(session, org.id, total.id, Window(START, HALF))

    # then componentsSum = 4 + 6 = 10 and the gap to the parent's 10 is 0
    assert (result.value, result.components_sum, result.gap) == (10.0, 10.0, 0.0)


async def test_a_key_result_reaches_the_north_star_through_its_own_metric(
    session: AsyncSession,
) -> None:
    # SPEC §3: "commitment → key result → objective → parent objectives → metrics they drive
    # (or the KR's metric) → parent metrics → North Star".
    # given a metric key result on a driver of the North Star, its objective driving nothing
    org = await factories.create_org(session)
    person = await factories.create_person(session, org)
    cycle = await factories.create_cycle(session, org)
    north = await factories.create_metric(session, org, is_north_star=True)
    driver = await factories.create_metric(session, org)
    await factories.create_metric_edge(session, driver, north)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(
        session, objective, measure="metric", metric_id=driver.id, target_value=10.0
    )
    commitment = await factories.create_commitment(session, person, [kr])

    # when
    paths = await alignment_paths(session, org.id, commitment.id)

    # then the only path goes commitment → key result → its metric → North Star
    assert [[node.id for node in path.nodes] for path in paths] == [
        [commitment.id, kr.id, driver.id, north.id]
    ]
    assert await aligned_to_north_star(session, org.id, north.id)
    assert not await aligned_to_north_star(session, org.id, objective.id)


async def test_a_manual_key_result_reads_its_latest_check_in_even_after_the_cycle_ended(
    session: AsyncSession,
) -> None:
    # SPEC §3: "Values are what was observed at or before t: check-ins with observed_at ≤ t
    # (latest wins ...)" and "`manual`: value of the latest check-in". Unlike the metric
    # window, no cap at the cycle end is written for check-ins. (The engine's documented
    # decision caps them; test_worked_examples asserts the opposite of this test, so one
    # of the two goes once the SPEC owner rules.)
    # given 60 observed the day before the cycle ends and 100 observed two days after
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(session, objective)  # 0 → 100, increase
    end = datetime(2027, 4, 1, tzinfo=UTC)
    await factories.create_check_in(session, kr, end - timedelta(days=1), value=60.0)
    await factories.create_check_in(session, kr, end + timedelta(days=2), value=100.0)

    # when asked ten days after the cycle ended
    rollup = await key_result_rollup(session, org.id, kr.id, as_of=end + timedelta(days=10))

    # then the latest check-in (100) is the current value: a = 1, p = 1, done
    assert (rollup.current_value, rollup.progress, rollup.status) == (100.0, 1.0, Status.done)


async def test_a_metric_key_result_window_ends_at_t_whatever_its_offset(
    session: AsyncSession,
) -> None:
    # SPEC §3: "`metric`: the metric's aggregate over [cycle start, min(t, cycle end))".
    # given points at 19:00Z and 21:00Z on Feb 14, and t = Feb 15 01:00+05:00 = Feb 14 20:00Z
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    metric = await factories.create_metric(session, org, aggregation="sum")
    objective = await factories.create_objective(session, org, cycle)
    kr = await factories.create_key_result(
        session, objective, measure="metric", metric_id=metric.id, target_value=10.0
    )
    await factories.create_point(session, metric, datetime(2027, 2, 14, 19, tzinfo=UTC), 2.0)
    await factories.create_point(session, metric, datetime(2027, 2, 14, 21, tzinfo=UTC), 5.0)

    # when
    rollup = await key_result_rollup(session, org.id, kr.id, as_of=AS_OF_EAST)

    # then only the 19:00Z point is in the window: c = 2, p = 0.2
    assert (rollup.current_value, rollup.progress) == (2.0, 0.2)
