from enum import Enum

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from schema.core.connections import text_search
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.relay import decode_optional_id
from schema.metrics.types import Metric, MetricKind
from service.models import Metric as MetricModel


@strawberry.enum(description="Orderings of metrics.")
class MetricOrderField(Enum):
    KEY = strawberry.enum_value("key", description="By key.")
    NAME = strawberry.enum_value("name", description="By name.")
    CREATED_AT = strawberry.enum_value("created_at", description="By creation time.")


@strawberry.input(description="Filters on metrics; all given filters must hold.")
class MetricFilter:
    search: str | None = strawberry.field(default=None, description="Text in the key or name.")
    kind: MetricKind | None = strawberry.field(default=None, description="Leading or lagging.")
    owner: strawberry.ID | None = strawberry.field(
        default=None, description="Metrics owned by this person."
    )
    include_archived: bool = strawberry.field(
        default=False, description="Include archived metrics."
    )


@strawberry.input(description="Ordering of metrics.")
class MetricOrder:
    field: MetricOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )


@strawberry.type
class MetricQueries:
    @strawberry.field(description="The organization's North Star metric, if one is set.")
    async def north_star(self, info: Info[Context, None]) -> Metric | None:
        ctx = info.context
        rows = await ctx.db.scalars(
            select(MetricModel).where(
                MetricModel.org_id == ctx.principal.org_id, MetricModel.is_north_star.is_(True)
            )
        )
        return Metric.from_model(rows[0]) if rows else None

    @strawberry.field(description="The metric with this key, if any.")
    async def metric(self, info: Info[Context, None], key: str) -> Metric | None:
        ctx = info.context
        rows = await ctx.db.scalars(
            select(MetricModel).where(
                MetricModel.org_id == ctx.principal.org_id, MetricModel.key == key
            )
        )
        return Metric.from_model(rows[0]) if rows else None

    @strawberry.field(description="Metrics of the organization.")
    async def metrics(
        self,
        info: Info[Context, None],
        filter: MetricFilter | None = None,
        order_by: MetricOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Metric]:
        filter = filter or MetricFilter()
        order = order_by or MetricOrder(field=MetricOrderField.KEY)
        statement = select(MetricModel).where(
            MetricModel.org_id == info.context.principal.org_id,
            *text_search(filter.search, MetricModel.key, MetricModel.name),
        )
        if filter.kind is not None:
            statement = statement.where(MetricModel.kind == raw(filter.kind))
        owner_id = decode_optional_id(filter.owner, "Person", field="filter.owner")
        if owner_id is not None:
            statement = statement.where(MetricModel.owner_person_id == owner_id)
        if not filter.include_archived:
            statement = statement.where(MetricModel.archived_at.is_(None))
        return await paginate(
            info,
            statement,
            order=getattr(MetricModel, raw(order.field)),
            id_column=MetricModel.id,
            direction=order.direction,
            page=PageArgs(first, after, last, before),
            to_node=Metric.from_model,
        )
