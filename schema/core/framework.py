"""Every place Lodestar reaches past the public API of Strawberry and graphql-core.

Both are pinned to the minor versions these touches were written and tested against
(`pyproject.toml`), and `tests/graphql/test_framework.py` checks each of them against the
installed versions, through the real schema where it has an effect: an upgrade that moves or
changes one fails there, by name, instead of drifting silently (a resolver quietly back to
Strawberry's, a GraphiQL page without its key, an error without its code). The rest of the
schema package uses the frameworks' public API (`strawberry.type`, `strawberry.field`,
extensions' `on_*` hooks, `Info`, the router's documented hooks...) and takes these from here.

Strawberry

1. `graphql_schema`: the graphql-core schema Strawberry built, its private
   `Schema._schema`. The cost analysis (`schema.core.cost`) walks its types; `resolve_directly`
   rewires its fields.
2. `resolve_directly`: graphql-core calls two kinds of fields itself, past Strawberry's
   per-call wrapper (a nested read's speed: see its docstring). Relies on the
   `StrawberryField` that each graphql-core field carries in its extensions under
   `GraphQLCoreConverter.DEFINITION_BACKREF`; on `StrawberryField.is_basic_field`,
   `.base_resolver.wrapped_func`, `.is_async` and `.arguments`; on Strawberry's resolver of
   a field without one being a function named `_get_basic_result`; and on the `_is_default`
   mark that `strawberry.resolvers.is_default_resolver` reads (tracing skips those).
3. `GenericNameConverter`: a `NameConverter` (`strawberry.schema.name_converter`) whose
   `from_generic` renames some names Strawberry generates for generic types
   (`Edge[Metric]` would be `MetricEdge`, the name of the metric-tree edge type).
4. `described_scalars`: Strawberry's own `Date` and `DateTime` scalar definitions
   (`strawberry.schema.types.base_scalars`) with Lodestar's descriptions, for
   `scalar_overrides`: the same parsing and serialization, documented.
5. `GuardedValidationCache`: Strawberry's `ValidationCache`, its `on_validate` overridden so
   that an operation already refused (errors set on the execution context before validation,
   which Strawberry's own validation step honours but the cache does not) is not validated.
6. `ParsedQueryCache`: Strawberry's `ParserCache`, its `on_parse` overridden so that a query
   that does not parse is left to Strawberry's own parse step (which answers the error; the
   cache's hook would raise it out of the operation, past the error shaping). Uses the
   cache's `cached_parse_document` and the execution context's `parse_options` (where
   `MaxTokensLimiter` puts its limit).
7. `graphiql_page`: Strawberry's GraphiQL page (`strawberry.http.ides`) with default
   headers, tabs and query written into its script, each found by the text it replaces;
   `FrameworkDrift` when that text is gone.
8. `HookedGraphQLRouter`: Strawberry's FastAPI router with hooks into batches, into each
   operation before it is parsed, into the requests it refuses itself (the
   `cross_web.HTTPException` it raises, which its routes answer as text/plain), and
   into the end of a request, by overriding its private `_validate_batch_request`, its
   `execute_operation` (which runs a batch's operations concurrently, through
   `execute_single`) and `run`.
9. `UNSET`, `UnsetType` (`strawberry.types.unset`: `run`'s defaults, a mutation input's
    omitted fields) and `SelectedField` (`strawberry.types.nodes`: what
    `Info.selected_fields` holds), from modules Strawberry's public packages do not export.

graphql-core

10. Its messages: an error without a code of its own is classified by its text
    (`is_variable_error`, `is_token_limit_error`, `is_syntax_error`), and production strips
    its "Did you mean ...?" suggestions (`without_suggestions`), which would let a caller map
    the schema by guessing.
"""

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypeVar

import strawberry
from cross_web import HTTPException as StrawberryHTTPException
from fastapi import Request, WebSocket
from fastapi.responses import Response
from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
)
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData, GraphQLRequestProtocol
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.base import StrawberryObjectDefinition, StrawberryType
from strawberry.types.field import StrawberryField
from strawberry.types.nodes import SelectedField
from strawberry.types.scalar import ScalarDefinition
from strawberry.types.unset import UNSET, UnsetType

