from datetime import date
from enum import Enum

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from schema.core.connections import text_search
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.relay import decode_optional_id
from schema.cycles.types import Cycle
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
        filter = filter or CycleFilter()
        order = order_by or CycleOrder(field=CycleOrderField.STARTS_ON)
        statement = select(CycleModel).where(
            CycleModel.org_id == info.context.principal.org_id,
            *text_search(filter.search, CycleModel.name),
        )
        parent_id = decode_optional_id(filter.parent, "Cycle", field="filter.parent")
        if parent_id is not None:
            statement = statement.where(CycleModel.parent_cycle_id == parent_id)
        if filter.active_on is not None:
            statement = statement.where(
                CycleModel.starts_on <= filter.active_on, CycleModel.ends_on >= filter.active_on
            )
        if not filter.include_archived:
            statement = statement.where(CycleModel.archived_at.is_(None))
        return await paginate(
            info,
            statement,
            order=getattr(CycleModel, raw(order.field)),
            id_column=CycleModel.id,
            direction=order.direction,
            page=PageArgs(first, after, last, before),
            to_node=Cycle.from_model,
        )
