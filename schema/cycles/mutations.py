import uuid
from datetime import date

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.errors import UserError
from schema.core.mutation_runner import payload_of, run, run_by_id, set_fields
from schema.core.relay import decode_id, decode_optional_id
from schema.cycles.types import Cycle
from service.cycles import service
from service.cycles.schemas import CycleCreate, CycleUpdate
from service.models import Cycle as CycleModel


@strawberry.input(description="A new cycle; both dates are inclusive.")
class CycleCreateInput:
    name: str = strawberry.field(description="Display name, unique in the organization.")
    starts_on: date = strawberry.field(description="First day.")
    ends_on: date = strawberry.field(description="Last day (inclusive).")
    parent_cycle_id: strawberry.ID | None = strawberry.field(
        default=None, description="The cycle that contains it."
    )


@strawberry.input(description="Changes to a cycle; only the fields given change.")
class CycleUpdateInput:
    id: strawberry.ID = strawberry.field(description="The cycle to change.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    starts_on: date | None = strawberry.field(default=strawberry.UNSET, description="First day.")
    ends_on: date | None = strawberry.field(default=strawberry.UNSET, description="Last day.")
    parent_cycle_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The cycle that contains it; null detaches."
    )


@strawberry.input(description="The cycle to archive.")
class CycleArchiveInput:
    id: strawberry.ID = strawberry.field(description="The cycle to archive.")


@strawberry.type(description="Result of a cycle mutation.")
class CyclePayload:
    cycle: Cycle | None = strawberry.field(description="The cycle after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(CyclePayload, "cycle", Cycle.from_model)


@strawberry.type
class CycleMutations:
    @strawberry.mutation(description="Create a cycle, optionally inside a parent cycle.")
    async def cycle_create(
        self, info: Info[Context, None], input: CycleCreateInput
    ) -> CyclePayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> CycleModel:
            parent_id = decode_optional_id(input.parent_cycle_id, "Cycle", field="parent_cycle_id")
            data = CycleCreate(
                name=input.name,
                starts_on=input.starts_on,
                ends_on=input.ends_on,
                parent_cycle_id=parent_id,
            )
            return await service.create_cycle(session, org_id, data)

        return await run(info, change, _payload)

    @strawberry.mutation(description="Change a cycle's name, dates or parent.")
    async def cycle_update(
        self, info: Info[Context, None], input: CycleUpdateInput
    ) -> CyclePayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> CycleModel:
            cycle_id = decode_id(input.id, "Cycle", field="id")
            fields = set_fields(input, "name", "starts_on", "ends_on")
            if input.parent_cycle_id is not strawberry.UNSET:
                fields["parent_cycle_id"] = decode_optional_id(
                    input.parent_cycle_id, "Cycle", field="parent_cycle_id"
                )
            return await service.update_cycle(session, org_id, cycle_id, CycleUpdate(**fields))

        return await run(info, change, _payload)

    @strawberry.mutation(description="Archive a cycle.")
    async def cycle_archive(
        self, info: Info[Context, None], input: CycleArchiveInput
    ) -> CyclePayload:
        return await run_by_id(info, service.archive_cycle, input.id, "Cycle", _payload)
