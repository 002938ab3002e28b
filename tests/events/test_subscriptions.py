"""GraphQL subscriptions across two app instances (two engines, two listeners, two real
uvicorn servers) on one database, with real commits."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from fastapi import FastAPI
from sqlalchemy import delete, text

from schema.core.relay import to_global_id
from service.app import create_app
from service.db import outbox, unit_of_work
from service.models import Organization
from service.settings import Settings
from tests import factories
from tests.events.live_server import serving

PROTOCOL = "graphql-transport-ws"


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[FastAPI, FastAPI, str, str]]:
    settings = Settings(
        database_url=database_url,
        environment="development",
        log_level="WARNING",
        worker_in_serve=False,
        subscription_key_check_seconds=0.2,
    )
    first, second = create_app(settings), create_app(settings)
    async with serving(first) as first_host, serving(second) as second_host:
        yield first, second, f"ws://{first_host}/graphql", f"ws://{second_host}/graphql"


@pytest.fixture
async def org_with_key(
    replicas: tuple[FastAPI, FastAPI, str, str],
) -> AsyncIterator[tuple[Organization, str]]:
    sessions = replicas[0].state.sessions
    async with unit_of_work(sessions) as session:
        org = await factories.create_org(session)
        key = await factories.create_api_key(session, org, scopes=("read",))
    yield org, key
    async with unit_of_work(sessions) as session:
        await session.execute(delete(Organization).where(Organization.id == org.id))


async def connect(url: str, key: str) -> websockets.ClientConnection:
    socket = await websockets.connect(url, subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
    )
    ack = json.loads(await socket.recv())
    assert ack["type"] == "connection_ack"
    return socket


async def subscribe(
    socket: websockets.ClientConnection, query: str, variables: dict[str, Any]
) -> None:
    await socket.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )
    await asyncio.sleep(0.3)  # the protocol has no "subscribed" reply; let the resolver start


def ingested(metric_key: str, count: int) -> dict[str, Any]:
    """A `metric.points_ingested` payload listing one metric."""
    entry = {
        "metric_id": str(uuid.uuid4()),
        "metric_key": metric_key,
        "count": count,
        "inserted": count,
        "updated": 0,
        "from_ts": "2027-01-04T00:00:00+00:00",
        "to_ts": "2027-01-05T00:00:00+00:00",
    }
    return {"count": count, "inserted": count, "updated": 0, "metrics": [entry]}


POINTS = """
subscription ($key: String!) {
  metricPointsIngested(metricKey: $key) { metricKey count inserted fromTs event { type payload } }
}
"""


async def test_a_point_pushed_to_one_replica_reaches_a_subscriber_on_the_other_within_a_second(
    replicas: tuple[FastAPI, FastAPI, str, str], org_with_key: tuple[Organization, str]
) -> None:
    # given a subscriber on the first replica
    _first, second, first_url, _ = replicas
    org, key = org_with_key
    socket = await connect(first_url, key)
    await subscribe(socket, POINTS, {"key": "weekly_active_teams"})

    # when the second replica commits points of another metric, then of the subscribed one
    started = time.perf_counter()
    async with unit_of_work(second.state.sessions) as session:
        await outbox.emit(
            session,
            org.id,
            "metric.points_ingested",
            uuid.uuid4(),
            ingested("other", 1),
        )
        await outbox.emit(
            session,
            org.id,
            "metric.points_ingested",
            uuid.uuid4(),
            ingested("weekly_active_teams", 3),
        )

    # then the subscriber gets exactly the subscribed metric's event within a second
    message = json.loads(await asyncio.wait_for(socket.recv(), timeout=1.0))
    elapsed = time.perf_counter() - started
    await socket.close()
    assert message["type"] == "next"
    update = message["payload"]["data"]["metricPointsIngested"]
    assert update["metricKey"] == "weekly_active_teams"
    assert (update["count"], update["inserted"], update["fromTs"]) == (
        3,
        3,
        "2027-01-04T00:00:00+00:00",
    )
    assert update["event"]["payload"]["metrics"][0]["metric_key"] == "weekly_active_teams"
    assert elapsed < 1.0


async def test_a_subscriber_sees_nothing_of_another_organization_nor_of_a_rollback(
    replicas: tuple[FastAPI, FastAPI, str, str], org_with_key: tuple[Organization, str]
) -> None:
    # given a subscriber of one organization's objective
    _first, second, first_url, _ = replicas
    org, key = org_with_key
    objective_id = uuid.uuid4()
    socket = await connect(first_url, key)
    await subscribe(
        socket,
        "subscription ($id: ID!) { objectiveUpdated(id: $id) { objectiveId event { type } } }",
        {"id": to_global_id("Objective", objective_id)},
    )

    # when another organization writes about the same id, a transaction rolls back, then a commit
    sessions = second.state.sessions
    async with unit_of_work(sessions) as session:
        other = await factories.create_org(session)
        await outbox.emit(session, other.id, "objective.updated", objective_id, {})
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions) as session:
            await outbox.emit(session, org.id, "objective.updated", objective_id, {"n": 1})
            raise RuntimeError("rolled back")
    async with unit_of_work(sessions) as session:
        await outbox.emit(session, org.id, "objective.archived", objective_id, {})

    # then only the committed event of its own organization arrives
    message = json.loads(await asyncio.wait_for(socket.recv(), timeout=2.0))
    await socket.close()
    async with unit_of_work(sessions) as session:
        await session.execute(delete(Organization).where(Organization.id == other.id))
    assert message["payload"]["data"]["objectiveUpdated"]["event"]["type"] == "objective.archived"


async def test_a_connection_without_a_valid_key_is_refused(
    replicas: tuple[FastAPI, FastAPI, str, str],
) -> None:
    # given no valid key
    socket = await websockets.connect(replicas[2], subprotocols=[PROTOCOL])  # type: ignore[list-item]

    # when initialising with a malformed key
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer lsk_nope"}})
    )

    # then the server closes with 4403
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), timeout=2.0)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_query_over_the_websocket_is_refused_with_a_code(
    replicas: tuple[FastAPI, FastAPI, str, str], org_with_key: tuple[Organization, str]
) -> None:
    # given a connected subscriber
    _, key = org_with_key
    socket = await connect(replicas[2], key)

    # when it sends a query instead of a subscription
    await socket.send(
        json.dumps(
            {"id": "q", "type": "subscribe", "payload": {"query": "{ organization { name } }"}}
        )
    )
    reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=5.0))
    await socket.close()

    # then the operation is refused with a coded error, shaped as over HTTP
    assert reply["type"] == "error" or reply["payload"].get("data") is None, reply
    errors = reply["payload"] if reply["type"] == "error" else reply["payload"]["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["OPERATION_NOT_ALLOWED"]
    assert "subscriptions only" in errors[0]["message"]


async def test_a_revoked_key_loses_its_open_subscription_within_seconds(
    replicas: tuple[FastAPI, FastAPI, str, str], org_with_key: tuple[Organization, str]
) -> None:
    # given a subscriber connected with a key
    org, key = org_with_key
    socket = await connect(replicas[2], key)
    await subscribe(socket, POINTS, {"key": "signups"})

    # when the key is revoked
    async with unit_of_work(replicas[0].state.sessions) as session:
        await session.execute(
            text("UPDATE api_keys SET revoked_at = now() WHERE org_id = :org"), {"org": org.id}
        )

    # then the server closes the connection with 4403, as it refuses a new one with that key
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), timeout=3.0)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


KEY_RESULTS = """
subscription ($id: ID!) {
  keyResultUpdated(objectiveId: $id) { keyResultId objectiveId event { type } }
}
"""


async def test_every_subscriber_of_an_objective_gets_a_check_in_on_its_key_result(
    replicas: tuple[FastAPI, FastAPI, str, str], org_with_key: tuple[Organization, str]
) -> None:
    # given a key result and two subscribers to its objective on the first replica
    _first, second, first_url, _ = replicas
    org, key = org_with_key
    sessions = second.state.sessions
    async with unit_of_work(sessions) as session:
        cycle = await factories.create_cycle(session, org)
        objective = await factories.create_objective(session, org, cycle)
        other_objective = await factories.create_objective(session, org, cycle)
        key_result = await factories.create_key_result(session, objective)
        other_key_result = await factories.create_key_result(session, other_objective)
    sockets = [await connect(first_url, key) for _ in range(2)]
    for socket in sockets:
        await subscribe(socket, KEY_RESULTS, {"id": to_global_id("Objective", objective.id)})

    # when check-ins on another objective's key result, then on this one, commit on the second
    async with unit_of_work(sessions) as session:
        for kr in (other_key_result, key_result):
            await outbox.emit(
                session, org.id, "check_in.created", uuid.uuid4(), {"key_result_id": str(kr.id)}
            )

    # then both subscribers get this key result's check-in only
    for socket in sockets:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=2.0))
        await socket.close()
        assert message["payload"]["data"]["keyResultUpdated"] == {
            "keyResultId": to_global_id("KeyResult", key_result.id),
            "objectiveId": to_global_id("Objective", objective.id),
            "event": {"type": "check_in.created"},
        }
