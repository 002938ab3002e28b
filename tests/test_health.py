import gc

import httpx
from fastapi import FastAPI

from service.app import GC_THRESHOLDS, create_app
from service.auth.keys import generate_key
from service.db import create_engine
from service.settings import Settings
from tests.database import create_database, drop_database
from tests.factories import create_api_key, create_org


async def test_healthz_answers_without_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_readyz_reports_migrations_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["revision"] == body["head"]


async def test_request_id_from_the_caller_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert response.headers["x-request-id"] == "abc-123"


async def test_graphiql_page_is_served_to_a_browser(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphql_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ organization { name } }"})

    assert response.status_code == 401


async def test_graphql_organization_of_the_key(client: httpx.AsyncClient, session) -> None:  # type: ignore[no-untyped-def]
    org = await create_org(session, name="Acme")
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    response = await client.post(
        "/graphql",
        json={"query": "{ organization { name } }"},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"organization": {"name": "Acme"}}}


async def test_readyz_is_503_on_a_database_that_is_not_migrated(
    admin_url: str, settings: Settings
) -> None:
    # given an empty database, never migrated
    url = await create_database(admin_url)
    engine = create_engine(url, settings)
    try:
        app = create_app(settings, engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lodestar.test") as c:
            # when the probe asks
            response = await c.get("/readyz")
    finally:
        await engine.dispose()
        await drop_database(admin_url, url)

    # then it is not ready, and says why
    assert response.status_code == 503
    assert response.json()["status"] == "migrations_pending"
    assert response.json()["revision"] is None


async def test_start_up_freezes_the_heap_and_spaces_out_collections(app: FastAPI) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults (an earlier test's app may have set ours)
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == GC_THRESHOLDS
            assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)


async def test_an_unreachable_database_is_503_with_retry_after_not_a_plain_500() -> None:
    # given a service whose database does not answer (nothing listens on its port)
    settings = Settings(database_url="postgresql://lodestar@127.0.0.1:1/none", log_level="ERROR")
    engine = create_engine(settings.database_url or "", settings)
    app = create_app(settings, engine=engine)
    key = {"Authorization": f"Bearer {generate_key()}"}  # well formed: looked up in the database

    # when a REST route and /graphql are called
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://lodestar.test") as client:
        rest = await client.get("/v1/metrics", headers=key)
        graphql = await client.post("/graphql", json={"query": "{ __typename }"}, headers=key)
    await engine.dispose()

    # then both say to retry shortly, as a problem
    for response in (rest, graphql):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"
        assert "retry shortly" in response.json()["detail"]
