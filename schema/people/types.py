import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.relay import Node
from service.models import Person as PersonModel

if TYPE_CHECKING:
    from schema.commitments.types import Commitment
    from schema.objectives.types import Objective
    from schema.teams.types import Team


@strawberry.enum(description="Whether a person is a human or an automated agent.")
class PersonKind(Enum):
    HUMAN = strawberry.enum_value("human", description="A human being.")
    AGENT = strawberry.enum_value(
        "agent", description="An automated system that answers to an accountable human."
    )


@strawberry.type(description="A human or an agent who owns goals, commitments and check-ins.")
class Person(Node):
    name: str = strawberry.field(description="Display name.")
    email: str | None = strawberry.field(description="E-mail address, unique in the organization.")
    kind: PersonKind = strawberry.field(description="Human or agent.")
    created_at: datetime = strawberry.field(description="When the person was added.")
    archived_at: datetime | None = strawberry.field(description="When the person was archived.")
    accountable_person_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, model: PersonModel) -> "Person":
        return cls(
            uuid_=model.id,
            name=model.name,
            email=model.email,
            kind=PersonKind(model.kind),
            created_at=model.created_at,
            archived_at=model.archived_at,
            accountable_person_id=model.accountable_person_id,
        )

    @strawberry.field(description="The human accountable for an agent; null for humans.")
    async def accountable_person(self, info: Info[Context, None]) -> "Person | None":
        if self.accountable_person_id is None:
            return None
        model = await info.context.loaders.person_by_id.load(self.accountable_person_id)
        return Person.from_model(model) if model else None

    @strawberry.field(description="Teams this person is a member of.")
    async def teams(
        self, info: Info[Context, None]
    ) -> list[Annotated["Team", strawberry.lazy("schema.teams.types")]]:
        from schema.teams.types import Team

        rows = await info.context.loaders.teams_by_person.load(self.uuid_)
        return [Team.from_model(row) for row in rows]

    @strawberry.field(description="Commitments this person owns, by due date.")
    async def commitments(
        self, info: Info[Context, None]
    ) -> list[Annotated["Commitment", strawberry.lazy("schema.commitments.types")]]:
        from schema.commitments.types import Commitment

        rows = await info.context.loaders.commitments_by_owner.load(self.uuid_)
        return [Commitment.from_model(row) for row in rows]

    @strawberry.field(description="Objectives this person owns (not archived).")
    async def objectives(
        self, info: Info[Context, None]
    ) -> list[Annotated["Objective", strawberry.lazy("schema.objectives.types")]]:
        from schema.objectives.types import Objective

        rows = await info.context.loaders.objectives_by_owner_person.load(self.uuid_)
        return [Objective.from_model(row) for row in rows]
