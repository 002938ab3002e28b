"""Roll-up engine benchmark: the engine against the best hand-written SQL for the same answer.

    python bench/rollup.py --database-url postgresql://postgres@127.0.0.1:5432/DB [--scale 1]

Self-contained: migrates the database, loads one organization with COPY (at scale 1:
10,000 objectives, 40,000 key results, 2,000 metrics, 1,000,000 points, ~84,000 check-ins,
20,000 commitments) unless `--org` names one it loaded before, ANALYZEs, then times

1. the company-level cycle roll-up (`service.rollups.cycle_rollup`: progress over the
   company objectives, counts of objectives and key results by status and score band,
   delivery) against one hand-written SQL statement computing the same numbers (it knows
   the generated tree is 4 levels deep, which the engine does not), and checks they agree;
2. single-objective roll-ups with breakdown (a company objective: ~1,100 objectives and
   ~4,400 key results below it at scale 1; a team objective: ~111 and ~444; a leaf).

Each number is the median of `--runs` runs, each in its own transaction, after warm-up.

The tree: 10·scale company objectives (rollup `both`: 2 key results + children), each
with 10 children, 3 levels below (10 → 100 → 1,000 → 10,000 at scale 1); leaves roll up
their 4 key results (`auto`). 5 % of objectives below level 1 also align under a second
parent (weight 0.5), 3 % of alignments weigh 0, 2 % of key results weigh 0. Key results:
40 % manual, 30 % metric, 20 % milestone, 10 % `at_least`. Points fall in the cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.db import create_engine, create_sessionmaker
from service.migrations import upgrade_to_head
from service.rollups import Status, cycle_rollup, objective_rollup
from service.settings import Settings

CYCLE_START = date(2027, 1, 1)
CYCLE_END = date(2027, 3, 31)
AS_OF = datetime(2027, 2, 15, 12, tzinfo=UTC)
START = datetime(2027, 1, 1, tzinfo=UTC)
SPAN = (datetime(2027, 4, 1, tzinfo=UTC) - START).total_seconds()


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def load(url: str, scale: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    conn = await asyncpg.connect(plain(url))
    t0 = time.perf_counter()
    org = uuid.uuid4()
    cycle = uuid.uuid4()
    person = uuid.uuid4()
    n_top = max(1, round(10 * scale))
    n_metrics = max(3, round(2000 * scale))
    n_points = round(1_000_000 * scale)
    await conn.execute(
        "INSERT INTO organizations (id, name, settings) VALUES ($1, $2, '{}')",
        org,
        f"bench rollup {scale}",
    )
    await conn.execute(
        "INSERT INTO people (id, org_id, name, kind) VALUES ($1, $2, 'Owner', 'human')",
        person,
        org,
    )
    await conn.execute(
        "INSERT INTO cycles (id, org_id, name, starts_on, ends_on) VALUES ($1, $2, $3, $4, $5)",
        cycle,
        org,
        "2027-Q1",
        CYCLE_START,
        CYCLE_END,
    )
    teams = [uuid.uuid4() for _ in range(max(1, round(100 * scale)))]
    await conn.copy_records_to_table(
        "teams",
        records=[(t, org, f"Team {i}") for i, t in enumerate(teams)],
        columns=["id", "org_id", "name"],
    )
    aggregations = ["sum", "avg", "min", "max", "count", "last"]
    metrics = [(uuid.uuid4(), aggregations[i % 6]) for i in range(n_metrics)]
    await conn.copy_records_to_table(
        "metrics",
        records=[
            (m, org, f"m{i}", f"Metric {i}", "increase", agg, "lagging")
            for i, (m, agg) in enumerate(metrics)
        ],
        columns=["id", "org_id", "key", "name", "direction", "aggregation", "kind"],
    )
    per_metric = max(1, n_points // n_metrics)
    chunk: list[tuple[Any, ...]] = []
    for m, _ in metrics:
        step = SPAN / per_metric
        for j in range(per_metric):
            dims = '{"region": "eu"}' if j % 2 else "{}"
            ts = START + timedelta(seconds=int(j * step + rng.random() * step * 0.9))
            chunk.append((org, m, ts, dims, float(rng.randint(0, 100))))
        if len(chunk) >= 200_000:
            await conn.copy_records_to_table(
                "points",
                records=chunk,
                columns=["org_id", "metric_id", "ts", "dimensions", "value"],
            )
            chunk = []
    if chunk:
        await conn.copy_records_to_table(
            "points", records=chunk, columns=["org_id", "metric_id", "ts", "dimensions", "value"]
        )

    objectives: list[tuple[Any, ...]] = []
    alignments: list[tuple[Any, ...]] = []
    levels: list[list[uuid.UUID]] = [[uuid.uuid4() for _ in range(n_top)]]
    for _ in range(3):
        levels.append([uuid.uuid4() for _ in range(len(levels[-1]) * 10)])
    for depth, level in enumerate(levels):
        leaf = depth == len(levels) - 1
        for i, o in enumerate(level):
            objectives.append(
                (
                    o,
                    org,
                    f"Objective {depth}.{i}",
                    cycle,
                    rng.choice(teams),
                    "active",
                    "auto" if leaf else "both",
                )
            )
            if depth:
                parents = levels[depth - 1]
                parent = parents[i // 10]
                weight = 0.0 if rng.random() < 0.03 else rng.choice([1.0, 1.0, 2.0])
                alignments.append((org, o, parent, weight))
                if rng.random() < 0.05 and len(parents) > 1:
                    other = rng.choice(
                        [p for p in parents[max(0, i // 10 - 3) : i // 10 + 3] if p != parent]
                    )
                    alignments.append((org, o, other, 0.5))
    await conn.copy_records_to_table(
        "objectives",
        records=objectives,
        columns=["id", "org_id", "title", "cycle_id", "owner_team_id", "state", "rollup_mode"],
    )
    await conn.copy_records_to_table(
        "alignments",
        records=alignments,
        columns=["org_id", "child_objective_id", "parent_objective_id", "weight"],
    )
    key_results: list[tuple[Any, ...]] = []
    check_ins: list[tuple[Any, ...]] = []
    for depth, level in enumerate(levels):
        per_objective = 4 if depth == len(levels) - 1 else 2
        for o in level:
            for _ in range(per_objective):
                kr = uuid.uuid4()
                roll = rng.random()
                weight = 0.0 if rng.random() < 0.02 else rng.choice([1.0, 1.0, 2.0, 3.0])
                if roll < 0.4:
                    row = (
                        kr,
                        org,
                        o,
                        "KR",
                        "manual",
                        None,
                        "increase",
                        0.0,
                        100.0,
                        weight,
                        "active",
                    )
                elif roll < 0.7:
                    m = rng.choice(metrics)[0]
                    row = (
                        kr,
                        org,
                        o,
                        "KR",
                        "metric",
                        m,
                        "increase",
                        0.0,
                        rng.choice([500.0, 5000.0]),
                        weight,
                        "active",
                    )
                elif roll < 0.9:
                    row = (
                        kr,
                        org,
                        o,
                        "KR",
                        "milestone",
                        None,
                        "increase",
                        None,
                        None,
                        weight,
                        "active",
                    )
                else:
                    row = (
                        kr,
                        org,
                        o,
                        "KR",
                        "manual",
                        None,
                        "at_least",
                        None,
                        50.0,
                        weight,
                        "active",
                    )
                key_results.append(row)
                if row[4] == "metric":
                    continue
                for _ in range(3):
                    observed = START + timedelta(seconds=rng.random() * SPAN * 0.7)
                    milestone = row[4] == "milestone"
                    check_ins.append(
                        (
                            uuid.uuid4(),
                            org,
                            kr,
                            None if milestone else float(rng.randint(0, 100)),
                            rng.random() < 0.5 if milestone else None,
                            rng.choice([None, 0.5, 0.8]),
                            "api",
                            observed,
                            observed + timedelta(minutes=5),
                            observed + timedelta(days=1) if rng.random() < 0.01 else None,
                        )
                    )
    await conn.copy_records_to_table(
        "key_results",
        records=key_results,
        columns=[
            "id",
            "org_id",
            "objective_id",
            "title",
            "measure",
            "metric_id",
            "direction",
            "start_value",
            "target_value",
            "weight",
            "state",
        ],
    )
    await conn.copy_records_to_table(
        "check_ins",
        records=check_ins,
        columns=[
            "id",
            "org_id",
            "key_result_id",
            "value",
            "done",
            "confidence",
            "source",
            "observed_at",
            "recorded_at",
            "retracted_at",
        ],
    )
    commitments: list[tuple[Any, ...]] = []
    supports: list[tuple[Any, ...]] = []
    for i in range(round(20_000 * scale)):
        c = uuid.uuid4()
        state = rng.choice(["open", "open", "done", "dropped"])
        due = CYCLE_START + timedelta(days=rng.randint(0, 89))
        done_at = START + timedelta(seconds=rng.random() * SPAN) if state == "done" else None
        dropped_at = START + timedelta(days=10) if state == "dropped" else None
        commitments.append((c, org, f"C{i}", "Done.", person, due, state, done_at, dropped_at))
        supports.append((org, c, rng.choice(key_results)[0]))
    await conn.copy_records_to_table(
        "commitments",
        records=commitments,
        columns=[
            "id",
            "org_id",
            "title",
            "success_criteria",
            "owner_person_id",
            "due_on",
            "state",
            "done_at",
            "dropped_at",
        ],
    )
    await conn.copy_records_to_table(
        "commitment_key_results",
        records=supports,
        columns=["org_id", "commitment_id", "key_result_id"],
    )
    await conn.execute("ANALYZE")
    await conn.close()
    info = {
        "org": str(org),
        "cycle": str(cycle),
        "top": str(levels[0][0]),
        "team": str(levels[1][0]),
        "leaf": str(levels[-1][0]),
        "objectives": len(objectives),
        "key_results": len(key_results),
        "metrics": len(metrics),
        "points": per_metric * n_metrics,
        "check_ins": len(check_ins),
        "commitments": len(commitments),
        "load_seconds": round(time.perf_counter() - t0, 1),
    }
    return info


# The floor: one statement, same numbers, exploiting the known depth (4 levels). Progress and
# ratios meet band edges and thresholds rounded to 9 decimals, like `formulas.comparable`.
HAND_SQL = """
WITH params AS (
    SELECT CAST(:org AS uuid) AS org, CAST(:cycle AS uuid) AS cycle, CAST(:t AS timestamptz) AS t,
           CAST(:cs AS timestamptz) AS cs, CAST(:ce AS timestamptz) AS ce
),
e AS (SELECT greatest(0, least(1, extract(epoch FROM (t - cs)) / extract(epoch FROM (ce - cs)))) AS e FROM params),
objs AS (
    SELECT o.id, o.rollup_mode FROM objectives o, params
    WHERE o.org_id = params.org AND o.cycle_id = params.cycle AND o.state IN ('active', 'closed')
),
krs AS (
    SELECT kr.* FROM key_results kr JOIN objs ON kr.objective_id = objs.id, params
    WHERE kr.org_id = params.org AND kr.state = 'active'
),
windows AS (
    SELECT DISTINCT kr.metric_id FROM krs kr WHERE kr.measure = 'metric'
),
metric_values AS (
    SELECT w.metric_id,
           CASE m.aggregation WHEN 'last' THEN (
                   SELECT sum(v) FROM (SELECT DISTINCT ON (p.dimensions) p.value AS v FROM points p
                     WHERE p.org_id = params.org AND p.metric_id = w.metric_id AND p.ts >= params.cs
                       AND p.ts < least(params.t, params.ce) ORDER BY p.dimensions, p.ts DESC) l)
           ELSE agg.v END AS value
    FROM windows w JOIN metrics m ON m.id = w.metric_id CROSS JOIN params
    CROSS JOIN LATERAL (
        SELECT CASE m.aggregation WHEN 'sum' THEN sum(p.value) WHEN 'avg' THEN avg(p.value)
                 WHEN 'min' THEN min(p.value) WHEN 'max' THEN max(p.value)
                 WHEN 'count' THEN count(*)::float8 END AS v
        FROM points p WHERE m.aggregation <> 'last' AND p.org_id = params.org
          AND p.metric_id = w.metric_id AND p.ts >= params.cs AND p.ts < least(params.t, params.ce)
    ) agg
),
current AS (
    SELECT kr.id, kr.objective_id, kr.weight, kr.measure, kr.direction,
           CASE kr.measure WHEN 'metric' THEN mv.value
                WHEN 'milestone' THEN CASE WHEN ci.done THEN 1.0 WHEN ci.done IS NULL THEN NULL ELSE 0.0 END
                ELSE ci.value END AS c,
           kr.start_value AS s, kr.target_value AS g
    FROM krs kr CROSS JOIN params
    LEFT JOIN metric_values mv ON mv.metric_id = kr.metric_id
    LEFT JOIN LATERAL (
        SELECT c.value, c.done FROM check_ins c
        WHERE c.org_id = params.org AND c.key_result_id = kr.id AND kr.measure <> 'metric'
          AND c.retracted_at IS NULL AND c.observed_at <= params.t AND c.observed_at < params.ce
          AND CASE kr.measure WHEN 'milestone' THEN c.done IS NOT NULL ELSE c.value IS NOT NULL END
        ORDER BY c.observed_at DESC, c.recorded_at DESC, c.id DESC LIMIT 1
    ) ci ON true
),
kr_scores AS (
    SELECT c.id, c.objective_id, c.weight, s.p,
           CASE WHEN c.c IS NULL THEN 'no_data'
                WHEN c.measure <> 'milestone' AND c.direction IN ('at_least', 'at_most')
                     THEN CASE WHEN s.p >= 1 THEN 'on_track' ELSE 'off_track' END
                WHEN round(s.p::numeric, 9) >= 1 THEN 'done' WHEN e.e = 0 THEN 'on_track'
                WHEN round((s.p / e.e)::numeric, 9) >= 0.7 THEN 'on_track' WHEN round((s.p / e.e)::numeric, 9) >= 0.4 THEN 'at_risk'
                ELSE 'off_track' END AS status
    FROM current c CROSS JOIN e
    CROSS JOIN LATERAL (SELECT CASE
        WHEN c.c IS NULL THEN 0.0
        WHEN c.measure = 'milestone' THEN c.c
        WHEN c.direction = 'at_least' THEN CASE WHEN c.c >= c.g THEN 1.0 ELSE 0.0 END
        WHEN c.direction = 'at_most' THEN CASE WHEN c.c <= c.g THEN 1.0 ELSE 0.0 END
        ELSE greatest(0, least(1, (c.c - c.s) / (c.g - c.s))) END AS p) s
),
kr_sums AS (
    SELECT objective_id, sum(weight * p) FILTER (WHERE weight > 0) AS wp,
           sum(weight) FILTER (WHERE weight > 0) AS w
    FROM kr_scores GROUP BY objective_id
),
edges AS (
    SELECT a.parent_objective_id AS parent, a.child_objective_id AS child, a.weight
    FROM alignments a JOIN objs c ON c.id = a.child_objective_id, params
    WHERE a.org_id = params.org AND a.weight > 0
),
depth AS (
    SELECT o.id, 0 AS d FROM objs o
    WHERE NOT EXISTS (SELECT 1 FROM alignments a JOIN objs p ON p.id = a.parent_objective_id
                      WHERE a.child_objective_id = o.id)
    UNION ALL SELECT o.id, 1 FROM objs o WHERE false
),
p3 AS (  -- leaves and anything whose progress needs no children
    SELECT o.id, CASE WHEN ks.w > 0 THEN ks.wp / ks.w END AS p FROM objs o
    LEFT JOIN kr_sums ks ON ks.objective_id = o.id
),
level AS (
    SELECT o.id, o.rollup_mode, coalesce(ks.wp, 0) AS wp, coalesce(ks.w, 0) AS w,
           EXISTS (SELECT 1 FROM kr_scores k WHERE k.objective_id = o.id) AS has_krs
    FROM objs o LEFT JOIN kr_sums ks ON ks.objective_id = o.id
),
p2 AS (SELECT l.id, CASE WHEN l.rollup_mode IN ('key_results') OR (l.rollup_mode = 'auto' AND l.has_krs)
               THEN p3.p ELSE (
                 CASE WHEN (CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.w END) + coalesce(ch.w, 0) > 0 THEN
                   ((CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.wp END) + coalesce(ch.wp, 0))
                   / ((CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.w END) + coalesce(ch.w, 0)) END) END AS p
       FROM level l JOIN p3 ON p3.id = l.id
       LEFT JOIN (SELECT e.parent, sum(e.weight * c.p) AS wp, sum(e.weight) AS w FROM edges e JOIN p3 c ON c.id = e.child
                  WHERE c.p IS NOT NULL GROUP BY e.parent) ch ON ch.parent = l.id),
