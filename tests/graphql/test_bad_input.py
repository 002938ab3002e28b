"""Bad input gets a coded error and writes nothing."""

import base64
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event, Objective, Organization
from tests.graphql import steps
from tests.graphql.conftest import Gql


async def written(session: AsyncSession, org: Organization) -> tuple[int, int]:
    """(objectives, events) of the organization: what a refused mutation must not change."""
    objectives = await session.execute(select(func.count()).where(Objective.org_id == org.id))
    events = await session.execute(select(func.count()).where(Event.org_id == org.id))
    return int(objectives.scalar_one()), int(events.scalar_one())


async def test_an_id_of_another_type_is_refused_with_invalid_id(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a team (whose ID is passed where a cycle is expected)
    team = await steps.team(gql)
    before = await written(session, org)

    # when
    errors = await steps.refused(
        gql, "objectiveCreate", {"title": "T", "cycleId": team, "ownerId": team}
    )

    # then
    assert errors == [
        {
            "field": ["input", "cycleId"],
            "code": "INVALID_ID",
            "message": f"{team!r} is not the ID of a Cycle",
        }
    ]
    assert await written(session, org) == before


async def test_a_malformed_id_is_a_coded_error_not_a_crash(gql: Gql) -> None:
    # when node and a mutation get IDs that are not ours
    not_base64 = await gql('{ node(id: "%%%") { id } }')
    unknown_type = base64.urlsafe_b64encode(f"Spaceship:{uuid.uuid4()}".encode()).decode()
    wrong_type = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": unknown_type})
    in_mutation = await steps.refused(gql, "personArchive", {"id": "nonsense"})

    # then each is coded INVALID_ID
    assert not_base64["errors"][0]["extensions"]["code"] == "INVALID_ID"
    assert wrong_type["errors"][0]["extensions"]["code"] == "INVALID_ID"
    assert not_base64["data"] == {"node": None}
    assert in_mutation[0]["code"] == "INVALID_ID"
    assert in_mutation[0]["field"] == ["input", "id"]


async def test_a_missing_required_field_is_a_validation_error_and_writes_nothing(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    before = await written(session, org)

    # when the title is left out, inline and through a variable
    inline = await gql(
        "mutation($c: ID!, $t: ID!) { objectiveCreate(input: {cycleId: $c, ownerId: $t})"
        " { objective { id } } }",
        {"c": cycle, "t": team},
    )
    variable = await gql(
        "mutation($input: ObjectiveCreateInput!) { objectiveCreate(input: $input)"
        " { objective { id } } }",
        {"input": {"cycleId": cycle, "ownerId": team}},
    )

    # then
    assert inline["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert variable["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await written(session, org) == before


async def test_an_out_of_range_weight_is_refused(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given two objectives
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    parent = await steps.objective(gql, cycle, team, title="Parent")
    child = await steps.objective(gql, cycle, team, title="Child")
    before = await written(session, org)

    # when aligned with a negative weight, and a key result is given one
    alignment = await steps.refused(
        gql, "alignmentCreate", {"childId": child, "parentId": parent, "weight": -1}
    )
    key_result = await steps.refused(
        gql,
        "keyResultCreate",
        {
            "objectiveId": child,
            "title": "T",
            "measure": "MANUAL",
            "startValue": 0,
            "targetValue": 1,
            "weight": -0.5,
        },
    )

    # then both are OUT_OF_RANGE on the weight, and nothing was written
    assert [(e["field"], e["code"]) for e in alignment] == [(["input", "weight"], "OUT_OF_RANGE")]
    assert key_result[0]["code"] in {"OUT_OF_RANGE", "INVALID"}
    assert key_result[0]["field"] == ["input", "weight"]
    assert await written(session, org) == before


async def test_a_cycle_in_alignment_is_refused(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a → b → c
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    a = await steps.objective(gql, cycle, team, title="A")
    b = await steps.objective(gql, cycle, team, title="B", parentIds=[a])
    c = await steps.objective(gql, cycle, team, title="C", parentIds=[b])
    before = await written(session, org)

    # when a is aligned under c
    errors = await steps.refused(gql, "alignmentCreate", {"childId": a, "parentId": c})

    # then
    assert errors[0]["code"] == "CYCLE"
    assert await written(session, org) == before
    found = await steps.node(gql, a, "... on Objective { parents { weight } }")
    assert found is not None and found["parents"] == []


async def test_a_mutation_failing_half_way_leaves_nothing_behind(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a cycle and a team, and a parent id that does not exist
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    missing = base64.urlsafe_b64encode(f"Objective:{uuid.uuid4()}".encode()).decode()
    before = await written(session, org)

    # when an objective is created and then aligned under the missing parent
    errors = await steps.refused(
        gql,
        "objectiveCreate",
        {"title": "Half", "cycleId": cycle, "ownerId": team, "parentIds": [missing]},
    )

    # then the objective created before the failure was rolled back with its event
    assert errors[0]["code"] == "NOT_FOUND"
    assert await written(session, org) == before


async def test_an_oversized_page_is_refused_before_execution(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # when pages over the maximum are asked for, inline, by variable and on check-ins
    inline = await gql("{ objectives(first: 101) { totalCount } }")
    variable = await gql("query($n: Int) { people(last: $n) { totalCount } }", {"n": 500})
    nested = await gql("{ keyResults { nodes { checkIns(first: 101) { id } } } }")

    # then each is PAGE_SIZE_EXCEEDED with no data
    for body in (inline, variable, nested):
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"


async def test_a_forged_cursor_and_first_with_last_are_coded_errors(gql: Gql) -> None:
    # when a cursor that is not one of ours, or both ends, are asked for
    forged = await gql('{ objectives(first: 2, after: "bm90IGEgY3Vyc29y") { totalCount } }')
    both = await gql("{ objectives(first: 2, last: 2) { totalCount } }")

    # then
    assert forged["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION"
    assert both["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION"


async def test_requests_strawberry_refuses_itself_are_coded_json_not_plain_text(
    client: httpx.AsyncClient, admin_key: str
) -> None:
    # given requests refused before any operation: a body that is not JSON, no query, a
    # mutation over GET
    auth = {"Authorization": f"Bearer {admin_key}"}
    not_json = await client.post(
        "/graphql", content=b"{not json", headers={**auth, "Content-Type": "application/json"}
    )
    no_query = await client.post("/graphql", json={"nope": 1}, headers=auth)
    mutation = await client.get(
        "/graphql",
        params={"query": 'mutation { personCreate(input: {name: "x"}) { person { id } } }'},
        headers=auth,
    )

    # then each is a 400 with a GraphQL error body and a code
    codes = []
    for response in (not_json, no_query, mutation):
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/json"
        [error] = response.json()["errors"]
        codes.append(error["extensions"]["code"])
    assert codes == ["BAD_REQUEST", "BAD_REQUEST", "OPERATION_NOT_ALLOWED"]


async def test_options_lists_the_methods_of_graphql(client: httpx.AsyncClient) -> None:
    response = await client.options("/graphql")

    assert response.status_code == 204
    assert response.headers["allow"] == "GET, POST, OPTIONS"
