import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.relay import Node
from schema.rollups import fields as rollup_fields
from schema.rollups.types import Rollup
from service.models import Cycle as CycleModel

if TYPE_CHECKING:
    from schema.objectives.types import Objective


@strawberry.type(description="A planning period such as a quarter; both dates are inclusive.")
class Cycle(Node):
    name: str = strawberry.field(description="Display name, unique in the organization.")
    starts_on: date = strawberry.field(description="First day of the cycle.")
    ends_on: date = strawberry.field(description="Last day of the cycle (inclusive).")
    created_at: datetime = strawberry.field(description="When the cycle was created.")
    archived_at: datetime | None = strawberry.field(description="When the cycle was archived.")
    parent_cycle_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, model: CycleModel) -> "Cycle":
        return cls(
            uuid_=model.id,
            name=model.name,
            starts_on=model.starts_on,
            ends_on=model.ends_on,
            created_at=model.created_at,
            archived_at=model.archived_at,
            parent_cycle_id=model.parent_cycle_id,
        )

    @strawberry.field(description="The cycle this one is part of, e.g. the year of a quarter.")
    async def parent(self, info: Info[Context, None]) -> "Cycle | None":
        if self.parent_cycle_id is None:
            return None
        model = await info.context.loaders.cycle_by_id.load(self.parent_cycle_id)
        return Cycle.from_model(model) if model else None

    @strawberry.field(description="Cycles directly inside this one, by start date.")
    async def children(self, info: Info[Context, None]) -> list["Cycle"]:
        rows = await info.context.loaders.cycles_by_parent_cycle.load(self.uuid_)
        return [Cycle.from_model(row) for row in rows]

    @strawberry.field(description="Objectives in this cycle (not archived).")
    async def objectives(
        self, info: Info[Context, None]
    ) -> list[Annotated["Objective", strawberry.lazy("schema.objectives.types")]]:
        from schema.objectives.types import Objective

        rows = await info.context.loaders.objectives_by_cycle.load(self.uuid_)
        return [Objective.from_model(row) for row in rows]

    @strawberry.field(
        description="Progress of the cycle's company-level objectives, as of an instant."
    )
    async def rollup(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> Rollup | None:
        return await rollup_fields.rollup_of(info, "Cycle", self.uuid_, as_of)
