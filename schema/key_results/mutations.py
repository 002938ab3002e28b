import uuid
from datetime import datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import UserError
from schema.core.mutation_runner import payload_of, run, run_by_id, set_fields
from schema.core.relay import decode_id, decode_optional_id
from schema.key_results.types import CheckIn, KeyResult, KeyResultDirection, Measure
from service.check_ins import service as check_in_service
from service.check_ins.schemas import CheckInCreate
from service.key_results import service
from service.key_results.schemas import KeyResultCreate, KeyResultUpdate
from service.models import CheckIn as CheckInModel
from service.models import KeyResult as KeyResultModel


@strawberry.input(description="A new key result of an objective.")
class KeyResultCreateInput:
    objective_id: strawberry.ID = strawberry.field(description="The objective it measures.")
    title: str = strawberry.field(description="What is measured.")
    owner_person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The person who owns it."
    )
    measure: Measure = strawberry.field(description="Where the current value comes from.")
    metric_id: strawberry.ID | None = strawberry.field(
        default=None, description="The metric, for measure `METRIC`."
    )
    direction: KeyResultDirection = strawberry.field(
        default=KeyResultDirection.INCREASE, description="What reaching the target means."
    )
    start_value: float | None = strawberry.field(default=None, description="Value at the start.")
    target_value: float | None = strawberry.field(default=None, description="Value to reach.")
    unit: str = strawberry.field(default="", description="Unit of the values.")
    weight: float = strawberry.field(default=1.0, description="Weight in the objective, ≥ 0.")


@strawberry.input(description="Changes to a key result; only the fields given change.")
class KeyResultUpdateInput:
    id: strawberry.ID = strawberry.field(description="The key result to change.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    owner_person_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New owner; null clears."
    )
    measure: Measure | None = strawberry.field(default=strawberry.UNSET, description="New measure.")
    metric_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New metric; null clears."
    )
    direction: KeyResultDirection | None = strawberry.field(
        default=strawberry.UNSET, description="New direction."
    )
    start_value: float | None = strawberry.field(
        default=strawberry.UNSET, description="New start value."
    )
    target_value: float | None = strawberry.field(
        default=strawberry.UNSET, description="New target value."
    )
    unit: str | None = strawberry.field(default=strawberry.UNSET, description="New unit.")
    weight: float | None = strawberry.field(default=strawberry.UNSET, description="New weight.")


@strawberry.input(description="The key result to archive.")
class KeyResultArchiveInput:
    id: strawberry.ID = strawberry.field(description="The key result to archive.")


@strawberry.input(description="The key result to bring back.")
class KeyResultUnarchiveInput:
    id: strawberry.ID = strawberry.field(description="The key result to bring back.")


@strawberry.input(description="Move a key result, with its check-ins, to another objective.")
class KeyResultMoveInput:
    id: strawberry.ID = strawberry.field(description="The key result to move.")
    objective_id: strawberry.ID = strawberry.field(description="The objective to move it to.")


@strawberry.input(description="A new check-in: `value`, or `done` for a milestone.")
class CheckInCreateInput:
    key_result_id: strawberry.ID = strawberry.field(description="The key result observed.")
    value: float | None = strawberry.field(default=None, description="Observed value.")
    done: bool | None = strawberry.field(default=None, description="Whether a milestone is done.")
    confidence: float | None = strawberry.field(default=None, description="Confidence, 0 to 1.")
    note: str = strawberry.field(default="", description="Free-text note.")
    author_person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who makes the check-in."
    )
    observed_at: datetime | None = strawberry.field(
        default=None, description="When the value was true (default: now)."
    )


@strawberry.input(description="The check-in to retract.")
class CheckInRetractInput:
    id: strawberry.ID = strawberry.field(description="The check-in to retract.")


