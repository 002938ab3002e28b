"""Property: on random organizations, every engine number equals the reference's."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service import models
from service.rollups import (
    Interval,
    Window,
    cycle_rollup,
    key_result_progresses,
    key_result_rollups,
    metric_value,
    objective_history,
    objective_rollups,
    team_rollup,
)
from tests.rollups import reference as ref

BASE = datetime(2027, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 200 * 24 * 60  # instants from 20 days before BASE to ~180 days after


def instants() -> st.SearchStrategy[datetime]:
    # Coarse minutes so that ties (same observed_at) happen.
    return st.integers(-20 * 24 * 60, SPAN_MINUTES).map(
        lambda m: BASE + timedelta(minutes=(m // 720) * 720)
    )


ids = st.uuids(version=4)


@st.composite
def organizations(draw: st.DrawFn) -> tuple[ref.Org, list[datetime]]:
    settings_ = draw(
        st.sampled_from(
            [
                {},
                {"on_track_ratio": 0.7, "at_risk_ratio": 0.4},
                {"on_track_ratio": 0.5},
                {"on_track_ratio": 0.9, "at_risk_ratio": 0.0},
            ]
        )
    )
    org = ref.Org(id=draw(ids), settings=settings_)
    for _ in range(draw(st.integers(1, 2))):
        start = BASE.date() + timedelta(days=draw(st.integers(-10, 40)))
        org.cycles.append(
            ref.Cycle(draw(ids), start, start + timedelta(days=draw(st.integers(0, 100))))
        )
    for i in range(draw(st.integers(1, 3))):
        parent = draw(st.sampled_from([None, *[t.id for t in org.teams]])) if i else None
        org.teams.append(ref.Team(draw(ids), parent))
    for _ in range(draw(st.integers(1, 3))):
        org.metrics.append(
            ref.Metric(
                draw(ids),
                draw(st.sampled_from(["sum", "avg", "min", "max", "count", "last"])),
                draw(st.sampled_from(["increase", "decrease"])),
            )
        )
    points: dict[tuple[uuid.UUID, datetime, tuple[tuple[str, str], ...]], ref.Point] = {}
    for _ in range(draw(st.integers(0, 15))):
        metric = draw(st.sampled_from(org.metrics))
        dims = draw(st.sampled_from([{}, {"r": "eu"}, {"r": "us"}]))
        ts = draw(instants())
        point = ref.Point(metric.id, ts, float(draw(st.integers(-5, 20))), dims)
        points[(metric.id, ts, tuple(sorted(dims.items())))] = point  # last write wins
    org.points = list(points.values())
    n_objectives = draw(st.integers(1, 7))
    for _ in range(n_objectives):
        org.objectives.append(
            ref.Objective(
                id=draw(ids),
                cycle_id=draw(st.sampled_from(org.cycles)).id,
                team_id=draw(st.sampled_from(org.teams)).id,
                state=draw(
                    st.sampled_from(["active", "active", "active", "closed", "draft", "archived"])
                ),
                rollup_mode=draw(st.sampled_from(["auto", "key_results", "children", "both"])),
            )
        )
    # child index > parent index keeps the graph acyclic; several parents make a DAG.
    pairs = draw(
        st.sets(
            st.tuples(st.integers(0, n_objectives - 1), st.integers(0, n_objectives - 1)).filter(
                lambda p: p[0] > p[1]
            ),
            max_size=8,
        )
    )
    for child, parent in sorted(pairs):
        org.alignments.append(
            ref.Alignment(
                org.objectives[child].id,
                org.objectives[parent].id,
                draw(st.sampled_from([0.0, 1.0, 1.0, 2.0, 0.5])),
            )
        )
    for _ in range(draw(st.integers(0, 10))):
        measure = draw(st.sampled_from(["manual", "metric", "milestone"]))
        direction = "increase"
        start: float | None = None
        target: float | None = None
        if measure != "milestone":
            direction = draw(st.sampled_from(["increase", "decrease", "at_least", "at_most"]))
            a, b = sorted(draw(st.lists(st.integers(-10, 30), min_size=2, max_size=2, unique=True)))
            start, target = {
                "increase": (a, b),
                "decrease": (b, a),
            }.get(direction, (None, b))
        org.key_results.append(
            ref.KeyResult(
                id=draw(ids),
                objective_id=draw(st.sampled_from(org.objectives)).id,
                measure=measure,
                direction=direction,
                start=None if start is None else float(start),
                target=None if target is None else float(target),
                weight=draw(st.sampled_from([0.0, 1.0, 1.0, 2.0, 3.0])),
                state=draw(st.sampled_from(["active", "active", "active", "archived"])),
                metric_id=draw(st.sampled_from(org.metrics)).id if measure == "metric" else None,
            )
        )
    if org.key_results:
        for _ in range(draw(st.integers(0, 20))):
            kr = draw(st.sampled_from(org.key_results))
            observed = draw(instants())
            as_done = (
                kr.measure == "milestone" if draw(st.integers(0, 9)) else kr.measure != "milestone"
            )
            org.check_ins.append(
                ref.CheckIn(
                    id=draw(ids),
                    key_result_id=kr.id,
                    observed_at=observed,
                    recorded_at=observed + timedelta(hours=draw(st.sampled_from([0, 0, 5, 2000]))),
                    value=None if as_done else float(draw(st.integers(-15, 35))),
                    done=draw(st.booleans()) if as_done else None,
                    confidence=draw(st.sampled_from([None, 0.0, 0.5, 1.0])),
                    retracted=draw(st.integers(0, 5)) == 0,
                )
            )
        for _ in range(draw(st.integers(0, 6))):
            state = draw(st.sampled_from(["open", "done", "dropped"]))
            org.commitments.append(
                ref.Commitment(
                    id=draw(ids),
                    state=state,
                    due_on=(draw(instants())).date(),
                    done_at=draw(instants()) if state == "done" else None,
                    dropped_at=draw(st.sampled_from([None, draw(instants())]))
                    if state == "dropped"
                    else None,
                    key_result_ids=[
                        k.id
                        for k in draw(
                            st.lists(
                                st.sampled_from(org.key_results),
                                min_size=1,
                                max_size=3,
                                unique_by=lambda k: k.id,
                            )
                        )
                    ],
                )
            )
    as_ofs = draw(st.lists(instants(), min_size=1, max_size=3))
    return org, as_ofs


async def write(session: AsyncSession, org: ref.Org) -> None:
    async def rows(model: Any, values: list[dict[str, Any]]) -> None:
        if values:
            await session.execute(insert(model), values)

    o = org.id
    await rows(models.Organization, [{"id": o, "name": "Reference org", "settings": org.settings}])
    person = uuid.uuid4()
    await rows(models.Person, [{"id": person, "org_id": o, "name": "Owner", "kind": "human"}])
    await rows(
        models.Cycle,
        [
            {
                "id": c.id,
                "org_id": o,
                "name": f"C{i}",
                "starts_on": c.starts_on,
                "ends_on": c.ends_on,
            }
            for i, c in enumerate(org.cycles)
        ],
    )
    for team in org.teams:  # parents first
        await rows(
            models.Team,
            [{"id": team.id, "org_id": o, "name": "T", "parent_team_id": team.parent_id}],
        )
    await rows(
        models.Metric,
        [
            {
                "id": m.id,
                "org_id": o,
                "key": f"m{i}",
                "name": f"M{i}",
                "aggregation": m.aggregation,
                "direction": m.direction,
                "kind": "lagging",
            }
            for i, m in enumerate(org.metrics)
        ],
    )
    await rows(
        models.Point,
        [
            {
                "org_id": o,
                "metric_id": p.metric_id,
                "ts": p.ts,
                "value": p.value,
                "dimensions": p.dimensions,
            }
            for p in org.points
        ],
    )
    await rows(
        models.Objective,
        [
            {
                "id": x.id,
                "org_id": o,
                "title": "O",
                "cycle_id": x.cycle_id,
                "owner_team_id": x.team_id,
                "state": x.state,
                "rollup_mode": x.rollup_mode,
            }
            for x in org.objectives
        ],
    )
    await rows(
        models.Alignment,
        [
            {
                "org_id": o,
                "child_objective_id": a.child_id,
                "parent_objective_id": a.parent_id,
                "weight": a.weight,
            }
            for a in org.alignments
        ],
    )
    await rows(
        models.KeyResult,
        [
            {
                "id": k.id,
                "org_id": o,
                "objective_id": k.objective_id,
                "title": "KR",
                "measure": k.measure,
                "direction": k.direction,
                "start_value": k.start,
                "target_value": k.target,
                "weight": k.weight,
                "state": k.state,
                "metric_id": k.metric_id,
            }
            for k in org.key_results
        ],
    )
    await rows(
        models.CheckIn,
        [
            {
                "id": c.id,
                "org_id": o,
                "key_result_id": c.key_result_id,
                "observed_at": c.observed_at,
                "recorded_at": c.recorded_at,
                "value": c.value,
                "done": c.done,
                "confidence": c.confidence,
                "source": "api",
                "retracted_at": c.observed_at if c.retracted else None,
            }
            for c in org.check_ins
        ],
    )
    await rows(
        models.Commitment,
        [
            {
                "id": c.id,
                "org_id": o,
                "title": "C",
                "success_criteria": "Done.",
                "owner_person_id": person,
                "due_on": c.due_on,
                "state": c.state,
                "done_at": c.done_at,
                "dropped_at": c.dropped_at,
            }
            for c in org.commitments
        ],
    )
    await rows(
        models.CommitmentKeyResult,
        [
            {"org_id": o, "commitment_id": c.id, "key_result_id": k}
            for c in org.commitments
            for k in c.key_result_ids
        ],
    )


def approx(value: float | None) -> Any:
    return None if value is None else pytest.approx(value, rel=1e-12, abs=1e-12)


async def check(session: AsyncSession, org: ref.Org, t: datetime) -> None:
    krs = await key_result_rollups(session, org.id, [k.id for k in org.key_results], as_of=t)
    for kr in org.key_results:
        expected = ref.key_result_numbers(org, kr, t)
        got = krs[kr.id]
        assert (got.current_value, got.attainment, got.progress, got.status.value) == (
            approx(expected.current),
            approx(expected.attainment),
            approx(expected.progress),
            expected.status,
        ), kr
        assert (got.expected_progress, got.confidence) == (expected.expected, expected.confidence)
        delivery = got.delivery
        assert (
            delivery.committed,
            delivery.delivered,
            delivery.open,
            delivery.overdue,
            delivery.on_time_rate,
        ) == ref.delivery(org, {kr.id}, t)
    # The progress-only path (no confidence, no delivery) gives the same numbers.
    progresses = await key_result_progresses(
        session, org.id, [k.id for k in org.key_results], as_of=t
    )
    assert set(progresses) == set(krs)
    for kr_id, progress in progresses.items():
        full = krs[kr_id]
        assert (
            progress.as_of,
            progress.current_value,
            progress.attainment,
            progress.progress,
            progress.status,
            progress.expected_progress,
        ) == (
            full.as_of,
            full.current_value,
            full.attainment,
            full.progress,
            full.status,
            full.expected_progress,
        ), kr_id

    objectives = await objective_rollups(session, org.id, [o.id for o in org.objectives], as_of=t)
    for objective in org.objectives:
        got_objective = objectives[objective.id]
        assert got_objective.progress == approx(ref.objective_progress(org, objective, t))
        assert got_objective.status.value == ref.objective_status(org, objective, t)
        worst = got_objective.worst_key_result_status
        assert (worst and worst.value) == ref.worst_key_result_status(org, objective, t)
        assert [
            (i.id, i.weight, i.progress, i.counted, i.share, i.contribution)
            for i in got_objective.breakdown
        ] == [
            (i, w, approx(p), counted, approx(share), approx(contribution))
            for i, w, p, counted, share, contribution in ref.breakdown(
                org, ref.items(org, objective), t
            )
        ]
        d = got_objective.delivery
        assert (d.committed, d.delivered, d.open, d.overdue, d.on_time_rate) == (
            ref.objective_delivery(org, [objective], t)
        )

    for cycle in org.cycles:
        got_cycle = await cycle_rollup(session, org.id, cycle.id, as_of=t)
        in_cycle, top = ref.company_objectives(org, cycle.id)
        assert got_cycle.progress == approx(ref.group_progress(org, top, t))
        assert sorted(i.id for i in got_cycle.breakdown) == sorted(o.id for o in top)
        statuses = [ref.objective_status(org, o, t) for o in in_cycle]
        assert {s.value: n for s, n in got_cycle.objectives_by_status.items() if n} == {
            s: statuses.count(s) for s in set(statuses)
        }
        progresses = [ref.objective_progress(org, o, t) for o in in_cycle]
        bands = [ref.band(p) for p in progresses if p is not None]
        assert {b.value: n for b, n in got_cycle.objectives_by_band.items() if n} == {
            b: bands.count(b) for b in set(bands)
        }
        cycle_krs = [
            ref.key_result_numbers(org, k, t)
            for k in org.key_results
            if k.state == "active" and k.objective_id in {o.id for o in in_cycle}
        ]
        kr_statuses = [n.status for n in cycle_krs]
        assert {s.value: n for s, n in got_cycle.key_results_by_status.items() if n} == {
            s: kr_statuses.count(s) for s in set(kr_statuses)
        }
        kr_bands = [ref.band(n.progress) for n in cycle_krs if n.status != "no_data"]
        assert {b.value: n for b, n in got_cycle.key_results_by_band.items() if n} == {
            b: kr_bands.count(b) for b in set(kr_bands)
        }
        d = got_cycle.delivery
        assert (d.committed, d.delivered, d.open, d.overdue, d.on_time_rate) == (
            ref.objective_delivery(org, in_cycle, t)
        )

    cycle = org.cycles[0]
    for team in org.teams:
        for include_subteams in (False, True):
            got_team = await team_rollup(
                session, org.id, team.id, cycle.id, include_subteams=include_subteams, as_of=t
            )
            owned, top = ref.team_objectives(org, team.id, cycle.id, include_subteams)
            assert got_team.progress == approx(ref.group_progress(org, top, t))
            assert sorted(i.id for i in got_team.breakdown) == sorted(o.id for o in top)
            d = got_team.delivery
            assert (d.committed, d.delivered, d.open, d.overdue, d.on_time_rate) == (
                ref.objective_delivery(org, owned, t)
            )

    for metric in org.metrics:
        for dims in (None, {"r": "eu"}):
            window = Window(t - timedelta(days=30), t)
            got_metric = await metric_value(session, org.id, metric.id, window, dimensions=dims)
            assert got_metric.value == approx(
                ref.metric_value(org, metric, window.start, window.end, dims)
            )
            assert got_metric.previous_value == approx(
                ref.metric_value(org, metric, t - timedelta(days=60), window.start, dims)
            )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(example=organizations())
async def test_engine_matches_the_reference(
    session: AsyncSession, example: tuple[ref.Org, list[datetime]]
) -> None:
    org, as_ofs = example
    savepoint = await session.begin_nested()
    try:
        await write(session, org)
        for t in as_ofs:
            await check(session, org, t)
        # History reads every check-in at once and evaluates per bucket: same numbers.
        objective = org.objectives[0]
        history = await objective_history(
            session,
            org.id,
            objective.id,
            start=as_ofs[0],
            end=as_ofs[0] + timedelta(days=20),
            interval=Interval.week,
        )
        for point in history:
            assert point.rollup.progress == approx(
                ref.objective_progress(org, objective, point.as_of)
            )
            assert point.rollup.status.value == ref.objective_status(org, objective, point.as_of)
            assert point.rollup.worst_key_result_status == (
                None
                if (w := ref.worst_key_result_status(org, objective, point.as_of)) is None
                else w
            )
    finally:
        await savepoint.rollback()


def test_reference_band_edges() -> None:
    assert [ref.band(p) for p in (0.0, 0.3, 0.35, 0.4, 0.69, 0.7, 1.0)] == [
        "0.0-0.3",
        "0.0-0.3",
        "0.0-0.3",
        "0.4-0.6",
        "0.4-0.6",
        "0.7-1.0",
        "0.7-1.0",
    ]


def test_reference_cycle_bounds_cover_the_last_day() -> None:
    cycle = ref.Cycle(uuid.uuid4(), date(2027, 1, 1), date(2027, 1, 1))
    assert ref.cycle_bounds(cycle) == (BASE, BASE + timedelta(days=1))
