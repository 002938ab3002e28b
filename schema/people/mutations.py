import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import UserError
from schema.core.mutation_runner import payload_of, run, run_by_id, set_fields
from schema.core.relay import decode_id, decode_optional_id
from schema.people.types import Person, PersonKind
from service.models import Person as PersonModel
from service.people import service
from service.people.schemas import PersonCreate, PersonUpdate


@strawberry.input(description="A new person.")
class PersonCreateInput:
    name: str = strawberry.field(description="Display name.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    kind: PersonKind = strawberry.field(default=PersonKind.HUMAN, description="Human or agent.")
    accountable_person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The accountable human; required for an agent."
    )


@strawberry.input(description="Changes to a person; only the fields given change.")
class PersonUpdateInput:
    id: strawberry.ID = strawberry.field(description="The person to change.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="E-mail address; null clears it."
    )
    kind: PersonKind | None = strawberry.field(
        default=strawberry.UNSET, description="Human or agent."
    )
    accountable_person_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The accountable human."
    )


@strawberry.input(description="The person to archive.")
class PersonArchiveInput:
    id: strawberry.ID = strawberry.field(description="The person to archive.")


@strawberry.type(description="Result of a person mutation.")
class PersonPayload:
    person: Person | None = strawberry.field(description="The person after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(PersonPayload, "person", Person.from_model)


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(description="Add a person (human, or agent with an accountable human).")
    async def person_create(
        self, info: Info[Context, None], input: PersonCreateInput
    ) -> PersonPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> PersonModel:
            data = PersonCreate(
                name=input.name,
                email=input.email,
                kind=raw(input.kind),
                accountable_person_id=decode_optional_id(
                    input.accountable_person_id, "Person", field="accountable_person_id"
                ),
            )
            return await service.create_person(session, org_id, data)

        return await run(info, change, _payload)

    @strawberry.mutation(description="Change a person.")
    async def person_update(
        self, info: Info[Context, None], input: PersonUpdateInput
    ) -> PersonPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> PersonModel:
            person_id = decode_id(input.id, "Person", field="id")
            fields = set_fields(input, "name", "email")
            if input.kind is not strawberry.UNSET:
                fields["kind"] = raw(input.kind) if input.kind is not None else None
            if input.accountable_person_id is not strawberry.UNSET:
                fields["accountable_person_id"] = decode_optional_id(
                    input.accountable_person_id, "Person", field="accountable_person_id"
                )
            return await service.update_person(session, org_id, person_id, PersonUpdate(**fields))

        return await run(info, change, _payload)

    @strawberry.mutation(description="Archive a person.")
    async def person_archive(
        self, info: Info[Context, None], input: PersonArchiveInput
    ) -> PersonPayload:
        return await run_by_id(info, service.archive_person, input.id, "Person", _payload)
