import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from service.models import CheckInSource


class CheckInCreate(BaseModel):
    """A new observation of a key result: `value` for manual and metric key results,
    `done` for milestones. `observed_at` defaults to now and must carry a time zone."""

    model_config = ConfigDict(extra="forbid")

    value: float | None = None
    done: bool | None = None
    confidence: float | None = None
    note: str = ""
    author_person_id: uuid.UUID | None = None
    source: CheckInSource = CheckInSource.graphql
    observed_at: datetime | None = None


class CheckInRead(BaseModel):
    """A check-in as events and REST responses show it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key_result_id: uuid.UUID
    value: float | None
    done: bool | None
    confidence: float | None
    note: str
    author_person_id: uuid.UUID | None
    source: CheckInSource
    observed_at: datetime
    recorded_at: datetime
    retracted_at: datetime | None
