from pydantic import BaseModel, ConfigDict, Field, model_validator


class StatusThresholds(BaseModel):
    """Ratios of progress to expected pace that separate on_track, at_risk and off_track."""

    model_config = ConfigDict(extra="forbid")

    on_track_ratio: float = Field(default=0.7, gt=0, le=1)
    at_risk_ratio: float = Field(default=0.4, ge=0, le=1)

    @model_validator(mode="after")
    def ordered(self) -> "StatusThresholds":
        if self.at_risk_ratio > self.on_track_ratio:
            raise ValueError("at_risk_ratio must not exceed on_track_ratio")
        return self


class OrganizationUpdate(BaseModel):
    """A partial update: only the fields that are set change (null is refused for each)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    on_track_ratio: float | None = Field(default=None, gt=0, le=1)
    at_risk_ratio: float | None = Field(default=None, ge=0, le=1)
