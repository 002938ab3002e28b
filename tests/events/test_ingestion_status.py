"""The recheck's light status path (`tracker.metric_key_results` / `metric_scores`, used by
`service.statuses.recheck` after ingestion) agrees with the roll-up engine
(`key_result_rollups`) and leaves out only key results the batch cannot move."""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Organization, Point
from service.points.repository import Row, upsert
from service.rollups.service import key_result_rollups
from service.statuses import tracker
from service.statuses.window_cache import Span, Written
from tests import factories

# (direction, start, target): every direction, targets so that statuses differ.
SHAPES = [
    ("increase", 0.0, 10.0),
    ("increase", 0.0, 40.0),
    ("increase", 0.0, 1000.0),
    ("decrease", 100.0, 0.0),
    ("decrease", 30.0, 25.0),
    ("at_least", None, 20.0),
    ("at_least", None, 5000.0),
    ("at_most", None, 20.0),
    ("at_most", None, 1.0),
]


async def key_results_on(
    session: AsyncSession, org: Organization, cycle_days: tuple[date, date], metric_id: uuid.UUID
) -> list[uuid.UUID]:
    cycle = await factories.create_cycle(
        session, org, starts_on=cycle_days[0], ends_on=cycle_days[1]
    )
    objective = await factories.create_objective(session, org, cycle)
    ids = []
    for direction, start, target in SHAPES:
        kr = await factories.create_key_result(
            session,
            objective,
            measure="metric",
            metric_id=metric_id,
            direction=direction,
            start_value=start,
            target_value=target,
        )
        ids.append(kr.id)
    return ids


async def test_the_light_status_path_gives_the_engines_statuses(session: AsyncSession) -> None:
    # given metrics of several aggregations with points, key results of every direction on
    # them in a running, an ended and a future cycle, and custom thresholds
    org = await factories.create_org(
        session, settings={"on_track_ratio": 0.6, "at_risk_ratio": 0.3}
    )
    now = datetime.now(UTC)
    today = now.date()
    running = (today - timedelta(days=30), today + timedelta(days=30))
    ended = (today - timedelta(days=90), today - timedelta(days=60))
    future = (today + timedelta(days=10), today + timedelta(days=40))
    ids: list[uuid.UUID] = []
    metric_ids: dict[str, uuid.UUID] = {}  # by key
    for aggregation in ("sum", "last", "avg", "max", "count"):
        metric = await factories.create_metric(session, org, aggregation=aggregation)
        metric_ids[metric.key] = metric.id
        for days_ago, value in ((80, 30.0), (70, 5.0), (20, 12.0), (10, 3.0), (1, 20.0)):
            await session.execute(
                insert(Point).values(
                    org_id=org.id,
                    metric_id=metric.id,
                    ts=now - timedelta(days=days_ago),
                    value=value,
                    dimensions={},
                )
            )
        for cycle_days in (running, ended, future):
            ids += await key_results_on(session, org, cycle_days, metric.id)
    empty = await factories.create_metric(session, org, aggregation="sum")
    metric_ids[empty.key] = empty.id
    ids += await key_results_on(session, org, running, empty.id)
    # a batch that adds a point in every window, replaces one stored point and adds one
    # ahead of now, on every metric
    batch: list[Row] = []
    for key in metric_ids:
        batch += [
            (key, now - timedelta(days=75), "{}", 11.0, ""),
            (key, now - timedelta(days=10), "{}", 8.0, ""),
            (key, now - timedelta(days=2), "{}", 4.0, ""),
            (key, now + timedelta(minutes=5), "{}", 99.0, ""),
        ]

    # when the light path and the engine compute the statuses before and after the batch is
    # written, at the same instant
    # (nothing claimed says what was written: every window is read whole)
    written = Written(spans(batch, metric_ids), {}, {}, [])
    thresholds, found = await tracker.metric_key_results(session, org.id, written.spans, now)
    light_before = await tracker.metric_scores(session, org.id, found, now, thresholds, written)
    engine_before = await key_result_rollups(session, org.id, ids, as_of=now)
    assert await upsert(session, org.id, batch) is not None
    light_after = await tracker.metric_scores(session, org.id, found, now, thresholds, written)
    engine_after = await key_result_rollups(session, org.id, ids, as_of=now)

    # then they agree on every key result the light path keeps, and it keeps all but the
    # ones whose window is still empty (future cycle: no data either way)
    for light_scores, engine in ((light_before, engine_before), (light_after, engine_after)):
        light = {
            kr_id: (score.status.value, score.progress, score.expected_progress)
            for kr_id, score in light_scores.items()
        }
        expected = {
            kr_id: (rollup.status.value, rollup.progress, rollup.expected_progress)
            for kr_id, rollup in engine.items()
            if kr_id in light
        }
        assert light == expected
        assert len(light) == 5 * 2 * len(SHAPES) + len(SHAPES)
        assert {engine[kr_id].status.value for kr_id in set(ids) - set(light)} == {"no_data"}
        assert len({status for status, _, _ in light.values()}) >= 4
    assert any(light_before[kr_id].status != light_after[kr_id].status for kr_id in light_after)


