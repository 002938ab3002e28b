import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.relay import Node
from schema.people.types import Person
from schema.rollups import fields as rollup_fields
from schema.rollups.types import (
    Interval,
    MetricComponents,
    MetricValue,
    SeriesPoint,
    WindowInput,
)
from service.models import Metric as MetricModel
from service.models import MetricEdge as MetricEdgeModel

if TYPE_CHECKING:
    from schema.key_results.types import KeyResult
    from schema.objectives.types import Objective


@strawberry.enum(description="Which way a metric is better.")
class MetricDirection(Enum):
    INCREASE = strawberry.enum_value("increase", description="Higher is better.")
    DECREASE = strawberry.enum_value("decrease", description="Lower is better.")


@strawberry.enum(description="How the points of a window are combined into one value.")
class Aggregation(Enum):
    SUM = strawberry.enum_value("sum", description="Sum of the points.")
    AVG = strawberry.enum_value("avg", description="Mean of the points.")
    MIN = strawberry.enum_value("min", description="Smallest point.")
    MAX = strawberry.enum_value("max", description="Largest point.")
    LAST = strawberry.enum_value(
        "last", description="Latest point of each series, summed over series."
    )
    COUNT = strawberry.enum_value("count", description="Number of points.")


@strawberry.enum(description="Whether a metric predicts (leading) or records (lagging) results.")
class MetricKind(Enum):
    LEADING = strawberry.enum_value("leading", description="Moves before the outcome.")
    LAGGING = strawberry.enum_value("lagging", description="Records the outcome.")


@strawberry.enum(description="How a child metric relates to its parent.")
class EdgeRelation(Enum):
    DRIVER = strawberry.enum_value("driver", description="The child drives the parent.")
    COMPONENT = strawberry.enum_value(
        "component", description="The parent is the sum of its components."
    )


