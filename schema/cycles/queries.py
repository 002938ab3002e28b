from datetime import date
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.pagination import Connection, OrderDirection, PageArgs, list_page
from schema.core.relay import decode_optional_id
from schema.cycles.types import Cycle
from service.cycles import filters
from service.models import Cycle as CycleModel


@strawberry.enum(description="Orderings of cycles.")
class CycleOrderField(Enum):
    STARTS_ON = strawberry.enum_value("starts_on", description="By start date.")
    NAME = strawberry.enum_value("name", description="By name.")
    CREATED_AT = strawberry.enum_value("created_at", description="By creation time.")


@strawberry.input(description="Filters on cycles; all given filters must hold.")
class CycleFilter:
    search: str | None = strawberry.field(default=None, description="Text in the name.")
    parent: strawberry.ID | None = strawberry.field(
        default=None, description="Cycles directly inside this cycle."
    )
    active_on: date | None = strawberry.field(
        default=None, description="Cycles whose dates include this day."
    )
    include_archived: bool = strawberry.field(default=False, description="Include archived cycles.")


@strawberry.input(description="Ordering of cycles.")
class CycleOrder:
    field: CycleOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )


def parse(filter: CycleFilter) -> filters.CycleFilter:
    return filters.CycleFilter(
        search=filter.search,
        parent_cycle_id=decode_optional_id(filter.parent, "Cycle", field="filter.parent"),
        active_on=filter.active_on,
        include_archived=filter.include_archived,
    )


@strawberry.type
class CycleQueries:
    @strawberry.field(description="Cycles of the organization.")
    async def cycles(
        self,
        info: Info[Context, None],
        filter: CycleFilter | None = None,
        order_by: CycleOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Cycle]:
        statement = filters.select_cycles(
            info.context.principal.org_id, parse(filter or CycleFilter())
        )
        return await list_page(
            info,
            statement,
            CycleModel,
            order_by or CycleOrder(field=CycleOrderField.STARTS_ON),
            PageArgs(first, after, last, before),
            Cycle.from_model,
        )
