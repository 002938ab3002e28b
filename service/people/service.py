"""People: humans and agents. Every agent answers to an accountable, non-archived human.

Rules kept here (the database backs the structural ones):
- name is trimmed and 1–200 characters; email is optional, trimmed, unique per organization
  ignoring case (a blank email means none);
- an `agent` names an accountable person who is a human of the same organization and not
  archived; a human may name one too, never itself;
- no change may leave an agent without its accountable human: clearing it, turning the
  accountable human into an agent, or archiving that human while it still answers for active
  agents are all refused.
"""

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import outbox
from service.errors import Conflict, DomainError, ErrorCode, Invalid
from service.events.catalog import EventType
from service.kit import rows
from service.models import Person, PersonKind
from service.people import repository
from service.people.schemas import PersonCreate, PersonUpdate

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_EMAIL_LENGTH = 320


def person_payload(person: Person) -> dict[str, Any]:
    return {
        "id": str(person.id),
        "name": person.name,
        "email": person.email,
        "kind": person.kind,
        "accountable_person_id": (
            str(person.accountable_person_id) if person.accountable_person_id else None
        ),
        "archived_at": person.archived_at.isoformat() if person.archived_at else None,
    }


def clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("name must be 1 to 200 characters", field="name")
    return name


def clean_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise Invalid("email must look like name@domain", field="email")
    return email


async def _check_email_free(
    session: AsyncSession, org_id: uuid.UUID, email: str | None, except_id: uuid.UUID | None
) -> None:
    if email is not None and await repository.email_taken(
        session, org_id, email, except_id=except_id
    ):
        raise DomainError(
            "another person of this organization has this email",
            field="email",
            code=ErrorCode.DUPLICATE,
        )


async def _check_accountable(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    person_id: uuid.UUID | None,
    kind: PersonKind,
    accountable_person_id: uuid.UUID | None,
) -> None:
    field = "accountable_person_id"
    if accountable_person_id is None:
        if kind is PersonKind.agent:
            raise Invalid(
                "an agent must name an accountable human", field=field, code=ErrorCode.REQUIRED
            )
        return
    if accountable_person_id == person_id:
        raise Invalid("a person cannot be accountable for itself", field=field)
    accountable = await rows.get_one(
        session, Person, org_id, accountable_person_id, what="accountable person", field=field
    )
    if accountable.kind != PersonKind.human:
        raise Invalid(
            "the accountable person must be a human", field=field, code=ErrorCode.WRONG_OWNER
        )
    if accountable.archived_at is not None:
        raise Invalid(
            "the accountable person is archived", field=field, code=ErrorCode.INVALID_STATE
        )


async def _flush(session: AsyncSession) -> None:
    """Flush, turning a lost race on the email index into the same DUPLICATE error."""
    try:
        await session.flush()
    except IntegrityError as error:
        if repository.violated_constraint(error) == repository.EMAIL_UNIQUE_INDEX:
            raise DomainError(
                "another person of this organization has this email",
                field="email",
                code=ErrorCode.DUPLICATE,
            ) from error
        raise


async def create_person(session: AsyncSession, org_id: uuid.UUID, data: PersonCreate) -> Person:
    name = clean_name(data.name)
    email = clean_email(data.email)
    await _check_accountable(
        session,
        org_id,
        person_id=None,
        kind=data.kind,
        accountable_person_id=data.accountable_person_id,
    )
    await _check_email_free(session, org_id, email, None)
    person = Person(
        org_id=org_id,
        name=name,
        email=email,
        kind=data.kind.value,
        accountable_person_id=data.accountable_person_id,
    )
    session.add(person)
    await _flush(session)
    await outbox.emit(session, org_id, EventType.PERSON_CREATED, person.id, person_payload(person))
    return person


async def get_person(session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    return await rows.get_one(session, Person, org_id, person_id, what="person")


async def update_person(
    session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID, data: PersonUpdate
) -> Person:
    person = await get_person(session, org_id, person_id)
    changes = data.model_fields_set

    name = clean_name(data.name) if "name" in changes and data.name is not None else person.name
    if "name" in changes and data.name is None:
        raise Invalid("name cannot be empty", field="name", code=ErrorCode.REQUIRED)
    email = clean_email(data.email) if "email" in changes else person.email
    if "kind" in changes and data.kind is None:
        raise Invalid("kind cannot be empty", field="kind", code=ErrorCode.REQUIRED)
    kind = data.kind if "kind" in changes and data.kind is not None else PersonKind(person.kind)
    accountable_person_id = (
        data.accountable_person_id
        if "accountable_person_id" in changes
        else person.accountable_person_id
    )

    if (
        "accountable_person_id" in changes
        and accountable_person_id is None
        and kind is PersonKind.agent
    ):
        raise Invalid(
            "an agent cannot lose its accountable human; name another one instead",
            field="accountable_person_id",
            code=ErrorCode.REQUIRED,
        )
    if accountable_person_id != person.accountable_person_id or kind.value != person.kind:
        await _check_accountable(
            session,
            org_id,
            person_id=person.id,
            kind=kind,
            accountable_person_id=accountable_person_id,
        )
    if (
        kind is PersonKind.agent
        and person.kind == PersonKind.human
        and await repository.has_active_agents(session, org_id, person.id)
    ):
        raise Conflict(
            "this person is accountable for agents; an agent cannot be accountable",
            field="kind",
        )
    if email is not None and (person.email is None or email.lower() != person.email.lower()):
        await _check_email_free(session, org_id, email, person.id)

    person.name = name
    person.email = email
    person.kind = kind.value
    person.accountable_person_id = accountable_person_id
    await _flush(session)
    await outbox.emit(session, org_id, EventType.PERSON_UPDATED, person.id, person_payload(person))
    return person


async def archive_person(session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID) -> Person:
    """Archive a person; archiving an archived person changes nothing and emits nothing.

    Refused while the person is the accountable human of a non-archived agent.
    """
    person = await get_person(session, org_id, person_id)
    if person.archived_at is not None:
        return person
    if await repository.has_active_agents(session, org_id, person.id):
        raise Conflict(
            "this person is accountable for active agents; name another accountable human first",
            field="id",
        )
    person.archived_at = datetime.now(UTC)
    await session.flush()
    await outbox.emit(session, org_id, EventType.PERSON_ARCHIVED, person.id, person_payload(person))
    return person
