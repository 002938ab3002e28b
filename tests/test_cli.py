"""The `lodestar` command line against a fresh database per test (LODESTAR_DATABASE_URL).

These tests are synchronous: the commands run their own event loops, as they do in a shell.
"""

import asyncio
import re
import stat
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest
from typer.testing import CliRunner

from service.auth.service import authenticate
from service.cli import app
from service.cli.demo import DEMO_ORG_NAME, demo_row_counts
from service.db import create_engine, create_sessionmaker
from service.demo_key import demo_key_path
from service.migrations import head_revision
from service.settings import Settings, get_settings
from tests.database import create_database, drop_database, plain_url

T = TypeVar("T")
KEY_PATTERN = re.compile(r"lsk_[0-9A-Za-z]{46}")

runner = CliRunner()


@pytest.fixture
def cli_database(admin_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database (no schema) the CLI is pointed at, dropped afterwards."""
    url = asyncio.run(create_database(admin_url))
    monkeypatch.setenv("LODESTAR_DATABASE_URL", url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LODESTAR_ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    asyncio.run(drop_database(admin_url, url))


def in_session(url: str, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(url, Settings(database_url=url))
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def fetchval(url: str, query: str) -> object:
    async def run() -> object:
        conn = await asyncpg.connect(plain_url(url))
        try:
            return await conn.fetchval(query)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_org_create_prints_an_admin_key_of_the_new_organization(cli_database: str) -> None:
    # when
    result = runner.invoke(app, ["org", "create", "  Acme  "])

    # then
    assert result.exit_code == 0, result.output
    org_id = uuid.UUID(re.search(r"organization (\S+)", result.output).group(1))  # type: ignore[union-attr]
    keys = KEY_PATTERN.findall(result.output)
    assert len(keys) == 1
    principal = in_session(cli_database, lambda session: authenticate(session, keys[0]))
    assert principal is not None
    assert principal.org_id == org_id
    assert [scope.value for scope in principal.scopes] == ["admin"]
    assert fetchval(cli_database, "SELECT name FROM organizations") == "Acme"


def test_org_create_with_an_empty_name_fails_and_writes_nothing(cli_database: str) -> None:
    # when
    result = runner.invoke(app, ["org", "create", "   "])

    # then
    assert result.exit_code != 0
    assert "name must be 1 to 200 characters" in result.output
    assert fetchval(cli_database, "SELECT count(*) FROM organizations") == 0
    assert fetchval(cli_database, "SELECT count(*) FROM api_keys") == 0


def test_migrate_brings_an_empty_database_to_head(cli_database: str) -> None:
    # given
    assert fetchval(cli_database, "SELECT to_regclass('alembic_version')::text") is None

    # when
    first = runner.invoke(app, ["migrate"])
    again = runner.invoke(app, ["migrate"])

    # then
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert fetchval(cli_database, "SELECT version_num FROM alembic_version") == head_revision()


def test_demo_loads_the_sample_organization_once(cli_database: str) -> None:
    # when
    first = runner.invoke(app, ["demo"])
    counts_after_first = in_session(cli_database, demo_row_counts)
    second = runner.invoke(app, ["demo"])

    # then
    assert first.exit_code == 0, first.output
    keys = KEY_PATTERN.findall(first.output)
    assert len(keys) == 1
    principal = in_session(cli_database, lambda session: authenticate(session, keys[0]))
    assert principal is not None
    assert counts_after_first["points"] == 960
    assert counts_after_first["commitments"] >= 5

    assert second.exit_code == 0, second.output
    assert "already exists" in second.output
    assert KEY_PATTERN.findall(second.output) == []
    assert in_session(cli_database, demo_row_counts) == counts_after_first
    assert (
        fetchval(cli_database, f"SELECT count(*) FROM organizations WHERE name = '{DEMO_ORG_NAME}'")
        == 1
    )
    assert fetchval(cli_database, "SELECT count(*) FROM api_keys") == 1


def test_demo_saves_its_key_for_graphiql_readable_only_by_the_user(cli_database: str) -> None:
    # when
    result = runner.invoke(app, ["demo"])

    # then
    assert result.exit_code == 0, result.output
    path = demo_key_path(get_settings())
    assert path.read_text().strip() == KEY_PATTERN.search(result.output).group(0)  # type: ignore[union-attr]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_serve_in_development_refuses_a_non_loopback_interface(cli_database: str) -> None:
    # when development mode is asked to listen on every interface, without --allow-remote
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])

    # then it refuses before touching the database, and says how to go on
    assert result.exit_code == 2
    assert "--allow-remote" in result.output
    assert fetchval(cli_database, "SELECT to_regclass('alembic_version')") is None
