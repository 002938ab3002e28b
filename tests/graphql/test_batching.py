"""Query batching (SPEC §7): at most 10 operations per batch, each under every limit, run in
order in the request's single transaction."""

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Organization, Person, Team
from tests import factories
from tests.conftest import StatementCounter


async def batch(
    client: httpx.AsyncClient, key: str, *queries: str, status: int = 200
) -> list[dict[str, Any]]:
    """POST `queries` as one batch; the list of results (the response must have `status`)."""
    response = await client.post(
        "/graphql",
        json=[{"query": query} for query in queries],
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == status, response.text
    body = response.json()
    return body if isinstance(body, list) else [body]


async def count(session: AsyncSession, model: Any, org: Organization) -> int:
    result = await session.execute(select(func.count()).where(model.org_id == org.id))
    return int(result.scalar_one())


def person_create(name: str) -> str:
    return (
        f'mutation {{ personCreate(input: {{name: "{name}"}})'
        " { person { name } userErrors { field code } } }"
    )


def error_code(result: dict[str, Any]) -> str:
    assert result["data"] is None, result
    code: str = result["errors"][0]["extensions"]["code"]
    return code


async def test_a_batch_of_two_answers_both_in_order(
    client: httpx.AsyncClient, admin_key: str, session: AsyncSession, org: Organization
) -> None:
    # when a batch writes a person, then reads the people
    results = await batch(
        client,
        admin_key,
        person_create("Ada Lovelace"),
        "{ people { totalCount nodes { name } } }",
    )

    # then both operations answered, the read seeing the write made before it
    assert len(results) == 2
    assert results[0] == {
        "data": {"personCreate": {"person": {"name": "Ada Lovelace"}, "userErrors": []}}
    }
    assert results[1] == {
        "data": {"people": {"totalCount": 1, "nodes": [{"name": "Ada Lovelace"}]}}
    }
    assert await count(session, Person, org) == 1


async def test_a_batch_of_eleven_is_refused_with_a_coded_error_and_runs_nothing(
    client: httpx.AsyncClient,
    admin_key: str,
    session: AsyncSession,
    org: Organization,
    statements: StatementCounter,
) -> None:
    # given what authenticating a request costs on its own
    statements.reset()
    await batch(client, admin_key, "{ __typename }")
    auth = [sql for sql in statements.statements if "api_keys" in sql]
    assert auth, statements.statements

    # when eleven writes are sent as one batch
    statements.reset()
    response = await client.post(
        "/graphql",
        json=[{"query": person_create(f"Person {index}")} for index in range(11)],
        headers={"Authorization": f"Bearer {admin_key}"},
    )

    # then the whole batch is refused with a JSON GraphQL error carrying the code
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert error_code(body) == "MAX_BATCH_EXCEEDED"
    assert "at most 10" in body["errors"][0]["message"]
    # and nothing ran but authentication
    assert statements.statements == auth
    assert await count(session, Person, org) == 0


async def test_a_batch_of_ten_is_allowed(client: httpx.AsyncClient, admin_key: str) -> None:
    results = await batch(client, admin_key, *["{ organization { name } }"] * 10)

    assert len(results) == 10
    assert all("errors" not in result for result in results), results


async def test_an_over_deep_operation_of_a_batch_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, admin_key: str, session: AsyncSession, org: Organization
) -> None:
    # given a batch whose second operation is a mutation 12 levels deep
    nested = "id"
    for _ in range(5):
        nested = f"teams {{ members {{ {nested} }} }}"
    deep = f'mutation {{ personCreate(input: {{name: "Too deep"}}) {{ person {{ {nested} }} }} }}'

    # when
    results = await batch(client, admin_key, "{ organization { name } }", deep)

    # then the deep operation is refused before running, the other one answered
    assert len(results) == 2
    assert "errors" not in results[0], results
    assert error_code(results[1]) == "MAX_DEPTH_EXCEEDED"
    assert await count(session, Person, org) == 0


