"""Scenario 5: metric reads. (a) A series of one metric over the last 90 days by day, over
REST (`GET /v1/metrics/{key}/series`) and GraphQL (`metric(key) { series }`), against one
`GROUP BY date_trunc` statement; (b) the metric tree with values — the North Star, its
drivers and theirs (~110 metrics), each with its value over its trailing observation
window and the previous one — over GraphQL, against one statement building that JSON.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import orjson

from scenarios.common import (
    Context,
    NotAvailable,
    Row,
    differences,
    graphql,
    latencies,
    latency_samples,
    median_ms,
)


def _aggregate(window_start: str, window_end: str, metric: str, aggregation: str) -> str:
    """The metric's aggregate of its points in [window_start, window_end) (SPEC §3)."""
    where = (
        f"p.org_id = $1::uuid AND p.metric_id = {metric}"
        f" AND p.ts >= {window_start} AND p.ts < {window_end}"
    )
    return f"""(CASE WHEN {aggregation} = 'last' THEN (
        SELECT sum(l.value) FROM (
            SELECT DISTINCT ON (p.dimensions) p.value FROM points p WHERE {where}
            ORDER BY p.dimensions, p.ts DESC) l)
    ELSE (
        SELECT CASE {aggregation} WHEN 'sum' THEN sum(p.value) WHEN 'avg' THEN avg(p.value)
               WHEN 'min' THEN min(p.value) WHEN 'max' THEN max(p.value)
               WHEN 'count' THEN count(*)::float8 END
        FROM points p WHERE {where}) END)"""


SERIES_FLOOR = """
WITH m AS (SELECT id, aggregation FROM metrics WHERE org_id = $1::uuid AND key = $2),
b AS (
    SELECT date_trunc('day', p.ts, 'UTC') AS bucket, p.dimensions, p.ts, p.value
    FROM points p JOIN m ON p.metric_id = m.id
    WHERE p.org_id = $1::uuid AND p.ts >= $3::timestamptz AND p.ts < $4::timestamptz
),
agg AS (
    SELECT bucket,
           CASE (SELECT aggregation FROM m)
           WHEN 'sum' THEN sum(value) WHEN 'avg' THEN avg(value) WHEN 'min' THEN min(value)
           WHEN 'max' THEN max(value) WHEN 'count' THEN count(*)::float8
           ELSE (SELECT sum(l.value) FROM (
                     SELECT DISTINCT ON (b2.dimensions) b2.value FROM b b2
                     WHERE b2.bucket = b.bucket ORDER BY b2.dimensions, b2.ts DESC) l) END AS v,
           count(*) AS n
    FROM b GROUP BY bucket
)
SELECT json_agg(json_build_object('start', bucket, 'value', v, 'points', n) ORDER BY bucket)
FROM agg
"""

_VALUE = """json_build_object('value', {v}.value, 'previousValue', {v}.previous)"""
TREE_FLOOR = f"""
WITH RECURSIVE lvl(id, depth) AS (
    SELECT id, 0 FROM metrics WHERE org_id = $1::uuid AND is_north_star
    UNION ALL
    SELECT e.child_metric_id, l.depth + 1 FROM lvl l
    JOIN metric_edges e ON e.org_id = $1::uuid AND e.parent_metric_id = l.id
    WHERE l.depth < 2
),
ms AS (
    SELECT DISTINCT m.id, m.key, m.aggregation,
           make_interval(days => coalesce(m.observation_window_days, 7)) AS span
    FROM metrics m JOIN lvl ON lvl.id = m.id WHERE m.org_id = $1::uuid
),
vals AS MATERIALIZED (
    SELECT ms.id, ms.key,
           {_aggregate("$2::timestamptz - ms.span", "$2::timestamptz", "ms.id", "ms.aggregation")}
               AS value,
           {
    _aggregate(
        "$2::timestamptz - 2 * ms.span", "$2::timestamptz - ms.span", "ms.id", "ms.aggregation"
    )
} AS previous
    FROM ms
)
SELECT json_build_object('northStar', json_build_object(
    'key', ns.key, 'value', {_VALUE.format(v="ns")},
    'drivers', coalesce((
        SELECT json_agg(json_build_object('child', json_build_object(
            'key', c1.key, 'value', {_VALUE.format(v="c1")},
            'drivers', coalesce((
                SELECT json_agg(json_build_object('child', json_build_object(
                    'key', c2.key, 'value', {_VALUE.format(v="c2")})))
                FROM metric_edges e2 JOIN vals c2 ON c2.id = e2.child_metric_id
                WHERE e2.org_id = $1::uuid AND e2.parent_metric_id = c1.id), '[]'::json))))
        FROM metric_edges e1 JOIN vals c1 ON c1.id = e1.child_metric_id
        WHERE e1.org_id = $1::uuid AND e1.parent_metric_id = ns.id), '[]'::json)))
FROM vals ns JOIN metrics m ON m.org_id = $1::uuid AND m.id = ns.id AND m.is_north_star
"""

SERIES_QUERY = """
query Series($key: String!, $start: DateTime!, $end: DateTime!) {
  metric(key: $key) { series(start: $start, end: $end, interval: DAY) { bucketStart value } }
}"""
VALUE = "value(asOf: $asOf) { value previousValue }"
TREE_QUERY = f"""
query Tree($asOf: DateTime) {{
  northStar {{ key {VALUE}
    drivers {{ child {{ key {VALUE}
      drivers {{ child {{ key {VALUE} }} }}
    }} }}
  }}
}}"""


