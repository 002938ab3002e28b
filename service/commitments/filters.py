"""The commitment list: its filters and their SQL, for GraphQL and any other reader."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from service.kit.filters import team_member_ids, text_search
from service.models import Commitment, CommitmentKeyResult, CommitmentState


@dataclass(frozen=True, kw_only=True)
class CommitmentFilter:
    """All given filters must hold; the due dates are inclusive."""

    search: str | None = None
    """Text in the title."""
    owner_person_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    """Owned by a member of this team."""
    key_result_id: uuid.UUID | None = None
    """Supporting this key result."""
    states: Sequence[CommitmentState] | None = None
    due_before: date | None = None
    due_after: date | None = None


def select_commitments(org_id: uuid.UUID, filter: CommitmentFilter) -> Select[Commitment]:
    statement = select(Commitment).where(
        Commitment.org_id == org_id, *text_search(filter.search, Commitment.title)
    )
    if filter.owner_person_id is not None:
        statement = statement.where(Commitment.owner_person_id == filter.owner_person_id)
    if filter.team_id is not None:
        statement = statement.where(
            Commitment.owner_person_id.in_(team_member_ids(org_id, filter.team_id))
        )
    if filter.key_result_id is not None:
        statement = statement.where(
            Commitment.id.in_(
                select(CommitmentKeyResult.commitment_id).where(
                    CommitmentKeyResult.org_id == org_id,
                    CommitmentKeyResult.key_result_id == filter.key_result_id,
                )
            )
        )
    if filter.states:
        statement = statement.where(Commitment.state.in_([state.value for state in filter.states]))
    if filter.due_before is not None:
        statement = statement.where(Commitment.due_on <= filter.due_before)
    if filter.due_after is not None:
        statement = statement.where(Commitment.due_on >= filter.due_after)
    return statement
