from datetime import date

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.errors import UserError
from schema.core.mutation_runner import Refused, mutate, set_fields
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


def _payload(result: CycleModel | Refused) -> CyclePayload:
    if isinstance(result, Refused):
        return CyclePayload(cycle=None, user_errors=result.errors)
    return CyclePayload(cycle=Cycle.from_model(result), user_errors=[])


@strawberry.type
class CycleMutations:
    @strawberry.mutation(description="Create a cycle, optionally inside a parent cycle.")
    async def cycle_create(
        self, info: Info[Context, None], input: CycleCreateInput
    ) -> CyclePayload:
        org_id = info.context.principal.org_id

        async def change(session: AsyncSession) -> CycleModel:
            parent_id = decode_optional_id(input.parent_cycle_id, "Cycle", field="parent_cycle_id")
            data = CycleCreate(
                name=input.name,
                starts_on=input.starts_on,
                ends_on=input.ends_on,
                parent_cycle_id=parent_id,
            )
            return await service.create_cycle(session, org_id, data)

        return _payload(await mutate(info, change))

    @strawberry.mutation(description="Change a cycle's name, dates or parent.")
    async def cycle_update(
        self, info: Info[Context, None], input: CycleUpdateInput
    ) -> CyclePayload:
        org_id = info.context.principal.org_id

        async def change(session: AsyncSession) -> CycleModel:
            cycle_id = decode_id(input.id, "Cycle", field="id")
            fields = set_fields(input, "name", "starts_on", "ends_on")
            if input.parent_cycle_id is not strawberry.UNSET:
                fields["parent_cycle_id"] = decode_optional_id(
                    input.parent_cycle_id, "Cycle", field="parent_cycle_id"
                )
            return await service.update_cycle(session, org_id, cycle_id, CycleUpdate(**fields))

        return _payload(await mutate(info, change))

    @strawberry.mutation(description="Archive a cycle.")
    async def cycle_archive(
        self, info: Info[Context, None], input: CycleArchiveInput
    ) -> CyclePayload:
        org_id = info.context.principal.org_id

        async def change(session: AsyncSession) -> CycleModel:
            return await service.archive_cycle(
                session, org_id, decode_id(input.id, "Cycle", field="id")
            )

        return _payload(await mutate(info, change))
