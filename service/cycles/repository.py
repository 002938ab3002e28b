import uuid
from datetime import date

from sqlalchemy import exists, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Cycle

NAME_UNIQUE_CONSTRAINT = "uq_cycles_org_id_name"

# Walk up from the candidate parent; the move closes a cycle exactly when the cycle being
# moved is met on the way. UNION stops even on an already cyclic chain.
_ANCESTOR_OR_SELF = text(
    """
    WITH RECURSIVE chain(id, parent_cycle_id) AS (
        SELECT id, parent_cycle_id FROM cycles WHERE org_id = :org_id AND id = :start_id
        UNION
        SELECT c.id, c.parent_cycle_id
        FROM cycles c JOIN chain ch ON c.id = ch.parent_cycle_id
        WHERE c.org_id = :org_id
    )
    SELECT EXISTS (SELECT 1 FROM chain WHERE id = :cycle_id)
    """
)


async def lock_tree(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Serialise re-parentings of one organization's cycles until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"lodestar.cycles.tree:{org_id}"},
    )


async def is_ancestor_or_self(
    session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID, of_cycle_id: uuid.UUID
) -> bool:
    """Whether `cycle_id` is `of_cycle_id` or one of its ancestors."""
    result = await session.scalar(
        _ANCESTOR_OR_SELF, {"org_id": org_id, "start_id": of_cycle_id, "cycle_id": cycle_id}
    )
    return bool(result)


async def name_taken(
    session: AsyncSession, org_id: uuid.UUID, name: str, *, except_id: uuid.UUID | None = None
) -> bool:
    query = select(Cycle.id).where(Cycle.org_id == org_id, Cycle.name == name)
    if except_id is not None:
        query = query.where(Cycle.id != except_id)
    return bool(await session.scalar(select(exists(query))))


async def has_child_outside(
    session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID, starts_on: date, ends_on: date
) -> bool:
    """Whether a child cycle (archived or not) reaches outside [starts_on, ends_on]."""
    query = select(Cycle.id).where(
        Cycle.org_id == org_id,
        Cycle.parent_cycle_id == cycle_id,
        or_(Cycle.starts_on < starts_on, Cycle.ends_on > ends_on),
    )
    return bool(await session.scalar(select(exists(query))))


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reported, if the driver tells us."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    return name if isinstance(name, str) else None
