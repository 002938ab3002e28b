from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.pagination import Connection, OrderDirection, PageArgs, list_page
from schema.core.relay import decode_optional_id
from schema.teams.types import Team
from service.models import Team as TeamModel
from service.teams import filters


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


def parse(filter: TeamFilter) -> filters.TeamFilter:
    return filters.TeamFilter(
        search=filter.search,
        parent_team_id=decode_optional_id(filter.parent, "Team", field="filter.parent"),
        top_level=filter.top_level,
        include_archived=filter.include_archived,
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
        statement = filters.select_teams(
            info.context.principal.org_id, parse(filter or TeamFilter())
        )
        return await list_page(
            info,
            statement,
            TeamModel,
            order_by or TeamOrder(field=TeamOrderField.NAME),
            PageArgs(first, after, last, before),
            Team.from_model,
        )
