"""The key-result list: its filters and their SQL, for GraphQL and any other reader."""

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, or_, select

from service.kit.filters import team_member_ids, text_search
from service.models import KeyResult, KeyResultState, Measure, Objective


@dataclass(frozen=True, kw_only=True)
class KeyResultFilter:
    """All given filters must hold."""

    search: str | None = None
    """Text in the title."""
    objective_id: uuid.UUID | None = None
    cycle_id: uuid.UUID | None = None
    """Of objectives in this cycle."""
    owner_person_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    """Of objectives owned by this team, or owned by its members."""
    metric_id: uuid.UUID | None = None
    measure: Measure | None = None
    state: KeyResultState | None = None


def select_key_results(org_id: uuid.UUID, filter: KeyResultFilter) -> Select[KeyResult]:
    statement = select(KeyResult).where(
        KeyResult.org_id == org_id, *text_search(filter.search, KeyResult.title)
    )
    if filter.objective_id is not None:
        statement = statement.where(KeyResult.objective_id == filter.objective_id)
    if filter.cycle_id is not None:
        statement = statement.where(
            KeyResult.objective_id.in_(
                select(Objective.id).where(
                    Objective.org_id == org_id, Objective.cycle_id == filter.cycle_id
                )
            )
        )
    if filter.owner_person_id is not None:
        statement = statement.where(KeyResult.owner_person_id == filter.owner_person_id)
    if filter.team_id is not None:
        team_objectives = select(Objective.id).where(
            Objective.org_id == org_id,
            or_(
                Objective.owner_team_id == filter.team_id,
                Objective.owner_person_id.in_(team_member_ids(org_id, filter.team_id)),
            ),
        )
        statement = statement.where(KeyResult.objective_id.in_(team_objectives))
    if filter.metric_id is not None:
        statement = statement.where(KeyResult.metric_id == filter.metric_id)
    if filter.measure is not None:
        statement = statement.where(KeyResult.measure == filter.measure.value)
    if filter.state is not None:
        statement = statement.where(KeyResult.state == filter.state.value)
    return statement
