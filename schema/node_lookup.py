"""`node`/`nodes`: any object by global ID; another organization's ID resolves like a missing one."""

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from schema.api_keys.types import ApiKey
from schema.commitments.types import Commitment
from schema.core.context import Context
from schema.core.errors import ApiError, ErrorCodes, InvalidId
from schema.core.loaders import Loaders
from schema.core.relay import Node, parse_global_id
from schema.cycles.types import Cycle
from schema.key_results.types import CheckIn, KeyResult
from schema.metrics.types import Metric, MetricEdge
from schema.objectives.types import Objective
from schema.organization.types import Organization
from schema.people.types import Person
from schema.teams.types import Team
from schema.webhooks.queries import load_delivery_details
from schema.webhooks.types import WebhookDelivery, WebhookEndpoint
from service.models import Scope

NODE_TYPES: dict[
    str, tuple[Callable[[Loaders], DataLoader[uuid.UUID, Any]], Callable[[Any], Node]]
] = {
    "Person": (lambda loaders: loaders.person_by_id, Person.from_model),
    "Team": (lambda loaders: loaders.team_by_id, Team.from_model),
    "Cycle": (lambda loaders: loaders.cycle_by_id, Cycle.from_model),
    "Metric": (lambda loaders: loaders.metric_by_id, Metric.from_model),
    "MetricEdge": (lambda loaders: loaders.metric_edge_by_id, MetricEdge.from_model),
    "Objective": (lambda loaders: loaders.objective_by_id, Objective.from_model),
    "KeyResult": (lambda loaders: loaders.key_result_by_id, KeyResult.from_model),
    "CheckIn": (lambda loaders: loaders.check_in_by_id, CheckIn.from_model),
    "Commitment": (lambda loaders: loaders.commitment_by_id, Commitment.from_model),
    "ApiKey": (lambda loaders: loaders.api_key_by_id, ApiKey.from_model),
    "WebhookEndpoint": (lambda loaders: loaders.webhook_endpoint_by_id, WebhookEndpoint.from_model),
    "WebhookDelivery": (lambda loaders: loaders.delivery_by_id, WebhookDelivery.from_model),
}
# Key and webhook management needs `admin`: for other keys these objects do not exist.
ADMIN_ONLY = {"ApiKey", "WebhookEndpoint", "WebhookDelivery"}


def parse_node_id(global_id: str) -> tuple[str, uuid.UUID]:
    try:
        type_name, id = parse_global_id(global_id)
    except InvalidId as error:
        raise ApiError(error.message, ErrorCodes.INVALID_ID) from None
    if type_name not in NODE_TYPES and type_name != "Organization":
        raise ApiError(f"{global_id!r} is not a valid ID", ErrorCodes.INVALID_ID)
    return type_name, id


async def resolve_node(info: Info[Context, None], global_id: str) -> Node | None:
    type_name, id = parse_node_id(global_id)
    ctx = info.context
    if type_name == "Organization":
        if id != ctx.principal.org_id:
            return None
        from service.organizations import service

        return Organization.from_model(
            await ctx.db.run(lambda session: service.get_organization(session, id))
        )
    if type_name in ADMIN_ONLY and not ctx.principal.has(Scope.admin):
        return None
    loader, convert = NODE_TYPES[type_name]
    model = await loader(ctx.loaders).load(id)
    if model is None:
        return None
    node = convert(model)
    if isinstance(node, WebhookDelivery):
        await load_delivery_details(info, [node])
    return node


async def resolve_nodes(info: Info[Context, None], global_ids: list[str]) -> list[Node | None]:

    return list(await asyncio.gather(*(resolve_node(info, gid) for gid in global_ids)))


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global ID; null when it does not exist.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Objects by global IDs, in order; null for each missing one.")
    async def nodes(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[Node | None]:
        limit = info.context.settings.graphql_max_page_size
        if len(ids) > limit:
            raise ApiError(f"at most {limit} IDs per call", ErrorCodes.PAGE_SIZE_EXCEEDED)
        return await resolve_nodes(info, list(ids))
