"""GraphiQL: in development with the demo key and example operations; never in production."""

from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.app import create_app
from service.demo_key import write_demo_key
from service.settings import Settings

BROWSER = {"accept": "text/html"}


async def page(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    client_host: str = "127.0.0.1",
) -> httpx.Response:
    app = create_app(settings, engine=engine, sessions=sessions)
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://lodestar.test") as client:
        return await client.get("/graphql", headers=BROWSER)


async def test_development_serves_graphiql_with_the_demo_key_and_examples(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # given a development server whose demo key is saved
    settings = Settings(environment="development", data_dir=tmp_path, log_level="WARNING")
    write_demo_key(settings, "lsk_demo_key_for_the_page")

    # when a browser opens /graphql without a key
    response = await page(settings, engine, sessions)

    # then the page comes with the key in its headers and the saved example operations
    assert response.status_code == 200
    assert "Bearer lsk_demo_key_for_the_page" in response.text
    assert "query ObjectiveTree" in response.text
    assert "query KeyResultWithCheckIns" in response.text
    assert "mutation RecordCheckIn" in response.text


async def test_development_without_a_demo_key_serves_graphiql_without_one(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(environment="development", data_dir=tmp_path, log_level="WARNING")

    response = await page(settings, engine, sessions)

    assert response.status_code == 200
    assert "Bearer" not in response.text
    assert "query ObjectiveTree" in response.text


async def test_production_never_serves_graphiql(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # given a production server even with a demo key file lying around
    settings = Settings(environment="production", data_dir=tmp_path, log_level="WARNING")
    write_demo_key(settings, "lsk_demo_key_for_the_page")

    # when a browser opens /graphql
    response = await page(settings, engine, sessions)

    # then there is no page and no key
    assert response.status_code == 401
    assert "lsk_demo_key_for_the_page" not in response.text
    assert "graphiql" not in response.text.lower()


def test_the_saved_example_operations_are_valid_against_the_schema() -> None:
    from graphql import parse, validate

    from schema.http.graphiql import EXAMPLE_KEY_RESULT, EXAMPLE_MUTATION, EXAMPLE_TREE
    from schema.schema import schema

    for operation in (EXAMPLE_TREE, EXAMPLE_KEY_RESULT, EXAMPLE_MUTATION):
        assert validate(schema._schema, parse(operation)) == [], operation


async def test_a_browser_on_another_machine_gets_graphiql_without_the_demo_key(
    tmp_path: Path, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # given a development server whose demo key is saved
    settings = Settings(environment="development", data_dir=tmp_path, log_level="WARNING")
    write_demo_key(settings, "lsk_demo_key_for_the_page")

    # when a browser at another address opens /graphql
    response = await page(settings, engine, sessions, client_host="203.0.113.7")

    # then it gets the page, but not the key
    assert response.status_code == 200
    assert "query ObjectiveTree" in response.text
    assert "lsk_demo_key_for_the_page" not in response.text
