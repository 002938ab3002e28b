from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, list_page
from schema.core.relay import decode_optional_id
from schema.metrics.types import Metric, MetricKind
from service import models
from service.metrics import filters, repository, service
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


def parse(filter: MetricFilter) -> filters.MetricFilter:
    return filters.MetricFilter(
        search=filter.search,
        kind=models.MetricKind(raw(filter.kind)) if filter.kind is not None else None,
        owner_person_id=decode_optional_id(filter.owner, "Person", field="filter.owner"),
        include_archived=filter.include_archived,
    )


@strawberry.type
class MetricQueries:
    @strawberry.field(description="The organization's North Star metric, if one is set.")
    async def north_star(self, info: Info[Context, None]) -> Metric | None:
        ctx = info.context
        model = await ctx.db.run(
            lambda session: service.get_north_star(session, ctx.principal.org_id)
        )
        return Metric.from_model(model) if model is not None else None

    @strawberry.field(description="The metric with this key, if any.")
    async def metric(self, info: Info[Context, None], key: str) -> Metric | None:
        ctx = info.context
        model = await ctx.db.run(
            lambda session: repository.get_by_key(session, ctx.principal.org_id, key)
        )
        return Metric.from_model(model) if model is not None else None

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
        statement = filters.select_metrics(
            info.context.principal.org_id, parse(filter or MetricFilter())
        )
        return await list_page(
            info,
            statement,
            MetricModel,
            order_by or MetricOrder(field=MetricOrderField.KEY),
            PageArgs(first, after, last, before),
            Metric.from_model,
        )
