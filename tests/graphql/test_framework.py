"""What `schema.core.framework` relies on in Strawberry and graphql-core, against the installed versions.

Each test names the touch it checks, numbered as in `schema.core.framework`'s docstring, and checks
its effect (through the real schema where it has one), not only that a name still exists: an
upgrade past the pins in pyproject.toml that breaks a touch fails here, by name.
"""

import inspect
import json
import tomllib
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from graphql import (
    GraphQLObjectType,
    GraphQLScalarType,
)
from packaging.requirements import Requirement
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.http.ides import get_graphql_ide_html
from strawberry.resolvers import is_default_resolver
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionResult
from strawberry.types.field import StrawberryField

from schema.core import framework
from schema.core.framework import (
    GRAPHIQL_HEADERS,
    GRAPHIQL_QUERY,
    GRAPHIQL_TABS,
    UNSET,
    GenericNameConverter,
    HookedGraphQLRouter,
    ParsedQueryCache,
    SelectedField,
    graphql_schema,
    resolve_directly,
)
from schema.core.pagination import Edge
from schema.http.graphiql import EXAMPLE_TREE, graphiql_html
from schema.metrics.types import Metric
from schema.schema import DIRECT_FIELDS, build_schema
from schema.schema import schema as lodestar_schema
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def codes(result: ExecutionResult) -> list[str]:
    assert result.errors, result
    return [(error.extensions or {}).get("code", "") for error in result.errors]


def allowed_everything() -> SimpleNamespace:
    """A context whose caller may read and write (the limits check `principal.has`)."""
    return SimpleNamespace(principal=SimpleNamespace(has=lambda scope: True))


