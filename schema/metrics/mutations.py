import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import UserError
from schema.core.mutation_runner import Refused, payload_of, run, run_by_id, set_fields
from schema.core.relay import decode_id, decode_optional_id
from schema.metrics.types import (
    Aggregation,
    EdgeRelation,
    Metric,
    MetricDirection,
    MetricEdge,
    MetricKind,
)
from service.metrics import service
from service.metrics.schemas import MetricCreate, MetricEdgeCreate, MetricEdgeUpdate, MetricUpdate
from service.models import Metric as MetricModel
from service.models import MetricEdge as MetricEdgeModel


@strawberry.input(description="A new metric.")
class MetricCreateInput:
    key: str = strawberry.field(description="Slug, unique in the organization.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(default="", description="What the metric is about.")
    definition: str = strawberry.field(default="", description="How the metric is measured.")
    unit: str = strawberry.field(default="", description="Unit of the values.")
    direction: MetricDirection = strawberry.field(
        default=MetricDirection.INCREASE, description="Which way is better."
    )
    aggregation: Aggregation = strawberry.field(
        default=Aggregation.SUM, description="How points combine over a window."
    )
    kind: MetricKind = strawberry.field(
        default=MetricKind.LAGGING, description="Leading or lagging."
    )
    observation_window_days: int | None = strawberry.field(
        default=None, description="Default trailing window in days (1 to 3660)."
    )
    owner_person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The accountable person."
    )
    is_north_star: bool = strawberry.field(
        default=False, description="Make this the organization's North Star."
    )


@strawberry.input(description="Changes to a metric; only the fields given change.")
class MetricUpdateInput:
    id: strawberry.ID = strawberry.field(description="The metric to change.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What the metric is about."
    )
    definition: str | None = strawberry.field(
        default=strawberry.UNSET, description="How the metric is measured."
    )
    unit: str | None = strawberry.field(default=strawberry.UNSET, description="Unit of the values.")
    direction: MetricDirection | None = strawberry.field(
        default=strawberry.UNSET, description="Which way is better."
    )
    aggregation: Aggregation | None = strawberry.field(
        default=strawberry.UNSET, description="How points combine over a window."
    )
    kind: MetricKind | None = strawberry.field(
        default=strawberry.UNSET, description="Leading or lagging."
    )
    observation_window_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="Default trailing window in days; null clears."
    )
    owner_person_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The accountable person; null clears."
    )
    is_north_star: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Make this the North Star (or not)."
    )


@strawberry.input(description="The metric to archive.")
class MetricArchiveInput:
    id: strawberry.ID = strawberry.field(description="The metric to archive.")


@strawberry.input(description="The metric to bring back.")
class MetricRestoreInput:
    id: strawberry.ID = strawberry.field(description="The metric to bring back.")


@strawberry.input(description="A new edge: the child drives or composes the parent.")
class MetricEdgeCreateInput:
    child_metric_id: strawberry.ID = strawberry.field(description="The driver or component.")
    parent_metric_id: strawberry.ID = strawberry.field(description="The metric driven.")
    relation: EdgeRelation = strawberry.field(
        default=EdgeRelation.DRIVER, description="Driver or component."
    )
    weight: float = strawberry.field(default=1.0, description="Weight, at least 0.")


@strawberry.input(description="Changes to a metric edge; only the fields given change.")
class MetricEdgeUpdateInput:
    id: strawberry.ID = strawberry.field(description="The edge to change.")
    relation: EdgeRelation | None = strawberry.field(
        default=strawberry.UNSET, description="Driver or component."
    )
    weight: float | None = strawberry.field(
        default=strawberry.UNSET, description="Weight, at least 0."
    )


@strawberry.input(description="The metric edge to delete.")
class MetricEdgeDeleteInput:
    id: strawberry.ID = strawberry.field(description="The edge to delete.")