async def test_every_per_operation_limit_applies_to_each_operation_of_a_batch(
    client: httpx.AsyncClient, admin_key: str, session: AsyncSession, org: Organization
) -> None:
    # given one operation over each per-operation limit, each a write, and one fine read
    aliases = " ".join(
        f'a{index}: personCreate(input: {{name: "A{index}"}}) {{ person {{ id }} }}'
        for index in range(16)
    )
    tokens = " ".join(["id"] * 2000)

    # when they are sent as one batch
    results = await batch(
        client,
        admin_key,
        f"mutation {{ {aliases} }}",
        f'mutation {{ personCreate(input: {{name: "Tokens"}}) {{ person {{ {tokens} }} }} }}',
        "{ people(first: 101) { totalCount } }",
        "{ organization { name } }",
    )

    # then each over-limit operation is refused with its own code, the read answered
    assert [error_code(result) for result in results[:3]] == [
        "MAX_ALIASES_EXCEEDED",
        "MAX_TOKENS_EXCEEDED",
        "PAGE_SIZE_EXCEEDED",
    ]
    assert results[3]["data"]["organization"]["name"] == org.name
    assert await count(session, Person, org) == 0


async def test_scopes_are_checked_for_each_operation_of_a_batch(
    client: httpx.AsyncClient, session: AsyncSession, org: Organization
) -> None:
    # given a read-only key
    reader = await factories.create_api_key(session, org, ("read",))

    # when it batches a read and a write
    results = await batch(client, reader, "{ organization { name } }", person_create("Not allowed"))

    # then the read answers and the write is FORBIDDEN
    assert results[0]["data"]["organization"]["name"] == org.name
    assert error_code(results[1]) == "FORBIDDEN"
    assert await count(session, Person, org) == 0


async def test_the_node_budget_is_shared_by_the_operations_of_a_batch(
    client: httpx.AsyncClient, admin_key: str
) -> None:
    # given a query estimated at about 41,100 objects, under the budget of 50,000 on its own
    query = "{ objectives(first: 100) { nodes { keyResults { checkIns(first: 40) { id } } } } }"
    alone = await batch(client, admin_key, query)
    assert "errors" not in alone[0], alone

    # when it is sent twice in one batch
    results = await batch(client, admin_key, query, query)

    # then the first answers and the second would take the request over its budget
    assert "errors" not in results[0], results
    assert error_code(results[1]) == "NODE_BUDGET_EXCEEDED"


async def test_user_errors_of_one_operation_roll_back_only_that_operation(
    client: httpx.AsyncClient, admin_key: str, session: AsyncSession, org: Organization
) -> None:
    # when a batch creates a person, fails to create a team, and creates another person
    results = await batch(
        client,
        admin_key,
        person_create("First"),
        'mutation { teamCreate(input: {name: ""}) { team { id } userErrors { field code } } }',
        person_create("Second"),
    )

    # then the refused operation wrote nothing and the others were committed
    assert results[1]["data"]["teamCreate"]["team"] is None
    assert results[1]["data"]["teamCreate"]["userErrors"] == [
        {"field": ["input", "name"], "code": "INVALID"}
    ]
    assert [r["data"]["personCreate"]["userErrors"] for r in (results[0], results[2])] == [[], []]
    assert await count(session, Person, org) == 2
    assert await count(session, Team, org) == 0


async def test_malformed_batches_are_refused_with_a_coded_error(
    client: httpx.AsyncClient, admin_key: str
) -> None:
    for payload in ([], [1, 2], ["{ organization { name } }"]):
        response = await client.post(
            "/graphql", json=payload, headers={"Authorization": f"Bearer {admin_key}"}
        )

        assert response.status_code == 400, payload
        assert error_code(response.json()) == "GRAPHQL_PARSE_FAILED"


async def test_a_database_error_in_one_operation_undoes_only_that_operation(
    client: httpx.AsyncClient, admin_key: str, session: AsyncSession, org: Organization
) -> None:
    # given a batch whose second operation carries a NUL character, between a write and a
    # read (PostgreSQL text cannot hold one: it used to fail in the database; it is now
    # refused before it runs, see tests/graphql/test_hostile_input.py)
    results = await batch(
        client,
        admin_key,
        person_create("Kept"),
        '{ metric(key: "a\\u0000b") { id } }',
        "{ people { totalCount } }",
    )

    # then the failing operation reports a coded error, the others stand
    assert results[0]["data"]["personCreate"]["userErrors"] == []
    assert results[1]["data"] is None
    assert results[1]["errors"][0]["extensions"]["code"] == "INVALID_CHARACTER"
    assert results[2] == {"data": {"people": {"totalCount": 1}}}
    assert await count(session, Person, org) == 1
