"""Where the test suite's PostgreSQL comes from: the embedded server, or a given one."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from service.embedded import EmbeddedPostgres

TEST_URL_ENV = "LODESTAR_TEST_DATABASE_URL"


@contextmanager
def server_admin_url() -> Iterator[str]:
    """A URL to a maintenance database on the test server, for creating throwaway databases."""
    configured = os.environ.get(TEST_URL_ENV)
    if configured:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="lodestar-test-") as tmp:
        os.chmod(tmp, 0o755)  # the embedded server may run as its own system user
        embedded = EmbeddedPostgres(Path(tmp))
        embedded.start()
        try:
            yield embedded.url("postgres")
        finally:
            embedded.stop()


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """asyncpg wants postgresql:// without a SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(admin_url: str) -> str:
    name = f"lodestar_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
