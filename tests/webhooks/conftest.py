"""Fixtures for tests that need real commits: their own engine, a committed organization
(deleted afterwards, which cascades to every row of it) and a loopback receiver."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db import create_engine, create_sessionmaker, unit_of_work
from service.models import Organization
from service.settings import Settings
from tests import factories
from tests.webhooks.receiver import Receiver, running_receiver


@pytest.fixture
def worker_settings() -> Settings:
    return Settings(
        database_url=None,
        environment="development",
        log_level="WARNING",
        worker_poll_seconds=0.2,
        webhook_timeout_seconds=1.0,
        webhook_lease_seconds=30.0,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_cap_seconds=0.2,
    )


@pytest.fixture
async def live_sessions(
    database_url: str, worker_settings: Settings
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, worker_settings)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def live_org(live_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Organization]:
    async with unit_of_work(live_sessions) as session:
        org = await factories.create_org(session)
    yield org
    async with unit_of_work(live_sessions) as session:
        await session.execute(delete(Organization).where(Organization.id == org.id))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver(Receiver()) as running:
        yield running
