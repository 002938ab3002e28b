"""GET /v1/key-results/{id}: the numbers GraphQL shows, by UUID or GraphQL ID; tenancy, scopes."""

from datetime import UTC, date, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from service import global_ids
from tests import factories


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


KEY_RESULT_FIELDS = """
    currentValue(asOf: $asOf) attainment(asOf: $asOf) progress(asOf: $asOf)
    status(asOf: $asOf) expectedProgress(asOf: $asOf)
    delivery(asOf: $asOf) { committed delivered open overdue onTimeRate }
"""


async def test_it_reports_the_numbers_graphql_reports(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given a manual key result 40 % of the way at a third of the cycle, with a late delivery
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(
        session, org, starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31)
    )
    objective = await factories.create_objective(session, org, cycle)
    key_result = await factories.create_key_result(
        session, objective, start_value=10.0, target_value=60.0, unit="teams"
    )
    await factories.create_check_in(
        session, key_result, datetime(2027, 1, 20, tzinfo=UTC), value=30.0, confidence=0.6
    )
    owner = await factories.create_person(session, org)
    await factories.create_commitment(
        session,
        owner,
        [key_result],
        due_on=date(2027, 1, 25),
        state="done",
        done_at=datetime(2027, 1, 27, tzinfo=UTC),
    )
    await factories.create_commitment(session, owner, [key_result], due_on=date(2027, 1, 28))
    key = await factories.create_api_key(session, org, ("read",))
    as_of = "2027-01-31T00:00:00Z"

    # when
    response = await client.get(
        f"/v1/key-results/{key_result.id}", params={"as_of": as_of}, headers=bearer(key)
    )
    graphql = await client.post(
        "/graphql",
        json={
            "query": "query($id: ID!, $asOf: DateTime) { node(id: $id) { ... on KeyResult {"
            + KEY_RESULT_FIELDS
            + "} } }",
            "variables": {"id": global_ids.encode("KeyResult", key_result.id), "asOf": as_of},
        },
        headers=bearer(key),
    )

    # then
    assert response.status_code == 200, response.text
    body = response.json()
    node = graphql.json()["data"]["node"]
    assert body["id"] == str(key_result.id)
    assert body["graphql_id"] == global_ids.encode("KeyResult", key_result.id)
    assert (body["title"], body["unit"], body["start_value"], body["target_value"]) == (
        key_result.title,
        "teams",
        10.0,
        60.0,
    )
    assert body["as_of"] == "2027-01-31T00:00:00Z"
    assert body["current_value"] == node["currentValue"] == 30.0
    assert body["attainment"] == node["attainment"] == 0.4
    assert body["progress"] == node["progress"] == 0.4
    assert body["status"] == node["status"].lower() == "on_track"  # 0.4 / (30/90) ≥ 0.7
    assert body["expected_progress"] == node["expectedProgress"] == 30 / 90
    assert body["confidence"] == 0.6
    assert body["delivery"] == {
        "committed": node["delivery"]["committed"],
        "delivered": node["delivery"]["delivered"],
        "open": node["delivery"]["open"],
        "overdue": node["delivery"]["overdue"],
        "on_time_rate": node["delivery"]["onTimeRate"],
    }
    assert body["delivery"] == {
        "committed": 2,
        "delivered": 1,
        "open": 1,
        "overdue": 1,
        "on_time_rate": 0.0,
    }


async def test_a_key_result_without_data_is_no_data_with_zero_progress(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    key_result = await factories.create_key_result(
        session, await factories.create_objective(session, org, cycle)
    )
    key = await factories.create_api_key(session, org, ("read",))

    response = await client.get(
        f"/v1/key-results/{key_result.id}",
        params={"as_of": "2027-02-01T00:00:00+01:00"},
        headers=bearer(key),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["current_value"], body["attainment"], body["progress"], body["status"]) == (
        None,
        None,
        0.0,
        "no_data",
    )
    assert body["as_of"] == "2027-01-31T23:00:00Z"
    assert body["confidence"] is None
    assert body["delivery"]["on_time_rate"] is None


async def test_the_graphql_id_works_in_the_path_and_other_ids_do_not(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    key_result = await factories.create_key_result(session, objective)
    key = await factories.create_api_key(session, org, ("read",))

    by_graphql_id = await client.get(
        f"/v1/key-results/{global_ids.encode('KeyResult', key_result.id)}", headers=bearer(key)
    )
    objective_id = await client.get(
        f"/v1/key-results/{global_ids.encode('Objective', objective.id)}", headers=bearer(key)
    )
    objective_uuid = await client.get(f"/v1/key-results/{objective.id}", headers=bearer(key))
    garbage = await client.get("/v1/key-results/not-an-id", headers=bearer(key))
    naive = await client.get(
        f"/v1/key-results/{key_result.id}",
        params={"as_of": "2027-02-01T00:00:00"},
        headers=bearer(key),
    )

    assert by_graphql_id.status_code == 200
    assert by_graphql_id.json()["id"] == str(key_result.id)
    assert objective_id.status_code == 422
    assert objective_id.json()["errors"][0]["field"] == "id"
    assert objective_uuid.status_code == 404  # a UUID names no type: simply not a key result
    assert garbage.status_code == 422
    assert garbage.headers["content-type"] == "application/problem+json"
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "as_of"


async def test_another_organizations_key_result_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given a key result of organization A and a key of organization B with every scope
    org_a = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org_a)
    key_result = await factories.create_key_result(
        session, await factories.create_objective(session, org_a, cycle)
    )
    org_b = await factories.create_org(session)
    key_b = await factories.create_api_key(session, org_b, ("admin",))

    # when
    by_uuid = await client.get(f"/v1/key-results/{key_result.id}", headers=bearer(key_b))
    by_graphql_id = await client.get(
        f"/v1/key-results/{global_ids.encode('KeyResult', key_result.id)}", headers=bearer(key_b)
    )
    missing = await client.get(
        "/v1/key-results/00000000-0000-4000-8000-000000000000", headers=bearer(key_b)
    )

    # then B sees exactly what it sees for an id that does not exist
    assert by_uuid.status_code == by_graphql_id.status_code == missing.status_code == 404
    assert by_uuid.json() == by_graphql_id.json() == missing.json()


async def test_reading_needs_the_read_scope(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    key_result = await factories.create_key_result(
        session, await factories.create_objective(session, org, cycle)
    )

    for scopes in (("write",), ("ingest",)):
        key = await factories.create_api_key(session, org, scopes)
        response = await client.get(f"/v1/key-results/{key_result.id}", headers=bearer(key))
        assert response.status_code == 403, scopes
        assert "'read' scope" in response.json()["detail"]
    assert (await client.get(f"/v1/key-results/{key_result.id}")).status_code == 401
