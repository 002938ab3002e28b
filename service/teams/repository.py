import uuid

from sqlalchemy import delete, exists, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Team, TeamMember

# A recursive walk up from the candidate parent: the move makes a cycle exactly when the team
# being moved is the candidate itself or one of its ancestors. UNION (not UNION ALL) stops even
# on a corrupt, already cyclic chain.
_ANCESTOR_OR_SELF = text(
    """
    WITH RECURSIVE chain(id, parent_team_id) AS (
        SELECT id, parent_team_id FROM teams WHERE org_id = :org_id AND id = :start_id
        UNION
        SELECT t.id, t.parent_team_id
        FROM teams t JOIN chain c ON t.id = c.parent_team_id
        WHERE t.org_id = :org_id
    )
    SELECT EXISTS (SELECT 1 FROM chain WHERE id = :team_id)
    """
)

_SUBTREE = text(
    """
    WITH RECURSIVE subtree(id) AS (
        SELECT id FROM teams WHERE org_id = :org_id AND id = :team_id
        UNION
        SELECT t.id FROM teams t JOIN subtree s ON t.parent_team_id = s.id
        WHERE t.org_id = :org_id
    )
    SELECT id FROM subtree
    """
)


async def lock_tree(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Serialise re-parentings of one organization's team tree until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"lodestar.teams.tree:{org_id}"},
    )


async def is_ancestor_or_self(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, of_team_id: uuid.UUID
) -> bool:
    """Whether `team_id` is `of_team_id` or one of its ancestors."""
    result = await session.scalar(
        _ANCESTOR_OR_SELF, {"org_id": org_id, "start_id": of_team_id, "team_id": team_id}
    )
    return bool(result)


async def subtree_ids(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID
) -> list[uuid.UUID]:
    """The team and all its descendants."""
    result = await session.execute(_SUBTREE, {"org_id": org_id, "team_id": team_id})
    return list(result.scalars())


async def has_active_children(session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID) -> bool:
    query = select(Team.id).where(
        Team.org_id == org_id, Team.parent_team_id == team_id, Team.archived_at.is_(None)
    )
    return bool(await session.scalar(select(exists(query))))


async def add_member(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, person_id: uuid.UUID
) -> bool:
    """Insert the membership; False when it already existed."""
    result = await session.execute(
        insert(TeamMember)
        .values(org_id=org_id, team_id=team_id, person_id=person_id)
        .on_conflict_do_nothing(index_elements=[TeamMember.team_id, TeamMember.person_id])
        .returning(TeamMember.team_id)
    )
    return result.scalar_one_or_none() is not None


async def remove_member(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID, person_id: uuid.UUID
) -> bool:
    """Delete the membership; False when there was none."""
    result = await session.execute(
        delete(TeamMember)
        .where(
            TeamMember.org_id == org_id,
            TeamMember.team_id == team_id,
            TeamMember.person_id == person_id,
        )
        .returning(TeamMember.team_id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None
