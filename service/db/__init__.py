"""Engine, sessions and the request-scoped unit of work.

One request is one transaction: services `flush()` when they need ids and never commit;
`unit_of_work` commits when the request succeeds and rolls back when it raises.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.db.outbox import OutboxSession
from service.settings import Settings


def async_url(url: str) -> str:
    """Normalise any postgresql:// URL to the asyncpg dialect SQLAlchemy needs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        raise ValueError(f"Lodestar needs a PostgreSQL URL, got driver {parsed.drivername!r}")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        # No pre-ping: it costs a round trip on every checkout, i.e. on every request
        # (docs/decisions/0011-connection-pool-and-per-request-overhead.md). The trade-off:
        # after PostgreSQL restarts or drops a connection,
        # the first request to use a dead pooled connection fails (asyncpg raises, SQLAlchemy
        # invalidates that connection and every one checked out before the failure, so the
        # next requests reconnect) instead of being transparently retried. `pool_recycle`
        # replaces connections after 30 min so idle-timeout kills by proxies and firewalls
        # are not met in the first place.
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.statement_timeout_ms),
                "application_name": "lodestar",
                # Short OLTP statements: JIT compiling (triggered by high estimates of
                # recursive CTEs) costs far more than it saves.
                "jit": "off",
            }
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that send the outbox's notifications after each commit (`OutboxSession`)."""
    return async_sessionmaker(engine, class_=OutboxSession, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits on success and rolls back on any exception."""
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            # Routes that commit themselves before answering (ingestion, idempotency) leave
            # no transaction: committing again would only begin and end an empty one.
            if session.in_transaction():
                await session.commit()
