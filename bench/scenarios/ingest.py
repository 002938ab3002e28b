"""Scenario 1: batches of 1,000 and 10,000 points from 4 concurrent clients over HTTP,
against a raw asyncpg set-based upsert of rows of the same shape into the same table.

Both sides write fresh points (inserts) at distinct timestamps, so neither one updates
the other's rows: the HTTP side gets one row set, the floor another of identical shape
(same metrics, same count, timestamps shifted by a fraction of a second). The floor gets
its rows as ready-made Python lists with the metric ids resolved: what is left is the
database's own cost of the statement and the commit. Rounds alternate floor / Lodestar
and the medians are reported.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson

from scenarios.common import Context, NotAvailable, Row, run_concurrently

CLIENTS = 4
# Same statement shape as the service's (service/points/repository.py) minus its
# per-metric counting: one INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE.
FLOOR_UPSERT = """
INSERT INTO points AS p (org_id, metric_id, ts, dimensions, value, source)
SELECT $1, r.metric_id, r.ts, r.dimensions::jsonb, r.value, r.source
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::float8[], $6::text[])
    AS r(metric_id, ts, dimensions, value, source)
ON CONFLICT (org_id, metric_id, ts, dimensions) DO UPDATE
    SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = now()
    WHERE (p.value, p.source) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.source)
"""


@dataclass
class Batch:
    body: bytes  # the JSON request body
    columns: tuple[list[uuid.UUID], list[datetime], list[str], list[float], list[str]]
    size: int


class PointSource:
    """Fresh points: every call advances a sequence, so no two points share an identity,
    and timestamps carry microseconds, so none meets a generated (whole-minute) point."""

    def __init__(self, ctx: Context) -> None:
        keys = ctx.org.ingest_metric_keys[:1000]
        if not keys:
            raise NotAvailable("the generated organization has no plain metric")
        self.keys = keys
        self.ids = [ctx.org.metric_ids[key] for key in keys]
        self.start = ctx.org.now - timedelta(days=20)
        self.seq = ctx.shared.setdefault("point_seq", 0)
        self.ctx = ctx

    def take(self, n: int) -> list[tuple[str, uuid.UUID, datetime, float]]:
        points = []
        for _ in range(n):
            seq = self.seq
            self.seq += 1
            k = seq % len(self.keys)
            ts = self.start + timedelta(microseconds=seq * 1_000 + 7)
            points.append((self.keys[k], self.ids[k], ts, float(seq % 1000) + 0.5))
        self.ctx.shared["point_seq"] = self.seq
        return points

    def batch(self, n: int) -> Batch:
        points = self.take(n)
        body = orjson.dumps(
            {
                "points": [
                    {"metric": key, "ts": ts.isoformat().replace("+00:00", "Z"), "value": value}
                    for key, _, ts, value in points
                ]
            }
        )
        columns = (
            [p[1] for p in points],
            [p[2] for p in points],
            ["{}"] * n,
            [p[3] for p in points],
            [""] * n,
        )
        return Batch(body, columns, n)


async def push_batches(https: list[httpx.AsyncClient], batches: list[Batch]) -> float:
    """POST every batch through the given keep-alive clients, one request at a time each;
    wall seconds. The clients are opened (and their connections warmed) beforehand, as the
    floor's connections are: opening an HTTP client (~23 ms of CPU for its TLS context)
    inside the timed window would charge the benchmark's own set-up to the service."""
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def client(i: int) -> None:
        http = https[i]
        while not queue.empty():
            batch = queue.get_nowait()
            response = await http.post(
                "/v1/points", content=batch.body, headers={"content-type": "application/json"}
            )
            if response.status_code == 404:
                raise NotAvailable("POST /v1/points is not served")
            if response.status_code != 200:
                raise RuntimeError(f"ingest HTTP {response.status_code}: {response.text[:300]}")
            counts = orjson.loads(response.content)
            if counts.get("inserted", 0) + counts.get("updated", 0) != batch.size:
                raise RuntimeError(f"ingest stored {counts} of {batch.size} points")

    return await run_concurrently(len(https), client)


async def upsert_batches(
    ctx: Context, batches: list[Batch], conns: list[asyncpg.Connection]
) -> float:
    """The floor: the same batches through raw asyncpg connections, one statement (and one
    implicit transaction) per batch; wall seconds."""
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def client(i: int) -> None:
        conn = conns[i]
        while not queue.empty():
            batch = queue.get_nowait()
            await conn.execute(FLOOR_UPSERT, ctx.org.org_id, *batch.columns)

    return await run_concurrently(len(conns), client)


async def run(ctx: Context) -> list[Row]:
    source = PointSource(ctx)
    conns = [await ctx.connect() for _ in range(CLIENTS)]
    https = [ctx.client() for _ in range(CLIENTS)]
    rows = []
    try:
        # Warm-up: both paths once (connections, statement caches, the service's imports).
        await asyncio.gather(*(push_batches([http], [source.batch(1000)]) for http in https))
        await upsert_batches(ctx, [source.batch(1000) for _ in range(CLIENTS)], conns)
        # Five rounds a side: the worker's status recheck (every 5 s, inside `serve`) lands in
        # about one Lodestar round in three; with three rounds one such round could set the
        # median, with five it takes two.
        rounds = ctx.count(5, 2)
        for size, per_round in ((1_000, ctx.count(60, 20)), (10_000, ctx.count(8, 4))):
            lodestar: list[float] = []
            floor: list[float] = []
            cpu_us: list[float] = []
            for _ in range(rounds):
                floor_batches = [source.batch(size) for _ in range(per_round)]
                wall = await upsert_batches(ctx, floor_batches, conns)
                floor.append(size * per_round / wall)
                http_batches = [source.batch(size) for _ in range(per_round)]
                cpu_before = ctx.service_cpu()
                wall = await push_batches(https, http_batches)
                cpu_us.append((ctx.service_cpu() - cpu_before) * 1e6 / (size * per_round))
                lodestar.append(size * per_round / wall)
            rows.append(
                Row(
                    scenario="1 ingestion",
                    measure=f"batches of {size:,}, {CLIENTS} clients",
                    unit="points/s",
                    lodestar=statistics.median(lodestar),
                    floor=statistics.median(floor),
                    target=0.5,
                    higher_is_better=True,
                    note=f"service CPU {statistics.median(cpu_us):.1f} µs per point",
                    samples={
                        "service_cpu_us_per_point": cpu_us,
                        "lodestar_points_per_s": lodestar,
                        "floor_points_per_s": floor,
                        "points_per_round": size * per_round,
                    },
                )
            )
            if size == 1_000:
                ctx.shared["ingest_1000_points_per_s"] = statistics.median(lodestar)
    finally:
        for conn in conns:
            await conn.close()
        for http in https:
            await http.aclose()
    return rows


def describe() -> dict[str, Any]:
    return {"clients": CLIENTS, "floor": FLOOR_UPSERT.strip()}