@strawberry.type(description="Result of a key result mutation.")
class KeyResultPayload:
    key_result: KeyResult | None = strawberry.field(description="The key result after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


@strawberry.type(description="Result of a check-in mutation.")
class CheckInPayload:
    check_in: CheckIn | None = strawberry.field(description="The check-in after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(KeyResultPayload, "key_result", KeyResult.from_model)
_check_in_payload = payload_of(CheckInPayload, "check_in", CheckIn.from_model)


@strawberry.type
class KeyResultMutations:
    @strawberry.mutation(description="Add a key result to an objective.")
    async def key_result_create(
        self, info: Info[Context, None], input: KeyResultCreateInput
    ) -> KeyResultPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> KeyResultModel:
            data = KeyResultCreate(
                objective_id=decode_id(input.objective_id, "Objective", field="objective_id"),
                title=input.title,
                owner_person_id=decode_optional_id(
                    input.owner_person_id, "Person", field="owner_person_id"
                ),
                measure=raw(input.measure),
                metric_id=decode_optional_id(input.metric_id, "Metric", field="metric_id"),
                direction=raw(input.direction),
                start_value=input.start_value,
                target_value=input.target_value,
                unit=input.unit,
                weight=input.weight,
            )
            return await service.create_key_result(session, org_id, data)

        return await run(info, change, _payload)

    @strawberry.mutation(description="Change a key result (use `keyResultMove` to move it).")
    async def key_result_update(
        self, info: Info[Context, None], input: KeyResultUpdateInput
    ) -> KeyResultPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> KeyResultModel:
            key_result_id = decode_id(input.id, "KeyResult", field="id")
            fields = set_fields(input, "title", "start_value", "target_value", "unit", "weight")
            for name in ("measure", "direction"):
                value = getattr(input, name)
                if value is not strawberry.UNSET:
                    fields[name] = raw(value) if value is not None else None
            if input.owner_person_id is not strawberry.UNSET:
                fields["owner_person_id"] = decode_optional_id(
                    input.owner_person_id, "Person", field="owner_person_id"
                )
            if input.metric_id is not strawberry.UNSET:
                fields["metric_id"] = decode_optional_id(
                    input.metric_id, "Metric", field="metric_id"
                )
            return await service.update_key_result(
                session, org_id, key_result_id, KeyResultUpdate(**fields)
            )

        return await run(info, change, _payload)

    @strawberry.mutation(description="Archive a key result; roll-ups ignore it from then on.")
    async def key_result_archive(
        self, info: Info[Context, None], input: KeyResultArchiveInput
    ) -> KeyResultPayload:
        return await run_by_id(info, service.archive_key_result, input.id, "KeyResult", _payload)

    @strawberry.mutation(description="Bring an archived key result back.")
    async def key_result_unarchive(
        self, info: Info[Context, None], input: KeyResultUnarchiveInput
    ) -> KeyResultPayload:
        return await run_by_id(info, service.unarchive_key_result, input.id, "KeyResult", _payload)

    @strawberry.mutation(description="Move a key result to another objective.")
    async def key_result_move(
        self, info: Info[Context, None], input: KeyResultMoveInput
    ) -> KeyResultPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> KeyResultModel:
            return await service.move_key_result(
                session,
                org_id,
                decode_id(input.id, "KeyResult", field="id"),
                decode_id(input.objective_id, "Objective", field="objective_id"),
            )

        return await run(info, change, _payload)

    @strawberry.mutation(description="Record an observation of a key result.")
    async def check_in_create(
        self, info: Info[Context, None], input: CheckInCreateInput
    ) -> CheckInPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> CheckInModel:
            key_result_id = decode_id(input.key_result_id, "KeyResult", field="key_result_id")
            data = CheckInCreate(
                value=input.value,
                done=input.done,
                confidence=input.confidence,
                note=input.note,
                author_person_id=decode_optional_id(
                    input.author_person_id, "Person", field="author_person_id"
                ),
                source="graphql",
                observed_at=input.observed_at,
            )
            return await check_in_service.create_check_in(session, org_id, key_result_id, data)

        return await run(info, change, _check_in_payload)

    @strawberry.mutation(description="Retract a check-in; it stays, marked, and stops counting.")
    async def check_in_retract(
        self, info: Info[Context, None], input: CheckInRetractInput
    ) -> CheckInPayload:
        return await run_by_id(
            info, check_in_service.retract_check_in, input.id, "CheckIn", _check_in_payload
        )
