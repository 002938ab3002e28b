"""The assembled Strawberry schema: one per settings (limits), same SDL for all."""

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.extensions import ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition
from strawberry.types.base import StrawberryObjectDefinition, StrawberryType
from strawberry.types.field import StrawberryField

from schema.api_keys.queries import ApiKeyQueries
from schema.api_keys.types import ApiKey
from schema.commitments.queries import CommitmentQueries
from schema.commitments.types import Commitment
from schema.core.limits import limit_extensions
from schema.core.request_caches import ParsedQueryCache
from schema.cycles.queries import CycleQueries
from schema.cycles.types import Cycle
from schema.key_results.queries import KeyResultQueries
from schema.key_results.types import CheckIn, KeyResult
from schema.metrics.queries import MetricQueries
from schema.metrics.types import Metric, MetricEdge
from schema.mutations import Mutation
from schema.node_lookup import NodeQueries
from schema.objectives.queries import ObjectiveQueries
from schema.objectives.types import Objective
from schema.organization.queries import OrganizationQueries
from schema.organization.types import Organization
from schema.people.queries import PeopleQueries
from schema.people.types import Person
from schema.rollups.queries import RollupQueries
from schema.subscriptions import Subscription
from schema.teams.queries import TeamQueries
from schema.teams.types import Team
from schema.webhooks.queries import WebhookQueries
from schema.webhooks.types import WebhookDelivery, WebhookEndpoint
from service.settings import Settings


@strawberry.type(description="Entry points for reading Lodestar.")
class Query(
    NodeQueries,
    OrganizationQueries,
    MetricQueries,
    ObjectiveQueries,
    KeyResultQueries,
    CommitmentQueries,
    CycleQueries,
    TeamQueries,
    PeopleQueries,
    ApiKeyQueries,
    RollupQueries,
    WebhookQueries,
):
    pass


class LodestarNameConverter(NameConverter):
    """`Edge[Metric]` would be `MetricEdge`, the name of the metric-tree edge type."""

    def from_generic(
        self, generic_type: StrawberryObjectDefinition, types: list[StrawberryType | type]
    ) -> str:
        name = super().from_generic(generic_type, types)
        return "MetricConnectionEdge" if name == "MetricEdge" else name


NODE_TYPES = [
    Organization,
    Person,
    Team,
    Cycle,
    Metric,
    MetricEdge,
    Objective,
    KeyResult,
    CheckIn,
    Commitment,
    ApiKey,
    WebhookEndpoint,
    WebhookDelivery,
]


# Fields answered a thousand times by a nested read (a key result's numbers), by GraphQL
# type: sync resolvers that take scalar arguments and read nothing of `info` but
# `info.context`.
DIRECT_FIELDS = {
    "KeyResult": ("current_value", "attainment", "progress", "status", "expected_progress"),
}


def _direct(method: Callable[..., Any], python_names: dict[str, str]) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        return method(source, info, **{python_names[name]: v for name, v in arguments.items()})

    return resolve


def _attribute(python_name: str) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        return getattr(source, python_name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
    return resolve


def _resolve_directly(built: strawberry.Schema) -> None:
    """Let graphql-core call two kinds of fields itself, past Strawberry's per-call wrapper:

    - the resolvers of `DIRECT_FIELDS`: the wrapper builds an `Info` and converts the
      arguments on every call, which costs a nested read more than its key results' numbers
      do; graphql-core's own info carries the same `context`, and its arguments (already
      parsed scalars) only need their Python names;
    - fields without a resolver (`title`, `id`, `Alignment.child`...), read with a plain
      `getattr`: Strawberry's resolver for them (`_get_basic_result`) makes the same
      `getattr` through three more calls; a nested read of ~1,100 objects reads ~3,100.
    """
    names = built.config.name_converter
    replaced: set[tuple[str, str]] = set()
    for graphql_type in built._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        direct = DIRECT_FIELDS.get(graphql_type.name, ())
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField):
                continue
            if field.python_name in direct:
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
    assert replaced == {(t, f) for t, fields in DIRECT_FIELDS.items() for f in fields}


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    built = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        # The caches come after the limits: validation is cached per document and rule set
        # (the limits add theirs first), parsing per query text and parse options.
        extensions=[
            *limit_extensions(settings),
            lambda: ParsedQueryCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
        scalar_overrides={
            date: replace(DateDefinition, description="A calendar day, ISO 8601 (2027-01-31)."),
            datetime: replace(
                DateTimeDefinition,
                description="An instant, ISO 8601 with a time zone (2027-01-31T12:00:00Z).",
            ),
        },
        config=StrawberryConfig(
            name_converter=LodestarNameConverter(),
            disable_field_suggestions=settings.is_production,
            batching_config={"max_operations": settings.graphql_max_batch},
        ),
    )
    _resolve_directly(built)
    return built


schema = build_schema()
