"""Every mutation, tried with hostile input: a coded error, never a crash, nothing written.

The cases are generated from the schema itself (`schema.schema`), so a new mutation or a new
input field is swept without touching this file.
"""

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schema.core.relay import to_global_id
from schema.schema import schema
from service.auth import service as auth_service
from service.models import Base, Organization, WebhookEndpoint
from tests import factories


def _root(type_: GraphQLObjectType | None) -> GraphQLObjectType:
    assert type_ is not None
    return type_


MUTATIONS = _root(schema._schema.mutation_type)
HUGE = "x" * 1_000_000


def _named(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def input_type(mutation: str) -> GraphQLInputObjectType:
    named, _ = _named(MUTATIONS.fields[mutation].args["input"].type)
    assert isinstance(named, GraphQLInputObjectType)
    return named


def kind(type_: GraphQLInputType) -> str:
    named, _ = _named(type_)
    if isinstance(named, GraphQLEnumType):
        return "Enum"
    assert isinstance(named, GraphQLScalarType | GraphQLInputObjectType), named
    return str(named.name)


WRONG = {
    "String": {"not": "a string"},
    "ID": 1.5,
    "Float": "not a number",
    "Int": "not a number",
    "Boolean": "yes",
    "Enum": "NOT_A_VALUE",
    "Date": "31/01/2027",
    "DateTime": "yesterday at noon",
}


@dataclass(frozen=True)
class Case:
    mutation: str
    name: str
    field: str | None = None
    value: Any = None
    raw: str | None = None  # a hand-written request body, for what JSON encoders refuse
    literal: str | None = None  # the input as a GraphQL literal instead of a variable
    must_refuse: bool = True
    code: str | None = None  # the error code expected, when one is specific

    @property
    def id(self) -> str:
        return f"{self.mutation}-{self.name}" + (f"-{self.field}" if self.field else "")


def cases() -> list[Case]:
    found: list[Case] = []
    for mutation in MUTATIONS.fields:
        fields = input_type(mutation).fields
        if any(isinstance(f.type, GraphQLNonNull) for f in fields.values()):
            found.append(Case(mutation, "missing-required"))
        for name, field in fields.items():
            field_kind = kind(field.type)
            _, is_list = _named(field.type)
            wrong = WRONG[field_kind]
            found.append(Case(mutation, "wrong-type", name, [wrong] if is_list else wrong))
            if field_kind in ("String", "ID"):
                nul = ["a\x00b"] if is_list else "a\x00b"
                found.append(Case(mutation, "nul", name, nul, code="INVALID_CHARACTER"))
                found.append(
                    Case(
                        mutation,
                        "nul-literal",
                        name,
                        literal=f'{name}: {"[" if is_list else ""}"a\\u0000b"'
                        f"{']' if is_list else ''}",
                        code="INVALID_CHARACTER",
                    )
                )
                found.append(
                    Case(mutation, "surrogate", name, raw='"\\ud800"', code="INVALID_CHARACTER")
                )
            if field_kind == "String":
                found.append(Case(mutation, "huge", name, [HUGE] if is_list else HUGE))
            if field_kind == "Float":
                found.append(Case(mutation, "nan", name, raw="NaN"))
                found.append(Case(mutation, "infinity", name, raw="-Infinity"))
                found.append(Case(mutation, "nan-literal", name, literal=f"{name}: NaN"))
                # Finite, so they may be accepted; they must never crash.
                found.append(Case(mutation, "max-float", name, 1e308, must_refuse=False))
                found.append(Case(mutation, "min-float", name, -1e308, must_refuse=False))
            if field_kind == "Int":
                found.append(Case(mutation, "int-overflow", name, 2**31))
            if name == "weight":
                found.append(Case(mutation, "negative-weight", name, -1.0))
        first = next(iter(fields))
        deep: Any = "x"
        for _ in range(200):
            deep = {"a": deep}
        found.append(Case(mutation, "deeply-nested", first, deep))
    return found


CASES = cases()


@pytest.fixture
async def org(session: AsyncSession) -> Organization:
    return await factories.create_org(session)


@pytest.fixture
async def key(session: AsyncSession, org: Organization) -> str:
    return await factories.create_api_key(session, org, ("admin",))


@pytest.fixture
async def world(session: AsyncSession, org: Organization) -> dict[str, str]:
    """One object of each kind, by the input-field name that refers to it."""
    person = await factories.create_person(session, org)
    team = await factories.create_team(session, org)
    cycle = await factories.create_cycle(session, org)
    metric = await factories.create_metric(session, org)
    parent_metric = await factories.create_metric(session, org)
    edge = await factories.create_metric_edge(session, metric, parent_metric)
    objective = await factories.create_objective(session, org, cycle)
    parent_objective = await factories.create_objective(session, org, cycle)
    key_result = await factories.create_key_result(session, objective)
    check_in = await factories.create_check_in(session, key_result)
    commitment = await factories.create_commitment(session, person, [key_result])
    api_key, _ = await auth_service.create_key(session, org.id, name="other", scopes=["read"])
    endpoint = WebhookEndpoint(
        org_id=org.id,
        url="https://hooks.example.com/lodestar",
        secret="whsec_test",
        event_types=["objective.created"],
        enabled=True,
        consecutive_failures=0,
    )
    session.add(endpoint)
    await session.flush()
    ids = {
        "person": to_global_id("Person", person.id),
        "team": to_global_id("Team", team.id),
        "cycle": to_global_id("Cycle", cycle.id),
        "metric": to_global_id("Metric", metric.id),
        "parentMetric": to_global_id("Metric", parent_metric.id),
        "metricEdge": to_global_id("MetricEdge", edge.id),
        "objective": to_global_id("Objective", objective.id),
        "parentObjective": to_global_id("Objective", parent_objective.id),
        "keyResult": to_global_id("KeyResult", key_result.id),
        "checkIn": to_global_id("CheckIn", check_in.id),
        "commitment": to_global_id("Commitment", commitment.id),
        "apiKey": to_global_id("ApiKey", api_key.id),
        "webhookEndpoint": to_global_id("WebhookEndpoint", endpoint.id),
        "webhookDelivery": to_global_id("WebhookDelivery", uuid.uuid4()),
    }
    return {str(k): str(v) for k, v in ids.items()}


ID_FIELDS = {
    "teamId": "team",
    "parentTeamId": "team",
    "personId": "person",
    "ownerId": "person",
    "ownerPersonId": "person",
    "accountablePersonId": "person",
    "authorPersonId": "person",
    "createdByPersonId": "person",
    "cycleId": "cycle",
    "parentCycleId": "cycle",
    "metricId": "metric",
    "childMetricId": "metric",
    "parentMetricId": "parentMetric",
    "metricIds": "metric",
    "objectiveId": "objective",
    "childId": "objective",
    "parentId": "parentObjective",
    "parentIds": "parentObjective",
    "keyResultId": "keyResult",
    "keyResultIds": "keyResult",
}
STRINGS = {
    "key": "hostile_metric",
    "url": "https://hooks.example.com/other",
    "email": "ada@example.com",
    "eventTypes": "objective.created",
    "evidenceUrl": "https://example.com/evidence",
}
PLAIN = {
    "Float": 0.5,
    "Int": 7,
    "Boolean": False,
    "Date": "2027-02-01",
    "DateTime": "2027-01-15T00:00:00Z",
}


def noun(mutation: str) -> str:
    for candidate in (
        "webhookEndpoint",
        "webhookDelivery",
        "metricEdge",
        "keyResult",
        "checkIn",
        "apiKey",
    ):
        if mutation.startswith(candidate):
            return candidate
    for index, char in enumerate(mutation):
        if char.isupper():
            return mutation[:index]
    return mutation


def plausible_input(mutation: str, world: dict[str, str]) -> dict[str, Any]:
    """A value for every field: the sweep changes one of them at a time."""
    values: dict[str, Any] = {}
    for name, field in input_type(mutation).fields.items():
        named, is_list = _named(field.type)
        field_kind = kind(field.type)
        value: Any
        if name == "id":
            value = world.get(noun(mutation), world["person"])
        elif field_kind == "ID":
            value = world[ID_FIELDS.get(name, "person")]
        elif field_kind == "String":
            value = STRINGS.get(name, "Hostile input")
        elif field_kind == "Enum":
            value = next(iter(named.values))
        else:
            value = PLAIN[field_kind]
        if name == "endsOn":
            value = "2027-03-31"
        values[name] = [value] if is_list else value
    return values


async def snapshot(session: AsyncSession) -> dict[str, int]:
    """Rows of every table: what a refused mutation must leave as it was."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        result = await session.execute(select(func.count()).select_from(table))
        counts[table.name] = int(result.scalar_one())
    return counts


def request_body(case: Case, input: dict[str, Any]) -> str:
    type_name = input_type(case.mutation).name
    selection = "{ userErrors { field code message } }"
    if case.literal is not None:
        assert case.field is not None
        fields = input_type(case.mutation).fields
        given = [
            f"{name}: {to_literal(value, kind(fields[name].type))}"
            for name, value in input.items()
            if name != case.field
        ]
        literal = ", ".join([case.literal, *given])
        query = f"mutation {{ {case.mutation}(input: {{ {literal} }}) {selection} }}"
        return json.dumps({"query": query})
    query = f"mutation($input: {type_name}!) {{ {case.mutation}(input: $input) {selection} }}"
    if case.name == "missing-required":
        input = {}
    elif case.raw is None:
        assert case.field is not None
        input[case.field] = case.value
    marker = "__RAW__"
    if case.raw is not None:
        assert case.field is not None
        input[case.field] = marker
    body = json.dumps({"query": query, "variables": {"input": input}})
    return body.replace(json.dumps(marker), case.raw) if case.raw is not None else body


def to_literal(value: Any, field_kind: str) -> str:
    """`value` written as a GraphQL literal (enum values are names, not strings)."""
    if isinstance(value, list):
        return "[" + ", ".join(to_literal(item, field_kind) for item in value) + "]"
    if field_kind == "Enum":
        return str(value)
    return json.dumps(value)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_hostile_input_is_refused_with_a_code_and_writes_nothing(
    case: Case,
    client: httpx.AsyncClient,
    session: AsyncSession,
    key: str,
    world: dict[str, str],
) -> None:
    # given a valid input for the mutation with one field made hostile
    body = request_body(case, plausible_input(case.mutation, world))
    before = await snapshot(session)

    # when
    response = await client.post(
        "/graphql",
        content=body.encode("utf-8", "surrogatepass"),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )

    # then a coded error or coded userErrors, never a crash
    assert response.status_code < 500, response.text
    result = response.json()
    errors = result.get("errors") or []
    codes = [error.get("extensions", {}).get("code") for error in errors]
    payload = (result.get("data") or {}).get(case.mutation) or {}
    user_errors = payload.get("userErrors") or []
    assert "INTERNAL_SERVER_ERROR" not in codes, result
    assert all(codes), result
    assert all(error["code"] for error in user_errors), result
    if case.code is not None:
        assert case.code in codes, result
    refused = bool(errors or user_errors)
    if case.must_refuse:
        assert refused, result
    # and a refusal leaves every table as it was
    if refused:
        assert await snapshot(session) == before


async def test_every_mutation_is_swept() -> None:
    # then each mutation of the schema has cases, NUL ones included
    swept = {case.mutation for case in CASES}
    with_nul = {case.mutation for case in CASES if case.name == "nul"}
    assert swept == set(MUTATIONS.fields)
    assert with_nul == set(MUTATIONS.fields)


QUERIES = _root(schema._schema.query_type)


def _encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


HOSTILE_ARGUMENTS: dict[str, list[Any]] = {
    "String": [
        "a\x00b",
        _encoded("\x00\x00"),
        _encoded("Objective:\x00"),
        _encoded('{"k": [1e999]}'),
        "////",
        "x" * 100_000,
    ],
    "ID": ["a\x00b", _encoded("Objective:\x00"), _encoded("\x00:\x00"), "x" * 100_000],
    "Int": [-1, 0, 2**31 - 1, -(2**31)],
    "DateTime": ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2027-01-01T00:00:00+23:59"],
    "Date": ["0001-01-01", "9999-12-31"],
}


def _selection(type_: Any, depth: int = 0) -> str:
    named, _ = _named(type_)
    fields = getattr(named, "fields", None)
    if not fields:
        return ""
    leaves = [
        name
        for name, field in fields.items()
        if not isinstance(_named(field.type)[0], GraphQLUnionType)
        and not any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values())
        and (not getattr(_named(field.type)[0], "fields", None) or depth < 1)
    ]
    parts = [
        name
        + (
            f" {_selection(fields[name].type, depth + 1)}"
            if getattr(_named(fields[name].type)[0], "fields", None)
            else ""
        )
        for name in leaves
    ]
    return "{ __typename " + " ".join(parts) + " }"


def query_cases() -> list[tuple[str, str, Any]]:
    found = []
    for name, field in QUERIES.fields.items():
        for arg_name, arg in field.args.items():
            for value in HOSTILE_ARGUMENTS.get(kind(arg.type), []):
                found.append((name, arg_name, value))
    return found


QUERY_CASES = query_cases()


@pytest.mark.parametrize(
    ("field", "argument", "value"),
    QUERY_CASES,
    ids=[f"{f}-{a}-{n}" for n, (f, a, _) in enumerate(QUERY_CASES)],
)
async def test_hostile_query_arguments_are_coded_errors_never_crashes(
    field: str,
    argument: str,
    value: Any,
    client: httpx.AsyncClient,
    key: str,
    world: dict[str, str],
) -> None:
    # given a query with one argument made hostile, the others plausible
    definition = QUERIES.fields[field]
    declared = []
    variables: dict[str, Any] = {}
    for name, arg in definition.args.items():
        if name == argument:
            variables[name] = value
        elif isinstance(arg.type, GraphQLNonNull):
            arg_kind = kind(arg.type)
            named, is_list = _named(arg.type)
            if arg_kind == "ID":
                plain: Any = world["objective"]
            elif arg_kind == "Enum":
                plain = next(iter(named.values))
            elif arg_kind == "DateTime":
                plain = "2027-01-01T00:00:00Z" if name != "end" else "2027-02-01T00:00:00Z"
            elif arg_kind == "String":
                plain = "weekly_active_teams"
            else:
                plain = PLAIN[arg_kind]
            variables[name] = [plain] if is_list else plain
        else:
            continue
        declared.append(f"${name}: {arg.type}")
    arguments = ", ".join(f"{name}: ${name}" for name in variables)
    query = f"query({', '.join(declared)}) {{ {field}({arguments}) {_selection(definition.type)} }}"

    # when
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )

    # then
    assert response.status_code < 500, response.text
    result = response.json()
    codes = [error.get("extensions", {}).get("code") for error in result.get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, result
    assert all(codes), result
    if isinstance(value, str) and "\x00" in value:
        assert codes == ["INVALID_CHARACTER"], result


async def test_a_nul_in_a_query_literal_is_refused_and_the_batch_goes_on(
    client: httpx.AsyncClient, key: str
) -> None:
    # given a batch whose first operation has a NUL in a literal (it used to abort the
    # request's transaction in PostgreSQL and answer 500)
    batch = [
        {"query": '{ metric(key: "a\\u0000b") { id } }'},
        {"query": "{ organization { name } }"},
    ]

    # when
    response = await client.post("/graphql", json=batch, headers={"Authorization": f"Bearer {key}"})

    # then the first is refused with a code and the path, the second still runs
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["errors"][0]["extensions"] == {
        "code": "INVALID_CHARACTER",
        "field": "metric(key:)",
    }
    assert "errors" not in second, second
    assert second["data"]["organization"]["name"]


async def test_a_lone_surrogate_in_a_variable_is_refused_with_its_path(
    client: httpx.AsyncClient, session: AsyncSession, key: str
) -> None:
    # given a mutation whose variables carry a lone surrogate (not encodable as UTF-8)
    body = (
        '{"query": "mutation($input: TeamCreateInput!) { teamCreate(input: $input) '
        '{ userErrors { code } } }", "variables": {"input": {"name": "a\\ud800"}}}'
    )
    before = await snapshot(session)

    # when
    response = await client.post(
        "/graphql",
        content=body.encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )

    # then
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INVALID_CHARACTER", "field": "$input.name"}
    assert "surrogate" in error["message"]
    assert await snapshot(session) == before


async def test_a_json_body_nested_past_the_recursion_limit_is_a_400_not_a_crash(
    client: httpx.AsyncClient, key: str
) -> None:
    # given a body Python's JSON decoder cannot nest into (it raised RecursionError: 500)
    body = b'{"query": "{ organization { name } }", "variables": ' + b"[" * 100_000
    body += b"]" * 100_000 + b"}"

    # when
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )

    # then
    assert response.status_code == 400, response.text
    assert "JSON" in response.text
