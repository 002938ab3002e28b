"""The status recheck's window reads: kept and extended (`service.statuses.window_cache`) against
read whole (`service.rollups.repository.window_values`, what the recheck did before migration
0011), on the same windows in the same transaction.

    python bench/recheck.py --database-url postgresql://... [--rounds 6] [--batches 50]
        [--vacuum] [--window-points N] [--scale 1.0]

Loads the generated organization into the database (migrate it first: `LODESTAR_DATABASE_URL
=postgresql+asyncpg://... lodestar migrate`), then per round writes `--batches` batches of
1,000 fresh points over 1,000 metrics (one point per metric per batch, as the ingest
scenario interleaves them) through the service's upsert, each in its own transaction;
with `--vacuum`, runs `VACUUM points` (what autovacuum does between rechecks on a busy
server); then, in a transaction rolled back afterwards, claims the queued batches, finds the
key results they reach and reads their windows both ways, alternating, `REPEATS` times each
(the kept read inside a savepoint rolled back after each). It prints the medians, the
points read per round and the ratio kept ÷ whole. Each round then runs the real recheck
(`announce_ingested`, committed), so the kept rows follow the points. The first round has
no kept rows yet: both read whole. `--window-points N` first adds N points to each of the
1,000 metrics in the current cycle (one a second before the ingested ones, then `VACUUM
ANALYZE`): the generated organization's windows hold ~100 points each, a metric fed every
minute ~130,000 in a quarter.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from generate import load, plain_url
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.db import create_sessionmaker
from service.points import repository
from service.rollups.repository import window_values
from service.statuses import tracker, window_cache
from service.statuses.recheck import announce_ingested, claim

REPEATS = 3


def asyncpg_url(url: str) -> str:
    return plain_url(url).replace("postgresql://", "postgresql+asyncpg://", 1)


async def main(args: argparse.Namespace) -> None:
    org = await load(args.database_url, scale=args.scale)
    engine = create_async_engine(asyncpg_url(args.database_url))
    sessions = create_sessionmaker(engine)
    keys = org.ingest_metric_keys[:1000]
    start = org.now - timedelta(days=20)
    seq = 0
    if args.window_points:
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    """
                    INSERT INTO points (org_id, metric_id, ts, dimensions, value, source)
                    SELECT :org, m.id, CAST(:start AS timestamptz) - g * interval '1 second', '{}',
                           g % 100, 'bench'
                    FROM unnest(CAST(:ids AS uuid[])) AS m(id)
                    CROSS JOIN generate_series(1, :n) AS g
                    """
                ),
                {
                    "org": org.org_id,
                    "start": start,
                    "ids": [org.metric_ids[key] for key in keys],
                    "n": args.window_points,
                },
            )
            await conn.commit()
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE points")
    print("round | batches | windows | whole ms | kept ms | kept ÷ whole")
    for number in range(args.rounds):
        for _ in range(args.batches):
            rows = []
            for _ in range(1000):
                ts = start + timedelta(microseconds=seq * 1000 + 7)
                rows.append((keys[seq % len(keys)], ts, "{}", float(seq % 1000) + 0.5, ""))
                seq += 1
            async with sessions() as session:
                await repository.upsert(session, org.org_id, sorted(rows))
                await session.commit()
        if args.vacuum:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("VACUUM points")
        whole: list[float] = []
        kept: list[float] = []
        async with sessions() as session:
            written = (await claim(session, limit=100_000))[org.org_id].written
            t = datetime.now(UTC)
            _, key_results = await tracker.metric_key_results(session, org.org_id, written.spans, t)
            windows = list(dict.fromkeys((kr.window, kr.cycle[1]) for kr in key_results))
            for repeat in range(2 * REPEATS):
                started = time.perf_counter()
                if repeat % 2 == number % 2:
                    await window_values(session, org.org_id, [window for window, _ in windows])
                    whole.append(time.perf_counter() - started)
                else:
                    await session.execute(text("SAVEPOINT kept"))
                    started = time.perf_counter()
                    await window_cache.window_values(session, org.org_id, windows, written)
                    kept.append(time.perf_counter() - started)
                    await session.execute(text("ROLLBACK TO SAVEPOINT kept"))
            await session.rollback()
        async with sessions() as session:
            await announce_ingested(session, limit=100_000, as_of=t)
            await session.commit()
        w, k = statistics.median(whole) * 1000, statistics.median(kept) * 1000
        print(
            f"{number:5} | {args.batches:7} | {len(windows):7} | {w:8.0f} | {k:7.0f} | {k / w:.2f}",
            flush=True,
        )
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a migrated database")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--vacuum", action="store_true", help="VACUUM points before each read")
    parser.add_argument("--window-points", type=int, default=0, help="points added per window")
    asyncio.run(main(parser.parse_args()))
