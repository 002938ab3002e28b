from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import InvalidId
from schema.core.pagination import Connection, OrderDirection, PageArgs, list_page
from schema.core.relay import decode_optional_id, parse_global_id
from schema.objectives.types import Objective, ObjectiveState
from schema.rollups import fields as rollup_fields
from schema.rollups.types import Status
from service import models
from service.models import Objective as ObjectiveModel
from service.objectives import filters


@strawberry.enum(description="Orderings of objectives.")
class ObjectiveOrderField(Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="By creation time.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="By last change.")
    TITLE = strawberry.enum_value("title", description="By title.")


@strawberry.input(description="Filters on objectives; all given filters must hold.")
class ObjectiveFilter:
    search: str | None = strawberry.field(default=None, description="Text in the title.")
    cycle: strawberry.ID | None = strawberry.field(default=None, description="In this cycle.")
    owner: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this team or person."
    )
    team: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this team or by one of its members."
    )
    state: list[ObjectiveState] | None = strawberry.field(
        default=None, description="In one of these states (default: all but archived)."
    )
    parent: strawberry.ID | None = strawberry.field(
        default=None, description="Aligned directly under this objective."
    )
    top_level: bool | None = strawberry.field(
        default=None, description="Only objectives without (true) or with (false) parents."
    )
    status: list[Status] | None = strawberry.field(
        default=None, description="With one of these computed statuses (as of `statusAsOf`)."
    )
    status_as_of: datetime | None = strawberry.field(
        default=None, description="The instant `status` is judged at (default: now)."
    )


@strawberry.input(description="Ordering of objectives.")
class ObjectiveOrder:
    field: ObjectiveOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )


def parse(filter: ObjectiveFilter) -> filters.ObjectiveFilter:
    cycle_id = decode_optional_id(filter.cycle, "Cycle", field="filter.cycle")
    owner_team_id = owner_person_id = None
    if filter.owner is not None:
        type_name, owner_id = parse_global_id(filter.owner)
        if type_name == "Team":
            owner_team_id = owner_id
        elif type_name == "Person":
            owner_person_id = owner_id
        else:
            raise InvalidId(
                f"{filter.owner!r} is not the ID of a Team or Person", field="filter.owner"
            )
    return filters.ObjectiveFilter(
        search=filter.search,
        cycle_id=cycle_id,
        owner_team_id=owner_team_id,
        owner_person_id=owner_person_id,
        team_id=decode_optional_id(filter.team, "Team", field="filter.team"),
        states=[models.ObjectiveState(raw(state)) for state in filter.state]
        if filter.state
        else None,
        parent_id=decode_optional_id(filter.parent, "Objective", field="filter.parent"),
        top_level=filter.top_level,
    )


@strawberry.type
class ObjectiveQueries:
    @strawberry.field(description="Objectives of the organization.")
    async def objectives(
        self,
        info: Info[Context, None],
        filter: ObjectiveFilter | None = None,
        order_by: ObjectiveOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Objective]:
        filter = filter or ObjectiveFilter()
        statement = filters.select_objectives(info.context.principal.org_id, parse(filter))
        return await list_page(
            info,
            statement,
            ObjectiveModel,
            order_by or ObjectiveOrder(field=ObjectiveOrderField.CREATED_AT),
            PageArgs(first, after, last, before),
            Objective.from_model,
            keep=rollup_fields.status_filter(info, "Objective", filter.status, filter.status_as_of),
        )
