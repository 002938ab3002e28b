"""Refuses GraphQL operations carrying text PostgreSQL cannot store, before any resolver runs.

One check for every query, mutation and subscription: the request's variables and every
string literal of the document (arguments, nested input objects, lists, directive arguments,
variable defaults) are searched for NUL characters and lone UTF-16 surrogates
(`service.unstorable_text`). The first one found refuses the whole operation with
`extensions.code` `INVALID_CHARACTER` and `extensions.field`, the path of the offending value
(`$input.title`, or `metric(key:)` for a literal).
"""

from collections.abc import Iterator

from graphql import (
    DirectiveNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
)
from strawberry.extensions import SchemaExtension

from service.unstorable_text import CODE, Path, dotted, find_unstorable, unstorable_reason


class UnstorableText(Exception):
    """A string argument PostgreSQL cannot store."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.message = f"`{field}` {reason}; text may not contain NUL or lone surrogates"
        super().__init__(self.message)


def _literal(node: ValueNode | None, path: Path) -> tuple[Path, str] | None:
    if isinstance(node, StringValueNode):
        reason = unstorable_reason(node.value)
        return (path, reason) if reason else None
    if isinstance(node, ListValueNode):
        for index, item in enumerate(node.values):
            found = _literal(item, (*path, index))
            if found:
                return found
    if isinstance(node, ObjectValueNode):
        for field in node.fields:
            found = _literal(field.value, (*path, field.name.value))
            if found:
                return found
    return None


def _directives(directives: tuple[DirectiveNode, ...] | None) -> Iterator[tuple[Path, str]]:
    for directive in directives or ():
        for argument in directive.arguments or ():
            found = _literal(argument.value, (f"@{directive.name.value}({argument.name.value}:)",))
            if found:
                yield found


def _selections(selection_set: SelectionSetNode | None) -> Iterator[tuple[Path, str]]:
    for selection in selection_set.selections if selection_set else ():
        yield from _directives(selection.directives)
        if isinstance(selection, FieldNode):
            for argument in selection.arguments or ():
                head = f"{selection.name.value}({argument.name.value}:)"
                found = _literal(argument.value, (head,))
                if found:
                    yield found
            yield from _selections(selection.selection_set)
        elif isinstance(selection, InlineFragmentNode):
            yield from _selections(selection.selection_set)


def unstorable_literal(document: DocumentNode) -> tuple[Path, str] | None:
    """The first string literal of `document` that cannot be stored."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                found = _literal(variable.default_value, (f"${variable.variable.name.value}",))
                if found:
                    return found
            for found in _directives(definition.directives):
                return found
            for found in _selections(definition.selection_set):
                return found
        elif isinstance(definition, FragmentDefinitionNode):
            for found in _selections(definition.selection_set):
                return found
    return None


class RefuseUnstorableText(SchemaExtension):
    """Checks variables and literals once the document is valid, before execution."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.result is None and ctx.graphql_document is not None:
            found = find_unstorable(ctx.variables or {})
            if found is not None:
                path, reason = found
                found = ((f"${path[0]}", *path[1:]), reason)
            else:
                found = unstorable_literal(ctx.graphql_document)
            if found is not None:
                refused = UnstorableText(dotted(found[0]), found[1])
                ctx.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            refused.message,
                            original_error=refused,
                            extensions={"code": CODE, "field": refused.field},
                        )
                    ],
                )
        yield
