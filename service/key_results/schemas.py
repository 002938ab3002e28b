import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.models import KeyResultDirection, KeyResultState, Measure
from service.rollups.types import Status


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


class DeliveryRead(BaseModel):
    """Commitments supporting the key result, as of `as_of`."""

    model_config = ConfigDict(from_attributes=True)

    committed: int = Field(description="Not dropped.")
    delivered: int = Field(description="Done by `as_of`.")
    open: int = Field(description="Neither done nor dropped.")
    overdue: int = Field(description="Open with `due_on` before `as_of`'s date.")
    on_time_rate: float | None = Field(
        description="Done on or before `due_on` ÷ done; null when none is done."
    )


class KeyResultReport(KeyResultRead):
    """`GET /v1/key-results/{id}`: the key result and its numbers as of an instant — the
    same the GraphQL fields of the same names return."""

    graphql_id: str = Field(description="The key result's ID in the GraphQL API.")
    as_of: datetime = Field(description="The instant the numbers are computed for.")
    current_value: float | None = Field(description="Current value; null without data.")
    attainment: float | None = Field(
        description="Unclamped (current − start) ÷ (target − start); for at_least, at_most "
        "and milestones it equals progress; null without data."
    )
    progress: float = Field(description="0 to 1 (0 without data).")
    status: Status = Field(description="Status against the cycle's pace.")
    expected_progress: float = Field(description="Share of the cycle elapsed at `as_of`, 0 to 1.")
    confidence: float | None = Field(description="Confidence of the latest check-in, 0 to 1.")
    delivery: DeliveryRead
