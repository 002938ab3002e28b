from enum import Enum

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from schema.core.connections import text_search
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.relay import decode_optional_id
from schema.teams.types import Team
from service.models import Team as TeamModel


@strawberry.enum(description="Orderings of teams.")
class TeamOrderField(Enum):
    NAME = strawberry.enum_value("name", description="By name.")
    CREATED_AT = strawberry.enum_value("created_at", description="By creation time.")


@strawberry.input(description="Filters on teams; all given filters must hold.")
class TeamFilter:
    search: str | None = strawberry.field(default=None, description="Text in the name.")
    parent: strawberry.ID | None = strawberry.field(
        default=None, description="Teams directly under this team."
    )
    top_level: bool | None = strawberry.field(
        default=None, description="Only teams without (true) or with (false) a parent."
    )
    include_archived: bool = strawberry.field(default=False, description="Include archived teams.")


@strawberry.input(description="Ordering of teams.")
class TeamOrder:
    field: TeamOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )


@strawberry.type
class TeamQueries:
    @strawberry.field(description="Teams of the organization.")
    async def teams(
        self,
        info: Info[Context, None],
        filter: TeamFilter | None = None,
        order_by: TeamOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Team]:
        filter = filter or TeamFilter()
        order = order_by or TeamOrder(field=TeamOrderField.NAME)
        statement = select(TeamModel).where(
            TeamModel.org_id == info.context.principal.org_id,
            *text_search(filter.search, TeamModel.name),
        )
        parent_id = decode_optional_id(filter.parent, "Team", field="filter.parent")
        if parent_id is not None:
            statement = statement.where(TeamModel.parent_team_id == parent_id)
        if filter.top_level is not None:
            statement = statement.where(
                TeamModel.parent_team_id.is_(None)
                if filter.top_level
                else TeamModel.parent_team_id.is_not(None)
            )
        if not filter.include_archived:
            statement = statement.where(TeamModel.archived_at.is_(None))
        return await paginate(
            info,
            statement,
            order=getattr(TeamModel, raw(order.field)),
            id_column=TeamModel.id,
            direction=order.direction,
            page=PageArgs(first, after, last, before),
            to_node=Team.from_model,
        )
