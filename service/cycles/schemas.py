import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict


class CycleCreate(BaseModel):
    """A planning period; both dates are inclusive. A parent cycle must contain it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    starts_on: date
    ends_on: date
    parent_cycle_id: uuid.UUID | None = None


class CycleUpdate(BaseModel):
    """A partial update: only the fields that are set change; `parent_cycle_id: null` detaches."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    parent_cycle_id: uuid.UUID | None = None
