"""`lodestar keys create|list|revoke` against a fresh database, and revocation on the next request."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from service.app import create_app
from service.cli import app as cli
from service.db import create_engine, create_sessionmaker, unit_of_work
from service.migrations import upgrade_to_head
from service.models import Organization
from service.settings import Settings, get_settings
from tests.database import create_database, drop_database
from tests.factories import create_org

QUERY = {"query": "{ organization { name } }"}


@pytest.fixture(scope="module")
async def fresh_url(admin_url: str) -> AsyncIterator[str]:
    url = await create_database(admin_url)
    await asyncio.to_thread(upgrade_to_head, url)
    yield url
    await drop_database(admin_url, url)


async def new_org(url: str, settings: Settings, name: str) -> Organization:
    engine = create_engine(url, settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            return await create_org(session, name=name)
    finally:
        await engine.dispose()


@pytest.fixture
async def org(fresh_url: str, settings: Settings) -> Organization:
    return await new_org(fresh_url, settings, "Acme")


async def lodestar(url: str, *args: str) -> Result:
    """Run the CLI in a thread (it runs its own event loop) against the fresh database."""

    def invoke() -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli, list(args), env={"LODESTAR_DATABASE_URL": url})
        finally:
            get_settings.cache_clear()

    return await asyncio.to_thread(invoke)


async def create_key(url: str, org: Organization, *scopes: str) -> tuple[str, str]:
    args = ["keys", "create", "--org", str(org.id), "--name", "ci job"]
    for scope in scopes:
        args += ["--scope", scope]
    result = await lodestar(url, *args)
    assert result.exit_code == 0, result.output
    key_id = re.search(r"key ([0-9a-f-]{36})", result.stdout)
    secret = re.search(r"(lsk_\w{46})\b", result.stdout)
    assert key_id and secret
    return key_id.group(1), secret.group(1)


@pytest.fixture
async def live_app(fresh_url: str, settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"worker_in_serve": False}), database_url=fresh_url)
    async with app.router.lifespan_context(app):
        yield app


async def ask(app: FastAPI, secret: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lodestar.test") as client:
        return await client.post(
            "/graphql", json=QUERY, headers={"Authorization": f"Bearer {secret}"}
        )


async def test_create_prints_the_secret_once_and_list_never_shows_it(
    fresh_url: str, org: Organization
) -> None:
    key_id, secret = await create_key(fresh_url, org, "read", "ingest")

    listing = await lodestar(fresh_url, "keys", "list", "--org", str(org.id))

    assert listing.exit_code == 0, listing.output
    assert key_id in listing.stdout
    assert secret[:12] in listing.stdout
    assert secret not in listing.stdout
    assert "ingest,read" in listing.stdout
    assert "ci job" in listing.stdout


async def test_a_created_key_works_and_a_revoked_key_is_refused_on_the_next_request(
    fresh_url: str, org: Organization, live_app: FastAPI
) -> None:
    key_id, secret = await create_key(fresh_url, org, "read")
    before = await ask(live_app, secret)

    revoked = await lodestar(fresh_url, "keys", "revoke", key_id, "--org", str(org.id))
    after = await ask(live_app, secret)

    assert before.status_code == 200
    assert before.json()["data"]["organization"]["name"] == "Acme"
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked key {key_id}" in revoked.stdout
    assert after.status_code == 401


async def test_list_shows_when_a_key_was_last_used_after_the_flush(
    fresh_url: str, org: Organization, live_app: FastAPI
) -> None:
    _, secret = await create_key(fresh_url, org, "read")
    await ask(live_app, secret)

    unflushed = await lodestar(fresh_url, "keys", "list", "--org", str(org.id))
    await live_app.state.key_usage.flush(live_app.state.sessions)
    flushed = await lodestar(fresh_url, "keys", "list", "--org", str(org.id))

    row = next(line for line in unflushed.stdout.splitlines() if secret[:12] in line)
    flushed_row = next(line for line in flushed.stdout.splitlines() if secret[:12] in line)
    assert row.split()[-2:] == ["-", "-"]  # last used, revoked
    assert re.search(r"\d{4}-\d\d-\d\dT\S+\s+-\s*$", flushed_row)


async def test_unknown_organization_is_an_error(fresh_url: str) -> None:
    created = await lodestar(
        fresh_url, "keys", "create", "--org", str(uuid.uuid4()), "--name", "x", "--scope", "read"
    )
    listed = await lodestar(fresh_url, "keys", "list", "--org", str(uuid.uuid4()))
    malformed = await lodestar(fresh_url, "keys", "list", "--org", "acme")

    assert created.exit_code == 2 and "organization not found" in created.output
    assert listed.exit_code == 2 and "organization not found" in listed.output
    assert malformed.exit_code == 2 and "not a valid id" in malformed.output


async def test_bad_or_missing_scopes_are_refused(fresh_url: str, org: Organization) -> None:
    bad = await lodestar(
        fresh_url, "keys", "create", "--org", str(org.id), "--name", "x", "--scope", "root"
    )
    none = await lodestar(fresh_url, "keys", "create", "--org", str(org.id), "--name", "x")
    listing = await lodestar(fresh_url, "keys", "list", "--org", str(org.id))

    assert bad.exit_code == 2 and "unknown scope 'root'" in bad.output
    assert none.exit_code == 2 and "at least one scope" in none.output
    assert "(no keys)" in listing.stdout


async def test_revoking_an_unknown_key_or_another_orgs_key_is_not_found(
    fresh_url: str, org: Organization, settings: Settings
) -> None:
    other = await new_org(fresh_url, settings, "Other")
    other_key_id, other_secret = await create_key(fresh_url, other, "read")

    unknown = await lodestar(fresh_url, "keys", "revoke", str(uuid.uuid4()), "--org", str(org.id))
    cross = await lodestar(fresh_url, "keys", "revoke", other_key_id, "--org", str(org.id))
    other_listing = await lodestar(fresh_url, "keys", "list", "--org", str(other.id))

    assert unknown.exit_code == 2 and "API key not found" in unknown.output
    assert cross.exit_code == 2 and "API key not found" in cross.output
    row = next(line for line in other_listing.stdout.splitlines() if other_secret[:12] in line)
    assert row.rstrip().endswith("-")  # still not revoked
