"""Input checks shared by the goal domains: titles, descriptions, weights, page sizes and
references to other rows of the organization (owners, cycles, metrics)."""

import math
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.models import Cycle, Metric, Person, Team

TITLE_MAX = 300
DESCRIPTION_MAX = 20_000


class Reference(StrEnum):
    """What an id given as a reference (owner, cycle, metric) names in the organization."""

    missing = "missing"
    archived = "archived"
    active = "active"


class OwnerKind(StrEnum):
    person = "person"
    team = "team"


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """What an owner id names in the organization: a person or a team, and if archived."""

    kind: OwnerKind
    archived: bool


def clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("title must not be empty", field="title", code=ErrorCode.REQUIRED)
    if len(title) > TITLE_MAX:
        raise Invalid(f"title must be at most {TITLE_MAX} characters", field="title")
    return title


def clean_description(description: str) -> str:
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            f"description must be at most {DESCRIPTION_MAX} characters", field="description"
        )
    return description


def check_weight(weight: float, field: str = "weight") -> float:
    """A weight is a finite number ≥ 0 (0 leaves the item out of roll-ups)."""
    if not math.isfinite(weight) or weight < 0:
        raise Invalid(
            f"{field} must be a finite number ≥ 0, got {weight}",
            field=field,
            code=ErrorCode.OUT_OF_RANGE,
        )
    return float(weight)


async def reference_status(
    session: AsyncSession,
    model: type[Cycle] | type[Metric] | type[Person] | type[Team],
    org_id: uuid.UUID,
    id: uuid.UUID,
) -> Reference:
    """Whether `id` is a row of `model` in the organization, and whether it is archived."""
    result = await session.execute(
        select(model.archived_at).where(model.org_id == org_id, model.id == id)
    )
    row = result.first()
    if row is None:
        return Reference.missing
    return Reference.archived if row.archived_at is not None else Reference.active


async def check_reference(
    session: AsyncSession,
    model: type[Cycle] | type[Metric] | type[Person] | type[Team],
    org_id: uuid.UUID,
    id: uuid.UUID,
    *,
    field: str,
    noun: str,
) -> None:
    """NotFound when `id` is not a `model` of the organization; INVALID_STATE when archived."""
    status = await reference_status(session, model, org_id, id)
    if status is Reference.missing:
        raise NotFound(f"{noun} not found", field=field)
    if status is Reference.archived:
        raise DomainError(f"{noun} is archived", field=field, code=ErrorCode.INVALID_STATE)


async def find_owner(session: AsyncSession, org_id: uuid.UUID, id: uuid.UUID) -> OwnerRef | None:
    """Whether `id` is a person or a team of the organization (one round trip)."""
    people = select(
        literal(OwnerKind.person.value).label("kind"), Person.archived_at.label("archived_at")
    ).where(Person.org_id == org_id, Person.id == id)
    teams = select(
        literal(OwnerKind.team.value).label("kind"), Team.archived_at.label("archived_at")
    ).where(Team.org_id == org_id, Team.id == id)
    row = (await session.execute(union_all(people, teams).limit(1))).first()
    if row is None:
        return None
    return OwnerRef(kind=OwnerKind(row.kind), archived=row.archived_at is not None)


async def check_owner_ref(
    session: AsyncSession,
    org_id: uuid.UUID,
    id: uuid.UUID,
    *,
    expected: OwnerKind,
    field: str,
    hint: str = "",
) -> None:
    """`id` is a `expected` (person or team) of the organization and not archived.

    A person given where a team is expected, or the reverse, is WRONG_OWNER (`hint` says
    what to do instead); an id that names neither in the organization is NotFound.
    """
    owner = await find_owner(session, org_id, id)
    if owner is None:
        raise NotFound(f"{expected.value} not found", field=field)
    if owner.kind is not expected:
        raise DomainError(
            f"{field} names a {owner.kind.value}, not a {expected.value}{hint}",
            field=field,
            code=ErrorCode.WRONG_OWNER,
        )
    if owner.archived:
        raise DomainError(
            f"the {expected.value} is archived", field=field, code=ErrorCode.INVALID_STATE
        )


async def check_person_owner(
    session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID, *, owned: str
) -> None:
    """`person_id` is a person (human or agent) of the organization, not archived.

    `owned` names what is owned, for the message when a team is given ("a commitment").
    """
    await check_owner_ref(
        session,
        org_id,
        person_id,
        expected=OwnerKind.person,
        field="owner_person_id",
        hint=f": {owned} is owned by one person",
    )