@strawberry.type(description="Result of a metric mutation.")
class MetricPayload:
    metric: Metric | None = strawberry.field(description="The metric after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


@strawberry.type(description="Result of a metric edge mutation.")
class MetricEdgePayload:
    metric_edge: MetricEdge | None = strawberry.field(description="The edge after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


@strawberry.type(description="Result of deleting a metric edge.")
class MetricEdgeDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="ID of the deleted edge.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(MetricPayload, "metric", Metric.from_model)
_edge_payload = payload_of(MetricEdgePayload, "metric_edge", MetricEdge.from_model)


def _deleted_payload(result: Refused | None, deleted_id: strawberry.ID) -> MetricEdgeDeletePayload:
    if isinstance(result, Refused):
        return MetricEdgeDeletePayload(deleted_id=None, user_errors=result.errors)
    return MetricEdgeDeletePayload(deleted_id=deleted_id, user_errors=[])


def _enum_value(value: object) -> object:
    return getattr(value, "value", value)


@strawberry.type
class MetricMutations:
    @strawberry.mutation(description="Define a metric.")
    async def metric_create(
        self, info: Info[Context, None], input: MetricCreateInput
    ) -> MetricPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> MetricModel:
            data = MetricCreate(
                key=input.key,
                name=input.name,
                description=input.description,
                definition=input.definition,
                unit=input.unit,
                direction=raw(input.direction),
                aggregation=raw(input.aggregation),
                kind=raw(input.kind),
                observation_window_days=input.observation_window_days,
                owner_person_id=decode_optional_id(
                    input.owner_person_id, "Person", field="owner_person_id"
                ),
                is_north_star=input.is_north_star,
            )
            return await service.create_metric(session, org_id, data)

        return await run(info, change, _payload)

    @strawberry.mutation(description="Change a metric's definition.")
    async def metric_update(
        self, info: Info[Context, None], input: MetricUpdateInput
    ) -> MetricPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> MetricModel:
            metric_id = decode_id(input.id, "Metric", field="id")
            fields = set_fields(
                input,
                "name",
                "description",
                "definition",
                "unit",
                "observation_window_days",
                "is_north_star",
            )
            for name in ("direction", "aggregation", "kind"):
                value = getattr(input, name)
                if value is not strawberry.UNSET:
                    fields[name] = _enum_value(value)
            if input.owner_person_id is not strawberry.UNSET:
                fields["owner_person_id"] = decode_optional_id(
                    input.owner_person_id, "Person", field="owner_person_id"
                )
            return await service.update_metric(session, org_id, metric_id, MetricUpdate(**fields))

        return await run(info, change, _payload)

    @strawberry.mutation(description="Archive a metric; it takes no more points.")
    async def metric_archive(
        self, info: Info[Context, None], input: MetricArchiveInput
    ) -> MetricPayload:
        return await run_by_id(info, service.archive_metric, input.id, "Metric", _payload)

    @strawberry.mutation(description="Bring an archived metric back; it takes points again.")
    async def metric_restore(
        self, info: Info[Context, None], input: MetricRestoreInput
    ) -> MetricPayload:
        return await run_by_id(info, service.restore_metric, input.id, "Metric", _payload)

    @strawberry.mutation(description="Connect a child metric to a parent (the tree stays a DAG).")
    async def metric_edge_create(
        self, info: Info[Context, None], input: MetricEdgeCreateInput
    ) -> MetricEdgePayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> MetricEdgeModel:
            data = MetricEdgeCreate(
                child_metric_id=decode_id(input.child_metric_id, "Metric", field="child_metric_id"),
                parent_metric_id=decode_id(
                    input.parent_metric_id, "Metric", field="parent_metric_id"
                ),
                relation=raw(input.relation),
                weight=input.weight,
            )
            return await service.create_metric_edge(session, org_id, data)

        return await run(info, change, _edge_payload)

    @strawberry.mutation(description="Change the relation or weight of a metric edge.")
    async def metric_edge_update(
        self, info: Info[Context, None], input: MetricEdgeUpdateInput
    ) -> MetricEdgePayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> MetricEdgeModel:
            edge_id = decode_id(input.id, "MetricEdge", field="id")
            fields = set_fields(input, "weight")
            if input.relation is not strawberry.UNSET:
                fields["relation"] = _enum_value(input.relation)
            return await service.update_metric_edge(
                session, org_id, edge_id, MetricEdgeUpdate(**fields)
            )

        return await run(info, change, _edge_payload)

    @strawberry.mutation(description="Delete a metric edge.")
    async def metric_edge_delete(
        self, info: Info[Context, None], input: MetricEdgeDeleteInput
    ) -> MetricEdgeDeletePayload:
        return await run_by_id(
            info,
            service.delete_metric_edge,
            input.id,
            "MetricEdge",
            lambda result: _deleted_payload(result, input.id),
        )