# The pins ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["strawberry-graphql", "graphql-core"])
def test_the_installed_frameworks_are_within_the_pins(name: str) -> None:
    # given the project's dependencies
    with (ROOT / "pyproject.toml").open("rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    pins = [Requirement(d) for d in dependencies if Requirement(d).name == name]

    # then the framework is pinned to one minor version, and the installed one is in it
    assert len(pins) == 1, f"{name} is not pinned in pyproject.toml"
    specifier = pins[0].specifier
    assert any(s.operator == "<" for s in specifier), f"{name}'s pin has no upper bound"
    assert version(name) in specifier, f"{name} {version(name)} is outside its pin {specifier}"


# The signatures the overrides and calls assume ------------------------------------------------


@pytest.mark.parametrize(
    ("owner", "method", "parameters"),
    [
        (GraphQLRouter, "_validate_batch_request", ["self", "request_data", "protocol"]),
        (
            GraphQLRouter,
            "execute_operation",
            [
                *("self", "request", "request_adapter", "request_data", "context"),
                *("root_value", "sub_response"),
            ],
        ),
        (
            GraphQLRouter,
            "execute_single",
            [
                *("self", "request", "request_adapter", "sub_response", "context"),
                *("root_value", "request_data"),
            ],
        ),
        (GraphQLRouter, "run", ["self", "request", "context", "root_value"]),
        (NameConverter, "from_generic", ["self", "generic_type", "types"]),
        (ParserCache, "on_parse", ["self"]),
        (ValidationCache, "on_validate", ["self"]),
    ],
)
def test_the_overridden_and_called_methods_keep_their_signatures(
    owner: type, method: str, parameters: list[str]
) -> None:
    assert list(inspect.signature(getattr(owner, method)).parameters) == parameters


# 1. The graphql-core schema -----------------------------------------------------------------


async def test_graphql_schema_is_the_schema_strawberry_executes() -> None:
    # given a type only the Lodestar schema has
    built = graphql_schema(lodestar_schema)
    key_result = built.get_type("KeyResult")
    assert isinstance(key_result, GraphQLObjectType)

    # when Strawberry executes an introspection of it
    result = await lodestar_schema.execute(
        '{ __type(name: "KeyResult") { fields { name } } }', context_value=allowed_everything()
    )

    # then it answers from that same schema
    assert result.errors is None, result.errors
    assert result.data is not None
    assert {f["name"] for f in result.data["__type"]["fields"]} == set(key_result.fields)


# 2. Resolvers called by graphql-core directly ---------------------------------------------


@strawberry.type
class Thing:
    name: str
    label: str = strawberry.field(name="shownAs")

    @strawberry.field
    def scaled(self, info: strawberry.Info, by_factor: int) -> int:
        unit: int = info.context["unit"]
        return len(self.name) * by_factor * unit

    @strawberry.field
    def shouted(self) -> str:
        return self.name.upper()


@strawberry.type
class ThingQuery:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing(name="abc", label="a label")


def resolver_name(built: strawberry.Schema, type_name: str, field: str) -> str:
    graphql_type = graphql_schema(built).get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    return getattr(graphql_type.fields[field].resolve, "__qualname__", "")


async def test_resolve_directly_answers_as_strawberry_did_without_its_wrapper() -> None:
    # given a schema as Strawberry builds it
    built = strawberry.Schema(query=ThingQuery)
    thing = graphql_schema(built).get_type("Thing")
    assert isinstance(thing, GraphQLObjectType)
    name = (thing.fields["name"].extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    # (what `resolve_directly` looks for: the Strawberry field, and its plain-field resolver)
    assert isinstance(name, StrawberryField) and name.is_basic_field
    assert resolver_name(built, "Thing", "name").endswith("_get_basic_result")
    query = "{ thing { name shownAs scaled(byFactor: 2) shouted } }"
    before = await built.execute(query, context_value={"unit": 10})

    # when graphql-core is given the fields directly
    resolve_directly(built, {"Thing": ("scaled",)})

    # then plain fields (named as in Python or not) read the attribute, marked as Strawberry
    # marks its own default resolvers; the named resolver is called past the wrapper; the rest
    # stay Strawberry's
    for field in ("name", "shownAs"):
        assert resolver_name(built, "Thing", field).startswith("_attribute"), field
        assert is_default_resolver(thing.fields[field].resolve), field
    assert resolver_name(built, "Thing", "scaled").startswith("_direct")
    assert not resolver_name(built, "Thing", "shouted").startswith(("_direct", "_attribute"))
    # and the answers are the same
    after = await built.execute(query, context_value={"unit": 10})
    assert before.errors is None and after.errors is None, (before.errors, after.errors)
    assert (
        after.data
        == before.data
        == {"thing": {"name": "abc", "shownAs": "a label", "scaled": 60, "shouted": "ABC"}}
    )


def test_the_lodestar_schema_has_its_resolvers_called_directly() -> None:
    for type_name, fields in DIRECT_FIELDS.items():
        graphql_type = graphql_schema(lodestar_schema).get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType)
        for python_name in fields:
            graphql_name = lodestar_schema.config.name_converter.apply_naming_config(python_name)
            assert resolver_name(lodestar_schema, type_name, graphql_name).startswith("_direct")
    assert resolver_name(lodestar_schema, "Objective", "title").startswith("_attribute")


# 3. Names of generic types ------------------------------------------------------------------


def test_generic_names_are_renamed_where_strawberry_would_clash() -> None:
    # given the edge of a page of metrics
    edge = Edge.__strawberry_definition__  # type: ignore[attr-defined]

    # then Strawberry would name it as the metric-tree edge type, and the converter renames it
    assert NameConverter().from_generic(edge, [Metric]) == "MetricEdge"
    renamed = GenericNameConverter({"MetricEdge": "MetricConnectionEdge"})
    assert renamed.from_generic(edge, [Metric]) == "MetricConnectionEdge"
    # as the Lodestar schema has it
    page_edge = graphql_schema(lodestar_schema).get_type("MetricConnectionEdge")
    tree_edge = graphql_schema(lodestar_schema).get_type("MetricEdge")
    assert isinstance(page_edge, GraphQLObjectType) and isinstance(tree_edge, GraphQLObjectType)
    assert set(page_edge.fields) == {"cursor", "node"}
    assert "cursor" not in tree_edge.fields


# 4. Scalars ---------------------------------------------------------------------------------


def test_date_scalars_keep_strawberrys_behaviour_with_lodestars_descriptions() -> None:
    day = graphql_schema(lodestar_schema).get_type("Date")
    instant = graphql_schema(lodestar_schema).get_type("DateTime")
    assert isinstance(day, GraphQLScalarType) and isinstance(instant, GraphQLScalarType)

    assert day.description == "A calendar day, ISO 8601 (2027-01-31)."
    assert instant.description is not None and instant.description.startswith("An instant")
    assert day.parse_value("2027-01-31") == date(2027, 1, 31)
    assert day.serialize(date(2027, 1, 31)) == "2027-01-31"
    assert instant.parse_value("2027-01-31T12:00:00Z") == datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert instant.serialize(datetime(2027, 1, 31, 12, tzinfo=UTC)) == "2027-01-31T12:00:00+00:00"


# 5. The validation cache --------------------------------------------------------------------


async def test_an_operation_refused_before_validation_is_not_validated() -> None:
    # given a schema with a low alias limit, and an operation over it that is also invalid
    limited = build_schema(Settings(graphql_max_aliases=1))
    query = "{ a: organization { name } b: organization { name } nope }"

    # when it runs (twice: the second time through the validation cache)
    first = await limited.execute(query)
    second = await limited.execute(query)

    # then only the limit is reported: the unknown field was never validated
    assert codes(first) == codes(second) == ["MAX_ALIASES_EXCEEDED"]
    # and the same document under the limit is validated
    assert codes(await limited.execute("{ organization { name } nope }")) == [
        "GRAPHQL_VALIDATION_FAILED"
    ]


# 6. The parse cache -------------------------------------------------------------------------


async def test_the_parse_cache_caches_and_leaves_bad_queries_to_strawberry() -> None:
    cache = ParsedQueryCache(maxsize=256).cached_parse_document
    query = "query FrameworkCacheProbe { organization { name } }"

    # when the same query runs twice
    await lodestar_schema.execute(query)
    hits = cache.cache_info().hits
    await lodestar_schema.execute(query)

    # then the second parse came from the cache
    assert cache.cache_info().hits == hits + 1
    # and a query that does not parse is answered, as a coded error, not raised
    assert codes(await lodestar_schema.execute("{ organization {")) == ["GRAPHQL_PARSE_FAILED"]


async def test_the_parse_cache_applies_the_token_limit() -> None:
    # given a schema with a low token limit (set in the parse options the cache passes on)
    limited = build_schema(Settings(graphql_max_tokens=10))

    # when a query past it runs
    result = await limited.execute("{ organization { id name } objectives { totalCount } }")

    # then it is refused
    assert codes(result) == ["MAX_TOKENS_EXCEEDED"]


# 8. The GraphiQL page -----------------------------------------------------------------------


def test_the_graphiql_page_still_has_what_is_written_into_it() -> None:
    page = get_graphql_ide_html("graphiql")

    # each replaced text is there once, where it has its effect
    for text in (GRAPHIQL_HEADERS, GRAPHIQL_TABS, GRAPHIQL_QUERY):
        assert page.count(text) == 1, text
    assert "headers: defaultHeaders" in page  # the fetcher sends the default headers
    props = page.index("React.createElement(GraphiQL, {")
    assert props < page.index(GRAPHIQL_TABS) < page.index("});", props)  # a prop of GraphiQL

    # and Lodestar's page has its key, tabs and query there
    html = graphiql_html("lsk_framework_probe")
    assert 'const defaultHeaders = {"Authorization": "Bearer lsk_framework_probe"};' in html
    assert f"{GRAPHIQL_TABS}\n          defaultTabs: [" in html
    assert f"parameters.q || {json.dumps(EXAMPLE_TREE)}," in html


def test_a_page_without_the_replaced_text_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framework, "get_graphql_ide_html", lambda ide: "<html></html>")

    with pytest.raises(framework.FrameworkDrift):
        graphiql_html(None)


