"""SPEC §7 limits: each rejected before execution with a coded error; scopes; masking."""

from typing import Any

import httpx
import strawberry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schema.core.limits import limit_extensions
from schema.schema import build_schema
from service.errors import NotFound
from service.models import Event, Organization, Person
from service.request_log import request_id_var
from service.settings import Settings
from tests import factories
from tests.graphql.conftest import Gql, post


async def people_count(session: AsyncSession, org: Organization) -> int:
    result = await session.execute(select(func.count()).where(Person.org_id == org.id))
    return int(result.scalar_one())


def code(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    value: str = body["errors"][0]["extensions"]["code"]
    return value


CREATE = 'personCreate(input: {name: "Should not exist"})'


async def test_a_query_past_the_depth_limit_is_refused_and_runs_nothing(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a mutation whose selection is 12 levels deep
    nested = "id"
    for _ in range(5):
        nested = f"teams {{ members {{ {nested} }} }}"
    body = await gql(f"mutation {{ {CREATE} {{ person {{ {nested} }} }} }}")

    # then
    assert code(body) == "MAX_DEPTH_EXCEEDED"
    assert await people_count(session, org) == 0


async def test_more_than_15_aliases_are_refused(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    aliases = " ".join(f"a{index}: {CREATE} {{ person {{ id }} }}" for index in range(16))

    body = await gql(f"mutation {{ {aliases} }}")

    assert code(body) == "MAX_ALIASES_EXCEEDED"
    assert await people_count(session, org) == 0
    # and 15 are fine
    fine = " ".join(f"a{index}: organization {{ name }}" for index in range(15))
    assert "errors" not in await gql(f"{{ {fine} }}")


async def test_more_than_2000_tokens_are_refused(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    names = " ".join(["id"] * 2000)

    body = await gql(f"mutation {{ {CREATE} {{ person {{ {names} }} }} }}")

    assert code(body) == "MAX_TOKENS_EXCEEDED"
    assert await people_count(session, org) == 0


async def test_a_query_over_the_node_budget_is_refused(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a selection of lists within lists: estimated 1 × 10 × 10 × 10 × 10 × 10 objects
    body = await gql(
        f"mutation {{ {CREATE} {{ person {{ teams {{ members {{ teams {{ members {{"
        " commitments { id } } } } } } } }"
    )

    # then
    assert code(body) == "NODE_BUDGET_EXCEEDED"
    assert await people_count(session, org) == 0
    # and page sizes multiply down the tree
    assert (
        code(
            await gql(
                "{ objectives(first: 100) { nodes { keyResults { checkIns(first: 100) { id } } } } }"
            )
        )
        == "NODE_BUDGET_EXCEEDED"
    )
    assert "errors" not in await gql(
        "{ objectives(first: 100) { nodes { keyResults { checkIns(first: 10) { id } } } } }"
    )


async def test_scopes_are_checked_before_execution(
    session: AsyncSession, org: Organization, client: httpx.AsyncClient
) -> None:
    # given a read key and an ingest key
    reader = post(client, await factories.create_api_key(session, org, ("read",)))
    ingester = post(client, await factories.create_api_key(session, org, ("ingest",)))
    events_before = (
        await session.execute(select(func.count()).where(Event.org_id == org.id))
    ).scalar_one()

    # when the reader writes and the ingester reads
    write = await reader(f"mutation {{ {CREATE} {{ person {{ id }} }} }}")
    read = await ingester("{ organization { name } }")

    # then both are FORBIDDEN and nothing was written
    assert code(write) == "FORBIDDEN"
    assert code(read) == "FORBIDDEN"
    assert await people_count(session, org) == 0
    events_after = (
        await session.execute(select(func.count()).where(Event.org_id == org.id))
    ).scalar_one()
    assert events_after == events_before


@strawberry.type
class Explosive:
    @strawberry.field
    def crash(self) -> str:
        raise RuntimeError("secret internals")

    @strawberry.field
    def expected(self) -> str:
        raise NotFound("the thing was not found", field="id")


async def test_unexpected_errors_are_masked_with_the_request_id_and_expected_ones_shown() -> None:
    # given a schema with the same extensions whose fields fail
    settings = Settings(environment="development")
    schema = strawberry.Schema(query=Explosive, extensions=limit_extensions(settings)[3:])
    token = request_id_var.set("req-123")
    try:
        # when
        crashed = await schema.execute("{ crash }")
        expected = await schema.execute("{ expected }")
    finally:
        request_id_var.reset(token)

    # then the crash says nothing of its cause but names the request
    assert crashed.errors is not None and expected.errors is not None
    assert crashed.errors[0].message == "Unexpected error (request id req-123)."
    assert crashed.errors[0].extensions == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-123",
    }
    # and the expected one is shown as it is, with its domain code
    assert expected.errors[0].message == "the thing was not found"
    assert expected.errors[0].extensions == {"code": "NOT_FOUND"}


async def test_suggestions_are_off_in_production_only() -> None:
    # given the same mistakes in fields, arguments, input fields and enum values
    production = build_schema(Settings(environment="production"))
    development = build_schema(Settings(environment="development"))
    mistakes = [
        "{ organizaton { name } }",
        "{ people(frist: 1) { totalCount } }",
        "{ people(filter: {knd: HUMAN}) { totalCount } }",
        "{ people(filter: {kind: HUMANN}) { totalCount } }",
    ]

    for mistake in mistakes:
        # when each is sent to both
        hidden = await production.execute(mistake)
        shown = await development.execute(mistake)

        # then only development suggests, and production still says what is wrong
        assert hidden.errors is not None and shown.errors is not None
        assert "Did you mean" not in hidden.errors[0].message, mistake
        assert "Did you mean" in shown.errors[0].message, mistake
        assert hidden.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_more_than_100_ids_in_nodes_are_refused(gql: Gql) -> None:
    ids = ", ".join(f'"id{index}"' for index in range(101))

    body = await gql(f"{{ nodes(ids: [{ids}]) {{ id }} }}")

    assert code(body) == "PAGE_SIZE_EXCEEDED"


async def test_introspection_can_be_switched_off(gql: Gql) -> None:
    # given a schema built with introspection off
    closed = build_schema(Settings(graphql_introspection=False))
    query = "{ __schema { queryType { name } } }"

    # when it is asked for the schema
    refused = await closed.execute(query)

    # then validation refuses it, while the service's default schema answers
    assert refused.errors is not None
    assert "introspection" in refused.errors[0].message.lower()
    assert refused.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert (await gql(query))["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_a_subscription_over_http_is_refused_with_a_code(gql: Gql) -> None:
    body = await gql('subscription { metricPointsIngested(metricKey: "signups") { metricKey } }')

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
    assert "websocket" in error["message"]
