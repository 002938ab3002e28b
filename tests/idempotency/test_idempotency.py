"""Idempotency-Key on POST /v1/points: every cell of the contract."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import any_, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.app import create_app
from service.auth import service as auth_service
from service.db import create_engine
from service.idempotency import service as idempotency
from service.models import IdempotencyRecord, Metric, Point, StatusRecheck
from service.settings import Settings
from tests.factories import create_api_key, create_metric, create_org
from tests.real_transactions import committed_org, wait_for_lock_waiters


def headers(key: str, idempotency_key: str | None = None) -> dict[str, str]:
    result = {"Authorization": f"Bearer {key}"}
    if idempotency_key is not None:
        result["Idempotency-Key"] = idempotency_key
    return result


def batch(*values: float, metric: str = "signups") -> dict[str, Any]:
    return {
        "points": [
            {"metric": metric, "ts": f"2026-01-0{day}T00:00:00Z", "value": value}
            for day, value in enumerate(values, start=1)
        ]
    }


async def point_values(session: AsyncSession, metric: Metric) -> list[float]:
    result = await session.execute(
        select(Point.value)
        .where(Point.org_id == metric.org_id, Point.metric_id == metric.id)
        .order_by(Point.ts)
    )
    return list(result.scalars())


async def queued_batches(session: AsyncSession, metric: Metric) -> int:
    """Batches that stored points of `metric` (each queues one row for the worker)."""
    result = await session.execute(
        select(func.count()).where(
            StatusRecheck.org_id == metric.org_id, metric.id == any_(StatusRecheck.metric_ids)
        )
    )
    return int(result.scalar_one())


async def test_same_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    first = await client.post("/v1/points", json=batch(1, 2), headers=headers(key, "job-42"))

    # when
    second = await client.post("/v1/points", json=batch(1, 2), headers=headers(key, "job-42"))

    # then: the first answer again (inserted 2, not unchanged 2), and no second execution
    assert first.status_code == second.status_code == 200
    assert (
        second.json()
        == first.json()
        == {
            "received": 2,
            "inserted": 2,
            "updated": 0,
            "unchanged": 0,
            "duplicates": 0,
        }
    )
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert await queued_batches(session, metric) == 1


async def test_same_key_with_another_body_is_422_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    await client.post("/v1/points", json=batch(1), headers=headers(key, "job-42"))

    other = await client.post("/v1/points", json=batch(5), headers=headers(key, "job-42"))

    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await point_values(session, metric) == [1.0]


async def test_same_key_on_another_route_counts_as_another_request(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    await client.post("/v1/points", json=batch(1), headers=headers(key, "job-42"))

    other_route = await client.post(
        "/v1/metrics/signups/points", json=batch(1), headers=headers(key, "job-42")
    )

    assert other_route.status_code == 422


async def test_keys_are_scoped_to_the_api_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    first_key = await create_api_key(session, org, scopes=("ingest",))
    second_key = await create_api_key(session, org, scopes=("ingest",))
    await client.post("/v1/points", json=batch(1), headers=headers(first_key, "nightly"))

    response = await client.post(
        "/v1/points", json=batch(7), headers=headers(second_key, "nightly")
    )

    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers
    assert await point_values(session, metric) == [7.0]


async def test_a_failed_attempt_leaves_the_key_free_for_a_retry(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given an attempt refused for a bad point
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    bad = await client.post("/v1/points", json=batch(1, metric="nope"), headers=headers(key, "k"))

    # when the same key comes back, once with the same bad body, then corrected
    again = await client.post("/v1/points", json=batch(1, metric="nope"), headers=headers(key, "k"))
    fixed = await client.post("/v1/points", json=batch(3), headers=headers(key, "k"))
    replayed = await client.post("/v1/points", json=batch(3), headers=headers(key, "k"))

    # then the refusals ran (and were not stored); the corrected one ran once
    assert (bad.status_code, again.status_code) == (422, 422)
    assert again.json()["errors"][0]["code"] == "UNKNOWN_METRIC"
    assert fixed.status_code == 200 and "idempotent-replayed" not in fixed.headers
    assert replayed.headers["idempotent-replayed"] == "true"
    assert await point_values(session, metric) == [3.0]


async def test_a_key_longer_than_255_characters_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))

    too_long = await client.post("/v1/points", json=batch(1), headers=headers(key, "k" * 256))
    longest = await client.post("/v1/points", json=batch(1), headers=headers(key, "k" * 255))

    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "Idempotency-Key"
    assert longest.status_code == 200
    assert await point_values(session, metric) == [1.0]


async def test_expired_records_are_deleted_and_their_keys_run_again(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given a completed record, then everything aged past its expiry
    org = await create_org(session)
    metric = await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))
    await client.post("/v1/points", json=batch(1), headers=headers(key, "old-a"))
    await client.post("/v1/points", json=batch(1), headers=headers(key, "old-b"))
    await session.execute(
        text(
            "UPDATE idempotency_records SET expires_at = now() - interval '1 second' WHERE org_id = :org"
        ),
        {"org": org.id},
    )

    # when old-a is used again (with another body: it no longer exists, so that is fine)
    response = await client.post("/v1/points", json=batch(9), headers=headers(key, "old-a"))

    # then it ran, and the other expired record was cleaned up on the way
    assert response.status_code == 200 and "idempotent-replayed" not in response.headers
    assert await point_values(session, metric) == [9.0]
    keys = await session.execute(
        select(IdempotencyRecord.key).where(IdempotencyRecord.org_id == org.id)
    )
    assert keys.scalars().all() == ["old-a"]


async def test_records_are_kept_at_least_the_configured_hours(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    await create_metric(session, org, key="signups")
    key = await create_api_key(session, org, scopes=("ingest",))

    await client.post("/v1/points", json=batch(1), headers=headers(key, "kept"))

    record = (
        await session.execute(select(IdempotencyRecord).where(IdempotencyRecord.org_id == org.id))
    ).scalar_one()
    assert record.status == "completed"
    assert record.expires_at >= datetime.now(UTC) + timedelta(hours=24) - timedelta(minutes=1)


async def test_purge_without_an_organization_clears_every_expired_record(
    session: AsyncSession,
) -> None:
    org = await create_org(session)
    other = await create_org(session)
    for owner in (org, other):
        api_key, _ = await auth_service.create_key(session, owner.id, name="k", scopes=["ingest"])
        session.add(
            IdempotencyRecord(
                org_id=owner.id,
                api_key_id=api_key.id,
                key="x",
                request_hash=b"\0" * 32,
                expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
    await session.flush()

    deleted = await idempotency.purge_expired(session, None)

    assert deleted >= 2
    left = await session.execute(
        select(func.count()).where(IdempotencyRecord.org_id.in_([org.id, other.id]))
    )
    assert left.scalar_one() == 0


# -- real commits: concurrency -----------------------------------------------------------


@pytest.fixture
async def real_app(
    engine: AsyncEngine, settings: Settings, database_url: str
) -> AsyncIterator[FastAPI]:
    """An app whose requests really commit (its own engine, pool large enough for 20)."""
    own_engine = create_engine(database_url, settings.model_copy(update={"pool_size": 25}))
    yield create_app(settings, engine=own_engine)
    await own_engine.dispose()


async def test_twenty_concurrent_requests_with_one_key_execute_exactly_once(
    engine: AsyncEngine, real_app: FastAPI
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given
        async with sessions() as setup:
            metric = await create_metric(setup, org, key="signups")
            key = await create_api_key(setup, org, scopes=("ingest",))
            await setup.commit()
        transport = httpx.ASGITransport(app=real_app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://lodestar.test"
        ) as client:
            # when
            responses = await asyncio.gather(
                *(
                    client.post("/v1/points", json=batch(1, 2, 3), headers=headers(key, "same"))
                    for _ in range(20)
                )
            )

        # then: one executed; the rest were told "in flight" (409) or got its replay
        executed = [
            r for r in responses if r.status_code == 200 and "idempotent-replayed" not in r.headers
        ]
        others = {
            (r.status_code, r.headers.get("idempotent-replayed"))
            for r in responses
            if r not in executed
        }
        assert len(executed) == 1
        assert executed[0].json()["inserted"] == 3
        assert others <= {(409, None), (200, "true")}
        for response in responses:
            if response.status_code == 200:
                assert response.json() == executed[0].json()
        async with sessions() as check:
            assert await point_values(check, metric) == [1.0, 2.0, 3.0]
            assert await queued_batches(check, metric) == 1


async def test_while_the_first_request_is_in_flight_the_same_key_gets_409(
    engine: AsyncEngine, real_app: FastAPI
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a first request held mid-write: another transaction holds the row it upserts
        async with sessions() as setup:
            metric = await create_metric(setup, org, key="signups")
            key = await create_api_key(setup, org, scopes=("ingest",))
            await setup.commit()
        async with engine.connect() as blocker:
            blocking = await blocker.begin()
            await blocker.execute(
                text(
                    "INSERT INTO points (org_id, metric_id, ts, value)"
                    " VALUES (:o, :m, '2026-01-01T00:00:00Z', 0)"
                ),
                {"o": org.id, "m": metric.id},
            )
            transport = httpx.ASGITransport(app=real_app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://lodestar.test"
            ) as client:
                first = asyncio.create_task(
                    client.post("/v1/points", json=batch(1), headers=headers(key, "held"))
                )
                try:
                    await wait_for_lock_waiters(engine, first)

                    # when the same key arrives meanwhile
                    during = await client.post(
                        "/v1/points", json=batch(1), headers=headers(key, "held")
                    )
                finally:
                    await blocking.rollback()
                finished = await first
                after = await client.post("/v1/points", json=batch(1), headers=headers(key, "held"))

        # then
        assert during.status_code == 409
        assert during.headers["content-type"].startswith("application/problem+json")
        assert during.headers["retry-after"] == "1"
        assert finished.status_code == 200 and finished.json()["inserted"] == 1
        assert after.headers["idempotent-replayed"] == "true"
        assert after.json() == finished.json()


async def test_a_failure_after_the_claim_removes_the_marker(
    engine: AsyncEngine, real_app: FastAPI
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a batch that fails validation after its marker was committed
        async with sessions() as setup:
            await create_metric(setup, org, key="signups")
            key = await create_api_key(setup, org, scopes=("ingest",))
            await setup.commit()
        transport = httpx.ASGITransport(app=real_app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://lodestar.test"
        ) as client:
            # when
            refused = await client.post(
                "/v1/points", json=batch(1, metric="nope"), headers=headers(key, "r")
            )

        # then no marker is left behind to block a retry
        async with sessions() as check:
            left = await check.execute(
                select(func.count()).where(IdempotencyRecord.org_id == org.id)
            )
            assert refused.status_code == 422
            assert left.scalar_one() == 0


async def test_a_request_that_died_mid_flight_leaves_its_key_free_at_once(
    engine: AsyncEngine, real_app: FastAPI
) -> None:
    async with committed_org(engine) as (sessions, org):
        # given a request that claimed its key and then died with its connection (the
        # service killed mid-request), and a marker an earlier version committed on its own
        async with sessions() as setup:
            metric = await create_metric(setup, org, key="signups")
            key = await create_api_key(setup, org, scopes=("ingest",))
            principal = await auth_service.authenticate(setup, key)
            assert principal is not None
            await setup.commit()
        marker = (
            "INSERT INTO idempotency_records (org_id, api_key_id, key, request_hash, status,"
            " expires_at) VALUES (:org, :api_key, :key, :hash, 'in_flight', now() + interval '1 day')"
        )
        body = json.dumps(batch(1, 2)).encode()
        same_request = idempotency.fingerprint(b"POST", b"/v1/points", b"application/json", body)
        hashes = {"org": org.id, "api_key": principal.api_key_id, "hash": same_request}
        dying = await engine.connect()
        await dying.begin()
        await dying.execute(text(marker), {**hashes, "key": "crashed"})
        await dying.invalidate()  # the connection is closed without a commit
        async with sessions() as legacy:
            await legacy.execute(text(marker), {**hashes, "key": "left-behind"})
            await legacy.commit()

        # when both requests are retried
        transport = httpx.ASGITransport(app=real_app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://lodestar.test"
        ) as client:
            sent_as_json = {"Content-Type": "application/json"}
            crashed = await client.post(
                "/v1/points", content=body, headers=headers(key, "crashed") | sent_as_json
            )
            left = await client.post(
                "/v1/points", content=body, headers=headers(key, "left-behind") | sent_as_json
            )

        # then each runs (no 409 for minutes)
        assert crashed.status_code == 200 and crashed.json()["inserted"] == 2
        assert left.status_code == 200 and left.json()["unchanged"] == 2
        async with sessions() as check:
            assert await point_values(check, metric) == [1.0, 2.0]
