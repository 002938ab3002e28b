"""Metric and metric-edge inputs (create, update, put) and the REST read shapes."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.models import Aggregation, Direction, EdgeRelation, MetricKind
from service.models.metric import METRIC_KEY_PATTERN

MetricKey = Annotated[
    str,
    StringConstraints(pattern=METRIC_KEY_PATTERN),
    Field(
        description="Slug unique in the organization: a lowercase letter, then up to 62 "
        "lowercase letters, digits or underscores.",
        examples=["weekly_active_teams"],
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
WindowDays = Annotated[int, Field(ge=1, le=3660)]


class MetricFields(BaseModel):
    """The definition of a metric, everything but its key."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Display name.")
    description: LongText = Field(default="", description="What the metric is about.")
    definition: LongText = Field(default="", description="How the metric is measured.")
    unit: Unit = Field(default="", description="Unit of the values, e.g. `teams` or `%`.")
    direction: Direction = Field(default=Direction.increase, description="Which way is better.")
    aggregation: Aggregation = Field(
        default=Aggregation.sum, description="How points combine over a window."
    )
    kind: MetricKind = Field(default=MetricKind.lagging, description="Leading or lagging.")
    observation_window_days: WindowDays | None = Field(
        default=None, description="Optional default window in days (1 to 3660)."
    )
    owner_person_id: uuid.UUID | None = Field(default=None, description="The accountable person.")
    is_north_star: bool = Field(
        default=False, description="At most one metric of an organization is the North Star."
    )


class MetricCreate(MetricFields):
    key: MetricKey


class MetricPut(MetricFields):
    """`PUT /v1/metrics/{key}`: the whole definition; omitted fields take their defaults."""


class MetricUpdate(BaseModel):
    """A partial change: only the fields given are changed (`null` clears the optional ones)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: LongText | None = None
    definition: LongText | None = None
    unit: Unit | None = None
    direction: Direction | None = None
    aggregation: Aggregation | None = None
    kind: MetricKind | None = None
    observation_window_days: WindowDays | None = None
    owner_person_id: uuid.UUID | None = None
    is_north_star: bool | None = None


class MetricRead(BaseModel):
    """A metric as the REST API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    key: str
    name: str
    description: str
    definition: str
    unit: str
    direction: Direction
    aggregation: Aggregation
    kind: MetricKind
    observation_window_days: int | None
    owner_person_id: uuid.UUID | None
    is_north_star: bool
    archived_at: datetime | None = Field(
        description="Set when archived; archived metrics take no points."
    )
    created_at: datetime
    updated_at: datetime


class MetricList(BaseModel):
    items: list[MetricRead] = Field(description="Metrics ordered by key.")
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )


Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class MetricEdgeCreate(BaseModel):
    """child → parent: the child drives the parent, or is one of its summed components."""

    model_config = ConfigDict(extra="forbid")

    child_metric_id: uuid.UUID
    parent_metric_id: uuid.UUID
    relation: EdgeRelation = EdgeRelation.driver
    weight: Weight = 1.0


class MetricEdgeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    relation: EdgeRelation | None = None
    weight: Weight | None = None


class SeriesBucket(BaseModel):
    start: datetime = Field(description="Start of the bucket (UTC).")
    value: float = Field(description="The aggregate of the bucket's points.")
    points: int = Field(description="How many points fell in the bucket.")


class MetricSeries(BaseModel):
    metric: str = Field(description="The metric's key.")
    bucket: str
    aggregation: Aggregation
    from_: datetime = Field(alias="from", description="Inclusive start of the window.")
    to: datetime = Field(description="Exclusive end of the window.")
    buckets: list[SeriesBucket] = Field(
        description="Buckets that hold at least one point, in time order."
    )

    model_config = ConfigDict(populate_by_name=True)
