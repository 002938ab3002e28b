"""Mutations used as test set-up through the API, each asserting it succeeded."""

from typing import Any

from tests.graphql.conftest import Gql


async def mutate(
    gql: Gql, name: str, input: dict[str, Any], selection: str, type_name: str | None = None
) -> dict[str, Any]:
    """Run mutation `name` with `input`; the payload, which must have no user errors."""
    input_type = type_name or f"{name[0].upper()}{name[1:]}Input"
    body = await gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) "
        f"{{ {selection} userErrors {{ field code message }} }} }}",
        {"input": input},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    assert payload["userErrors"] == [], payload
    return payload


async def refused(
    gql: Gql, name: str, input: dict[str, Any], type_name: str | None = None
) -> list[dict[str, Any]]:
    """Run mutation `name`, which must refuse: its user errors."""
    input_type = type_name or f"{name[0].upper()}{name[1:]}Input"
    body = await gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) "
        f"{{ userErrors {{ field code message }} }} }}",
        {"input": input},
    )
    assert "errors" not in body, body
    errors: list[dict[str, Any]] = body["data"][name]["userErrors"]
    assert errors, body
    return errors


async def person(gql: Gql, **input: Any) -> str:
    input.setdefault("name", "Ada Lovelace")
    payload = await mutate(gql, "personCreate", input, "person { id }")
    return str(payload["person"]["id"])


async def team(gql: Gql, **input: Any) -> str:
    input.setdefault("name", "Growth")
    payload = await mutate(gql, "teamCreate", input, "team { id }")
    return str(payload["team"]["id"])


async def cycle(gql: Gql, **input: Any) -> str:
    input.setdefault("name", "2027-Q1")
    input.setdefault("startsOn", "2027-01-01")
    input.setdefault("endsOn", "2027-03-31")
    payload = await mutate(gql, "cycleCreate", input, "cycle { id }")
    return str(payload["cycle"]["id"])


async def metric(gql: Gql, **input: Any) -> str:
    input.setdefault("key", "weekly_active_teams")
    input.setdefault("name", "Weekly active teams")
    payload = await mutate(gql, "metricCreate", input, "metric { id }")
    return str(payload["metric"]["id"])


async def objective(gql: Gql, cycle_id: str, owner_id: str, **input: Any) -> str:
    input.setdefault("title", "Grow the North Star")
    input.update(cycleId=cycle_id, ownerId=owner_id)
    payload = await mutate(gql, "objectiveCreate", input, "objective { id }")
    return str(payload["objective"]["id"])


async def key_result(gql: Gql, objective_id: str, **input: Any) -> str:
    input.setdefault("title", "Reach 100 teams")
    input.setdefault("measure", "MANUAL")
    input.setdefault("startValue", 0)
    input.setdefault("targetValue", 100)
    input["objectiveId"] = objective_id
    payload = await mutate(gql, "keyResultCreate", input, "keyResult { id }")
    return str(payload["keyResult"]["id"])


async def check_in(gql: Gql, key_result_id: str, **input: Any) -> str:
    input.setdefault("value", 10)
    input["keyResultId"] = key_result_id
    payload = await mutate(gql, "checkInCreate", input, "checkIn { id }")
    return str(payload["checkIn"]["id"])


async def commitment(gql: Gql, owner_id: str, **input: Any) -> str:
    input.setdefault("title", "Ship onboarding v2")
    input.setdefault("successCriteria", "Live for all new teams.")
    input.setdefault("dueOn", "2027-02-15")
    input["ownerPersonId"] = owner_id
    payload = await mutate(gql, "commitmentCreate", input, "commitment { id }")
    return str(payload["commitment"]["id"])


async def node(gql: Gql, id: str, selection: str) -> dict[str, Any] | None:
    body = await gql(f"query($id: ID!) {{ node(id: $id) {{ id {selection} }} }}", {"id": id})
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["node"]
    return found


async def page_through(gql: Gql, field: str, args: str = "", size: int = 2) -> list[str]:
    """Every id of a connection, page by page forwards; also checks totalCount."""
    ids: list[str] = []
    after: str | None = None
    total = None
    while True:
        body = await gql(
            f"query($after: String) {{ {field}(first: {size}, after: $after{args}) "
            "{ totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
            {"after": after},
        )
        assert "errors" not in body, body
        connection = body["data"][field]
        total = connection["totalCount"]
        assert len(connection["edges"]) <= size
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert total == len(ids)
    assert len(set(ids)) == len(ids)
    return ids
