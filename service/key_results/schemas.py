import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from service.models import KeyResultDirection, KeyResultState, Measure


class KeyResultCreate(BaseModel):
    """A new key result of an objective; see `service.key_results.service` for the rules."""

    model_config = ConfigDict(extra="forbid")

    objective_id: uuid.UUID
    title: str
    owner_person_id: uuid.UUID | None = None
    measure: Measure
    metric_id: uuid.UUID | None = None
    direction: KeyResultDirection = KeyResultDirection.increase
    start_value: float | None = None
    target_value: float | None = None
    unit: str = ""
    weight: float = 1.0


class KeyResultUpdate(BaseModel):
    """A partial update: only the fields that are set change; an explicit null clears.

    The rules are checked on the result, so switching the measure may need other fields in
    the same update (e.g. `metric_id: null` when leaving `metric`). Use `move` to change
    the objective.
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    owner_person_id: uuid.UUID | None = None
    measure: Measure | None = None
    metric_id: uuid.UUID | None = None
    direction: KeyResultDirection | None = None
    start_value: float | None = None
    target_value: float | None = None
    unit: str | None = None
    weight: float | None = None


class KeyResultFilter(BaseModel):
    """Filters of a key-result list; all given ones must hold."""

    model_config = ConfigDict(extra="forbid")

    objective_id: uuid.UUID | None = None
    owner_person_id: uuid.UUID | None = None
    metric_id: uuid.UUID | None = None
    states: list[KeyResultState] | None = None


class KeyResultRead(BaseModel):
    """A key result as events and REST responses show it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    objective_id: uuid.UUID
    title: str
    owner_person_id: uuid.UUID | None
    measure: Measure
    metric_id: uuid.UUID | None
    direction: KeyResultDirection
    start_value: float | None
    target_value: float | None
    unit: str
    weight: float
    state: KeyResultState
    created_at: datetime
    updated_at: datetime