p1 AS (SELECT l.id, CASE WHEN l.rollup_mode IN ('key_results') OR (l.rollup_mode = 'auto' AND l.has_krs)
               THEN p3.p ELSE (
                 CASE WHEN (CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.w END) + coalesce(ch.w, 0) > 0 THEN
                   ((CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.wp END) + coalesce(ch.wp, 0))
                   / ((CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.w END) + coalesce(ch.w, 0)) END) END AS p
       FROM level l JOIN p3 ON p3.id = l.id
       LEFT JOIN (SELECT e.parent, sum(e.weight * c.p) AS wp, sum(e.weight) AS w FROM edges e JOIN p2 c ON c.id = e.child
                  WHERE c.p IS NOT NULL GROUP BY e.parent) ch ON ch.parent = l.id),
p0 AS (SELECT l.id, CASE WHEN l.rollup_mode IN ('key_results') OR (l.rollup_mode = 'auto' AND l.has_krs)
               THEN p3.p ELSE (
                 CASE WHEN (CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.w END) + coalesce(ch.w, 0) > 0 THEN
                   ((CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.wp END) + coalesce(ch.wp, 0))
                   / ((CASE WHEN l.rollup_mode = 'children' THEN 0 ELSE l.w END) + coalesce(ch.w, 0)) END) END AS p
       FROM level l JOIN p3 ON p3.id = l.id
       LEFT JOIN (SELECT e.parent, sum(e.weight * c.p) AS wp, sum(e.weight) AS w FROM edges e JOIN p1 c ON c.id = e.child
                  WHERE c.p IS NOT NULL GROUP BY e.parent) ch ON ch.parent = l.id),
