import uuid

from pydantic import BaseModel, ConfigDict


class TeamCreate(BaseModel):
    """A new team, optionally under a parent team."""

    model_config = ConfigDict(extra="forbid")

    name: str
    parent_team_id: uuid.UUID | None = None


class TeamUpdate(BaseModel):
    """A partial update: only the fields that are set change; `parent_team_id: null` makes a root."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    parent_team_id: uuid.UUID | None = None
