from datetime import datetime
from enum import Enum

import strawberry
from sqlalchemy import or_, select
from strawberry.types import Info

from schema.core.connections import text_search
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.relay import decode_optional_id
from schema.key_results.types import KeyResult, KeyResultState, Measure
from schema.rollups import fields as rollup_fields
from schema.rollups.types import Status
from service.models import KeyResult as KeyResultModel
from service.models import Objective as ObjectiveModel
from service.models import TeamMember


@strawberry.enum(description="Orderings of key results.")
class KeyResultOrderField(Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="By creation time.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="By last change.")
    TITLE = strawberry.enum_value("title", description="By title.")


@strawberry.input(description="Filters on key results; all given filters must hold.")
class KeyResultFilter:
    search: str | None = strawberry.field(default=None, description="Text in the title.")
    objective: strawberry.ID | None = strawberry.field(
        default=None, description="Of this objective."
    )
    cycle: strawberry.ID | None = strawberry.field(
        default=None, description="Of objectives in this cycle."
    )
    owner: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this person."
    )
    team: strawberry.ID | None = strawberry.field(
        default=None, description="Of objectives owned by this team, or owned by its members."
    )
    metric: strawberry.ID | None = strawberry.field(
        default=None, description="Measured on this metric."
    )
    measure: Measure | None = strawberry.field(default=None, description="With this measure.")
    state: KeyResultState | None = strawberry.field(
        default=KeyResultState.ACTIVE, description="In this state (default: active)."
    )
    status: list[Status] | None = strawberry.field(
        default=None, description="With one of these computed statuses (as of `statusAsOf`)."
    )
    status_as_of: datetime | None = strawberry.field(
        default=None, description="The instant `status` is judged at (default: now)."
    )


@strawberry.input(description="Ordering of key results.")
class KeyResultOrder:
    field: KeyResultOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )


@strawberry.type
class KeyResultQueries:
    @strawberry.field(description="Key results of the organization.")
    async def key_results(
        self,
        info: Info[Context, None],
        filter: KeyResultFilter | None = None,
        order_by: KeyResultOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[KeyResult]:
        org_id = info.context.principal.org_id
        filter = filter or KeyResultFilter()
        order = order_by or KeyResultOrder(field=KeyResultOrderField.CREATED_AT)
        statement = select(KeyResultModel).where(
            KeyResultModel.org_id == org_id, *text_search(filter.search, KeyResultModel.title)
        )
        objective_id = decode_optional_id(filter.objective, "Objective", field="filter.objective")
        if objective_id is not None:
            statement = statement.where(KeyResultModel.objective_id == objective_id)
        cycle_id = decode_optional_id(filter.cycle, "Cycle", field="filter.cycle")
        if cycle_id is not None:
            statement = statement.where(
                KeyResultModel.objective_id.in_(
                    select(ObjectiveModel.id).where(
                        ObjectiveModel.org_id == org_id, ObjectiveModel.cycle_id == cycle_id
                    )
                )
            )
        owner_id = decode_optional_id(filter.owner, "Person", field="filter.owner")
        if owner_id is not None:
            statement = statement.where(KeyResultModel.owner_person_id == owner_id)
        team_id = decode_optional_id(filter.team, "Team", field="filter.team")
        if team_id is not None:
            members = select(TeamMember.person_id).where(
                TeamMember.org_id == org_id, TeamMember.team_id == team_id
            )
            team_objectives = select(ObjectiveModel.id).where(
                ObjectiveModel.org_id == org_id,
                or_(
                    ObjectiveModel.owner_team_id == team_id,
                    ObjectiveModel.owner_person_id.in_(members),
                ),
            )
            statement = statement.where(KeyResultModel.objective_id.in_(team_objectives))
        metric_id = decode_optional_id(filter.metric, "Metric", field="filter.metric")
        if metric_id is not None:
            statement = statement.where(KeyResultModel.metric_id == metric_id)
        if filter.measure is not None:
            statement = statement.where(KeyResultModel.measure == raw(filter.measure))
        if filter.state is not None:
            statement = statement.where(KeyResultModel.state == raw(filter.state))
        if filter.status:
            candidates = await info.context.db.scalars(
                statement.with_only_columns(KeyResultModel.id)
            )
            matching = await rollup_fields.with_status(
                info, "KeyResult", list(candidates), filter.status, filter.status_as_of
            )
            statement = statement.where(KeyResultModel.id.in_(matching))
        return await paginate(
            info,
            statement,
            order=getattr(KeyResultModel, raw(order.field)),
            id_column=KeyResultModel.id,
            direction=order.direction,
            page=PageArgs(first, after, last, before),
            to_node=KeyResult.from_model,
        )
