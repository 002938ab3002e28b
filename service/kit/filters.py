"""Pieces the domains' list filters share: text search and team membership."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from service.models import TeamMember


def text_search(
    search: str | None, *columns: InstrumentedAttribute[Any]
) -> list[ColumnElement[bool]]:
    """Case-insensitive substring match on any of `columns`; no condition for empty search."""
    if search is None or not search.strip():
        return []
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"  # LIKE wildcards in the text match themselves
    return [or_(*(column.ilike(pattern, escape="\\") for column in columns))]


def team_member_ids(org_id: uuid.UUID, team_id: uuid.UUID) -> Select[uuid.UUID]:
    """The ids of the team's members, as a subquery for `IN`."""
    return select(TeamMember.person_id).where(
        TeamMember.org_id == org_id, TeamMember.team_id == team_id
    )