__all__ = [
    "UNSET",
    "FrameworkDrift",
    "GenericNameConverter",
    "GuardedValidationCache",
    "HookedGraphQLRouter",
    "ParsedQueryCache",
    "SelectedField",
    "UnsetType",
    "described_scalars",
    "graphiql_page",
    "graphql_schema",
    "is_syntax_error",
    "is_token_limit_error",
    "is_variable_error",
    "resolve_directly",
    "without_suggestions",
]


class FrameworkDrift(RuntimeError):
    """Strawberry or graphql-core no longer has what one of these touches relies on."""


# 1. The graphql-core schema -----------------------------------------------------------------


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built for `schema`."""
    return schema._schema


# 2. Resolvers called by graphql-core directly ---------------------------------------------


def _direct(method: Callable[..., Any], python_names: dict[str, str]) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        return method(source, info, **{python_names[name]: v for name, v in arguments.items()})

    return resolve


def _attribute(python_name: str) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        return getattr(source, python_name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
    return resolve


def resolve_directly(built: strawberry.Schema, direct: Mapping[str, Sequence[str]]) -> None:
    """Let graphql-core call two kinds of fields itself, past Strawberry's per-call wrapper:

    - the resolvers named by `direct` (GraphQL type → Python names of its fields): the
      wrapper builds an `Info` and converts the arguments on every call, which costs a
      nested read more than its key results' numbers do; graphql-core's own info carries the
      same `context`, and its arguments (already parsed scalars) only need their Python
      names. They must be sync methods that take scalar arguments and read nothing of
      `info` but `info.context`;
    - fields without a resolver (`title`, `id`, `Alignment.child`...), read with a plain
      `getattr`: Strawberry's resolver for them (`_get_basic_result`) makes the same
      `getattr` through three more calls; a nested read of ~1,100 objects reads ~3,100.
    """
    names = built.config.name_converter
    replaced: set[tuple[str, str]] = set()
    for graphql_type in graphql_schema(built).type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        wanted = direct.get(graphql_type.name, ())
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField):
                continue
            if field.python_name in wanted:
                assert field.base_resolver is not None and not field.is_async
                method = field.base_resolver.wrapped_func
                assert not isinstance(method, staticmethod | classmethod)
                arguments = {names.from_argument(a): a.python_name for a in field.arguments}
                graphql_field.resolve = _direct(method, arguments)
                replaced.add((graphql_type.name, field.python_name))
            elif (
                field.is_basic_field
                and getattr(graphql_field.resolve, "__name__", None) == "_get_basic_result"
            ):
                graphql_field.resolve = _attribute(field.python_name)
    assert replaced == {(t, f) for t, fields in direct.items() for f in fields}


# 3. Names of generic types ------------------------------------------------------------------


class GenericNameConverter(NameConverter):
    """Strawberry's names, except the generated names of generic types in `renamed`
    (generated name → name)."""

    def __init__(self, renamed: Mapping[str, str]) -> None:
        super().__init__()
        self.renamed = dict(renamed)

    def from_generic(
        self, generic_type: StrawberryObjectDefinition, types: list[StrawberryType | type]
    ) -> str:
        name = super().from_generic(generic_type, types)
        return self.renamed.get(name, name)


# 4. Scalars ---------------------------------------------------------------------------------


def described_scalars(*, date_: str, datetime_: str) -> dict[object, ScalarDefinition]:
    """`scalar_overrides` giving Strawberry's `Date` and `DateTime` these descriptions."""
    return {
        date: replace(DateDefinition, description=date_),
        datetime: replace(DateTimeDefinition, description=datetime_),
    }


# 5. The validation cache --------------------------------------------------------------------


class GuardedValidationCache(ValidationCache):
    """Strawberry's ValidationCache, except that an operation refused before validation (by
    `schema.core.limits.RequestLimits`) is not validated at all."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is not None:
            yield
            return
        yield from super().on_validate()


# 6. The parse cache -------------------------------------------------------------------------


class ParsedQueryCache(ParserCache):
    """Strawberry's ParserCache, except that a query that does not parse is left to
    Strawberry's own parse step, which reports the error as a response (the cache's hook
    would raise it out of the operation, past the error shaping)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except Exception:
            context.graphql_document = None
        yield


# 7. The GraphiQL page -----------------------------------------------------------------------

# The text of Strawberry's GraphiQL page that `graphiql_page` replaces.
GRAPHIQL_HEADERS = "const defaultHeaders = {};"
GRAPHIQL_TABS = "defaultEditorToolsVisibility: true,"
GRAPHIQL_QUERY = "parameters.q || EXAMPLE_QUERY,"


