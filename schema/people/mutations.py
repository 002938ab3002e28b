import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import UserError
from schema.core.mutation_runner import Refused, mutate, set_fields
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


def _payload(result: PersonModel | Refused) -> PersonPayload:
    if isinstance(result, Refused):
        return PersonPayload(person=None, user_errors=result.errors)
    return PersonPayload(person=Person.from_model(result), user_errors=[])


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(description="Add a person (human, or agent with an accountable human).")
    async def person_create(
        self, info: Info[Context, None], input: PersonCreateInput
    ) -> PersonPayload:
        org_id = info.context.principal.org_id

        async def change(session: AsyncSession) -> PersonModel:
            data = PersonCreate(
                name=input.name,
                email=input.email,
                kind=raw(input.kind),
                accountable_person_id=decode_optional_id(
                    input.accountable_person_id, "Person", field="accountable_person_id"
                ),
            )
            return await service.create_person(session, org_id, data)

        return _payload(await mutate(info, change))

    @strawberry.mutation(description="Change a person.")
    async def person_update(
        self, info: Info[Context, None], input: PersonUpdateInput
    ) -> PersonPayload:
        org_id = info.context.principal.org_id

        async def change(session: AsyncSession) -> PersonModel:
            person_id = decode_id(input.id, "Person", field="id")
            fields = set_fields(input, "name", "email")
            if input.kind is not strawberry.UNSET:
                fields["kind"] = raw(input.kind) if input.kind is not None else None
            if input.accountable_person_id is not strawberry.UNSET:
                fields["accountable_person_id"] = decode_optional_id(
                    input.accountable_person_id, "Person", field="accountable_person_id"
                )
            return await service.update_person(session, org_id, person_id, PersonUpdate(**fields))

        return _payload(await mutate(info, change))

    @strawberry.mutation(description="Archive a person.")
    async def person_archive(
        self, info: Info[Context, None], input: PersonArchiveInput
    ) -> PersonPayload:
        org_id = info.context.principal.org_id

        async def change(session: AsyncSession) -> PersonModel:
            person_id = decode_id(input.id, "Person", field="id")
            return await service.archive_person(session, org_id, person_id)

        return _payload(await mutate(info, change))
