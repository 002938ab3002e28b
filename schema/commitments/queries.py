from datetime import date
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.commitments.types import Commitment, CommitmentState
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, list_page
from schema.core.relay import decode_optional_id
from service import models
from service.commitments import filters
from service.models import Commitment as CommitmentModel


@strawberry.enum(description="Orderings of commitments.")
class CommitmentOrderField(Enum):
    DUE_ON = strawberry.enum_value("due_on", description="By due date.")
    CREATED_AT = strawberry.enum_value("created_at", description="By creation time.")
    TITLE = strawberry.enum_value("title", description="By title.")


@strawberry.input(description="Filters on commitments; all given filters must hold.")
class CommitmentFilter:
    search: str | None = strawberry.field(default=None, description="Text in the title.")
    owner: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this person."
    )
    team: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by a member of this team."
    )
    key_result: strawberry.ID | None = strawberry.field(
        default=None, description="Supporting this key result."
    )
    state: list[CommitmentState] | None = strawberry.field(
        default=None, description="In one of these states."
    )
    due_before: date | None = strawberry.field(
        default=None, description="Due on or before this day."
    )
    due_after: date | None = strawberry.field(default=None, description="Due on or after this day.")


@strawberry.input(description="Ordering of commitments.")
class CommitmentOrder:
    field: CommitmentOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )


def parse(filter: CommitmentFilter) -> filters.CommitmentFilter:
    return filters.CommitmentFilter(
        search=filter.search,
        owner_person_id=decode_optional_id(filter.owner, "Person", field="filter.owner"),
        team_id=decode_optional_id(filter.team, "Team", field="filter.team"),
        key_result_id=decode_optional_id(filter.key_result, "KeyResult", field="filter.keyResult"),
        states=[models.CommitmentState(raw(state)) for state in filter.state or ()],
        due_before=filter.due_before,
        due_after=filter.due_after,
    )


@strawberry.type
class CommitmentQueries:
    @strawberry.field(description="Commitments of the organization.")
    async def commitments(
        self,
        info: Info[Context, None],
        filter: CommitmentFilter | None = None,
        order_by: CommitmentOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Commitment]:
        statement = filters.select_commitments(
            info.context.principal.org_id, parse(filter or CommitmentFilter())
        )
        return await list_page(
            info,
            statement,
            CommitmentModel,
            order_by or CommitmentOrder(field=CommitmentOrderField.DUE_ON),
            PageArgs(first, after, last, before),
            Commitment.from_model,
        )
