from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.pagination import Connection, OrderDirection, PageArgs, list_page
from schema.core.relay import decode_optional_id
from schema.key_results.types import KeyResult, KeyResultState, Measure
from schema.rollups import fields as rollup_fields
from schema.rollups.types import Status
from service import models
from service.key_results import filters
from service.models import KeyResult as KeyResultModel


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


def parse(filter: KeyResultFilter) -> filters.KeyResultFilter:
    return filters.KeyResultFilter(
        search=filter.search,
        objective_id=decode_optional_id(filter.objective, "Objective", field="filter.objective"),
        cycle_id=decode_optional_id(filter.cycle, "Cycle", field="filter.cycle"),
        owner_person_id=decode_optional_id(filter.owner, "Person", field="filter.owner"),
        team_id=decode_optional_id(filter.team, "Team", field="filter.team"),
        metric_id=decode_optional_id(filter.metric, "Metric", field="filter.metric"),
        measure=models.Measure(raw(filter.measure)) if filter.measure is not None else None,
        state=models.KeyResultState(raw(filter.state)) if filter.state is not None else None,
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
        filter = filter or KeyResultFilter()
        statement = filters.select_key_results(info.context.principal.org_id, parse(filter))
        return await list_page(
            info,
            statement,
            KeyResultModel,
            order_by or KeyResultOrder(field=KeyResultOrderField.CREATED_AT),
            PageArgs(first, after, last, before),
            KeyResult.from_model,
            keep=rollup_fields.status_filter(info, "KeyResult", filter.status, filter.status_as_of),
        )