def spans(batch: list[Row], metric_ids: dict[str, uuid.UUID]) -> dict[uuid.UUID, Span]:
    """Each metric's earliest and latest ts in the batch (what ingestion queues)."""
    found: dict[uuid.UUID, Span] = {}
    for key, ts, *_ in batch:
        first, last = found.get(metric_ids[key], (ts, ts))
        found[metric_ids[key]] = (min(first, ts), max(last, ts))
    return found


async def test_the_light_status_path_skips_key_results_the_batch_cannot_reach(
    session: AsyncSession,
) -> None:
    # given key results on one metric in a running and in an ended cycle
    org = await factories.create_org(session)
    metric = await factories.create_metric(session, org, aggregation="sum")
    today = datetime.now(UTC).date()
    running = await key_results_on(
        session, org, (today - timedelta(days=5), today + timedelta(days=5)), metric.id
    )
    await key_results_on(
        session, org, (today - timedelta(days=60), today - timedelta(days=30)), metric.id
    )
    yesterday = datetime.now(UTC) - timedelta(days=1)

    # when a batch holds points of yesterday only, then only points after now
    now = datetime.now(UTC)
    _, recent = await tracker.metric_key_results(
        session, org.id, {metric.id: (yesterday, yesterday)}, now
    )
    later = now + timedelta(minutes=1)
    _, ahead = await tracker.metric_key_results(session, org.id, {metric.id: (later, later)}, now)

    # then only the running cycle's key results can move, and none for points ahead of now
    assert {kr.id for kr in recent} == set(running)
    assert ahead == []


async def test_the_light_status_path_ignores_draft_and_archived_objectives(
    session: AsyncSession,
) -> None:
    # given key results on one metric under an active, a draft and an archived objective
    org = await factories.create_org(session)
    metric = await factories.create_metric(session, org, aggregation="sum")
    today = datetime.now(UTC).date()
    cycle = await factories.create_cycle(
        session, org, starts_on=today - timedelta(days=5), ends_on=today + timedelta(days=5)
    )
    by_state = {}
    for state in ("active", "draft", "archived", "closed"):
        objective = await factories.create_objective(session, org, cycle, state=state)
        by_state[state] = await factories.create_key_result(
            session, objective, measure="metric", metric_id=metric.id
        )
    yesterday = datetime.now(UTC) - timedelta(days=1)

    # when the key results a point of yesterday can move are looked up
    _, found = await tracker.metric_key_results(
        session, org.id, {metric.id: (yesterday, yesterday)}, datetime.now(UTC)
    )

    # then those of the draft and the archived objective are not among them (SPEC §3)
    assert {kr.id for kr in found} == {by_state["active"].id, by_state["closed"].id}
