import uuid
from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.relay import Node
from schema.key_results.types import KeyResult
from schema.people.types import Person
from schema.rollups import fields as rollup_fields
from service.models import Commitment as CommitmentModel


@strawberry.enum(description="State of a commitment.")
class CommitmentState(Enum):
    OPEN = strawberry.enum_value("open", description="Not done yet.")
    DONE = strawberry.enum_value("done", description="Delivered.")
    DROPPED = strawberry.enum_value("dropped", description="Given up; not counted as committed.")


@strawberry.type(description="A binary deliverable a person commits to, with a definition of done.")
class Commitment(Node):
    title: str = strawberry.field(description="What will be delivered.")
    success_criteria: str = strawberry.field(description="What done means.")
    due_on: date = strawberry.field(description="Due date.")
    state: CommitmentState = strawberry.field(description="Open, done or dropped.")
    done_at: datetime | None = strawberry.field(description="When it was done.")
    dropped_at: datetime | None = strawberry.field(description="When it was dropped.")
    evidence_url: str | None = strawberry.field(description="Link to evidence of delivery.")
    created_at: datetime = strawberry.field(description="When the commitment was made.")
    updated_at: datetime = strawberry.field(description="When the commitment last changed.")
    owner_person_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, model: CommitmentModel) -> "Commitment":
        return cls(
            uuid_=model.id,
            title=model.title,
            success_criteria=model.success_criteria,
            due_on=model.due_on,
            state=CommitmentState(model.state),
            done_at=model.done_at,
            dropped_at=model.dropped_at,
            evidence_url=model.evidence_url,
            created_at=model.created_at,
            updated_at=model.updated_at,
            owner_person_id=model.owner_person_id,
        )

    @strawberry.field(description="The one person who owns the commitment.")
    async def owner(self, info: Info[Context, None]) -> Person | None:
        model = await info.context.loaders.person_by_id.load(self.owner_person_id)
        return Person.from_model(model) if model else None

    @strawberry.field(description="Key results the commitment supports.")
    async def key_results(self, info: Info[Context, None]) -> list[KeyResult]:
        rows = await info.context.loaders.key_results_by_commitment.load(self.uuid_)
        found = [KeyResult.from_model(row) for row in rows]
        await rollup_fields.prefetch_key_results(info, [kr.uuid_ for kr in found])
        return found

    @strawberry.field(description="Whether a path leads from this commitment to the North Star.")
    async def aligned_to_north_star(self, info: Info[Context, None]) -> bool:
        return await rollup_fields.aligned_to_north_star(info, "Commitment", self.uuid_)
