"""Fixtures: one PostgreSQL per run, migrated once; each test inside a rolled-back transaction.

The app under test gets a sessionmaker bound to the test's connection with
`join_transaction_mode="create_savepoint"`, so the request's commit only releases a
savepoint and the outer transaction is rolled back after the test (SQLAlchemy's "join a
session into an external transaction" recipe).
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from service.app import create_app
from service.db import create_engine
from service.migrations import upgrade_to_head
from service.settings import Settings
from tests.database import create_database, drop_database, server_admin_url


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    with server_admin_url() as url:
        yield url


@pytest.fixture(scope="session")
async def database_url(admin_url: str) -> AsyncIterator[str]:
    url = await create_database(admin_url)
    await asyncio.to_thread(upgrade_to_head, url)
    yield url
    await drop_database(admin_url, url)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(database_url=None, environment="development", log_level="WARNING")


@pytest.fixture(scope="session")
async def engine(database_url: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
def app(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> FastAPI:
    return create_app(settings, engine=engine, sessions=sessions)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lodestar.test") as client:
        yield client


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.parameters: list[Any] = []  # each statement's, in the same order

    @property
    def count(self) -> int:
        return len(self.statements)

    def executed(self, containing: str) -> list[tuple[str, Any]]:
        """(statement, parameters) of the recorded statements whose text holds `containing`."""
        return [
            (statement, parameters)
            for statement, parameters in zip(self.statements, self.parameters, strict=True)
            if containing in statement
        ]

    def reset(self) -> None:
        self.statements.clear()
        self.parameters.clear()


async def explain(connection: AsyncConnection, statement: str, parameters: Any) -> str:
    """The plan PostgreSQL would run `statement` with (EXPLAIN, nothing executed)."""
    plan = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(plan.scalars().all())


@pytest.fixture
def statements(connection: AsyncConnection) -> Iterator[StatementCounter]:
    """Records every SQL statement run on the test's connection, with its parameters
    (savepoints excluded)."""
    counter = StatementCounter()
    sync_conn = connection.sync_connection
    assert sync_conn is not None

    def record(
        _conn: object, _cursor: object, statement: str, parameters: Any, *_args: object
    ) -> None:
        if (
            not statement.lstrip()
            .upper()
            .startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
        ):
            counter.statements.append(statement)
            counter.parameters.append(parameters)

    event.listen(sync_conn, "before_cursor_execute", record)
    yield counter
    event.remove(sync_conn, "before_cursor_execute", record)
