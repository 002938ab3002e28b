"""The assembled Strawberry schema: one per settings (limits), same SDL for all."""

import logging

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.api_keys.queries import ApiKeyQueries
from schema.api_keys.types import ApiKey
from schema.commitments.queries import CommitmentQueries
from schema.commitments.types import Commitment
from schema.core.framework import GenericNameConverter, described_scalars, resolve_directly
from schema.core.limits import limit_extensions
from schema.core.request_caches import cache_extensions
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


# Generated names of generic types that Lodestar's own types already take: `Edge[Metric]`
# would be `MetricEdge`, the name of the metric-tree edge type.
RENAMED_GENERICS = {"MetricEdge": "MetricConnectionEdge"}


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
# `info.context`. graphql-core calls them directly (`schema.core.framework.resolve_directly`), as
# it does every field without a resolver.
DIRECT_FIELDS = {
    "KeyResult": ("current_value", "attainment", "progress", "status", "expected_progress"),
}


log = logging.getLogger("lodestar.graphql")


class LodestarSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """One short line per error at INFO, never the document: a caller's mistakes are
        theirs, and `ErrorShaping` logs the unexpected ones at ERROR with their traceback."""
        for error in errors:
            log.info("GraphQL operation refused: %.200s", error.message)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    built = LodestarSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        # The caches come after the limits: validation is cached per document and rule set
        # (the limits add theirs first), parsing per query text and parse options.
        extensions=[*limit_extensions(settings), *cache_extensions(maxsize=256)],
        scalar_overrides=described_scalars(
            date_="A calendar day, ISO 8601 (2027-01-31).",
            datetime_="An instant, ISO 8601 with a time zone (2027-01-31T12:00:00Z).",
        ),
        config=StrawberryConfig(
            name_converter=GenericNameConverter(RENAMED_GENERICS),
            disable_field_suggestions=settings.is_production,
            batching_config={"max_operations": settings.graphql_max_batch},
        ),
    )
    resolve_directly(built, DIRECT_FIELDS)
    return built


schema = build_schema()
