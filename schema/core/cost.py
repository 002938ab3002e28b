"""What a GraphQL document may cost, measured in one pass before any validation rule runs.

Every limit of SPEC §7 on the shape of a document (depth, aliases, field selections, the
widest selection set, fragment spreads, the estimated number of returned objects) comes from
one walk of the operation in which each fragment is measured once, before the fragments
that spread it, and then reused wherever it is spread (so the walk never recurses from one
fragment into another: its depth is bounded by the nesting written in one definition). A document built to make a walk expensive (fragments spreading each other
twice, level after level; hundreds of copies of one field) is therefore measured in time
proportional to its text and refused before graphql-core's validation, whose rules re-walk
fragments, ever sees it (docs/decisions/0020-graphql-cost-before-validation.md).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast_untyped,
)

from schema.core.errors import ApiError, ErrorCodes
from schema.core.pagination import DEFAULT_PAGE_SIZE

# A plain list field (no `first`/`last`, no range) is assumed to hold this many items.
LIST_FAN_OUT = 10
# Selection sets nested deeper than this are refused before the measuring walk, which
# recurses once per level (the depth limit itself is far lower).
HARD_NESTING = 64
# Bucketed series (`start`, `end`, `interval`) never return more buckets than this.
MAX_BUCKETS = 1000
BUCKET = {
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
    "WEEK": timedelta(weeks=1),
    "MONTH": timedelta(days=28),  # the shortest month: an upper bound of the bucket count
}


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_fields: int
    max_selections: int
    max_fragment_spreads: int
    max_page_size: int


@dataclass(frozen=True, slots=True)
class Cost:
    """The measure of a selection set, fragments expanded. `nodes` is per object of the
    parent (every count is linear in it), `width` the field selections it puts at its own
    level (for the parent set to add up), `widest` those of its widest set."""

    nodes: int = 0
    height: int = 0
    aliases: int = 0
    fields: int = 0
    width: int = 0
    widest: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(
            nodes=self.nodes + other.nodes,
            height=max(self.height, other.height),
            aliases=self.aliases + other.aliases,
            fields=self.fields + other.fields,
            width=self.width + other.width,
            widest=max(self.widest, other.widest),
        )


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class CostAnalysis:
    """Measures the operations of one document against `limits`, raising a coded `ApiError`
    for the first limit a document breaks."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any],
        limits: Limits,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.limits = limits
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        spreads = {name: self._spreads_in(fragment) for name, fragment in self.fragments.items()}
        count = sum(len(names) for names in spreads.values())
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                count += len(self._spreads_in(definition))
        if count > limits.max_fragment_spreads:
            raise ApiError(
                f"the document spreads fragments {count} times; the limit is"
                f" {limits.max_fragment_spreads}",
                ErrorCodes.MAX_FRAGMENT_SPREADS_EXCEEDED,
            )
        self._measured: dict[str, Cost] = {}
        for name in self._spread_first(spreads):
            fragment = self.fragments[name]
            target = self.schema.get_type(fragment.type_condition.name.value)
            self._measured[name] = self._selection_set(target, fragment.selection_set)

    @staticmethod
    def _spreads_in(definition: OperationDefinitionNode | FragmentDefinitionNode) -> list[str]:
        """The fragments a definition spreads, each time it does, read without recursion;
        refuses nesting past `HARD_NESTING`, which the measuring walk recurses through."""
        spread: list[str] = []
        stack: list[tuple[SelectionSetNode | None, int]] = [(definition.selection_set, 1)]
        while stack:
            selection_set, level = stack.pop()
            if selection_set is None:
                continue
            if level > HARD_NESTING:
                raise ApiError(
                    f"the document nests selections more than {HARD_NESTING} levels deep",
                    ErrorCodes.MAX_DEPTH_EXCEEDED,
                )
            for selection in selection_set.selections:
                if isinstance(selection, FragmentSpreadNode):
                    spread.append(selection.name.value)
                elif isinstance(selection, FieldNode | InlineFragmentNode):
                    stack.append((selection.selection_set, level + 1))
        return spread

    def _spread_first(self, spreads: dict[str, list[str]]) -> list[str]:
        """The fragments, each after every fragment it spreads (unknown ones left to
        validation); refuses a fragment that spreads itself, directly or not."""
        ordered: list[str] = []
        done: set[str] = set()
        for start in spreads:
            if start in done:
                continue
            path = {start}
            stack = [(start, iter(spreads[start]))]
            while stack:
                name, pending = stack[-1]
                child = next((c for c in pending if c in spreads and c not in done), None)
                if child is None:
                    stack.pop()
                    path.discard(name)
                    done.add(name)
                    ordered.append(name)
                elif child in path:
                    raise ApiError(
                        f'Cannot spread fragment "{child}" within itself.',
                        ErrorCodes.GRAPHQL_VALIDATION_FAILED,
                    )
                else:
                    path.add(child)
                    stack.append((child, iter(spreads[child])))
        return ordered

    def measure(self, operation: OperationDefinitionNode) -> Cost:
        """The operation's cost, once every limit but the node budget is checked."""
        root = self.schema.get_root_type(operation.operation)
        cost = self._selection_set(root, operation.selection_set)
        name = operation.name.value if operation.name else "anonymous"
        limits = self.limits
        if cost.height > limits.max_depth + 1:
            raise ApiError(
                f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                ErrorCodes.MAX_DEPTH_EXCEEDED,
            )
        if cost.aliases > limits.max_aliases:
            raise ApiError(
                f"{cost.aliases} aliases found. Allowed: {limits.max_aliases}",
                ErrorCodes.MAX_ALIASES_EXCEEDED,
            )
        widest = max(cost.width, cost.widest)
        if widest > limits.max_selections:
            raise ApiError(
                f"a selection set of '{name}' selects {widest} fields (fragments"
                f" included); the limit is {limits.max_selections}",
                ErrorCodes.MAX_FIELDS_EXCEEDED,
            )
        if cost.fields > limits.max_fields:
            raise ApiError(
                f"'{name}' selects {cost.fields} fields (fragments included); the limit is"
                f" {limits.max_fields}",
                ErrorCodes.MAX_FIELDS_EXCEEDED,
            )
        return cost

    def _selection_set(self, parent: Any, selection_set: SelectionSetNode | None) -> Cost:
        total = Cost()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value)
                total += self._selection_set(target, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                # Measured already; an unknown fragment is left to validation to name.
                total += self._measured.get(selection.name.value, Cost())
        return total

    def _field(self, parent: Any, field: FieldNode) -> Cost:
        alias = 1 if field.alias else 0
        field_def = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field_def = parent.fields.get(field.name.value)
        if field.name.value.startswith("__"):
            # Introspection: one level whatever lies below, as Strawberry's depth limit counted.
            below = self._selection_set(self._named(field_def), field.selection_set)
            return Cost(
                height=1,
                aliases=alias + below.aliases,
                fields=1 + below.fields,
                width=1,
                widest=below.widest,
            )
        named = self._named(field_def)
        below = self._selection_set(named, field.selection_set)
        nodes = 0
        if field_def is not None and isinstance(
            named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
        ):
            fan_out = self._fan_out(parent, field, field_def)
            nodes = fan_out * (1 + below.nodes)
        return Cost(
            nodes=nodes,
            height=1 + below.height,
            aliases=alias + below.aliases,
            fields=1 + below.fields,
            width=1,
            widest=max(below.width, below.widest),
        )

    @staticmethod
    def _named(field_def: Any) -> Any:
        return None if field_def is None else _unwrap(field_def.type)[0]

    def _argument(self, field: FieldNode, name: str) -> Any:
        for argument in field.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _fan_out(self, parent: Any, field: FieldNode, field_def: Any) -> int:
        """How many objects the field returns per parent object (at most)."""
        page_size = self._page_size(field, field_def)
        if page_size is not None:
            return max(page_size, 1)
        _, is_list = _unwrap(field_def.type)
        if not is_list or parent.name.endswith("Connection"):
            return 1
        if {"start", "end", "interval"} <= field_def.args.keys():
            return self._buckets(field, field_def)
        return LIST_FAN_OUT

    def _buckets(self, field: FieldNode, field_def: Any) -> int:
        start = _instant(self._argument(field, "start"))
        end = _instant(self._argument(field, "end"))
        interval = self._argument(field, "interval") or field_def.args["interval"].default_value
        step = BUCKET.get(str(getattr(interval, "name", interval)), timedelta(hours=1))
        if start is None or end is None or start.tzinfo is None or end.tzinfo is None:
            return MAX_BUCKETS  # refused by the resolver, or by validation
        buckets = math.ceil(max((end - start) / step, 0)) + 1
        return min(buckets, MAX_BUCKETS)

    def _page_size(self, field: FieldNode, field_def: Any) -> int | None:
        limit = self.limits.max_page_size
        if "ids" in field_def.args:
            ids = self._argument(field, "ids")
            count = len(ids) if isinstance(ids, list) else 1
            if count > limit:
                raise ApiError(
                    f"`{field.name.value}` takes at most {limit} IDs, got {count}",
                    ErrorCodes.PAGE_SIZE_EXCEEDED,
                )
            return count
        if "first" not in field_def.args and "last" not in field_def.args:
            return None
        size = None
        for name in ("first", "last"):
            value = self._argument(field, name)
            if isinstance(value, int) and not isinstance(value, bool):
                if value > limit:
                    raise ApiError(
                        f"`{field.name.value}({name}: {value})` exceeds the maximum page size"
                        f" of {limit}",
                        ErrorCodes.PAGE_SIZE_EXCEEDED,
                    )
                size = max(size or 0, value)
        if size is not None:
            return size
        default = field_def.args.get("first")
        if default is not None and isinstance(default.default_value, int):
            return int(default.default_value)
        return DEFAULT_PAGE_SIZE
