"""The computed numbers a roll-up returns: frozen, typed, JSON-friendly dataclasses."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Status(StrEnum):
    """Status of a key result or objective against pace (SPEC §3)."""

    off_track = "off_track"
    at_risk = "at_risk"
    no_data = "no_data"
    on_track = "on_track"
    done = "done"


# `worstKeyResultStatus` order: off_track < at_risk < no_data < on_track < done.
STATUS_ORDER: dict[Status, int] = {status: rank for rank, status in enumerate(Status)}


class ScoreBand(StrEnum):
    """Score bands of the cycle roll-up; a band holds [lower, next band's lower)."""

    low = "0.0-0.3"  # 0 <= p < 0.4
    mid = "0.4-0.6"  # 0.4 <= p < 0.7
    high = "0.7-1.0"  # 0.7 <= p <= 1


class Interval(StrEnum):
    """Bucket sizes of history and metric series (UTC; weeks start on Monday)."""

    hour = "hour"
    day = "day"
    week = "week"
    month = "month"


class ItemKind(StrEnum):
    key_result = "key_result"
    objective = "objective"


class NodeKind(StrEnum):
    """Kinds of node an alignment path goes through."""

    commitment = "commitment"
    key_result = "key_result"
    objective = "objective"
    metric = "metric"


@dataclass(frozen=True, slots=True)
class Delivery:
    """Commitments as of an instant: committed = not dropped; delivered = done."""

    committed: int
    delivered: int
    open: int
    overdue: int
    on_time_rate: float | None


@dataclass(frozen=True, slots=True)
class BreakdownItem:
    """One item of a weighted mean and what it contributed.

    `share` is weight ÷ the total weight of the counted items and `contribution` is
    share × progress. Items that do not count (weight 0, or a child objective whose
    progress is null) are listed with `counted=False`, share 0 and contribution null.
    """

    kind: ItemKind
    id: uuid.UUID
    title: str
    weight: float
    progress: float | None
    status: Status
    counted: bool
    share: float
    contribution: float | None


@dataclass(frozen=True, slots=True)
class KeyResultProgress:
    """The numbers of a `KeyResultRollup` without confidence and delivery: what objective
    progress, statuses and most list views need, computed without loading check-in
    confidences or commitments."""

    id: uuid.UUID
    as_of: datetime
    current_value: float | None
    attainment: float | None
    progress: float
    status: Status
    expected_progress: float


@dataclass(frozen=True, slots=True)
class KeyResultRollup(KeyResultProgress):
    """A key result's numbers with the latest confidence and the delivery of its
    commitments."""

    confidence: float | None
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class ObjectiveRollup:
    id: uuid.UUID
    as_of: datetime
    progress: float | None
    status: Status
    expected_progress: float
    worst_key_result_status: Status | None
    breakdown: tuple[BreakdownItem, ...]
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class TeamRollup:
    team_id: uuid.UUID
    cycle_id: uuid.UUID
    include_subteams: bool
    as_of: datetime
    progress: float | None
    status: Status
    expected_progress: float
    breakdown: tuple[BreakdownItem, ...]
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class CycleRollup:
    cycle_id: uuid.UUID
    as_of: datetime
    progress: float | None
    status: Status
    expected_progress: float
    breakdown: tuple[BreakdownItem, ...]
    delivery: Delivery
    objectives_by_status: dict[Status, int] = field(default_factory=dict)
    key_results_by_status: dict[Status, int] = field(default_factory=dict)
    objectives_by_band: dict[ScoreBand, int] = field(default_factory=dict)
    key_results_by_band: dict[ScoreBand, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time window [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class MetricValue:
    metric_id: uuid.UUID
    window: Window
    value: float | None
    previous_window: Window
    previous_value: float | None
    change: float | None
    improving: bool | None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    bucket_start: datetime
    value: float | None


@dataclass(frozen=True, slots=True)
class ComponentValue:
    metric_id: uuid.UUID
    weight: float
    value: float | None


@dataclass(frozen=True, slots=True)
class MetricComponents:
    """For a parent metric with `component` children: their sum and the gap to its own value."""

    metric_id: uuid.UUID
    window: Window
    value: float | None
    components: tuple[ComponentValue, ...]
    components_sum: float | None
    gap: float | None


@dataclass(frozen=True, slots=True)
class MetricRollup:
    """A metric as of an instant: its value over the trailing observation window."""

    metric_id: uuid.UUID
    as_of: datetime
    value: MetricValue


@dataclass(frozen=True, slots=True)
class PathNode:
    kind: NodeKind
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class AlignmentPath:
    """Nodes from the start node up to the North Star, both included."""

    nodes: tuple[PathNode, ...]


@dataclass(frozen=True, slots=True)
class HistoryPoint(Generic[T]):
    """A roll-up as of the end of one bucket [bucket_start, as_of)."""

    bucket_start: datetime
    as_of: datetime
    rollup: T