@strawberry.type(description="A measured quantity of the metric tree.")
class Metric(Node):
    key: str = strawberry.field(description="Slug, unique in the organization.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the metric is about.")
    definition: str = strawberry.field(description="How the metric is measured.")
    unit: str = strawberry.field(description="Unit of the values.")
    direction: MetricDirection = strawberry.field(description="Which way is better.")
    aggregation: Aggregation = strawberry.field(description="How points are combined.")
    kind: MetricKind = strawberry.field(description="Leading or lagging.")
    observation_window_days: int | None = strawberry.field(
        description="Length of the trailing window its value is read over, in days."
    )
    is_north_star: bool = strawberry.field(description="Whether this is the North Star.")
    created_at: datetime = strawberry.field(description="When the metric was defined.")
    updated_at: datetime = strawberry.field(description="When the definition last changed.")
    archived_at: datetime | None = strawberry.field(description="When the metric was archived.")
    owner_person_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, model: MetricModel) -> "Metric":
        return cls(
            uuid_=model.id,
            key=model.key,
            name=model.name,
            description=model.description,
            definition=model.definition,
            unit=model.unit,
            direction=MetricDirection(model.direction),
            aggregation=Aggregation(model.aggregation),
            kind=MetricKind(model.kind),
            observation_window_days=model.observation_window_days,
            is_north_star=model.is_north_star,
            created_at=model.created_at,
            updated_at=model.updated_at,
            archived_at=model.archived_at,
            owner_person_id=model.owner_person_id,
        )

    @strawberry.field(description="The person who owns the metric's definition.")
    async def owner(self, info: Info[Context, None]) -> Person | None:
        if self.owner_person_id is None:
            return None
        model = await info.context.loaders.person_by_id.load(self.owner_person_id)
        return Person.from_model(model) if model else None

    @strawberry.field(description="Edges from the metrics that drive or compose this one.")
    async def drivers(self, info: Info[Context, None]) -> list["MetricEdge"]:
        rows = await info.context.loaders.driver_edges_by_metric.load(self.uuid_)
        return [MetricEdge.from_model(row) for row in rows]

    @strawberry.field(description="Edges to the metrics this one drives or composes.")
    async def parents(self, info: Info[Context, None]) -> list["MetricEdge"]:
        rows = await info.context.loaders.parent_edges_by_metric.load(self.uuid_)
        return [MetricEdge.from_model(row) for row in rows]

    @strawberry.field(description="Key results measured on this metric.")
    async def key_results(
        self, info: Info[Context, None]
    ) -> list[Annotated["KeyResult", strawberry.lazy("schema.key_results.types")]]:
        from schema.key_results.types import KeyResult

        rows = await info.context.loaders.key_results_by_metric.load(self.uuid_)
        found = [KeyResult.from_model(row) for row in rows]
        await rollup_fields.prefetch_key_results(info, [kr.uuid_ for kr in found])
        return found

    @strawberry.field(description="Objectives meant to drive this metric.")
    async def objectives(
        self, info: Info[Context, None]
    ) -> list[Annotated["Objective", strawberry.lazy("schema.objectives.types")]]:
        from schema.objectives.types import Objective

        rows = await info.context.loaders.objectives_by_metric.load(self.uuid_)
        return [Objective.from_model(row) for row in rows]

    @strawberry.field(
        description=(
            "Value over a window (default: the trailing observation window, as of now),"
            " with the previous window and the change."
        )
    )
    async def value(
        self,
        info: Info[Context, None],
        window: WindowInput | None = None,
        dimensions: JSON | None = None,
        as_of: datetime | None = None,
    ) -> MetricValue | None:
        return await rollup_fields.metric_value(
            info,
            self.uuid_,
            raw(self.direction),
            self.observation_window_days,
            window,
            dimensions,
            as_of,
        )

    @strawberry.field(description="Values bucketed by interval over [start, end).")
    async def series(
        self,
        info: Info[Context, None],
        start: datetime,
        end: datetime,
        interval: Interval = Interval.DAY,
        dimensions: JSON | None = None,
    ) -> list[SeriesPoint]:
        return await rollup_fields.metric_series(info, self.uuid_, start, end, interval, dimensions)

    @strawberry.field(
        description=(
            "Its components' weighted sum and the gap to its own value, over a window"
            " (default: its observation window as of an instant)."
        )
    )
    async def components(
        self,
        info: Info[Context, None],
        window: WindowInput | None = None,
        as_of: datetime | None = None,
    ) -> MetricComponents | None:
        return await rollup_fields.metric_components(info, self.uuid_, window, as_of)

    @strawberry.field(description="Whether a path leads from this metric up to the North Star.")
    async def aligned_to_north_star(self, info: Info[Context, None]) -> bool:
        return await rollup_fields.aligned_to_north_star(info, "Metric", self.uuid_)


@strawberry.type(description="A child metric that drives or composes a parent metric.")
class MetricEdge(Node):
    relation: EdgeRelation = strawberry.field(description="Driver or component.")
    weight: float = strawberry.field(description="Weight of the child in the parent.")
    created_at: datetime = strawberry.field(description="When the edge was created.")
    child_metric_id: strawberry.Private[uuid.UUID]
    parent_metric_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, model: MetricEdgeModel) -> "MetricEdge":
        return cls(
            uuid_=model.id,
            relation=EdgeRelation(model.relation),
            weight=model.weight,
            created_at=model.created_at,
            child_metric_id=model.child_metric_id,
            parent_metric_id=model.parent_metric_id,
        )

    @strawberry.field(description="The driver or component metric.")
    async def child(self, info: Info[Context, None]) -> Metric | None:
        model = await info.context.loaders.metric_by_id.load(self.child_metric_id)
        return Metric.from_model(model) if model else None

    @strawberry.field(description="The metric driven or composed.")
    async def parent(self, info: Info[Context, None]) -> Metric | None:
        model = await info.context.loaders.metric_by_id.load(self.parent_metric_id)
        return Metric.from_model(model) if model else None
