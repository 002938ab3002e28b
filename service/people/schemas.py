import uuid

from pydantic import BaseModel, ConfigDict

from service.models import PersonKind


class PersonCreate(BaseModel):
    """A new person. An `agent` must name an accountable human of the same organization."""

    model_config = ConfigDict(extra="forbid")

    name: str
    email: str | None = None
    kind: PersonKind = PersonKind.human
    accountable_person_id: uuid.UUID | None = None


class PersonUpdate(BaseModel):
    """A partial update: only the fields that are set change; an explicit null clears."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    email: str | None = None
    kind: PersonKind | None = None
    accountable_person_id: uuid.UUID | None = None
