"""Idempotency-Key on POST /v1/points: every cell of the contract."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.app import create_app
from service.auth import service as auth_service
from service.db import create_engine
from service.idempotency import service as idempotency
from service.models import Event, IdempotencyRecord, Metric, Point
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


async def ingest_events(session: AsyncSession, metric: Metric) -> int:
    result = await session.execute(
        select(func.count()).where(Event.org_id == metric.org_id, Event.subject_id == metric.id)
    )
    return int(result.scalar_one())


@pytest.fixture
async def real_app(
    engine: AsyncEngine, settings: Settings, database_url: str
) -> AsyncIterator[FastAPI]:
    """An app whose requests really commit (its own engine, pool large enough for 20)."""
    own_engine = create_engine(database_url, settings.model_copy(update={"pool_size": 25}))
    yield create_app(settings, engine=own_engine)
    await own_engine.dispose()


async def test_zz_debug(
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
                    await asyncio.sleep(3)
                    async with engine.connect() as c:
                        rows = (await c.execute(text("SELECT pid, state, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity WHERE datname = current_database()"))).all()
                    print("\nACTIVITY", *rows, sep="\n")
                    print("DONE?", first.done())
                    if not first.done():
                        first.print_stack()

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
        assert finished.status_code == 200 and finished.json()["inserted"] == 1
        assert after.headers["idempotent-replayed"] == "true"
        assert after.json() == finished.json()


