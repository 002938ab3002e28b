import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from service.models import CommitmentState


class CommitmentCreate(BaseModel):
    """A new open commitment owned by exactly one person (human or agent), never a team."""

    model_config = ConfigDict(extra="forbid")

    title: str
    success_criteria: str
    owner_person_id: uuid.UUID
    due_on: date
    key_result_ids: list[uuid.UUID] = []


class CommitmentUpdate(BaseModel):
    """A partial update of an open commitment: only the fields that are set change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    success_criteria: str | None = None
    owner_person_id: uuid.UUID | None = None
    due_on: date | None = None


class CommitmentRead(BaseModel):
    """A commitment as events and REST responses show it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    success_criteria: str
    owner_person_id: uuid.UUID
    due_on: date
    state: CommitmentState
    done_at: datetime | None
    dropped_at: datetime | None
    evidence_url: str | None
    created_at: datetime
    updated_at: datetime
