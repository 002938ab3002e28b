"""Teams: a tree (no cycles) of teams, and their members.

Re-parenting takes a transaction-scoped advisory lock on the organization's team tree before
it checks for a cycle, so two concurrent moves (A under B, B under A) cannot both pass the
check: the second waits for the first to commit and then sees its result.

Membership is idempotent: adding a member twice, or removing a non-member, succeeds without
changing anything and emits no event. Both the team and the person must belong to the
organization (else NotFound) and not be archived when added.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.db import outbox
from service.errors import Conflict, CycleDetected, ErrorCode, Invalid, NotFound
from service.events.catalog import EventType
from service.models import Person, Team
from service.people import repository as people_repository
from service.people import service as people_service
from service.teams import repository
from service.teams.schemas import TeamCreate, TeamUpdate


def team_payload(team: Team) -> dict[str, Any]:
    return {
        "id": str(team.id),
        "name": team.name,
        "parent_team_id": str(team.parent_team_id) if team.parent_team_id else None,
        "archived_at": team.archived_at.isoformat() if team.archived_at else None,
    }


def membership_payload(team_id: uuid.UUID, person_id: uuid.UUID) -> dict[str, Any]:
    return {"team_id": str(team_id), "person_id": str(person_id)}


def clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("name must be 1 to 200 characters", field="name")
    return name


async def _usable_parent(
    session: AsyncSession, org_id: uuid.UUID, parent_team_id: uuid.UUID
) -> Team:
    parent = await repository.get(session, org_id, parent_team_id)
    if parent is None:
        raise NotFound("parent team not found", field="parent_team_id")
    if parent.archived_at is not None:
        raise Invalid(
            "the parent team is archived", field="parent_team_id", code=ErrorCode.INVALID_STATE
        )
    return parent


async def create_team(session: AsyncSession, org_id: uuid.UUID, data: TeamCreate) -> Team:
    name = clean_name(data.name)
    if data.parent_team_id is not None:
        # A new team has no descendants, so no parent can close a cycle through it.
        await _usable_parent(session, org_id, data.parent_team_id)
    team = Team(org_id=org_id, name=name, parent_team_id=data.parent_team_id)
    session.add(team)
    await session.flush()
    await outbox.emit(session, org_id, EventType.TEAM_CREATED, team.id, team_payload(team))
    return team


async def get_team(session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID) -> Team:
    team = await repository.get(session, org_id, team_id)
    if team is None:
        raise NotFound("team not found", field="id")
    return team


async def list_teams(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    parent_team_id: uuid.UUID | None = None,
    roots_only: bool = False,
    include_archived: bool = False,
) -> list[Team]:
    return await repository.list_for_org(
        session,
        org_id,
        parent_team_id=parent_team_id,
        roots_only=roots_only,
        include_archived=include_archived,
    )


async def teams_by_ids(
    session: AsyncSession, org_id: uuid.UUID, team_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Team]:
    """Teams of the organization among `team_ids`, for batched loading; others are absent."""
    return {team.id: team for team in await repository.list_by_ids(session, org_id, team_ids)}


async def subtree_ids(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID
) -> list[uuid.UUID]:
    """The team and every team below it (for roll-ups that include sub-teams)."""
    await get_team(session, org_id, team_id)
    return await repository.subtree_ids(session, org_id, team_id)


async def _reparent(
    session: AsyncSession, org_id: uuid.UUID, team: Team, parent_team_id: uuid.UUID | None
) -> None:
    if parent_team_id == team.parent_team_id:
        return
    if parent_team_id is None:
        team.parent_team_id = None
        return
    if parent_team_id == team.id:
        raise CycleDetected("a team cannot be its own parent", field="parent_team_id")
    await _usable_parent(session, org_id, parent_team_id)
    # The lock comes before the check: a concurrent move committed while we waited is seen by
    # the check's fresh READ COMMITTED snapshot.
    await repository.lock_tree(session, org_id)
    if await repository.is_ancestor_or_self(session, org_id, team.id, parent_team_id):
        raise CycleDetected("the new parent is below this team in the tree", field="parent_team_id")
    team.parent_team_id = parent_team_id


async def update_team(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, data: TeamUpdate
) -> Team:
    team = await get_team(session, org_id, team_id)
    changes = data.model_fields_set
    if "name" in changes:
        if data.name is None:
            raise Invalid("name cannot be empty", field="name", code=ErrorCode.REQUIRED)
        name = clean_name(data.name)
    else:
        name = team.name
    if "parent_team_id" in changes:
        await _reparent(session, org_id, team, data.parent_team_id)
    team.name = name
    await session.flush()
    await outbox.emit(session, org_id, EventType.TEAM_UPDATED, team.id, team_payload(team))
    return team


async def set_parent(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, parent_team_id: uuid.UUID | None
) -> Team:
    """Move a team under `parent_team_id` (None: make it a root). Refuses cycles."""
    return await update_team(session, org_id, team_id, TeamUpdate(parent_team_id=parent_team_id))


async def archive_team(session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID) -> Team:
    """Archive a team; archiving an archived team changes nothing and emits nothing.

    Refused while the team has non-archived sub-teams: move or archive them first.
    """
    team = await get_team(session, org_id, team_id)
    if team.archived_at is not None:
        return team
    if await repository.has_active_children(session, org_id, team.id):
        raise Conflict("the team has active sub-teams; move or archive them first", field="id")
    team.archived_at = datetime.now(UTC)
    await session.flush()
    await outbox.emit(session, org_id, EventType.TEAM_ARCHIVED, team.id, team_payload(team))
    return team


async def change_membership(
    session: AsyncSession,
    org_id: uuid.UUID,
    team_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    member: bool,
) -> tuple[Team, Person, bool]:
    """`add_member` (or `remove_member` when not `member`), then the team, the person and
    whether the membership changed."""
    operation = add_member if member else remove_member
    changed = await operation(session, org_id, team_id, person_id)
    team = await get_team(session, org_id, team_id)
    person = await people_service.get_person(session, org_id, person_id)
    return team, person, changed


async def _team_and_person(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, person_id: uuid.UUID
) -> tuple[Team, Person]:
    team = await repository.get(session, org_id, team_id)
    if team is None:
        raise NotFound("team not found", field="team_id")
    person = await people_repository.get(session, org_id, person_id)
    if person is None:
        raise NotFound("person not found", field="person_id")
    return team, person


async def add_member(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, person_id: uuid.UUID
) -> bool:
    """Make the person a member of the team. Idempotent: returns False if already a member."""
    team, person = await _team_and_person(session, org_id, team_id, person_id)
    if team.archived_at is not None:
        raise Invalid("the team is archived", field="team_id", code=ErrorCode.INVALID_STATE)
    if person.archived_at is not None:
        raise Invalid("the person is archived", field="person_id", code=ErrorCode.INVALID_STATE)
    added = await repository.add_member(session, org_id, team_id, person_id)
    if added:
        await outbox.emit(
            session,
            org_id,
            EventType.TEAM_MEMBER_ADDED,
            team_id,
            membership_payload(team_id, person_id),
        )
    return added


async def remove_member(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, person_id: uuid.UUID
) -> bool:
    """Remove the person from the team. Idempotent: returns False if not a member."""
    await _team_and_person(session, org_id, team_id, person_id)
    removed = await repository.remove_member(session, org_id, team_id, person_id)
    if removed:
        await outbox.emit(
            session,
            org_id,
            EventType.TEAM_MEMBER_REMOVED,
            team_id,
            membership_payload(team_id, person_id),
        )
    return removed


async def list_members(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID
) -> list[Person]:
    await get_team(session, org_id, team_id)
    return (await repository.members_by_team(session, org_id, [team_id]))[team_id]


async def list_teams_of_person(
    session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID
) -> list[Team]:
    if await people_repository.get(session, org_id, person_id) is None:
        raise NotFound("person not found", field="id")
    return (await repository.teams_by_person(session, org_id, [person_id]))[person_id]


async def members_by_team(
    session: AsyncSession, org_id: uuid.UUID, team_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Person]]:
    """Members of several teams in one query (for dataloaders)."""
    return await repository.members_by_team(session, org_id, team_ids)


async def teams_by_person(
    session: AsyncSession, org_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Team]]:
    """Teams of several people in one query (for dataloaders)."""
    return await repository.teams_by_person(session, org_id, person_ids)
