from pydantic import BaseModel, ConfigDict


class EndpointCreate(BaseModel):
    """A new webhook endpoint: where to send and which event types."""

    model_config = ConfigDict(extra="forbid")

    url: str
    event_types: list[str]
    enabled: bool = True


class EndpointUpdate(BaseModel):
    """A partial update: only the fields that are set change."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    event_types: list[str] | None = None
