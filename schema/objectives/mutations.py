import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import InvalidId, UserError
from schema.core.mutation_runner import Refused, payload_of, run, run_by_id, set_fields
from schema.core.relay import decode_id, parse_global_id
from schema.objectives.types import Alignment, Objective, ObjectiveState, RollupMode
from service.models import Alignment as AlignmentModel
from service.models import Objective as ObjectiveModel
from service.objectives import service
from service.objectives.schemas import ObjectiveCreate, ObjectiveUpdate


def owner_ids(owner_id: str | None) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(team id, person id) from the global ID of a Team or a Person."""
    if owner_id is None:
        return None, None
    try:
        type_name, id = parse_global_id(owner_id)
    except InvalidId as error:
        error.field = "owner_id"
        raise
    if type_name == "Team":
        return id, None
    if type_name == "Person":
        return None, id
    raise InvalidId(f"{owner_id!r} is not the ID of a Team or Person", field="owner_id")


@strawberry.input(description="A new objective, owned by a team or a person.")
class ObjectiveCreateInput:
    title: str = strawberry.field(description="What the objective aims for.")
    description: str = strawberry.field(default="", description="Longer explanation.")
    cycle_id: strawberry.ID = strawberry.field(description="The cycle it belongs to.")
    owner_id: strawberry.ID = strawberry.field(description="The owning Team or Person.")
    state: ObjectiveState = strawberry.field(
        default=ObjectiveState.ACTIVE, description="Draft or active."
    )
    rollup_mode: RollupMode = strawberry.field(
        default=RollupMode.AUTO, description="How progress is rolled up."
    )
    parent_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Objectives to align it under (weight 1)."
    )
    metric_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Metrics it is meant to drive."
    )


@strawberry.input(description="Changes to an objective; only the fields given change.")
class ObjectiveUpdateInput:
    id: strawberry.ID = strawberry.field(description="The objective to change.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description."
    )
    cycle_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Move to another cycle."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New owning Team or Person."
    )
    state: ObjectiveState | None = strawberry.field(
        default=strawberry.UNSET, description="New state (archive with `objectiveArchive`)."
    )
    rollup_mode: RollupMode | None = strawberry.field(
        default=strawberry.UNSET, description="New roll-up mode."
    )


@strawberry.input(description="The objective to archive.")
class ObjectiveArchiveInput:
    id: strawberry.ID = strawberry.field(description="The objective to archive.")


@strawberry.input(description="The objective to bring back.")
class ObjectiveUnarchiveInput:
    id: strawberry.ID = strawberry.field(description="The objective to bring back.")


@strawberry.input(description="Align a child objective under a parent, or change the weight.")
class AlignmentCreateInput:
    child_id: strawberry.ID = strawberry.field(description="The contributing objective.")
    parent_id: strawberry.ID = strawberry.field(description="The objective contributed to.")
    weight: float = strawberry.field(default=1.0, description="Weight, at least 0.")


@strawberry.input(description="The alignment to remove.")
class AlignmentDeleteInput:
    child_id: strawberry.ID = strawberry.field(description="The contributing objective.")
    parent_id: strawberry.ID = strawberry.field(description="The objective contributed to.")


@strawberry.input(description="An objective and a metric it drives.")
class ObjectiveMetricInput:
    objective_id: strawberry.ID = strawberry.field(description="The objective.")
    metric_id: strawberry.ID = strawberry.field(description="The metric.")


@strawberry.type(description="Result of an objective mutation.")
class ObjectivePayload:
    objective: Objective | None = strawberry.field(description="The objective after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


@strawberry.type(description="Result of an alignment mutation.")
class AlignmentPayload:
    alignment: Alignment | None = strawberry.field(
        description="The alignment after the change; null once deleted."
    )
    child: Objective | None = strawberry.field(description="The child objective.")
    parent: Objective | None = strawberry.field(description="The parent objective.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(ObjectivePayload, "objective", Objective.from_model)


def _alignment_payload(
    result: tuple[AlignmentModel | None, ObjectiveModel, ObjectiveModel] | Refused,
) -> AlignmentPayload:
    if isinstance(result, Refused):
        return AlignmentPayload(alignment=None, child=None, parent=None, user_errors=result.errors)
    alignment, child_model, parent_model = result
    child, parent = Objective.from_model(child_model), Objective.from_model(parent_model)
    made = Alignment.from_model(alignment, child=child, parent=parent) if alignment else None
    return AlignmentPayload(alignment=made, child=child, parent=parent, user_errors=[])


@strawberry.type
class ObjectiveMutations:
    @strawberry.mutation(description="Create an objective, optionally aligned and driving metrics.")
    async def objective_create(
        self, info: Info[Context, None], input: ObjectiveCreateInput
    ) -> ObjectivePayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> ObjectiveModel:
            team_id, person_id = owner_ids(input.owner_id)
            data = ObjectiveCreate(
                title=input.title,
                description=input.description,
                cycle_id=decode_id(input.cycle_id, "Cycle", field="cycle_id"),
                owner_team_id=team_id,
                owner_person_id=person_id,
                state=raw(input.state),
                rollup_mode=raw(input.rollup_mode),
            )
            return await service.create_objective_with_links(
                session,
                org_id,
                data,
                parent_ids=[
                    decode_id(id, "Objective", field="parent_ids") for id in input.parent_ids
                ],
                metric_ids=[decode_id(id, "Metric", field="metric_ids") for id in input.metric_ids],
            )

        return await run(info, change, _payload)

    @strawberry.mutation(description="Change an objective.")
    async def objective_update(
        self, info: Info[Context, None], input: ObjectiveUpdateInput
    ) -> ObjectivePayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> ObjectiveModel:
            objective_id = decode_id(input.id, "Objective", field="id")
            fields = set_fields(input, "title", "description")
            if input.cycle_id is not strawberry.UNSET:
                fields["cycle_id"] = (
                    decode_id(input.cycle_id, "Cycle", field="cycle_id")
                    if input.cycle_id is not None
                    else None
                )
            if input.owner_id is not strawberry.UNSET:
                fields["owner_team_id"], fields["owner_person_id"] = owner_ids(input.owner_id)
            for name in ("state", "rollup_mode"):
                value = getattr(input, name)
                if value is not strawberry.UNSET:
                    fields[name] = raw(value) if value is not None else None
            return await service.update_objective(
                session, org_id, objective_id, ObjectiveUpdate(**fields)
            )

        return await run(info, change, _payload)

    @strawberry.mutation(description="Archive an objective; roll-ups ignore it from then on.")
    async def objective_archive(
        self, info: Info[Context, None], input: ObjectiveArchiveInput
    ) -> ObjectivePayload:
        return await run_by_id(info, service.archive_objective, input.id, "Objective", _payload)

    @strawberry.mutation(description="Bring an archived objective back, as a draft.")
    async def objective_unarchive(
        self, info: Info[Context, None], input: ObjectiveUnarchiveInput
    ) -> ObjectivePayload:
        return await run_by_id(info, service.unarchive_objective, input.id, "Objective", _payload)

    @strawberry.mutation(description="Align an objective under another (no cycles), with a weight.")
    async def alignment_create(
        self, info: Info[Context, None], input: AlignmentCreateInput
    ) -> AlignmentPayload:
        async def change(
            session: AsyncSession, org_id: uuid.UUID
        ) -> tuple[AlignmentModel, ObjectiveModel, ObjectiveModel]:
            child_id = decode_id(input.child_id, "Objective", field="child_id")
            parent_id = decode_id(input.parent_id, "Objective", field="parent_id")
            return await service.align_and_get_objectives(
                session, org_id, child_id, parent_id, input.weight
            )

        return await run(info, change, _alignment_payload)

    @strawberry.mutation(description="Remove the alignment of an objective under a parent.")
    async def alignment_delete(
        self, info: Info[Context, None], input: AlignmentDeleteInput
    ) -> AlignmentPayload:
        async def change(
            session: AsyncSession, org_id: uuid.UUID
        ) -> tuple[None, ObjectiveModel, ObjectiveModel]:
            child_id = decode_id(input.child_id, "Objective", field="child_id")
            parent_id = decode_id(input.parent_id, "Objective", field="parent_id")
            child, parent = await service.unalign_and_get_objectives(
                session, org_id, child_id, parent_id
            )
            return None, child, parent

        return await run(info, change, _alignment_payload)

    @strawberry.mutation(description="Record that an objective is meant to drive a metric.")
    async def objective_metric_add(
        self, info: Info[Context, None], input: ObjectiveMetricInput
    ) -> ObjectivePayload:
        return await _metric_link(info, input, linked=True)

    @strawberry.mutation(description="Remove a metric an objective drives.")
    async def objective_metric_remove(
        self, info: Info[Context, None], input: ObjectiveMetricInput
    ) -> ObjectivePayload:
        return await _metric_link(info, input, linked=False)


async def _metric_link(
    info: Info[Context, None], input: ObjectiveMetricInput, *, linked: bool
) -> ObjectivePayload:
    async def change(session: AsyncSession, org_id: uuid.UUID) -> ObjectiveModel:
        objective_id = decode_id(input.objective_id, "Objective", field="objective_id")
        metric_id = decode_id(input.metric_id, "Metric", field="metric_id")
        return await service.change_metric_link(
            session, org_id, objective_id, metric_id, linked=linked
        )

    return await run(info, change, _payload)
