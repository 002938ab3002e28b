"""API keys through GraphQL: admin only, secret shown once."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Organization
from tests import factories
from tests.graphql import steps
from tests.graphql.conftest import Gql, post


async def test_an_api_key_is_created_with_its_secret_once_and_revoked(
    gql: Gql, client: httpx.AsyncClient
) -> None:
    # given a new read key
    created = await steps.mutate(
        gql,
        "apiKeyCreate",
        {"name": "dashboard", "scopes": ["READ"]},
        "secret apiKey { id name scopes prefix revokedAt }",
    )
    secret, key = created["secret"], created["apiKey"]
    assert secret.startswith(key["prefix"]) and key["scopes"] == ["READ"]

    # when it reads, and the key is listed and read back
    reader = post(client, secret)
    assert (await reader("{ organization { name } }"))["data"]["organization"]["name"]
    listed = await gql("{ apiKeys { nodes { id name } } }")
    found = await steps.node(gql, key["id"], "... on ApiKey { name }")

    # then the secret appears nowhere but in the create payload
    assert {"id": key["id"], "name": "dashboard"} in listed["data"]["apiKeys"]["nodes"]
    assert found == {"id": key["id"], "name": "dashboard"}
    assert "secret" not in str(await gql('{ __type(name: "ApiKey") { fields { name } } }'))

    # when revoked
    revoked = await steps.mutate(gql, "apiKeyRevoke", {"id": key["id"]}, "apiKey { revokedAt }")

    # then it no longer authenticates
    assert revoked["apiKey"]["revokedAt"] is not None
    response = await client.post(
        "/graphql",
        json={"query": "{ organization { name } }"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 401


async def test_key_management_needs_the_admin_scope(
    session: AsyncSession, org: Organization, client: httpx.AsyncClient
) -> None:
    # given a read+write key
    writer = post(client, await factories.create_api_key(session, org, ("read", "write")))

    # when it lists or creates keys
    listed = await writer("{ apiKeys { totalCount } }")
    created = await writer(
        'mutation { apiKeyCreate(input: {name: "x", scopes: [ADMIN]}) { secret } }'
    )

    # then both are FORBIDDEN and no key was added
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert created["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = post(client, await factories.create_api_key(session, org, ("admin",)))
    assert (await admin("{ apiKeys { totalCount } }"))["data"]["apiKeys"]["totalCount"] == 2
