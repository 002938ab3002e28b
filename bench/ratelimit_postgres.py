"""What a token bucket shared in PostgreSQL would cost per request, next to the in-memory one.

    python bench/ratelimit_postgres.py postgresql://postgres@127.0.0.1:5432/postgres

Creates (and drops) a scratch database. Measures, per call: a bare round trip (`SELECT 1`),
the bucket as one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` in autocommit (logged and
UNLOGGED table), sequentially and from 32 concurrent connections on one key (row-lock
contention) and on 32 keys; and the in-process `TokenBuckets.take`.
"""

import asyncio
import statistics
import sys
import time
import timeit
import uuid

import asyncpg

from service.ratelimit import TokenBuckets

BUCKET_SQL = """
INSERT INTO {table} AS b (key_id, tokens, updated_at) VALUES ($1, $3 - 1, clock_timestamp())
ON CONFLICT (key_id) DO UPDATE SET
    tokens = LEAST($3, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * $2) - 1,
    updated_at = clock_timestamp()
WHERE LEAST($3, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * $2) >= 1
RETURNING tokens
"""
CALLS = 3000
CLIENTS = 32
PER_CLIENT = 300


async def timed(conn: asyncpg.Connection, sql: str, *args: object) -> float:
    started = time.perf_counter()
    await conn.fetch(sql, *args)
    return time.perf_counter() - started


def summary(name: str, latencies: list[float], wall: float) -> None:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1e3
    p99 = ordered[int(len(ordered) * 0.99)] * 1e3
    print(
        f"{name:<44} {len(latencies) / wall:>9.0f} calls/s   p50 {p50:6.3f} ms   p99 {p99:6.3f} ms"
        f"   mean {statistics.fmean(latencies) * 1e3:6.3f} ms"
    )


async def sequential(url: str, name: str, sql: str, *args: object) -> None:
    conn = await asyncpg.connect(url)
    try:
        for _ in range(200):
            await conn.fetch(sql, *args)
        started = time.perf_counter()
        latencies = [await timed(conn, sql, *args) for _ in range(CALLS)]
        summary(name, latencies, time.perf_counter() - started)
    finally:
        await conn.close()


async def concurrent(url: str, name: str, sql: str, keys: list[uuid.UUID]) -> None:
    conns = [await asyncpg.connect(url) for _ in range(CLIENTS)]
    latencies: list[float] = []

    async def client(conn: asyncpg.Connection, key: uuid.UUID) -> None:
        for _ in range(PER_CLIENT):
            latencies.append(await timed(conn, sql, key, 1e9, 1e9))

    try:
        started = time.perf_counter()
        await asyncio.gather(*(client(conn, keys[i % len(keys)]) for i, conn in enumerate(conns)))
        summary(name, latencies, time.perf_counter() - started)
    finally:
        for conn in conns:
            await conn.close()


async def main(admin_url: str) -> None:
    name = f"lodestar_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        conn = await asyncpg.connect(url)
        for table, kind in (("buckets", ""), ("buckets_unlogged", "UNLOGGED")):
            await conn.execute(
                f"CREATE {kind} TABLE {table} (key_id uuid PRIMARY KEY, tokens float8 NOT NULL,"
                " updated_at timestamptz NOT NULL)"
            )
        await conn.close()
        one = uuid.uuid4()
        many = [uuid.uuid4() for _ in range(CLIENTS)]
        await sequential(url, "round trip SELECT 1 (sequential)", "SELECT 1")
        for table in ("buckets", "buckets_unlogged"):
            sql = BUCKET_SQL.format(table=table)
            await sequential(url, f"{table}: one key, sequential", sql, one, 1e9, 1e9)
            await concurrent(url, f"{table}: one key, {CLIENTS} clients", sql, [one])
            await concurrent(url, f"{table}: {CLIENTS} keys, {CLIENTS} clients", sql, many)
        buckets = TokenBuckets(rate=1e9, burst=1e9)
        key = uuid.uuid4()
        per_call = timeit.timeit(lambda: buckets.take(key), number=200_000) / 200_000
        print(
            f"{'in-memory TokenBuckets.take':<44} {1 / per_call:>9.0f} calls/s   {per_call * 1e6:.2f} µs"
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(
        main(sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres")
    )
