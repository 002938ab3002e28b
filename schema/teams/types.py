import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.relay import Node, decode_id
from schema.people.types import Person
from schema.rollups import fields as rollup_fields
from schema.rollups.types import Rollup
from service.models import Team as TeamModel

if TYPE_CHECKING:
    from schema.objectives.types import Objective


@strawberry.type(description="A team of the team tree; teams own objectives.")
class Team(Node):
    name: str = strawberry.field(description="Display name.")
    created_at: datetime = strawberry.field(description="When the team was created.")
    archived_at: datetime | None = strawberry.field(description="When the team was archived.")
    parent_team_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, model: TeamModel) -> "Team":
        return cls(
            uuid_=model.id,
            name=model.name,
            created_at=model.created_at,
            archived_at=model.archived_at,
            parent_team_id=model.parent_team_id,
        )

    @strawberry.field(description="The team this team belongs to; null at the top.")
    async def parent(self, info: Info[Context, None]) -> "Team | None":
        if self.parent_team_id is None:
            return None
        model = await info.context.loaders.team_by_id.load(self.parent_team_id)
        return Team.from_model(model) if model else None

    @strawberry.field(description="Teams directly under this team, by name.")
    async def subteams(self, info: Info[Context, None]) -> list["Team"]:
        rows = await info.context.loaders.teams_by_parent_team.load(self.uuid_)
        return [Team.from_model(row) for row in rows]

    @strawberry.field(description="People in this team, by name.")
    async def members(self, info: Info[Context, None]) -> list[Person]:
        rows = await info.context.loaders.members_by_team.load(self.uuid_)
        return [Person.from_model(row) for row in rows]

    @strawberry.field(description="Objectives this team owns (not archived).")
    async def objectives(
        self, info: Info[Context, None]
    ) -> list[Annotated["Objective", strawberry.lazy("schema.objectives.types")]]:
        from schema.objectives.types import Objective

        rows = await info.context.loaders.objectives_by_owner_team.load(self.uuid_)
        return [Objective.from_model(row) for row in rows]

    @strawberry.field(description="Progress of the team's objectives in a cycle, as of an instant.")
    async def rollup(
        self,
        info: Info[Context, None],
        cycle: strawberry.ID,
        as_of: datetime | None = None,
        include_subteams: bool = False,
    ) -> Rollup | None:
        cycle_id = decode_id(cycle, "Cycle", field="cycle")
        return await rollup_fields.rollup_of(
            info, "Team", self.uuid_, as_of, cycle_id=cycle_id, include_subteams=include_subteams
        )
