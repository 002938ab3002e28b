import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.errors import UserError
from schema.core.mutation_runner import Refused, payload_of, run, run_by_id, set_fields
from schema.core.relay import decode_id, decode_optional_id
from schema.people.types import Person
from schema.teams.types import Team
from service.models import Person as PersonModel
from service.models import Team as TeamModel
from service.teams import service
from service.teams.schemas import TeamCreate, TeamUpdate


@strawberry.input(description="A new team.")
class TeamCreateInput:
    name: str = strawberry.field(description="Display name.")
    parent_team_id: strawberry.ID | None = strawberry.field(
        default=None, description="The team it belongs to."
    )


@strawberry.input(description="Changes to a team; only the fields given change.")
class TeamUpdateInput:
    id: strawberry.ID = strawberry.field(description="The team to change.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    parent_team_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The team it belongs to; null makes it a root."
    )


@strawberry.input(description="The team to archive.")
class TeamArchiveInput:
    id: strawberry.ID = strawberry.field(description="The team to archive.")


@strawberry.input(description="A person and a team.")
class TeamMemberInput:
    team_id: strawberry.ID = strawberry.field(description="The team.")
    person_id: strawberry.ID = strawberry.field(description="The person.")


@strawberry.type(description="Result of a team mutation.")
class TeamPayload:
    team: Team | None = strawberry.field(description="The team after the change.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


@strawberry.type(description="Result of a team membership mutation.")
class TeamMemberPayload:
    team: Team | None = strawberry.field(description="The team after the change.")
    person: Person | None = strawberry.field(description="The person after the change.")
    changed: bool = strawberry.field(
        description="False when the membership already was as asked (nothing written)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(TeamPayload, "team", Team.from_model)


def _member_payload(
    result: tuple[TeamModel, PersonModel, bool] | Refused,
) -> TeamMemberPayload:
    if isinstance(result, Refused):
        return TeamMemberPayload(team=None, person=None, changed=False, user_errors=result.errors)
    team, person, changed = result
    return TeamMemberPayload(
        team=Team.from_model(team),
        person=Person.from_model(person),
        changed=changed,
        user_errors=[],
    )


@strawberry.type
class TeamMutations:
    @strawberry.mutation(description="Create a team, optionally under a parent team.")
    async def team_create(self, info: Info[Context, None], input: TeamCreateInput) -> TeamPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> TeamModel:
            parent_id = decode_optional_id(input.parent_team_id, "Team", field="parent_team_id")
            data = TeamCreate(name=input.name, parent_team_id=parent_id)
            return await service.create_team(session, org_id, data)

        return await run(info, change, _payload)

    @strawberry.mutation(description="Rename a team or move it in the tree (no cycles).")
    async def team_update(self, info: Info[Context, None], input: TeamUpdateInput) -> TeamPayload:
        async def change(session: AsyncSession, org_id: uuid.UUID) -> TeamModel:
            team_id = decode_id(input.id, "Team", field="id")
            fields = set_fields(input, "name")
            if input.parent_team_id is not strawberry.UNSET:
                fields["parent_team_id"] = decode_optional_id(
                    input.parent_team_id, "Team", field="parent_team_id"
                )
            return await service.update_team(session, org_id, team_id, TeamUpdate(**fields))

        return await run(info, change, _payload)

    @strawberry.mutation(description="Archive a team without active sub-teams.")
    async def team_archive(self, info: Info[Context, None], input: TeamArchiveInput) -> TeamPayload:
        return await run_by_id(info, service.archive_team, input.id, "Team", _payload)

    @strawberry.mutation(description="Make a person a member of a team.")
    async def team_member_add(
        self, info: Info[Context, None], input: TeamMemberInput
    ) -> TeamMemberPayload:
        return await _membership(info, input, member=True)

    @strawberry.mutation(description="Remove a person from a team.")
    async def team_member_remove(
        self, info: Info[Context, None], input: TeamMemberInput
    ) -> TeamMemberPayload:
        return await _membership(info, input, member=False)


async def _membership(
    info: Info[Context, None], input: TeamMemberInput, *, member: bool
) -> TeamMemberPayload:
    async def change(
        session: AsyncSession, org_id: uuid.UUID
    ) -> tuple[TeamModel, PersonModel, bool]:
        team_id = decode_id(input.team_id, "Team", field="team_id")
        person_id = decode_id(input.person_id, "Person", field="person_id")
        return await service.change_membership(session, org_id, team_id, person_id, member=member)

    return await run(info, change, _member_payload)
