"""Shapes of ingestion: the documented point (parsing does not build one per point), limits
and the response counts."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Limits of one point, beyond the request-level ones in settings (10,000 points, 10 MB).
MAX_DIMENSIONS = 20
MAX_DIMENSION_NAME = 64
MAX_DIMENSION_VALUE = 256
MAX_SOURCE = 100

DimensionName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_DIMENSION_NAME)]
DimensionValue = Annotated[str, StringConstraints(min_length=1, max_length=MAX_DIMENSION_VALUE)]


class PointIn(BaseModel):
    """One observation. Identity is (metric, ts, dimensions): a later write replaces the value."""

    model_config = ConfigDict(extra="forbid", title="PointIn")

    metric: str = Field(
        description="The metric's key (optional on `/v1/metrics/{key}/points`).",
        examples=["weekly_active_teams"],
    )
    ts: str = Field(
        description="ISO 8601 timestamp with a time zone (`Z` or an offset), after 1900 and at most "
        "10 minutes in the future.",
        examples=["2027-01-04T00:00:00Z"],
    )
    value: float = Field(description="A finite number.", examples=[1234])
    dimensions: dict[DimensionName, DimensionValue] = Field(
        default_factory=dict,
        max_length=MAX_DIMENSIONS,
        description=f"Up to {MAX_DIMENSIONS} string → string pairs (names 1–"
        f"{MAX_DIMENSION_NAME}, values 1–{MAX_DIMENSION_VALUE} characters).",
        examples=[{"region": "eu"}],
    )
    source: str = Field(
        default="", max_length=MAX_SOURCE, description="Free text naming where it came from."
    )


class IngestResult(BaseModel):
    """What a committed batch did. inserted + updated + unchanged + duplicates = received."""

    received: int = Field(description="Points in the request.")
    inserted: int = Field(description="New (metric, ts, dimensions) identities stored.")
    updated: int = Field(description="Existing identities whose value (or source) changed.")
    unchanged: int = Field(description="Existing identities sent again with the same value.")
    duplicates: int = Field(
        description="Points superseded by a later point of the same identity in this request "
        "(the last one wins)."
    )
