"""Scenario 2: single-point pushes from 32 concurrent clients (one keep-alive connection
each): throughput and p50/p99 latency. The floor is the same one-row upsert from 32 raw
asyncpg connections (autocommit), so the ratio says what the HTTP request, auth,
validation, events and the session cost per point.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson

from scenarios.common import Context, NotAvailable, Row, latency_samples, percentile
from scenarios.ingest import FLOOR_UPSERT, PointSource

CLIENTS = 32


async def run(ctx: Context) -> list[Row]:
    source = PointSource(ctx)
    per_client = ctx.count(60, 25)
    warmup = 3

    http_latencies: list[float] = []
    # Opened (and warmed) before the timed run, as the floor's connections are: opening an
    # HTTP client costs the benchmark ~23 ms of CPU (its TLS context), 32 of them most of a
    # second, which inside the window would be charged to the service.
    https = [ctx.client() for _ in range(CLIENTS)]

    async def http_client(http: httpx.AsyncClient, measured: bool) -> None:
        for _ in range(per_client if measured else warmup):
            key, _, ts, value = source.take(1)[0]
            body = orjson.dumps({"points": [{"metric": key, "ts": ts.isoformat(), "value": value}]})
            started = time.perf_counter()
            response = await http.post(
                "/v1/points", content=body, headers={"content-type": "application/json"}
            )
            elapsed = time.perf_counter() - started
            if response.status_code == 404:
                raise NotAvailable("POST /v1/points is not served")
            if response.status_code != 200:
                raise RuntimeError(f"push HTTP {response.status_code}: {response.text[:200]}")
            if measured:
                http_latencies.append(elapsed)

    try:
        await asyncio.gather(*(http_client(http, False) for http in https))
        started = time.perf_counter()
        cpu_before = ctx.service_cpu()
        await asyncio.gather(*(http_client(http, True) for http in https))
        http_wall = time.perf_counter() - started
        cpu_ms = (ctx.service_cpu() - cpu_before) * 1e3 / (CLIENTS * per_client)
    finally:
        for http in https:
            await http.aclose()

    floor_latencies: list[float] = []
    conns = [await ctx.connect() for _ in range(CLIENTS)]
    try:

        async def floor_client(i: int, measured: bool) -> None:
            conn = conns[i]
            for _ in range(per_client if measured else warmup):
                _, metric_id, ts, value = source.take(1)[0]
                started = time.perf_counter()
                await conn.execute(
                    FLOOR_UPSERT, ctx.org.org_id, [metric_id], [ts], ["{}"], [value], [""]
                )
                if measured:
                    floor_latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(floor_client(i, False) for i in range(CLIENTS)))
        started = time.perf_counter()
        await asyncio.gather(*(floor_client(i, True) for i in range(CLIENTS)))
        floor_wall = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()

    total = CLIENTS * per_client
    return [
        Row(
            scenario="2 single points",
            measure=f"{CLIENTS} clients, throughput",
            unit="points/s",
            lodestar=total / http_wall,
            floor=total / floor_wall,
            higher_is_better=True,
            note=f"service CPU {cpu_ms:.1f} ms per push",
            samples={"requests": total, "service_cpu_ms_per_request": cpu_ms},
        ),
        Row(
            scenario="2 single points",
            measure=f"{CLIENTS} clients, p50 latency",
            unit="ms",
            lodestar=percentile(http_latencies, 0.5) * 1e3,
            floor=percentile(floor_latencies, 0.5) * 1e3,
            samples={"lodestar": latency_samples(http_latencies)},
        ),
        Row(
            scenario="2 single points",
            measure=f"{CLIENTS} clients, p99 latency",
            unit="ms",
            lodestar=percentile(http_latencies, 0.99) * 1e3,
            floor=percentile(floor_latencies, 0.99) * 1e3,
            samples={"floor": latency_samples(floor_latencies)},
        ),
    ]
