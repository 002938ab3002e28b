"""Scenario 3: the company-level cycle roll-up and one company objective's roll-up with
breakdown, over GraphQL, against one hand-written SQL statement each giving the same
answer (`scenarios/goal_sql.py`). Both sides are asked for the same instant; the answers
are compared and any difference is reported in the note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from scenarios import goal_sql
from scenarios.common import (
    Context,
    NotAvailable,
    Row,
    differences,
    global_id,
    graphql,
    latencies,
    latency_samples,
    median_ms,
)

DELIVERY = "delivery { committed delivered open overdue onTimeRate }"
CYCLE_QUERY = f"""
query CycleRollup($id: ID!, $asOf: DateTime) {{
  rollup(id: $id, asOf: $asOf) {{
    progress status expectedProgress
    breakdown {{ itemId weight progress status share }}
    {DELIVERY}
    objectivesByStatus {{ status count }}
    keyResultsByStatus {{ status count }}
    objectivesByBand {{ band count }}
    keyResultsByBand {{ band count }}
  }}
}}"""
OBJECTIVE_QUERY = f"""
query ObjectiveRollup($id: ID!, $asOf: DateTime) {{
  rollup(id: $id, asOf: $asOf) {{
    progress status expectedProgress
    breakdown {{ itemId weight progress status share }}
    {DELIVERY}
  }}
}}"""


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """Counts as maps, breakdown as the sorted list of item progresses (ids differ in form)."""
    result = dict(answer)
    for key in ("objectivesByStatus", "keyResultsByStatus"):
        if key in result:
            result[key] = {item["status"]: item["count"] for item in result[key]}
    for key in ("objectivesByBand", "keyResultsByBand"):
        if key in result:
            result[key] = {item["band"]: item["count"] for item in result[key]}
    result["breakdown"] = sorted(
        (-1.0 if item["progress"] is None else item["progress"]) for item in answer["breakdown"]
    )
    return result


async def _compare(
    ctx: Context, query: str, gid: str, sql: str, arg: Any, as_of: datetime, label: str
) -> tuple[list[float], list[float], list[str]]:
    conn = await ctx.connect(jit=False)
    try:
        async with ctx.client() as http:
            variables = {"id": gid, "asOf": as_of.isoformat()}
            first = (await graphql(http, query, variables))["rollup"]
            if first is None:
                raise RuntimeError(f"{label}: rollup is null")
            floor_answer = orjson.loads(await conn.fetchval(sql, ctx.org.org_id, as_of, arg))
            mismatches = differences(_comparable(first), _comparable(floor_answer), label)

            async def lodestar() -> None:
                await graphql(http, query, variables)

            async def floor() -> None:
                await conn.fetchval(sql, ctx.org.org_id, as_of, arg)

            repeat = ctx.count(30, 10)
            floor_times = await latencies(floor, repeat=repeat, warmup=2)
            lodestar_times = await latencies(lodestar, repeat=repeat, warmup=2)
            return lodestar_times, floor_times, mismatches
    finally:
        await conn.close()


def _note(mismatches: list[str]) -> str:
    if not mismatches:
        return "same answer as the floor"
    return f"ANSWERS DIFFER ({len(mismatches)}): " + "; ".join(mismatches[:3])


async def run(ctx: Context) -> list[Row]:
    org = ctx.org
    if not org.company_objective_ids:
        raise NotAvailable("no company objective in the current cycle")
    as_of = org.now
    rows = []
    lodestar, floor, mismatches = await _compare(
        ctx,
        CYCLE_QUERY,
        global_id("Cycle", org.current_cycle_id),
        goal_sql.CYCLE_ROLLUP,
        org.current_cycle_id,
        as_of,
        "cycle",
    )
    rows.append(
        Row(
            scenario="3 roll-up",
            measure="company cycle roll-up, median",
            unit="ms",
            lodestar=median_ms(lodestar),
            floor=median_ms(floor),
            target=2.0,
            note=_note(mismatches),
            samples={
                "lodestar": latency_samples(lodestar),
                "floor": latency_samples(floor),
                "mismatches": mismatches[:20],
            },
        )
    )
    objective = org.company_objective_ids[0]
    lodestar, floor, mismatches = await _compare(
        ctx,
        OBJECTIVE_QUERY,
        global_id("Objective", objective),
        goal_sql.OBJECTIVE_ROLLUP,
        objective,
        as_of,
        "objective",
    )
    rows.append(
        Row(
            scenario="3 roll-up",
            measure="one company objective + breakdown, median",
            unit="ms",
            lodestar=median_ms(lodestar),
            floor=median_ms(floor),
            target=2.0,
            note=_note(mismatches) + f"; issue 4 also asks < 20 ms: {median_ms(lodestar):.1f} ms",
            samples={
                "lodestar": latency_samples(lodestar),
                "floor": latency_samples(floor),
                "mismatches": mismatches[:20],
            },
        )
    )
    return rows
