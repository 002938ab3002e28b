"""Webhook fan-out, delivery throughput and cross-replica subscription latency.

    python bench/webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Creates a scratch database (dropped afterwards), and measures, all on loopback:
1. `emit` cost with one subscribed endpoint (event + delivery + NOTIFY in the transaction);
2. delivery throughput of N queued deliveries by W workers to a local receiver (uvicorn);
3. latency from the commit of a `metric.points_ingested` event on one app instance to its
   arrival at a `graphql-transport-ws` subscriber connected to another (p50/p95/max).
"""

import argparse
import asyncio
import contextlib
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import uvicorn
import websockets
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from service.app import create_app
from service.auth.service import create_key
from service.db import create_engine, create_sessionmaker, outbox, unit_of_work
from service.migrations import upgrade_to_head
from service.organizations.service import create_organization
from service.settings import Settings
from service.webhooks import service
from service.webhooks.schemas import EndpointCreate
from service.worker.loop import Worker


class Receiver:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        self.count += 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[int]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="auto")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  # uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def deliveries(url: str, events: int, workers: int, batch: int) -> None:
    settings = Settings(database_url=url, log_level="WARNING", worker_batch_size=batch)
    engine = create_engine(url, settings)
    sessions = create_sessionmaker(engine)
    receiver = Receiver()
    async with serve(receiver) as port:
        async with unit_of_work(sessions) as session:
            org = await create_organization(session, "bench webhooks")
            await service.create_endpoint(
                session,
                org.id,
                EndpointCreate(url=f"http://127.0.0.1:{port}/h", event_types=["objective.created"]),
                production=False,
            )
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            for i in range(events):
                await outbox.emit(session, org.id, "objective.created", uuid.uuid4(), {"i": i})
        emitted = time.perf_counter() - started
        print(f"emit: {events} events, one endpoint: {1000 * emitted / events:.2f} ms/event")
        tasks = [
            asyncio.create_task(Worker(sessions, settings, sweep=False).run())
            for _ in range(workers)
        ]
        started = time.perf_counter()
        while receiver.count < events:  # noqa: ASYNC110  # polling a counter is the point
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(
        f"deliver: {events} deliveries, {workers} worker(s) x {batch} in flight:"
        f" {elapsed:.2f} s, {events / elapsed:.0f}/s"
    )
    await engine.dispose()


async def subscription_latency(url: str, samples: int) -> None:
    settings = Settings(database_url=url, log_level="WARNING", worker_in_serve=False)
    first: FastAPI = create_app(settings)
    second: FastAPI = create_app(settings)
    async with serve(first) as port, serve(second):
        async with unit_of_work(second.state.sessions) as session:
            org = await create_organization(session, "bench subscriptions")
            _, key = await create_key(session, org.id, name="bench", scopes=["read"])
        socket = await websockets.connect(
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        )
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        await socket.recv()
        query = 'subscription { metricPointsIngested(metricKey: "m") { metricKey } }'
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await asyncio.sleep(0.3)
        latencies = []
        for _ in range(samples):
            async with unit_of_work(second.state.sessions) as session:
                entry = {
                    "metric_id": str(uuid.uuid4()),
                    "metric_key": "m",
                    "count": 1,
                    "inserted": 1,
                    "updated": 0,
                    "from_ts": "2027-01-04T00:00:00+00:00",
                    "to_ts": "2027-01-04T00:00:00+00:00",
                }
                payload = {"count": 1, "inserted": 1, "updated": 0, "metrics": [entry]}
                await outbox.emit(session, org.id, "metric.points_ingested", None, payload)
            committed = time.perf_counter()
            await socket.recv()
            latencies.append(1000 * (time.perf_counter() - committed))
        await socket.close()
    latencies.sort()
    print(
        f"subscription, commit on replica B -> subscriber on replica A ({samples} samples):"
        f" p50 {statistics.median(latencies):.1f} ms,"
        f" p95 {latencies[int(0.95 * (samples - 1))]:.1f} ms, max {latencies[-1]:.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    admin = make_url(args.database_url).set(drivername="postgresql")
    name = f"lodestar_bench_webhooks_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    await conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        await deliveries(url, args.events, args.workers, args.batch)
        await subscription_latency(url, args.samples)
    finally:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
