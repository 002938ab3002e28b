from enum import Enum

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from schema.core.connections import text_search
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.relay import decode_optional_id
from schema.people.types import Person, PersonKind
from service.models import Person as PersonModel
from service.models import TeamMember


@strawberry.enum(description="Orderings of people.")
class PersonOrderField(Enum):
    NAME = strawberry.enum_value("name", description="By name.")
    CREATED_AT = strawberry.enum_value("created_at", description="By creation time.")


@strawberry.input(description="Filters on people; all given filters must hold.")
class PersonFilter:
    search: str | None = strawberry.field(default=None, description="Text in the name or e-mail.")
    kind: PersonKind | None = strawberry.field(default=None, description="Humans or agents.")
    team: strawberry.ID | None = strawberry.field(default=None, description="Members of a team.")
    include_archived: bool = strawberry.field(default=False, description="Include archived people.")


@strawberry.input(description="Ordering of people.")
class PersonOrder:
    field: PersonOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )


@strawberry.type
class PeopleQueries:
    @strawberry.field(description="People of the organization.")
    async def people(
        self,
        info: Info[Context, None],
        filter: PersonFilter | None = None,
        order_by: PersonOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Person]:
        filter = filter or PersonFilter()
        order = order_by or PersonOrder(field=PersonOrderField.NAME)
        statement = select(PersonModel).where(
            PersonModel.org_id == info.context.principal.org_id,
            *text_search(filter.search, PersonModel.name, PersonModel.email),
        )
        if filter.kind is not None:
            statement = statement.where(PersonModel.kind == raw(filter.kind))
        if not filter.include_archived:
            statement = statement.where(PersonModel.archived_at.is_(None))
        team_id = decode_optional_id(filter.team, "Team", field="filter.team")
        if team_id is not None:
            statement = statement.where(
                PersonModel.id.in_(
                    select(TeamMember.person_id).where(
                        TeamMember.org_id == info.context.principal.org_id,
                        TeamMember.team_id == team_id,
                    )
                )
            )
        return await paginate(
            info,
            statement,
            order=getattr(PersonModel, raw(order.field)),
            id_column=PersonModel.id,
            direction=order.direction,
            page=PageArgs(first, after, last, before),
            to_node=Person.from_model,
        )
