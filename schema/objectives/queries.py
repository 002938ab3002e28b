from datetime import datetime
from enum import Enum

import strawberry
from sqlalchemy import exists, or_, select
from strawberry.types import Info

from schema.core.connections import text_search
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import InvalidId
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.relay import decode_optional_id, parse_global_id
from schema.objectives.types import Objective, ObjectiveState
from schema.rollups import fields as rollup_fields
from schema.rollups.types import Status
from service.models import Alignment, TeamMember
from service.models import Objective as ObjectiveModel


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
        org_id = info.context.principal.org_id
        filter = filter or ObjectiveFilter()
        order = order_by or ObjectiveOrder(field=ObjectiveOrderField.CREATED_AT)
        statement = select(ObjectiveModel).where(
            ObjectiveModel.org_id == org_id, *text_search(filter.search, ObjectiveModel.title)
        )
        cycle_id = decode_optional_id(filter.cycle, "Cycle", field="filter.cycle")
        if cycle_id is not None:
            statement = statement.where(ObjectiveModel.cycle_id == cycle_id)
        if filter.owner is not None:
            type_name, owner_id = parse_global_id(filter.owner)
            if type_name == "Team":
                statement = statement.where(ObjectiveModel.owner_team_id == owner_id)
            elif type_name == "Person":
                statement = statement.where(ObjectiveModel.owner_person_id == owner_id)
            else:
                raise InvalidId(
                    f"{filter.owner!r} is not the ID of a Team or Person", field="filter.owner"
                )
        team_id = decode_optional_id(filter.team, "Team", field="filter.team")
        if team_id is not None:
            members = select(TeamMember.person_id).where(
                TeamMember.org_id == org_id, TeamMember.team_id == team_id
            )
            statement = statement.where(
                or_(
                    ObjectiveModel.owner_team_id == team_id,
                    ObjectiveModel.owner_person_id.in_(members),
                )
            )
        states = [raw(state) for state in filter.state] if filter.state else None
        if states is not None:
            statement = statement.where(ObjectiveModel.state.in_(states))
        else:
            statement = statement.where(ObjectiveModel.state != "archived")
        parent_id = decode_optional_id(filter.parent, "Objective", field="filter.parent")
        if parent_id is not None:
            statement = statement.where(
                ObjectiveModel.id.in_(
                    select(Alignment.child_objective_id).where(
                        Alignment.org_id == org_id, Alignment.parent_objective_id == parent_id
                    )
                )
            )
        if filter.top_level is not None:
            has_parent = exists().where(
                Alignment.org_id == org_id, Alignment.child_objective_id == ObjectiveModel.id
            )
            statement = statement.where(~has_parent if filter.top_level else has_parent)
        if filter.status:
            candidates = await info.context.db.scalars(
                statement.with_only_columns(ObjectiveModel.id)
            )
            matching = await rollup_fields.with_status(
                info, "Objective", list(candidates), filter.status, filter.status_as_of
            )
            statement = statement.where(ObjectiveModel.id.in_(matching))
        return await paginate(
            info,
            statement,
            order=getattr(ObjectiveModel, raw(order.field)),
            id_column=ObjectiveModel.id,
            direction=order.direction,
            page=PageArgs(first, after, last, before),
            to_node=Objective.from_model,
        )
