import uuid
from datetime import date, datetime
from functools import partial

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.commitments.types import Commitment
from schema.core.context import Context
from schema.core.errors import UserError
from schema.core.mutation_runner import payload_of, run, run_by_id, set_fields
from schema.core.relay import decode_id
from service.commitments import service
from service.commitments.schemas import CommitmentCreate, CommitmentUpdate
from service.models import Commitment as CommitmentModel


@strawberry.input(description="A new open commitment, owned by exactly one person.")
class CommitmentCreateInput:
    title: str = strawberry.field(description="What will be delivered.")
    success_criteria: str = strawberry.field(description="What done means.")
    owner_person_id: strawberry.ID = strawberry.field(description="The one owner (not a team).")
    due_on: date = strawberry.field(description="Due date.")
    key_result_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Key results it supports."
    )


@strawberry.input(description="Changes to an open commitment; only the fields given change.")
class CommitmentUpdateInput:
    id: strawberry.ID = strawberry.field(description="The commitment to change.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    success_criteria: str | None = strawberry.field(
        default=strawberry.UNSET, description="New definition of done."
    )
    owner_person_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New owner."
    )
    due_on: date | None = strawberry.field(default=strawberry.UNSET, description="New due date.")
    key_result_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Replace the key results it supports."
    )


@strawberry.input(description="Mark a commitment done.")
class CommitmentCompleteInput:
    id: strawberry.ID = strawberry.field(description="The commitment done.")
    done_at: datetime | None = strawberry.field(
        default=None, description="When it was done (default: now; not in the future)."
    )
    evidence_url: str | None = strawberry.field(
        default=None, description="Link to evidence of delivery."
    )


@strawberry.input(description="A commitment to drop or reopen.")
class CommitmentStateInput:
    id: strawberry.ID = strawberry.field(description="The commitment.")


@strawberry.type(description="Result of a commitment mutation.")
class CommitmentPayload:
    commitment: Commitment | None = strawberry.field(description="The commitment after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(CommitmentPayload, "commitment", Commitment.from_model)


@strawberry.type
class CommitmentMutations:
    @strawberry.mutation(description="Commit a person to a deliverable supporting key results.")
    async def commitment_create(
        self, info: Info[Context, None], input: CommitmentCreateInput
    ) -> CommitmentPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> CommitmentModel:
            data = CommitmentCreate(
                title=input.title,
                success_criteria=input.success_criteria,
                owner_person_id=decode_id(input.owner_person_id, "Person", field="owner_person_id"),
                due_on=input.due_on,
                key_result_ids=[
                    decode_id(id, "KeyResult", field="key_result_ids")
                    for id in input.key_result_ids
                ],
            )
            return await service.create_commitment(session, org_id, data)

        return await run(info, change, _payload)

    @strawberry.mutation(description="Change an open commitment.")
    async def commitment_update(
        self, info: Info[Context, None], input: CommitmentUpdateInput
    ) -> CommitmentPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> CommitmentModel:
            commitment_id = decode_id(input.id, "Commitment", field="id")
            fields = set_fields(input, "title", "success_criteria", "due_on")
            if input.owner_person_id is not strawberry.UNSET:
                fields["owner_person_id"] = (
                    decode_id(input.owner_person_id, "Person", field="owner_person_id")
                    if input.owner_person_id is not None
                    else None
                )
            key_result_ids = None
            if input.key_result_ids is not strawberry.UNSET:
                key_result_ids = [
                    decode_id(id, "KeyResult", field="key_result_ids")
                    for id in input.key_result_ids or []
                ]
            return await service.update_commitment_and_key_results(
                session, org_id, commitment_id, CommitmentUpdate(**fields), key_result_ids
            )

        return await run(info, change, _payload)

    @strawberry.mutation(description="Mark an open commitment done, with optional evidence.")
    async def commitment_complete(
        self, info: Info[Context, None], input: CommitmentCompleteInput
    ) -> CommitmentPayload:
        complete = partial(
            service.complete_commitment, done_at=input.done_at, evidence_url=input.evidence_url
        )
        return await run_by_id(info, complete, input.id, "Commitment", _payload)

    @strawberry.mutation(description="Drop an open commitment (the archive of commitments).")
    async def commitment_drop(
        self, info: Info[Context, None], input: CommitmentStateInput
    ) -> CommitmentPayload:
        return await run_by_id(info, service.drop_commitment, input.id, "Commitment", _payload)

    @strawberry.mutation(description="Reopen a done or dropped commitment.")
    async def commitment_reopen(
        self, info: Info[Context, None], input: CommitmentStateInput
    ) -> CommitmentPayload:
        return await run_by_id(info, service.reopen_commitment, input.id, "Commitment", _payload)
