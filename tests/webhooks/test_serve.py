"""`serve` runs the delivery worker and the listener in its lifespan: end to end over HTTP."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.app import create_app
from service.db import outbox, unit_of_work
from service.events.listener import EventListener, asyncpg_dsn
from service.models import Organization
from service.settings import Settings
from tests import factories
from tests.events.live_server import serving
from tests.webhooks.receiver import Receiver


@pytest.fixture
async def served(
    database_url: str, worker_settings: Settings
) -> AsyncIterator[tuple[FastAPI, str]]:
    settings = worker_settings.model_copy(update={"database_url": database_url})
    app = create_app(settings)
    async with serving(app) as host:
        yield app, f"http://{host}"


async def test_a_ping_created_over_graphql_is_delivered_by_the_worker_inside_serve(
    served: tuple[FastAPI, str],
    live_sessions: async_sessionmaker[AsyncSession],
    live_org: Organization,
    receiver: Receiver,
) -> None:
    # given a running server (worker inside) and an admin key
    _app, base_url = served
    async with unit_of_work(live_sessions) as session:
        key = await factories.create_api_key(session, live_org, scopes=("admin",))
    headers = {"Authorization": f"Bearer {key}"}

    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        # when an endpoint is created and pinged over GraphQL
        created = (
            await client.post(
                "/graphql",
                json={
                    "query": "mutation ($url: String!) { webhookEndpointCreate(input:"
                    ' {url: $url, eventTypes: ["objective.created"]}) {'
                    " webhookEndpoint { id } secret } }",
                    "variables": {"url": receiver.url},
                },
            )
        ).json()["data"]["webhookEndpointCreate"]
        receiver.secret = created["secret"]
        started = time.perf_counter()
        await client.post(
            "/graphql",
            json={
                "query": "mutation ($id: ID!) { webhookEndpointPing(input: {id: $id}) {"
                " webhookDelivery { id } } }",
                "variables": {"id": created["webhookEndpoint"]["id"]},
            },
        )
        await receiver.wait_for(lambda: len(receiver.requests) >= 1)
        latency = time.perf_counter() - started

    # then the receiver verified a webhook.ping, woken by NOTIFY rather than the poll
    [received] = receiver.requests
    assert received.verified is not None
    assert received.verified["type"] == "webhook.ping"
    assert latency < 1.0


async def test_the_listener_reconnects_after_its_connection_is_killed(
    database_url: str, live_sessions: async_sessionmaker[AsyncSession], live_org: Organization
) -> None:
    # given a listening listener
    listener = EventListener(database_url, reconnect_seconds=0.1)
    await listener.start()
    try:
        # when its backend is terminated by the server
        admin = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                " AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert killed >= 1
        # the listener notices the loss (connected clears for at least reconnect_seconds),
        # then listens again on a new connection; a fixed sleep here raced on a busy machine
        async with asyncio.timeout(10):
            while listener.connected.is_set():  # noqa: ASYNC110 (no "lost" event to await)
                await asyncio.sleep(0.01)
            await listener.connected.wait()

        # then a later commit still reaches it
        async with listener.queue() as queue:
            async with unit_of_work(live_sessions) as session:
                event = await outbox.emit(
                    session, live_org.id, "objective.created", uuid.uuid4(), {}
                )
            async with asyncio.timeout(2):
                while (notified := await queue.get())[:2] != (live_org.id, event.seq):
                    pass
        assert notified == (live_org.id, event.seq, 0)  # no endpoint: nothing fanned out
    finally:
        await listener.stop()
