import uuid
from collections.abc import Collection

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Person, PersonKind

EMAIL_UNIQUE_INDEX = "uq_people_org_id_email"


async def get(session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID) -> Person | None:
    result = await session.execute(
        select(Person).where(Person.org_id == org_id, Person.id == person_id)
    )
    return result.scalar_one_or_none()


async def list_by_ids(
    session: AsyncSession, org_id: uuid.UUID, person_ids: Collection[uuid.UUID]
) -> list[Person]:
    if not person_ids:
        return []
    result = await session.execute(
        select(Person).where(Person.org_id == org_id, Person.id.in_(list(person_ids)))
    )
    return list(result.scalars())


async def list_for_org(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    kind: PersonKind | None = None,
    include_archived: bool = False,
) -> list[Person]:
    query = select(Person).where(Person.org_id == org_id)
    if kind is not None:
        query = query.where(Person.kind == kind.value)
    if not include_archived:
        query = query.where(Person.archived_at.is_(None))
    result = await session.execute(query.order_by(Person.name, Person.id))
    return list(result.scalars())


async def email_taken(
    session: AsyncSession, org_id: uuid.UUID, email: str, *, except_id: uuid.UUID | None = None
) -> bool:
    """Whether another person of the organization has this email, ignoring case."""
    query = select(Person.id).where(
        Person.org_id == org_id, func.lower(Person.email) == email.lower()
    )
    if except_id is not None:
        query = query.where(Person.id != except_id)
    return bool(await session.scalar(select(exists(query))))


async def has_active_agents(session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    """Whether a non-archived agent names this person as its accountable human."""
    query = select(Person.id).where(
        Person.org_id == org_id,
        Person.accountable_person_id == person_id,
        Person.kind == PersonKind.agent.value,
        Person.archived_at.is_(None),
    )
    return bool(await session.scalar(select(exists(query))))


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reported, if the driver tells us."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    return name if isinstance(name, str) else None
