"""Scenario 6: scenario 4's nested read at a steady rate while scenario 1's ingestion
(batches of 1,000, 4 clients) runs flat out. Reported: the reads' p99 under load against
their p99 with the service otherwise idle (the same reads at the same rate, measured just
before), and the ingestion rate reached meanwhile.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from scenarios.common import Context, Row, latency_samples, percentile
from scenarios.ingest import CLIENTS, PointSource, push_batches
from scenarios.nested_read import read

MAX_READS_PER_SECOND = 4.0


def reads_per_second(ctx: Context) -> float:
    """4 reads/s, or fewer if one read alone takes over 1/8 s: the read load then keeps
    about half a core busy, a steady rate the service can sustain on its own."""
    idle = ctx.shared.get("nested_read_idle")
    if not idle:
        return 1.0
    return max(0.2, min(MAX_READS_PER_SECOND, 0.5 / statistics.median(idle)))


async def _steady_reads(ctx: Context, seconds: float, rate: float) -> list[float]:
    """Reads started every 1/rate s (each on its own keep-alive client, so a slow read does
    not delay the next start); latencies in seconds."""
    measured: list[float] = []
    as_of = ctx.org.now
    clients = [ctx.client() for _ in range(4)]
    try:
        for http in clients:
            await read(http, ctx, as_of)  # warm-up, opens the connections
        idle = list(clients)

        async def one() -> None:
            if not idle:  # all busy: one more keep-alive client, kept (and closed) with the rest
                clients.append(ctx.client())
                idle.append(clients[-1])
            http = idle.pop()
            try:
                started = time.perf_counter()
                await read(http, ctx, as_of)
                measured.append(time.perf_counter() - started)
            finally:
                idle.append(http)

        tasks = []
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            tasks.append(asyncio.create_task(one()))
            n += 1
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    finally:
        for http in clients:
            await http.aclose()
    return measured


async def run(ctx: Context) -> list[Row]:
    seconds = ctx.count(20, 8)
    rate = reads_per_second(ctx)
    idle = await _steady_reads(ctx, seconds, rate)

    source = PointSource(ctx)
    done = asyncio.Event()
    ingested = 0
    ingest_started = time.perf_counter()

    async def ingest() -> None:
        nonlocal ingested
        https = [ctx.client() for _ in range(CLIENTS)]
        try:
            while not done.is_set():
                batches = [source.batch(1_000) for _ in range(CLIENTS * 2)]
                await push_batches(https, batches)
                ingested += sum(b.size for b in batches)
        finally:
            for http in https:
                await http.aclose()

    ingest_task = asyncio.create_task(ingest())
    await asyncio.sleep(1.0)  # let ingestion reach its pace
    loaded = await _steady_reads(ctx, seconds, rate)
    done.set()
    await ingest_task
    ingest_rate = ingested / (time.perf_counter() - ingest_started)
    return [
        Row(
            scenario="6 mixed",
            measure=f"nested read p99 at {rate:.2g}/s during ingestion",
            unit="ms",
            lodestar=percentile(loaded, 0.99) * 1e3,
            floor=percentile(idle, 0.99) * 1e3,
            note=f"floor = same reads' p99 without ingestion; ingestion meanwhile "
            f"{ingest_rate:,.0f} points/s (alone: "
            f"{ctx.shared.get('ingest_1000_points_per_s', float('nan')):,.0f})",
            samples={
                "under_load": latency_samples(loaded),
                "idle": latency_samples(idle),
                "ingest_points_per_s": ingest_rate,
            },
        )
    ]
