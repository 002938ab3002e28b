"""GraphQL test fixtures: an organization with keys, and a client that posts operations."""

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Organization
from tests import factories


class Gql(Protocol):
    def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, key: str | None = None
    ) -> Awaitable[dict[str, Any]]: ...


@pytest.fixture
async def org(session: AsyncSession) -> Organization:
    return await factories.create_org(session)


@pytest.fixture
async def other_org(session: AsyncSession) -> Organization:
    return await factories.create_org(session)


@pytest.fixture
async def admin_key(session: AsyncSession, org: Organization) -> str:
    return await factories.create_api_key(session, org, ("admin",))


@pytest.fixture
async def other_key(session: AsyncSession, other_org: Organization) -> str:
    return await factories.create_api_key(session, other_org, ("admin",))


def post(client: httpx.AsyncClient, default_key: str) -> Gql:
    async def run(
        query: str, variables: dict[str, Any] | None = None, *, key: str | None = None
    ) -> dict[str, Any]:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {key or default_key}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


@pytest.fixture
def gql(client: httpx.AsyncClient, admin_key: str) -> Gql:
    return post(client, admin_key)


@pytest.fixture
def other_gql(client: httpx.AsyncClient, other_key: str) -> Gql:
    return post(client, other_key)


Factory = Callable[..., Awaitable[Any]]
