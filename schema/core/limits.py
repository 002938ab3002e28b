"""Request limits of SPEC §7 and error shaping, as Strawberry schema extensions.

`RequestLimits` measures every operation (`schema.core.cost`: depth, aliases, field
selections, fragment spreads, page sizes, the node budget) before graphql-core validates it,
so no validation rule walks a document over a limit; it also checks the key's scope before
any resolver runs. The document's size is refused earlier still, before it is parsed
(`document_refusal`, called by the HTTP router). `ErrorShaping` gives every error an
`extensions.code`, shows expected errors as they are and masks the rest behind the request id.
"""

import logging
from collections.abc import Callable, Iterator

from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, SchemaExtension

from schema.core.cost import CostAnalysis, Limits
from schema.core.errors import ApiError, ErrorCodes, error_code
from schema.core.framework import (
    graphql_schema,
    is_syntax_error,
    is_token_limit_error,
    is_variable_error,
    without_suggestions,
)
from schema.core.input_guard import RefuseUnstorableText
from service.errors import DomainError
from service.models import Scope
from service.request_log import request_id_var
from service.settings import Settings

log = logging.getLogger("lodestar.graphql")


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories of the limit extensions: Strawberry makes fresh ones for every request."""
    closed = [] if settings.graphql_introspection else [DisableIntrospection]
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        *closed,
        lambda: RequestLimits(settings=settings),
        RefuseUnstorableText,
        lambda: ErrorShaping(hide_suggestions=settings.is_production),
    ]


def document_refusal(query: object, settings: Settings) -> ApiError | None:
    """Why a document is refused before it is even parsed (its size), or None."""
    limit = settings.graphql_max_document_chars
    if isinstance(query, str) and len(query) > limit:
        return ApiError(
            f"the document has {len(query):,} characters; the limit is {limit:,}",
            ErrorCodes.MAX_DOCUMENT_SIZE_EXCEEDED,
        )
    return None


def refused(error: ApiError) -> GraphQLError:
    return GraphQLError(error.message, original_error=error, extensions={"code": error.code})


def cost_limits(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_fields=settings.graphql_max_fields,
        max_selections=settings.graphql_max_selections,
        max_fragment_spreads=settings.graphql_max_fragment_spreads,
        max_page_size=settings.graphql_max_page_size,
    )


class RequestLimits(SchemaExtension):
    """The operation's cost, measured before validation; its scope, before execution."""

    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.pre_execution_errors is None and ctx.graphql_document is not None:
            try:
                self._check_cost()
            except ApiError as error:
                # Set before validation runs, these errors make Strawberry skip it.
                ctx.pre_execution_errors = [refused(error)]
        yield

    def on_execute(self) -> Iterator[None]:
        operation = self._operation()
        if operation is not None:
            try:
                self._check_scope(operation)
            except ApiError as error:
                # A result set here makes Strawberry skip execution altogether.
                self.execution_context.result = ExecutionResult(data=None, errors=[refused(error)])
        yield

    def _operation(self) -> OperationDefinitionNode | None:
        document = self.execution_context.graphql_document
        assert document is not None
        name = self.execution_context.operation_name
        operations = [
            definition
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
        ]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((op for op in operations if op.name and op.name.value == name), None)

    def _check_cost(self) -> None:
        ctx = self.execution_context
        document = ctx.graphql_document
        assert document is not None
        analysis = CostAnalysis(
            graphql_schema(ctx.schema),
            document,
            dict(ctx.variables or {}),
            cost_limits(self.settings),
        )
        operation = self._operation()
        if operation is None:
            count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if ctx.operation_name is not None:
                message = f"the document has no operation named {ctx.operation_name!r}"
            elif count == 0:
                message = "the document holds no operation"
            else:
                message = (
                    f"the document holds {count} operations: name the one to run with"
                    " `operationName`"
                )
            raise ApiError(message, ErrorCodes.GRAPHQL_VALIDATION_FAILED)
        estimate = analysis.measure(operation).nodes
        self._check_transport(operation)
        context = ctx.context
        shared: int | None = getattr(context, "node_budget_spent", None)
        spent = shared or 0
        budget = self.settings.graphql_node_budget
        if spent + estimate > budget:
            earlier = f" (plus {spent} for the earlier operations of this batch)" if spent else ""
            raise ApiError(
                f"this query may return about {estimate} objects{earlier}, over the budget of"
                f" {budget} per request; ask for smaller pages or fewer levels",
                ErrorCodes.NODE_BUDGET_EXCEEDED,
            )
        if shared is not None:
            context.node_budget_spent = spent + estimate

    def _check_transport(self, operation: OperationDefinitionNode) -> None:
        """Subscriptions run over the websocket, queries and mutations over HTTP."""
        transport = getattr(self.execution_context.context, "transport", None)
        subscription = operation.operation is OperationType.SUBSCRIPTION
        if transport == "http" and subscription:
            raise ApiError(
                "subscriptions run over the websocket of /graphql (graphql-transport-ws),"
                " not over HTTP",
                ErrorCodes.OPERATION_NOT_ALLOWED,
            )
        if transport == "websocket" and not subscription:
            raise ApiError(
                "the websocket of /graphql runs subscriptions only; send queries and"
                " mutations over HTTP",
                ErrorCodes.OPERATION_NOT_ALLOWED,
            )

    def _check_scope(self, operation: OperationDefinitionNode) -> None:
        principal = getattr(self.execution_context.context, "principal", None)
        needed = Scope.write if operation.operation is OperationType.MUTATION else Scope.read
        if principal is None or not principal.has(needed):
            raise ApiError(f"this API key lacks the {needed.value!r} scope", ErrorCodes.FORBIDDEN)


def _code_of(error: GraphQLError) -> tuple[str, bool]:
    """The error's code and whether it is expected (shown) rather than masked."""
    original = error.original_error
    if isinstance(original, ApiError):
        return original.code, True
    if isinstance(original, DomainError):
        return error_code(original), True
    if is_variable_error(error):
        return ErrorCodes.BAD_USER_INPUT, True
    if isinstance(original, GraphQLError):
        return _code_of(original)
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code, True
    if original is None and error.path is None:
        if is_token_limit_error(error):
            return ErrorCodes.MAX_TOKENS_EXCEEDED, True
        if is_syntax_error(error):
            return ErrorCodes.GRAPHQL_PARSE_FAILED, True
        return ErrorCodes.GRAPHQL_VALIDATION_FAILED, True
    return ErrorCodes.INTERNAL_SERVER_ERROR, False


class ErrorShaping(SchemaExtension):
    """Codes every error; masks unexpected ones with the request id (and logs them); in
    production, drops every "Did you mean ...?" (fields, arguments, input fields, enum
    values), which would let a caller map the schema by guessing."""

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        shaped: list[GraphQLError] = []
        for error in errors:
            code, expected = _code_of(error)
            extensions = {**(error.extensions or {}), "code": code}
            message = error.message
            if self.hide_suggestions:
                message = without_suggestions(message)
            if not expected:
                request_id = request_id_var.get() or "-"
                log.error(
                    "unexpected error in GraphQL operation (request %s)",
                    request_id,
                    exc_info=error.original_error,
                )
                message = f"Unexpected error (request id {request_id})."
                extensions["requestId"] = request_id
            shaped.append(
                GraphQLError(
                    message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    original_error=error.original_error if expected else None,
                    extensions=extensions,
                )
            )
        result.errors = shaped  # type: ignore[union-attr]
