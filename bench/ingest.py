"""Ingestion throughput over real HTTP versus a raw asyncpg set-based upsert, in one run.

    python bench/ingest.py --url http://127.0.0.1:8000 --database-url postgresql://... \
        --key lsk_... [--metrics 100] [--points 200000] [--clients 4] [--batch-sizes 1000 10000]

Starts nothing: point it at a running `lodestar serve` and at the same database. The key
needs `write` (it PUTs the `bench_*` metrics) and `ingest` (an admin key will do). Start the
server with a rate limit that does not throttle the run, e.g.
`LODESTAR_RATE_LIMIT_PER_SECOND=1000000 LODESTAR_RATE_LIMIT_BURST=1000000`.

For each batch size, the same rows (metrics round-robin, one `region` dimension, distinct
timestamps) are written twice into `points`, as fresh inserts both times:
- HTTP: `--clients` concurrent keep-alive clients POST JSON batches to `/v1/points`
  (bodies serialised beforehand; a batch counts once its 200 arrived, i.e. committed);
- raw: `--clients` concurrent asyncpg connections run the same `INSERT ... SELECT FROM
  unnest(...) ON CONFLICT DO UPDATE` per batch in a transaction each, with the timestamps
  shifted by a fixed offset so that they insert too.
It prints points/second of both and the ratio HTTP / raw (target ≥ 0.5). With
`--single N` it also measures N single-point pushes from 32 clients (throughput, p50/p99).
The rows it wrote are deleted at the end (`--keep` keeps them).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson

RAW_UPSERT = """
    INSERT INTO points AS p (org_id, metric_id, ts, dimensions, value, source)
    SELECT $1::uuid, r.metric_id, r.ts, r.dimensions::jsonb, r.value, r.source
    FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::float8[], $6::text[])
        AS r(metric_id, ts, dimensions, value, source)
    ON CONFLICT (org_id, metric_id, ts, dimensions) DO UPDATE
        SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = now()
        WHERE (p.value, p.source) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.source)
"""
REGIONS = ("eu", "us", "apac", "latam")
BASE = datetime(2020, 1, 1, tzinfo=UTC)
RAW_SHIFT = timedelta(days=3650)  # raw rows land ten years after the HTTP ones


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ensure_metrics(client: httpx.AsyncClient, count: int) -> dict[str, uuid.UUID]:
    ids: dict[str, uuid.UUID] = {}
    for index in range(count):
        key = f"bench_m{index:04d}"
        response = await client.put(f"/v1/metrics/{key}", json={"name": f"Bench {index}"})
        response.raise_for_status()
        ids[key] = uuid.UUID(response.json()["id"])
    return ids


def make_batches(
    keys: list[str], total: int, size: int, start: datetime
) -> list[list[tuple[str, datetime, str, float]]]:
    """(metric key, ts, region, value) rows, unique by identity, cut into batches."""
    rows = []
    per_step = len(keys) * len(REGIONS)
    for i in range(total):
        step, rest = divmod(i, per_step)
        metric, region = divmod(rest, len(REGIONS))
        rows.append(
            (keys[metric], start + timedelta(minutes=step), REGIONS[region], float(i % 997))
        )
    return [rows[i : i + size] for i in range(0, len(rows), size)]


async def run_http(
    client: httpx.AsyncClient, batches: list[list[tuple[str, datetime, str, float]]], clients: int
) -> float:
    bodies = [
        orjson.dumps(
            {
                "points": [
                    {"metric": m, "ts": ts.isoformat(), "value": v, "dimensions": {"region": r}}
                    for m, ts, r, v in batch
                ]
            }
        )
        for batch in batches
    ]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            response = await client.post(
                "/v1/points", content=body, headers={"Content-Type": "application/json"}
            )
            if response.status_code == 429:
                raise SystemExit("rate limited: start the server with a higher rate limit")
            response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


async def run_raw(
    pool: asyncpg.Pool,
    org_id: uuid.UUID,
    ids: dict[str, uuid.UUID],
    batches: list[list[tuple[str, datetime, str, float]]],
    clients: int,
) -> float:
    # The same columns the service hands to its statement: ids, datetimes, dimension JSON text.
    prepared = [
        (
            [ids[m] for m, _, _, _ in batch],
            [ts + RAW_SHIFT for _, ts, _, _ in batch],
            [orjson.dumps({"region": r}).decode() for _, _, r, _ in batch],
            [v for _, _, _, v in batch],
            ["" for _ in batch],
        )
        for batch in batches
    ]
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in prepared:
        queue.put_nowait(item)

    async def worker() -> None:
        async with pool.acquire() as conn:
            while not queue.empty():
                columns = queue.get_nowait()
                async with conn.transaction():
                    await conn.execute(RAW_UPSERT, org_id, *columns)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


async def run_single(client: httpx.AsyncClient, keys: list[str], total: int) -> None:
    latencies: list[float] = []
    counter = iter(range(total))
    start = BASE - timedelta(days=3650)

    async def worker() -> None:
        for i in counter:
            body = {
                "points": [
                    {
                        "metric": keys[i % len(keys)],
                        "ts": (start + timedelta(seconds=i)).isoformat(),
                        "value": 1.0,
                    }
                ]
            }
            began = time.perf_counter()
            response = await client.post("/v1/points", json=body)
            response.raise_for_status()
            latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(32)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"single-point pushes, 32 clients: {total / elapsed:,.0f} req/s, "
        f"p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    headers = {"Authorization": f"Bearer {args.key}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, timeout=120, limits=limits
    ) as client:
        ids = await ensure_metrics(client, args.metrics)
        keys = sorted(ids)
        pool = await asyncpg.create_pool(
            plain(args.database_url), min_size=args.clients, max_size=args.clients
        )
        try:
            org_id = await pool.fetchval("SELECT org_id FROM metrics WHERE id = $1", ids[keys[0]])
            metric_ids = list(ids.values())
            print(
                f"{args.points:,} points per run over {len(keys)} metrics, "
                f"{args.clients} concurrent clients"
            )
            print(f"{'batch':>7} {'http pts/s':>12} {'raw pts/s':>12} {'ratio':>7}")
            for offset, size in enumerate(args.batch_sizes):
                start = BASE + timedelta(days=100 * offset)
                batches = make_batches(keys, args.points, size, start)
                http_seconds = await run_http(client, batches, args.clients)
                raw_seconds = await run_raw(pool, org_id, ids, batches, args.clients)
                http_rate = args.points / http_seconds
                raw_rate = args.points / raw_seconds
                print(
                    f"{size:>7,} {http_rate:>12,.0f} {raw_rate:>12,.0f} "
                    f"{http_rate / raw_rate:>7.2f}"
                )
            if args.single:
                await run_single(client, keys, args.single)
        finally:
            if not args.keep:
                await pool.execute(
                    "DELETE FROM points WHERE org_id = $1 AND metric_id = ANY($2::uuid[])",
                    org_id,
                    metric_ids,
                )
            await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="Base URL of a running lodestar serve.")
    parser.add_argument("--database-url", required=True, help="The database that server uses.")
    parser.add_argument("--key", required=True, help="API key with write and ingest scopes.")
    parser.add_argument("--metrics", type=int, default=100)
    parser.add_argument("--points", type=int, default=200_000, help="Points per run.")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--single", type=int, default=0, help="Single-point pushes to time.")
    parser.add_argument("--keep", action="store_true", help="Keep the written points.")
    asyncio.run(main(parser.parse_args()))
