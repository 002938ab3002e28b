"""Webhook endpoint management through GraphQL (admin scope), inside the test transaction."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from schema.core.relay import to_global_id
from service.db import outbox
from service.models import Delivery, Organization
from tests import factories
from tests.conftest import StatementCounter

CREATE = """
mutation ($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) {
    webhookEndpoint { id url eventTypes enabled }
    secret
    userErrors { field code message }
  }
}
"""


async def gql(client: httpx.AsyncClient, key: str, query: str, **variables: Any) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def create_endpoint(client: httpx.AsyncClient, key: str) -> Any:
    """An endpoint for objective.created on loopback; the create payload."""
    input = {"url": "http://127.0.0.1/h", "eventTypes": ["objective.created"]}
    return (await gql(client, key, CREATE, input=input))["data"]["webhookEndpointCreate"]


async def admin(session: AsyncSession) -> tuple[Organization, str]:
    org = await factories.create_org(session)
    return org, await factories.create_api_key(session, org, scopes=("admin",))


async def test_create_returns_a_standard_webhooks_secret_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given an admin key
    _org, key = await admin(session)

    # when an endpoint is created
    body = await gql(
        client,
        key,
        CREATE,
        input={"url": "http://127.0.0.1:9/hook", "eventTypes": ["key_result.status_changed"]},
    )

    # then the secret is whsec_ base64 usable by the receiver library, and never listed again
    payload = body["data"]["webhookEndpointCreate"]
    assert payload["userErrors"] == []
    assert payload["secret"].startswith("whsec_")
    Webhook(payload["secret"])  # parses
    assert payload["webhookEndpoint"]["eventTypes"] == ["key_result.status_changed"]
    listed = await gql(client, key, "{ webhookEndpoints { nodes { id url } } }")
    assert "secret" not in str(listed)
    assert listed["data"]["webhookEndpoints"]["nodes"] == [
        {"id": payload["webhookEndpoint"]["id"], "url": "http://127.0.0.1:9/hook"}
    ]


async def test_unknown_event_types_and_bad_urls_are_user_errors(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _org, key = await admin(session)

    unknown = await gql(
        client, key, CREATE, input={"url": "http://127.0.0.1/h", "eventTypes": ["nope.nope"]}
    )
    bad_url = await gql(
        client,
        key,
        CREATE,
        input={"url": "ftp://example.com/h", "eventTypes": ["check_in.created"]},
    )

    assert unknown["data"]["webhookEndpointCreate"]["userErrors"][0]["code"] == "INVALID"
    assert unknown["data"]["webhookEndpointCreate"]["userErrors"][0]["field"] == [
        "input",
        "eventTypes",
    ]
    assert bad_url["data"]["webhookEndpointCreate"]["userErrors"][0]["field"] == ["input", "url"]
    listed = await gql(client, key, "{ webhookEndpoints { totalCount } }")
    assert listed["data"]["webhookEndpoints"]["totalCount"] == 0


async def test_a_read_key_cannot_manage_webhooks(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await factories.create_org(session)
    key = await factories.create_api_key(session, org, scopes=("read", "write"))

    body = await gql(
        client, key, CREATE, input={"url": "http://127.0.0.1/h", "eventTypes": ["check_in.created"]}
    )

    assert body["data"] is None or body["data"]["webhookEndpointCreate"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_rotate_disable_ping_redeliver_and_delete(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given an endpoint
    org, key = await admin(session)
    created = await create_endpoint(client, key)
    endpoint_id = created["webhookEndpoint"]["id"]

    # when the secret is rotated
    rotated = (
        await gql(
            client,
            key,
            "mutation ($id: ID!) { webhookEndpointRotateSecret(input: {id: $id}) { secret userErrors { code } } }",
            id=endpoint_id,
        )
    )["data"]["webhookEndpointRotateSecret"]
    # then a new secret is shown
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]

    # when disabled, an emitted event creates no delivery
    disabled = (
        await gql(
            client,
            key,
            "mutation ($id: ID!) { webhookEndpointDisable(input: {id: $id}) { webhookEndpoint { enabled } } }",
            id=endpoint_id,
        )
    )["data"]["webhookEndpointDisable"]
    assert disabled["webhookEndpoint"]["enabled"] is False
    await outbox.emit(session, org.id, "objective.created", None, {})
    assert (
        await session.execute(select(Delivery).where(Delivery.org_id == org.id))
    ).first() is None

    # when pinged, one webhook.ping delivery is queued for it
    ping = (
        await gql(
            client,
            key,
            "mutation ($id: ID!) { webhookEndpointPing(input: {id: $id}) {"
            " webhookDelivery { id status eventType webhookId payload attempts { statusCode } } } }",
            id=endpoint_id,
        )
    )["data"]["webhookEndpointPing"]["webhookDelivery"]
    assert ping["status"] == "PENDING" and ping["eventType"] == "webhook.ping"
    assert ping["attempts"] == []

    # when redelivered, the same delivery is due again
    redelivered = (
        await gql(
            client,
            key,
            "mutation ($id: ID!) { webhookDeliveryRedeliver(input: {id: $id}) {"
            " webhookDelivery { id webhookId } userErrors { code } } }",
            id=ping["id"],
        )
    )["data"]["webhookDeliveryRedeliver"]
    assert redelivered["webhookDelivery"] == {"id": ping["id"], "webhookId": ping["webhookId"]}

    # and the delivery log lists it
    log = await gql(
        client,
        key,
        "query ($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount nodes { eventType } } }",
        id=endpoint_id,
    )
    assert log["data"]["webhookDeliveries"] == {
        "totalCount": 1,
        "nodes": [{"eventType": "webhook.ping"}],
    }

    # when deleted, it is gone
    deleted = await gql(
        client,
        key,
        "mutation ($id: ID!) { webhookEndpointDelete(input: {id: $id}) { userErrors { code } } }",
        id=endpoint_id,
    )
    assert deleted["data"]["webhookEndpointDelete"]["userErrors"] == []
    listed = await gql(client, key, "{ webhookEndpoints { totalCount } }")
    assert listed["data"]["webhookEndpoints"]["totalCount"] == 0


async def test_another_organizations_endpoint_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given an endpoint of another organization
    _org, key = await admin(session)
    _other, other_key = await admin(session)
    theirs = (
        await gql(
            client,
            other_key,
            CREATE,
            input={"url": "http://127.0.0.1/h", "eventTypes": ["objective.created"]},
        )
    )["data"]["webhookEndpointCreate"]["webhookEndpoint"]["id"]

    # when this organization tries to rotate its secret
    body = await gql(
        client,
        key,
        "mutation ($id: ID!) { webhookEndpointRotateSecret(input: {id: $id}) { secret userErrors { code } } }",
        id=theirs,
    )

    # then it behaves as a missing id
    assert body["data"]["webhookEndpointRotateSecret"] == {
        "secret": None,
        "userErrors": [{"code": "NOT_FOUND"}],
    }
    missing = await gql(
        client,
        key,
        "mutation ($id: ID!) { webhookEndpointRotateSecret(input: {id: $id}) { userErrors { code } } }",
        id=to_global_id("WebhookEndpoint", __import__("uuid").uuid4()),
    )
    assert missing["data"]["webhookEndpointRotateSecret"]["userErrors"] == [{"code": "NOT_FOUND"}]


DELIVERY_LOG = """
{ webhookDeliveries(first: 50) {
    totalCount
    nodes { id status eventType webhookId payload attemptCount attempts { statusCode latencyMs } }
} }
"""


async def test_the_delivery_log_runs_the_same_statements_for_1_or_20_deliveries(
    client: httpx.AsyncClient, session: AsyncSession, statements: StatementCounter
) -> None:
    # given an endpoint pinged once, and another organization's endpoint pinged 20 times
    counts = []
    for pings in (1, 20):
        _org, key = await admin(session)
        endpoint_id = (
            await gql(
                client,
                key,
                CREATE,
                input={"url": "http://127.0.0.1/h", "eventTypes": ["objective.created"]},
            )
        )["data"]["webhookEndpointCreate"]["webhookEndpoint"]["id"]
        for _ in range(pings):
            await gql(
                client,
                key,
                "mutation ($id: ID!) { webhookEndpointPing(input: {id: $id}) { userErrors { code } } }",
                id=endpoint_id,
            )

        # when the delivery log is read
        statements.reset()
        body = await gql(client, key, DELIVERY_LOG)
        counts.append(statements.count)

        # then every delivery is listed with its event
        log = body["data"]["webhookDeliveries"]
        assert log["totalCount"] == pings
        assert {node["eventType"] for node in log["nodes"]} == {"webhook.ping"}

    assert counts[0] == counts[1]


async def test_the_event_catalog_is_queryable(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _org, key = await admin(session)

    body = await gql(client, key, "{ webhookEventTypes { name description payloadShape } }")

    types = {item["name"]: item for item in body["data"]["webhookEventTypes"]}
    assert "webhook.ping" not in types
    assert types["key_result.status_changed"]["payloadShape"]["before"].startswith("on_track")
    assert {"check_in.created", "commitment.overdue", "metric.points_ingested"} <= set(types)


ROTATE = """
mutation ($id: ID!, $hours: Int!) {
  webhookEndpointRotateSecret(input: {id: $id, keepPreviousForHours: $hours}) {
    webhookEndpoint { previousSecretExpiresAt }
    secret
    userErrors { field code message }
  }
}
"""


async def test_a_rotation_keeps_the_previous_secret_for_the_hours_asked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given an endpoint
    _org, key = await admin(session)
    endpoint_id = (await create_endpoint(client, key))["webhookEndpoint"]["id"]

    # when rotated with a 48 h overlap, then with none, then with a bad number of hours
    before = datetime.now(UTC)
    overlap = (await gql(client, key, ROTATE, id=endpoint_id, hours=48))["data"]
    at_once = (await gql(client, key, ROTATE, id=endpoint_id, hours=0))["data"]
    refused = [
        (await gql(client, key, ROTATE, id=endpoint_id, hours=hours))["data"] for hours in (-1, 169)
    ]

    # then
    expires = overlap["webhookEndpointRotateSecret"]["webhookEndpoint"]["previousSecretExpiresAt"]
    assert timedelta(hours=47.9) < datetime.fromisoformat(expires) - before < timedelta(hours=48.1)
    assert at_once["webhookEndpointRotateSecret"]["webhookEndpoint"] == {
        "previousSecretExpiresAt": None
    }
    for payload in refused:
        assert payload["webhookEndpointRotateSecret"]["secret"] is None
        assert payload["webhookEndpointRotateSecret"]["userErrors"] == [
            {
                "field": ["input", "keepPreviousForHours"],
                "code": "OUT_OF_RANGE",
                "message": "the previous secret can be kept for 0 to 168 hours",
            }
        ]
