from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, list_page
from schema.core.relay import decode_optional_id
from schema.people.types import Person, PersonKind
from service import models
from service.models import Person as PersonModel
from service.people import filters


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


def parse(filter: PersonFilter) -> filters.PersonFilter:
    return filters.PersonFilter(
        search=filter.search,
        kind=models.PersonKind(raw(filter.kind)) if filter.kind is not None else None,
        team_id=decode_optional_id(filter.team, "Team", field="filter.team"),
        include_archived=filter.include_archived,
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
        statement = filters.select_people(
            info.context.principal.org_id, parse(filter or PersonFilter())
        )
        return await list_page(
            info,
            statement,
            PersonModel,
            order_by or PersonOrder(field=PersonOrderField.NAME),
            PageArgs(first, after, last, before),
            Person.from_model,
        )
