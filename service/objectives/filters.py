"""The objective list: its filters and their SQL, for GraphQL and any other reader."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, or_, select

from service.kit.filters import team_member_ids, text_search
from service.models import Alignment, Objective, ObjectiveState


@dataclass(frozen=True, kw_only=True)
class ObjectiveFilter:
    """All given filters must hold."""

    search: str | None = None
    """Text in the title."""
    cycle_id: uuid.UUID | None = None
    owner_team_id: uuid.UUID | None = None
    owner_person_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    """Owned by this team or by one of its members."""
    states: Sequence[ObjectiveState] | None = None
    """In one of these states; None: all but archived."""
    parent_id: uuid.UUID | None = None
    """Aligned directly under this objective."""
    top_level: bool | None = None
    """Only objectives without (True) or with (False) parents."""


def select_objectives(org_id: uuid.UUID, filter: ObjectiveFilter) -> Select[Objective]:
    statement = select(Objective).where(
        Objective.org_id == org_id, *text_search(filter.search, Objective.title)
    )
    if filter.cycle_id is not None:
        statement = statement.where(Objective.cycle_id == filter.cycle_id)
    if filter.owner_team_id is not None:
        statement = statement.where(Objective.owner_team_id == filter.owner_team_id)
    if filter.owner_person_id is not None:
        statement = statement.where(Objective.owner_person_id == filter.owner_person_id)
    if filter.team_id is not None:
        statement = statement.where(
            or_(
                Objective.owner_team_id == filter.team_id,
                Objective.owner_person_id.in_(team_member_ids(org_id, filter.team_id)),
            )
        )
    if filter.states is not None:
        statement = statement.where(Objective.state.in_([state.value for state in filter.states]))
    else:
        statement = statement.where(Objective.state != ObjectiveState.archived.value)
    if filter.parent_id is not None:
        statement = statement.where(
            Objective.id.in_(
                select(Alignment.child_objective_id).where(
                    Alignment.org_id == org_id, Alignment.parent_objective_id == filter.parent_id
                )
            )
        )
    if filter.top_level is not None:
        has_parent = exists().where(
            Alignment.org_id == org_id, Alignment.child_objective_id == Objective.id
        )
        statement = statement.where(~has_parent if filter.top_level else has_parent)
    return statement
