import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Person, PersonKind

EMAIL_UNIQUE_INDEX = "uq_people_org_id_email"


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