def _replace_once(html: str, old: str, new: str) -> str:
    if html.count(old) != 1:
        raise FrameworkDrift(f"Strawberry's GraphiQL page no longer has `{old}` once")
    return html.replace(old, new)


def graphiql_page(headers_js: str, tabs_js: str, query_js: str) -> str:
    """Strawberry's GraphiQL page with these default headers (a JavaScript object), tabs (an
    array of GraphiQL's tab objects) and query (a JavaScript string), each already safe to
    write into a script element."""
    html = get_graphql_ide_html("graphiql")
    html = _replace_once(html, GRAPHIQL_HEADERS, f"const defaultHeaders = {headers_js};")
    html = _replace_once(html, GRAPHIQL_TABS, f"{GRAPHIQL_TABS}\n          defaultTabs: {tabs_js},")
    return _replace_once(html, GRAPHIQL_QUERY, f"parameters.q || {query_js},")


# 8. The router's hooks ----------------------------------------------------------------------

ContextT = TypeVar("ContextT")


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


class HookedGraphQLRouter(GraphQLRouter[ContextT, None]):
    """Strawberry's FastAPI router with hooks it offers only through private or undocumented
    methods: `check_batch`, `execute_batch`, `refuse_operation` and `request_done`."""

    def check_batch(self, operations: list[Any]) -> Response | None:
        """A response refusing a batch (the parsed JSON array, before any of its operations
        is parsed or run and before Strawberry's own checks), or None to go on."""
        return None

    async def execute_batch(
        self,
        request: Request,
        context: ContextT,
        operations: list[GraphQLRequestData],
        execute: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
    ) -> list[ExecutionResult]:
        """The results of a batch's operations, `execute` running one as Strawberry does
        (Strawberry itself runs them concurrently)."""
        return list(await asyncio.gather(*(execute(data) for data in operations)))

    def request_done(self, context: object) -> None:
        """Called once the response to a request is built (or the request failed), with the
        context it was run with."""

    def transport_refusal(self, status_code: int, reason: str) -> Response:
        """The answer to a request Strawberry refuses before any operation (a body that is
        not JSON, no query, a mutation over GET...)."""
        return Response(reason, status_code=status_code, media_type="text/plain")

    def refuse_operation(self, data: GraphQLRequestData) -> ExecutionResult | None:
        """The result of an operation refused before Strawberry parses it (alone or in a
        batch), or None to run it."""
        return None

    def _validate_batch_request(
        self, request_data: list[GraphQLRequestData], protocol: GraphQLRequestProtocol
    ) -> None:
        # Strawberry calls it with the parsed JSON array, before any operation is parsed.
        refusal = self.check_batch(request_data)
        if refusal is not None:
            raise _Refused(refusal)
        super()._validate_batch_request(request_data, protocol)

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: ContextT | UnsetType = UNSET,
        root_value: UnsetType | None = UNSET,
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)  # type: ignore[arg-type]
        except _Refused as refused:
            return refused.response
        except StrawberryHTTPException as error:
            # Strawberry's own route would answer these as text/plain.
            return self.transport_refusal(error.status_code, error.reason)
        finally:
            self.request_done(context)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: ContextT,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        if not isinstance(request_data, list):
            refusal = self.refuse_operation(request_data)
            if refusal is not None:
                return refusal
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )

        async def execute(data: GraphQLRequestData) -> ExecutionResult:
            refusal = self.refuse_operation(data)
            if refusal is not None:
                return refusal
            return await self.execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=data,
            )

        return await self.execute_batch(request, context, request_data, execute)


# 10. graphql-core's messages ----------------------------------------------------------------


def is_variable_error(error: GraphQLError) -> bool:
    """An operation's variable refused (missing, of the wrong type...)."""
    return error.message.startswith("Variable '")


def is_token_limit_error(error: GraphQLError) -> bool:
    """A document over the parser's token limit (`MaxTokensLimiter`)."""
    return "more than" in error.message and "tokens" in error.message


def is_syntax_error(error: GraphQLError) -> bool:
    """A document that does not parse."""
    return error.message.startswith("Syntax Error")


SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """The message without its "Did you mean ...?" suggestions (of fields, arguments, input
    fields, enum values)."""
    return SUGGESTION.sub("", message)