def _sorted_tree(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _sorted_tree(value) for key, value in node.items()}
    if isinstance(node, list):
        items = [_sorted_tree(item) for item in node]
        return sorted(items, key=lambda item: orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
    return node


async def _series(ctx: Context, conn: Any, http: httpx.AsyncClient) -> list[Row]:
    key = ctx.org.hot_metric_key
    end = ctx.org.now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=90)
    params = {"from": start.isoformat(), "to": end.isoformat(), "bucket": "day"}

    async def rest() -> dict[str, Any]:
        response = await http.get(f"/v1/metrics/{key}/series", params=params)
        if response.status_code == 404:
            raise NotAvailable(f"GET /v1/metrics/{{key}}/series: {response.text[:200]}")
        response.raise_for_status()
        body: dict[str, Any] = orjson.loads(response.content)
        return body

    async def floor() -> list[dict[str, Any]]:
        raw = await conn.fetchval(SERIES_FLOOR, ctx.org.org_id, key, start, end)
        rows: list[dict[str, Any]] = orjson.loads(raw or "[]")
        return rows

    answer = await rest()
    floor_answer = await floor()
    mine = [(b["value"], b["points"]) for b in answer["buckets"]]
    theirs = [(b["value"], b["points"]) for b in floor_answer]
    mismatches = differences(mine, theirs, "series")
    repeat = ctx.count(50, 15)
    floor_times = await latencies(floor, repeat=repeat, warmup=2)
    rest_times = await latencies(rest, repeat=repeat, warmup=2)
    rows = [
        Row(
            scenario="5 metric reads",
            measure="series 90 days by day, REST, median",
            unit="ms",
            lodestar=median_ms(rest_times),
            floor=median_ms(floor_times),
            note=f"{len(mine)} buckets; "
            + ("same answer as the floor" if not mismatches else f"DIFFER: {mismatches[:2]}"),
            samples={
                "lodestar": latency_samples(rest_times),
                "floor": latency_samples(floor_times),
            },
        )
    ]
    variables = {"key": key, "start": start.isoformat(), "end": end.isoformat()}
    try:
        await graphql(http, SERIES_QUERY, variables)

        async def gql() -> None:
            await graphql(http, SERIES_QUERY, variables)

        gql_times = await latencies(gql, repeat=repeat, warmup=2)
        rows.append(
            Row(
                scenario="5 metric reads",
                measure="series 90 days by day, GraphQL, median",
                unit="ms",
                lodestar=median_ms(gql_times),
                floor=median_ms(floor_times),
                samples={"lodestar": latency_samples(gql_times)},
            )
        )
    except NotAvailable as exc:
        rows.append(Row("5 metric reads", "series, GraphQL", "ms", None, note=f"n/a: {exc}"))
    return rows


async def _tree(ctx: Context, conn: Any, http: httpx.AsyncClient) -> Row:
    as_of = ctx.org.now
    variables = {"asOf": as_of.isoformat()}
    answer = await graphql(http, TREE_QUERY, variables)
    if answer.get("northStar") is None:
        raise NotAvailable("the organization has no North Star")
    floor_answer = orjson.loads(await conn.fetchval(TREE_FLOOR, ctx.org.org_id, as_of))
    mismatches = differences(_sorted_tree(answer), _sorted_tree(floor_answer), "tree")
    metrics = 1 + sum(1 + len(d["child"]["drivers"]) for d in answer["northStar"]["drivers"])

    async def lodestar() -> None:
        await graphql(http, TREE_QUERY, variables)

    async def floor() -> None:
        await conn.fetchval(TREE_FLOOR, ctx.org.org_id, as_of)

    repeat = ctx.count(30, 10)
    floor_times = await latencies(floor, repeat=repeat, warmup=2)
    lodestar_times = await latencies(lodestar, repeat=repeat, warmup=2)
    return Row(
        scenario="5 metric reads",
        measure="metric tree with values (3 levels), median",
        unit="ms",
        lodestar=median_ms(lodestar_times),
        floor=median_ms(floor_times),
        note=f"{metrics} metrics; "
        + (
            "same answer as the floor"
            if not mismatches
            else f"ANSWERS DIFFER ({len(mismatches)}): " + "; ".join(mismatches[:3])
        ),
        samples={
            "lodestar": latency_samples(lodestar_times),
            "floor": latency_samples(floor_times),
            "mismatches": mismatches[:20],
        },
    )


async def run(ctx: Context) -> list[Row]:
    conn = await ctx.connect(jit=False)
    rows: list[Row] = []
    try:
        async with ctx.client() as http:
            try:
                rows += await _series(ctx, conn, http)
            except NotAvailable as exc:
                rows.append(Row("5 metric reads", "series", "ms", None, note=f"n/a: {exc}"))
            try:
                rows.append(await _tree(ctx, conn, http))
            except NotAvailable as exc:
                rows.append(Row("5 metric reads", "metric tree", "ms", None, note=f"n/a: {exc}"))
    finally:
        await conn.close()
    return rows