# 9. The router's hooks ----------------------------------------------------------------------


@strawberry.type
class EchoQuery:
    @strawberry.field
    def echo(self, word: str) -> str:
        return word


class ProbeContext(BaseContext):
    pass


class ProbeRouter(HookedGraphQLRouter[ProbeContext]):
    def __init__(self, refuse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.refuse = refuse
        self.checked: list[Any] = []
        self.batches: list[list[str | None]] = []
        self.done: list[object] = []

    def check_batch(self, operations: list[Any]) -> Response | None:
        self.checked.append(operations)
        return JSONResponse({"refused": len(operations)}, status_code=418) if self.refuse else None

    async def execute_batch(
        self,
        request: Any,
        context: ProbeContext,
        operations: list[GraphQLRequestData],
        execute: Any,
    ) -> list[ExecutionResult]:
        self.batches.append([data.query for data in operations])
        return [await execute(data) for data in reversed(operations)]

    def request_done(self, context: object) -> None:
        self.done.append(context)


async def post_to(router: ProbeRouter, body: object) -> httpx.Response:
    app = FastAPI()
    app.include_router(router, prefix="/graphql")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe.test") as client:
        return await client.post("/graphql", json=body)


def probe_router(refuse: bool = False) -> ProbeRouter:
    schema = strawberry.Schema(
        query=EchoQuery, config=StrawberryConfig(batching_config={"max_operations": 5})
    )

    async def context() -> ProbeContext:
        return ProbeContext()

    return ProbeRouter(refuse=refuse, schema=schema, context_getter=context)


async def test_the_router_runs_batches_through_its_hooks() -> None:
    router = probe_router()
    batch = [{"query": '{ echo(word: "one") }'}, {"query": '{ echo(word: "two") }'}]

    response = await post_to(router, batch)

    # the batch was checked as sent, run by `execute_batch` (here in reverse), and the
    # request's context handed back once the response was built
    assert response.status_code == 200, response.text
    assert response.json() == [{"data": {"echo": "two"}}, {"data": {"echo": "one"}}]
    assert router.checked == [batch]
    assert router.batches == [[item["query"] for item in batch]]
    assert len(router.done) == 1 and isinstance(router.done[0], ProbeContext)


async def test_the_router_answers_a_refused_batch_with_the_hooks_response() -> None:
    router = probe_router(refuse=True)

    response = await post_to(router, [{"query": '{ echo(word: "one") }'}])

    assert response.status_code == 418
    assert response.json() == {"refused": 1}
    assert router.batches == []
    assert len(router.done) == 1


async def test_the_router_runs_a_single_operation_as_strawberry_does() -> None:
    router = probe_router()

    response = await post_to(router, {"query": '{ echo(word: "alone") }'})

    assert response.json() == {"data": {"echo": "alone"}}
    assert router.checked == [] and router.batches == []
    assert len(router.done) == 1


# 10. UNSET, SelectedField -------------------------------------------------------------------


@strawberry.input
class Change:
    title: str | None = UNSET


@strawberry.type
class Probe:
    @strawberry.field
    def number(self, as_of: str | None = None) -> int:
        return 1


def selections(info: strawberry.Info) -> list[str]:
    """What `schema.rollups.fields` reads of a selection, as `kind:name[arguments]`."""
    seen: list[str] = []
    stack: list[Any] = list(info.selected_fields[0].selections)
    while stack:
        selection = stack.pop(0)
        if isinstance(selection, SelectedField):
            seen.append(f"field:{selection.name}{sorted(selection.arguments.items())}")
        else:
            seen.append(f"fragment:{type(selection).__name__}")
        stack.extend(selection.selections)
    return seen


@strawberry.type
class SelectionQuery:
    @strawberry.field
    def given(self, change: Change) -> bool:
        return change.title is not UNSET

    @strawberry.field
    def probe(self, info: strawberry.Info) -> Probe:
        info.context["seen"] = selections(info)
        return Probe()


async def test_unset_and_selected_fields_are_what_strawberry_gives() -> None:
    built = strawberry.Schema(query=SelectionQuery)
    assert UNSET is strawberry.UNSET
    context: dict[str, Any] = {}

    omitted = await built.execute("{ given(change: {}) }")
    given = await built.execute('{ given(change: {title: "x"}) }')
    selected = await built.execute(
        """
        query { probe { now: number(asOf: "2027-01-31") ...F ... on Probe { number } } }
        fragment F on Probe { number }
        """,
        context_value=context,
    )

    assert omitted.data == {"given": False} and given.data == {"given": True}
    assert selected.errors is None, selected.errors
    assert context["seen"] == [
        "field:number[('asOf', '2027-01-31')]",
        "fragment:FragmentSpread",
        "fragment:InlineFragment",
        "field:number[]",
        "field:number[]",
    ]


# 11. graphql-core's messages ----------------------------------------------------------------


async def test_errors_without_a_code_are_classified_by_their_message() -> None:
    bad_variable = await lodestar_schema.execute(
        "query ($first: Int) { objectives(first: $first) { totalCount } }",
        variable_values={"first": "many"},
        context_value=allowed_everything(),
    )
    unknown_field = await lodestar_schema.execute("{ organizaton { name } }")

    assert codes(bad_variable) == ["BAD_USER_INPUT"]
    assert codes(unknown_field) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_production_strips_graphql_cores_suggestions() -> None:
    operation = "{ objectives(frist: 1) { totalCount } }"
    development = await build_schema(Settings(environment="development")).execute(operation)
    production = await build_schema(Settings(environment="production")).execute(operation)

    # graphql-core suggests in its own words, which production leaves out
    assert development.errors is not None and production.errors is not None
    assert "Did you mean 'first'" in development.errors[0].message
    assert production.errors[0].message == "Unknown argument 'frist' on field 'Query.objectives'."
