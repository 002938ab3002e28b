import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import member_of
from schema.core.relay import Node
from schema.cycles.types import Cycle
from schema.metrics.types import Metric
from schema.people.types import Person
from schema.rollups import fields as rollup_fields
from schema.rollups.types import BreakdownItem, Delivery, Status, status
from schema.teams.types import Team
from service.models import Alignment as AlignmentModel
from service.models import Objective as ObjectiveModel

if TYPE_CHECKING:
    from schema.key_results.types import KeyResult


@strawberry.enum(description="Lifecycle state of an objective.")
class ObjectiveState(Enum):
    DRAFT = strawberry.enum_value("draft", description="Being written; ignored by roll-ups.")
    ACTIVE = strawberry.enum_value("active", description="Being worked on.")
    CLOSED = strawberry.enum_value("closed", description="Finished; still counted.")
    ARCHIVED = strawberry.enum_value("archived", description="Put away; ignored by roll-ups.")


@strawberry.enum(description="Which items an objective's progress is the weighted mean of.")
class RollupMode(Enum):
    AUTO = strawberry.enum_value(
        "auto", description="Key results if it has any, else aligned child objectives."
    )
    KEY_RESULTS = strawberry.enum_value("key_results", description="Its active key results.")
    CHILDREN = strawberry.enum_value("children", description="Objectives aligned under it.")
    BOTH = strawberry.enum_value("both", description="Key results and children together.")


_state = member_of(ObjectiveState)
_rollup_mode = member_of(RollupMode)

ObjectiveOwner = Annotated[
    Team | Person,
    strawberry.union("ObjectiveOwner", description="A team or a person that owns an objective."),
]


@strawberry.type(description="A company, team or personal objective in a cycle.")
class Objective(Node):
    title: str = strawberry.field(description="What the objective aims for.")
    description: str = strawberry.field(description="Longer explanation.")
    state: ObjectiveState = strawberry.field(description="Lifecycle state.")
    rollup_mode: RollupMode = strawberry.field(description="How progress is rolled up.")
    created_at: datetime = strawberry.field(description="When the objective was created.")
    updated_at: datetime = strawberry.field(description="When the objective last changed.")
    owner_team_id: strawberry.Private[uuid.UUID | None]
    owner_person_id: strawberry.Private[uuid.UUID | None]
    cycle_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, model: ObjectiveModel) -> "Objective":
        return cls(
            uuid_=model.id,
            title=model.title,
            description=model.description,
            state=_state(model.state),
            rollup_mode=_rollup_mode(model.rollup_mode),
            created_at=model.created_at,
            updated_at=model.updated_at,
            owner_team_id=model.owner_team_id,
            owner_person_id=model.owner_person_id,
            cycle_id=model.cycle_id,
        )

    @strawberry.field(description="The team or person who owns the objective.")
    async def owner(self, info: Info[Context, None]) -> ObjectiveOwner | None:
        loaders = info.context.loaders
        if self.owner_team_id is not None:
            team = await loaders.team_by_id.load(self.owner_team_id)
            return Team.from_model(team) if team else None
        if self.owner_person_id is not None:
            person = await loaders.person_by_id.load(self.owner_person_id)
            return Person.from_model(person) if person else None
        return None

    @strawberry.field(description="The cycle the objective belongs to.")
    async def cycle(self, info: Info[Context, None]) -> Cycle | None:
        model = await info.context.loaders.cycle_by_id.load(self.cycle_id)
        return Cycle.from_model(model) if model else None

    @strawberry.field(description="Alignments to the objectives this one contributes to.")
    async def parents(self, info: Info[Context, None]) -> list["Alignment"]:
        rows = await info.context.loaders.parent_alignments_by_objective.load(self.uuid_)
        return [
            Alignment.from_model(row, child=self, parent=Objective.from_model(parent))
            for row, parent in rows
        ]

    @strawberry.field(description="Alignments of the objectives that contribute to this one.")
    async def children(self, info: Info[Context, None]) -> list["Alignment"]:
        rows = await info.context.loaders.child_alignments_by_objective.load(self.uuid_)
        return [
            Alignment.from_model(row, child=Objective.from_model(child), parent=self)
            for row, child in rows
        ]

    @strawberry.field(description="Key results of the objective, oldest first.")
    async def key_results(
        self, info: Info[Context, None], include_archived: bool = False
    ) -> list[Annotated["KeyResult", strawberry.lazy("schema.key_results.types")]]:
        from schema.key_results.types import KeyResult

        rows = await info.context.loaders.key_results_by_objective.load(self.uuid_)
        found = [
            KeyResult.from_model(row) for row in rows if include_archived or row.state == "active"
        ]
        await rollup_fields.prefetch_key_results(info, [kr.uuid_ for kr in found])
        return found

    @strawberry.field(description="Metrics the objective is meant to drive.")
    async def metrics(self, info: Info[Context, None]) -> list[Metric]:
        rows = await info.context.loaders.metrics_by_objective.load(self.uuid_)
        return [Metric.from_model(row) for row in rows]

    @strawberry.field(
        description="Weighted progress, 0 to 1, as of an instant; null without items."
    )
    async def progress(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> float | None:
        result = await rollup_fields.objective_rollup(info, self.uuid_, as_of)
        return result.progress if result else None

    @strawberry.field(description="Status against the cycle's pace, as of an instant.")
    async def status(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> Status | None:
        result = await rollup_fields.objective_rollup(info, self.uuid_, as_of)
        return status(result.status) if result else None

    @strawberry.field(description="Share of the cycle elapsed at an instant, 0 to 1.")
    async def expected_progress(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> float | None:
        result = await rollup_fields.objective_rollup(info, self.uuid_, as_of)
        return result.expected_progress if result else None

    @strawberry.field(description="The worst status among its key results, as of an instant.")
    async def worst_key_result_status(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> Status | None:
        result = await rollup_fields.objective_rollup(info, self.uuid_, as_of)
        return status(result.worst_key_result_status) if result else None

    @strawberry.field(description="Each item of the progress mean with weight, progress, share.")
    async def breakdown(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> list[BreakdownItem]:
        result = await rollup_fields.objective_rollup(info, self.uuid_, as_of)
        return [BreakdownItem.from_result(item) for item in result.breakdown] if result else []

    @strawberry.field(description="Delivery of the commitments supporting its items.")
    async def delivery(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> Delivery | None:
        result = await rollup_fields.objective_rollup(info, self.uuid_, as_of)
        return Delivery.from_result(result.delivery) if result else None

    @strawberry.field(description="Whether a path leads from this objective to the North Star.")
    async def aligned_to_north_star(self, info: Info[Context, None]) -> bool:
        return await rollup_fields.aligned_to_north_star(info, "Objective", self.uuid_)


@strawberry.type(description="A child objective aligned under a parent, with a weight.")
class Alignment:
    """Made with both its objectives at hand (the list that returns it read them): `child`
    and `parent` are plain fields, not one loader call each."""

    weight: float = strawberry.field(description="Weight of the child in the parent's progress.")
    created_at: datetime = strawberry.field(description="When the alignment was made.")
    child: Objective | None = strawberry.field(description="The contributing objective.")
    parent: Objective | None = strawberry.field(description="The objective contributed to.")

    @classmethod
    def from_model(
        cls, model: AlignmentModel, *, child: Objective, parent: Objective
    ) -> "Alignment":
        return cls(weight=model.weight, created_at=model.created_at, child=child, parent=parent)
