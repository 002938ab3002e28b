import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from service.models import ObjectiveState, RollupMode


class ObjectiveCreate(BaseModel):
    """A new objective. Exactly one of `owner_team_id` and `owner_person_id` is set."""

    model_config = ConfigDict(extra="forbid")

    title: str
    description: str = ""
    cycle_id: uuid.UUID
    owner_team_id: uuid.UUID | None = None
    owner_person_id: uuid.UUID | None = None
    state: ObjectiveState = ObjectiveState.active
    rollup_mode: RollupMode = RollupMode.auto


class ObjectiveUpdate(BaseModel):
    """A partial update: only the fields that are set change.

    The owner is replaced as a whole: when either owner field is set, the new owner is
    exactly what is given (an unset owner field counts as null) and must again be one.
    """

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    description: str | None = None
    cycle_id: uuid.UUID | None = None
    owner_team_id: uuid.UUID | None = None
    owner_person_id: uuid.UUID | None = None
    state: ObjectiveState | None = None
    rollup_mode: RollupMode | None = None


class ObjectiveRead(BaseModel):
    """An objective as events and REST responses show it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str
    cycle_id: uuid.UUID
    owner_team_id: uuid.UUID | None
    owner_person_id: uuid.UUID | None
    state: ObjectiveState
    rollup_mode: RollupMode
    created_at: datetime
    updated_at: datetime


class AlignmentRead(BaseModel):
    """child objective → parent objective with its weight."""

    model_config = ConfigDict(from_attributes=True)

    child_objective_id: uuid.UUID
    parent_objective_id: uuid.UUID
    weight: float
