"""Scenario 4: a nested GraphQL read — the current cycle's root objectives → children →
children → key results with progress, about 1,000 nodes — against ONE hand-written SQL
statement that builds the same JSON with `json_agg` (`goal_sql.NESTED_READ`, given the
same root ids). The answers are compared (lists sorted by id on both sides).
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import httpx
import orjson

from scenarios import goal_sql
from scenarios.common import (
    Context,
    Row,
    differences,
    global_id,
    graphql,
    latencies,
    latency_samples,
    median_ms,
)

NODES_PER_ROOT = 1 + 8 + 48 + 48 * 4.5  # the generator's tree: ~273 nodes under a root
QUERY = """
query Nested($cycle: ID!, $first: Int!, $asOf: DateTime) {
  objectives(filter: {cycle: $cycle, topLevel: true}, first: $first) {
    nodes {
      id title
      children { weight child { id title
        children { weight child { id title
          keyResults { id title progress(asOf: $asOf) }
        } }
      } }
    }
  }
}"""


def variables(ctx: Context, as_of: datetime) -> dict[str, Any]:
    roots = max(1, round(1000 / NODES_PER_ROOT))
    return {
        "cycle": global_id("Cycle", ctx.org.current_cycle_id),
        "first": roots,
        "asOf": as_of.isoformat(),
    }


async def read(http: httpx.AsyncClient, ctx: Context, as_of: datetime) -> dict[str, Any]:
    return await graphql(http, QUERY, variables(ctx, as_of))


def _decode(gid: str) -> uuid.UUID:
    raw = base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode()
    return uuid.UUID(raw.partition(":")[2])


def _normalized(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _normalized(value) for key, value in node.items()}
    if isinstance(node, list):
        items = [_normalized(item) for item in node]
        return sorted(items, key=lambda item: orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
    return node


def count_nodes(answer: dict[str, Any]) -> int:
    count = 0

    def walk(objective: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        for alignment in objective.get("children", []):
            walk(alignment["child"])
        count += len(objective.get("keyResults", []))

    for root in answer["objectives"]["nodes"]:
        walk(root)
    return count


async def run(ctx: Context) -> list[Row]:
    as_of = ctx.org.now
    conn = await ctx.connect(jit=False)
    try:
        async with ctx.client() as http:
            answer = await read(http, ctx, as_of)
            roots = [_decode(node["id"]) for node in answer["objectives"]["nodes"]]
            floor_answer = orjson.loads(
                await conn.fetchval(goal_sql.NESTED_READ, ctx.org.org_id, as_of, roots)
            )
            mismatches = differences(_normalized(answer), _normalized(floor_answer), "read")
            nodes = count_nodes(answer)

            async def lodestar() -> None:
                await read(http, ctx, as_of)

            async def floor() -> None:
                await conn.fetchval(goal_sql.NESTED_READ, ctx.org.org_id, as_of, roots)

            repeat = ctx.count(30, 10)
            floor_times = await latencies(floor, repeat=repeat, warmup=2)
            await lodestar()  # warm-up (with the first read above)
            cpu_before = ctx.service_cpu()
            lodestar_times = await latencies(lodestar, repeat=repeat, warmup=0)
            cpu_ms = (ctx.service_cpu() - cpu_before) * 1e3 / len(lodestar_times)
    finally:
        await conn.close()
    ctx.shared["nested_read_idle"] = lodestar_times
    note = f"{nodes} nodes, {len(roots)} roots, service CPU {cpu_ms:.0f} ms/read; " + (
        "same answer as the floor"
        if not mismatches
        else f"ANSWERS DIFFER ({len(mismatches)}): " + "; ".join(mismatches[:3])
    )
    return [
        Row(
            scenario="4 nested read",
            measure="roots→children→children→KRs, median",
            unit="ms",
            lodestar=median_ms(lodestar_times),
            floor=median_ms(floor_times),
            target=3.0,
            note=note,
            samples={
                "lodestar": latency_samples(lodestar_times),
                "floor": latency_samples(floor_times),
                "nodes": nodes,
                "service_cpu_ms_per_request": cpu_ms,
                "response_bytes": len(orjson.dumps(answer)),
                "mismatches": mismatches[:20],
            },
        )
    ]
