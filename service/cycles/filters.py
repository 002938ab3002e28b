"""The cycle list: its filters and their SQL, for GraphQL and any other reader."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from service.kit.filters import text_search
from service.models import Cycle


@dataclass(frozen=True, kw_only=True)
class CycleFilter:
    """All given filters must hold."""

    search: str | None = None
    """Text in the name."""
    parent_cycle_id: uuid.UUID | None = None
    """Directly inside this cycle."""
    active_on: date | None = None
    """Whose dates include this day."""
    include_archived: bool = False


def select_cycles(org_id: uuid.UUID, filter: CycleFilter) -> Select[Cycle]:
    statement = select(Cycle).where(Cycle.org_id == org_id, *text_search(filter.search, Cycle.name))
    if filter.parent_cycle_id is not None:
        statement = statement.where(Cycle.parent_cycle_id == filter.parent_cycle_id)
    if filter.active_on is not None:
        statement = statement.where(
            Cycle.starts_on <= filter.active_on, Cycle.ends_on >= filter.active_on
        )
    if not filter.include_archived:
        statement = statement.where(Cycle.archived_at.is_(None))
    return statement