final AS (SELECT p0.id, p0.p, CASE WHEN p0.p IS NULL THEN 'no_data' WHEN round(p0.p::numeric, 9) >= 1 THEN 'done'
                 WHEN e.e = 0 THEN 'on_track' WHEN round((p0.p / e.e)::numeric, 9) >= 0.7 THEN 'on_track'
                 WHEN round((p0.p / e.e)::numeric, 9) >= 0.4 THEN 'at_risk' ELSE 'off_track' END AS status
          FROM p0 CROSS JOIN e),
delivery AS (
    SELECT count(*) FILTER (WHERE st <> 'dropped') AS committed,
           count(*) FILTER (WHERE st = 'done') AS delivered,
           count(*) FILTER (WHERE st = 'open') AS open,
           count(*) FILTER (WHERE st = 'open' AND due_on < (SELECT (t AT TIME ZONE 'UTC')::date FROM params)) AS overdue,
           count(*) FILTER (WHERE st = 'done' AND (done_at AT TIME ZONE 'UTC')::date <= due_on) AS on_time
    FROM (
        SELECT DISTINCT c.id, c.due_on, c.done_at,
               CASE WHEN c.state = 'done' AND c.done_at <= params.t THEN 'done'
                    WHEN c.state = 'dropped' AND (c.dropped_at IS NULL OR c.dropped_at <= params.t) THEN 'dropped'
                    ELSE 'open' END AS st
        FROM kr_scores k JOIN commitment_key_results ckr ON ckr.key_result_id = k.id
        JOIN commitments c ON c.id = ckr.commitment_id CROSS JOIN params
        WHERE k.weight > 0 AND ckr.org_id = params.org
    ) cs
)
SELECT
    (SELECT avg(f.p) FROM final f JOIN depth d ON d.id = f.id WHERE f.p IS NOT NULL) AS progress,
    (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM final GROUP BY status) x) AS objectives_by_status,
    (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM kr_scores GROUP BY status) x) AS key_results_by_status,
    (SELECT json_object_agg(b, n) FROM (SELECT CASE WHEN round(p::numeric, 9) >= 0.7 THEN '0.7-1.0' WHEN round(p::numeric, 9) >= 0.4 THEN '0.4-0.6' ELSE '0.0-0.3' END AS b, count(*) AS n
        FROM final WHERE p IS NOT NULL GROUP BY 1) x) AS objectives_by_band,
    (SELECT json_object_agg(b, n) FROM (SELECT CASE WHEN round(p::numeric, 9) >= 0.7 THEN '0.7-1.0' WHEN round(p::numeric, 9) >= 0.4 THEN '0.4-0.6' ELSE '0.0-0.3' END AS b, count(*) AS n
        FROM kr_scores WHERE status <> 'no_data' GROUP BY 1) x) AS key_results_by_band,
    (SELECT row_to_json(delivery) FROM delivery) AS delivery
