"""Request limits of SPEC §7 and error shaping, as Strawberry schema extensions.

Depth, aliases and tokens use Strawberry's limiters (their errors get a code here); scopes,
page sizes and the node budget are checked by `RequestLimits` once the document is valid
and before any resolver runs. `ErrorShaping` gives every error an `extensions.code`, shows
expected errors as they are and masks the rest behind the request id.
"""

import logging
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from schema.core.errors import ApiError, ErrorCodes, error_code
from schema.core.framework import (
    coded_rule,
    graphql_schema,
    is_syntax_error,
    is_token_limit_error,
    is_variable_error,
    limiter_rule,
    without_suggestions,
)
from schema.core.input_guard import RefuseUnstorableText
from schema.core.pagination import DEFAULT_PAGE_SIZE
from service.errors import DomainError
from service.models import Scope
from service.request_log import request_id_var
from service.settings import Settings

log = logging.getLogger("lodestar.graphql")

# A plain list field (no `first`/`last`) is assumed to hold this many items.
LIST_FAN_OUT = 10


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories of the limit extensions: Strawberry makes fresh ones for every request."""
    depth = limiter_rule(QueryDepthLimiter(max_depth=settings.graphql_max_depth))
    aliases = limiter_rule(MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases))
    rules = [
        coded_rule(depth, ErrorCodes.MAX_DEPTH_EXCEEDED),
        coded_rule(aliases, ErrorCodes.MAX_ALIASES_EXCEEDED),
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: AddValidationRules(rules),
        lambda: RequestLimits(settings=settings),
        RefuseUnstorableText,
        lambda: ErrorShaping(hide_suggestions=settings.is_production),
    ]


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


class Budget:
    """Estimates how many objects an operation may return, and checks page sizes."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.max_page_size = max_page_size

    def _argument(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _page_size(self, field: FieldNode, field_def: Any) -> int | None:
        if "ids" in field_def.args:
            ids = self._argument(field, "ids")
            count = len(ids) if isinstance(ids, list) else 1
            if count > self.max_page_size:
                raise ApiError(
                    f"`{field.name.value}` takes at most {self.max_page_size} IDs, got {count}",
                    ErrorCodes.PAGE_SIZE_EXCEEDED,
                )
            return count
        if "first" not in field_def.args and "last" not in field_def.args:
            return None
        size = None
        for name in ("first", "last"):
            value = self._argument(field, name)
            if isinstance(value, int) and not isinstance(value, bool):
                if value > self.max_page_size:
                    raise ApiError(
                        f"`{field.name.value}({name}: {value})` exceeds the maximum page size"
                        f" of {self.max_page_size}",
                        ErrorCodes.PAGE_SIZE_EXCEEDED,
                    )
                size = max(size or 0, value)
        if size is not None:
            return size
        default = field_def.args.get("first")
        if default is not None and isinstance(default.default_value, int):
            return int(default.default_value)
        return DEFAULT_PAGE_SIZE

    def count(self, parent: Any, selection_set: SelectionSetNode | None, multiplier: int) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._count_field(parent, selection, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self.count(target, selection.selection_set, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value) or parent
                    total += self.count(target, fragment.selection_set, multiplier)
        return total

    def _count_field(self, parent: Any, field: FieldNode, multiplier: int) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        field_def = parent.fields.get(field.name.value)
        if field_def is None:
            return 0
        named, is_list = _unwrap(field_def.type)
        page_size = self._page_size(field, field_def)
        if page_size is not None:
            multiplier *= max(page_size, 1)
        elif is_list and not parent.name.endswith("Connection"):
            multiplier *= LIST_FAN_OUT
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return 0
        return multiplier + self.count(named, field.selection_set, multiplier)


class RequestLimits(SchemaExtension):
    """Scopes, page sizes and the node budget, checked before any resolver runs."""

    def __init__(self, *, settings: Settings) -> None:
        self.settings = settings

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        assert document is not None
        operation = get_operation_ast(document, ctx.operation_name)
        if operation is not None:
            try:
                self._check_scope(operation)
                self._check_budget(operation, document.definitions)
            except ApiError as refused:
                # A result set here makes Strawberry skip execution altogether.
                ctx.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            refused.message,
                            original_error=refused,
                            extensions={"code": refused.code},
                        )
                    ],
                )
        yield

    def _check_scope(self, operation: OperationDefinitionNode) -> None:
        principal = getattr(self.execution_context.context, "principal", None)
        needed = Scope.write if operation.operation is OperationType.MUTATION else Scope.read
        if principal is None or not principal.has(needed):
            raise ApiError(f"this API key lacks the {needed.value!r} scope", ErrorCodes.FORBIDDEN)

    def _check_budget(self, operation: OperationDefinitionNode, definitions: Any) -> None:
        schema = graphql_schema(self.execution_context.schema)
        fragments = {
            definition.name.value: definition
            for definition in definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        root = schema.get_root_type(operation.operation)
        budget = Budget(
            schema,
            fragments,
            dict(self.execution_context.variables or {}),
            self.settings.graphql_max_page_size,
        )
        estimate = budget.count(root, operation.selection_set, 1)
        context = self.execution_context.context
        shared: int | None = getattr(context, "node_budget_spent", None)
        spent = shared or 0
        if spent + estimate > self.settings.graphql_node_budget:
            earlier = f" (plus {spent} for the earlier operations of this batch)" if spent else ""
            raise ApiError(
                f"this query may return about {estimate} objects{earlier}, over the budget of"
                f" {self.settings.graphql_node_budget} per request; ask for smaller pages or"
                " fewer levels",
                ErrorCodes.NODE_BUDGET_EXCEEDED,
            )
        if shared is not None:
            context.node_budget_spent = spent + estimate


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
