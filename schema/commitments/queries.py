from datetime import date
from enum import Enum

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from schema.commitments.types import Commitment, CommitmentState
from schema.core.connections import text_search
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.relay import decode_optional_id
from service.models import Commitment as CommitmentModel
from service.models import CommitmentKeyResult, TeamMember


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
        org_id = info.context.principal.org_id
        filter = filter or CommitmentFilter()
        order = order_by or CommitmentOrder(field=CommitmentOrderField.DUE_ON)
        statement = select(CommitmentModel).where(
            CommitmentModel.org_id == org_id, *text_search(filter.search, CommitmentModel.title)
        )
        owner_id = decode_optional_id(filter.owner, "Person", field="filter.owner")
        if owner_id is not None:
            statement = statement.where(CommitmentModel.owner_person_id == owner_id)
        team_id = decode_optional_id(filter.team, "Team", field="filter.team")
        if team_id is not None:
            statement = statement.where(
                CommitmentModel.owner_person_id.in_(
                    select(TeamMember.person_id).where(
                        TeamMember.org_id == org_id, TeamMember.team_id == team_id
                    )
                )
            )
        key_result_id = decode_optional_id(filter.key_result, "KeyResult", field="filter.keyResult")
        if key_result_id is not None:
            statement = statement.where(
                CommitmentModel.id.in_(
                    select(CommitmentKeyResult.commitment_id).where(
                        CommitmentKeyResult.org_id == org_id,
                        CommitmentKeyResult.key_result_id == key_result_id,
                    )
                )
            )
        if filter.state:
            statement = statement.where(
                CommitmentModel.state.in_([raw(state) for state in filter.state])
            )
        if filter.due_before is not None:
            statement = statement.where(CommitmentModel.due_on <= filter.due_before)
        if filter.due_after is not None:
            statement = statement.where(CommitmentModel.due_on >= filter.due_after)
        return await paginate(
            info,
            statement,
            order=getattr(CommitmentModel, raw(order.field)),
            id_column=CommitmentModel.id,
            direction=order.direction,
            page=PageArgs(first, after, last, before),
            to_node=Commitment.from_model,
        )