"""


async def median_ms(call: Callable[[], Awaitable[Any]], runs: int) -> tuple[float, Any]:
    result = await call()  # warm-up
    await call()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


async def run(url: str, info: dict[str, Any], runs: int) -> dict[str, Any]:
    engine = create_engine(url, Settings(database_url=None, statement_timeout_ms=600_000))
    sessions = create_sessionmaker(engine)
    org, cycle = uuid.UUID(info["org"]), uuid.UUID(info["cycle"])

    async def engine_cycle() -> Any:
        async with sessions() as session:
            return await cycle_rollup(session, org, cycle, as_of=AS_OF)

    async def hand_cycle() -> Any:
        async with sessions() as session:
            result = await session.execute(
                text(HAND_SQL),
                {
                    "org": org,
                    "cycle": cycle,
                    "t": AS_OF,
                    "cs": START,
                    "ce": datetime(2027, 4, 1, tzinfo=UTC),
                },
            )
            return result.one()

    def objective_call(objective: str) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            async with sessions() as session:
                return await objective_rollup(session, org, uuid.UUID(objective), as_of=AS_OF)

        return call

    results: dict[str, Any] = {}
    results["cycle_engine_ms"], engine_result = await median_ms(engine_cycle, runs)
    results["cycle_hand_sql_ms"], hand = await median_ms(hand_cycle, runs)
    results["cycle_ratio"] = round(results["cycle_engine_ms"] / results["cycle_hand_sql_ms"], 2)
    statuses = lambda d: {str(k): v for k, v in d.items() if v}  # noqa: E731
    hand_delivery = hand.delivery if isinstance(hand.delivery, dict) else json.loads(hand.delivery)
    d = engine_result.delivery
    results["same_answer"] = {
        "progress": abs((engine_result.progress or 0) - (hand.progress or 0)) < 1e-9,
        "objectives_by_status": statuses(engine_result.objectives_by_status)
        == dict(hand.objectives_by_status or {}),
        "key_results_by_status": statuses(engine_result.key_results_by_status)
        == dict(hand.key_results_by_status or {}),
        "objectives_by_band": statuses(engine_result.objectives_by_band)
        == dict(hand.objectives_by_band or {}),
        "key_results_by_band": statuses(engine_result.key_results_by_band)
        == dict(hand.key_results_by_band or {}),
        "delivery": (d.committed, d.delivered, d.open, d.overdue)
        == (
            hand_delivery["committed"],
            hand_delivery["delivered"],
            hand_delivery["open"],
            hand_delivery["overdue"],
        ),
    }
    results["cycle_progress"] = engine_result.progress
    for name in ("top", "team", "leaf"):
        ms, rollup = await median_ms(objective_call(info[name]), runs)
        results[f"objective_{name}_ms"] = round(ms, 2)
        results[f"objective_{name}_breakdown_items"] = len(rollup.breakdown)
    results["cycle_engine_ms"] = round(results["cycle_engine_ms"], 2)
    results["cycle_hand_sql_ms"] = round(results["cycle_hand_sql_ms"], 2)
    assert Status.on_track  # the engine's enums imported for the report
    await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--org-file", help="JSON of a previous load to reuse (written after each load)"
    )
    args = parser.parse_args()
    upgrade_to_head(args.database_url)
    org_file = Path(args.org_file) if args.org_file else None
    if org_file is not None and org_file.exists():
        info = json.loads(org_file.read_text())
    else:
        info = asyncio.run(load(args.database_url, args.scale, args.seed))
        if org_file is not None:
            org_file.write_text(json.dumps(info))
    print(json.dumps(info, indent=2))
    results = asyncio.run(run(args.database_url, info, args.runs))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
