"""For tests that need REAL commits (concurrency): a committed organization that is deleted
afterwards (every tenant table cascades from it), and a wait for a blocked transaction."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db import create_sessionmaker
from service.models import Organization
from tests.factories import create_org


@asynccontextmanager
async def committed_org(
    engine: AsyncEngine,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], Organization]]:
    """A committed organization and a sessionmaker whose sessions really commit."""
    sessions = create_sessionmaker(engine)
    async with sessions() as setup:
        org = await create_org(setup)
        await setup.commit()
    try:
        yield sessions, org
    finally:
        async with sessions() as cleanup:
            await cleanup.execute(delete(Organization).where(Organization.id == org.id))
            await cleanup.commit()


async def wait_for_lock_waiters(
    engine: AsyncEngine, task: "asyncio.Task[Any] | None" = None, count: int = 1
) -> None:
    """Return once `count` backends of this database are blocked waiting for a lock, or
    `task` has finished (it did not block at all: the test's own assertions then tell).

    Polls pg_stat_activity (bounded): the point is to know, not guess, that the other
    transaction has reached the lock before the test lets the first one commit.
    """
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with engine.connect() as conn:
        for _ in range(1000):
            if (task is not None and task.done()) or (await conn.scalar(query) or 0) >= count:
                return
            # pg_stat_activity is read once per transaction: end it, or every later poll
            # sees the first one's snapshot (and misses a waiter that arrived after it).
            await conn.rollback()
            await asyncio.sleep(0.01)
    raise AssertionError(f"no transaction was seen waiting for a lock (wanted {count})")
