"""The team list: its filters and their SQL, for GraphQL and any other reader."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select

from service.kit.filters import text_search
from service.models import Team


@dataclass(frozen=True, kw_only=True)
class TeamFilter:
    """All given filters must hold."""

    search: str | None = None
    """Text in the name."""
    parent_team_id: uuid.UUID | None = None
    """Directly under this team."""
    top_level: bool | None = None
    """Only teams without (True) or with (False) a parent."""
    include_archived: bool = False


def select_teams(org_id: uuid.UUID, filter: TeamFilter) -> Select[Team]:
    statement = select(Team).where(Team.org_id == org_id, *text_search(filter.search, Team.name))
    if filter.parent_team_id is not None:
        statement = statement.where(Team.parent_team_id == filter.parent_team_id)
    if filter.top_level is not None:
        statement = statement.where(
            Team.parent_team_id.is_(None) if filter.top_level else Team.parent_team_id.is_not(None)
        )
    if not filter.include_archived:
        statement = statement.where(Team.archived_at.is_(None))
    return statement
