"""The people list: its filters and their SQL, for GraphQL and any other reader."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select

from service.kit.filters import team_member_ids, text_search
from service.models import Person, PersonKind


@dataclass(frozen=True, kw_only=True)
class PersonFilter:
    """All given filters must hold."""

    search: str | None = None
    """Text in the name or e-mail."""
    kind: PersonKind | None = None
    team_id: uuid.UUID | None = None
    """Members of this team."""
    include_archived: bool = False


def select_people(org_id: uuid.UUID, filter: PersonFilter) -> Select[Person]:
    statement = select(Person).where(
        Person.org_id == org_id, *text_search(filter.search, Person.name, Person.email)
    )
    if filter.kind is not None:
        statement = statement.where(Person.kind == filter.kind.value)
    if not filter.include_archived:
        statement = statement.where(Person.archived_at.is_(None))
    if filter.team_id is not None:
        statement = statement.where(Person.id.in_(team_member_ids(org_id, filter.team_id)))
    return statement
