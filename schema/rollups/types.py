"""GraphQL shapes of the roll-up engine's results (service/rollups/types.py)."""

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.core.relay import to_global_id

if TYPE_CHECKING:
    from schema.core.relay import Node
from service.rollups import types as rollup


@strawberry.enum(description="Status of a key result or objective against the cycle's pace.")
class Status(Enum):
    OFF_TRACK = strawberry.enum_value("off_track", description="Well behind pace.")
    AT_RISK = strawberry.enum_value("at_risk", description="Behind pace.")
    NO_DATA = strawberry.enum_value("no_data", description="No value observed yet.")
    ON_TRACK = strawberry.enum_value("on_track", description="At or near pace.")
    DONE = strawberry.enum_value("done", description="Target reached.")


@strawberry.enum(description="Bucket size of a series (UTC; weeks start on Monday).")
class Interval(Enum):
    HOUR = strawberry.enum_value("hour", description="One hour.")
    DAY = strawberry.enum_value("day", description="One day.")
    WEEK = strawberry.enum_value("week", description="One ISO week.")
    MONTH = strawberry.enum_value("month", description="One calendar month.")


@strawberry.enum(description="Score bands of a cycle roll-up.")
class ScoreBand(Enum):
    LOW = strawberry.enum_value("0.0-0.3", description="Progress below 0.4.")
    MID = strawberry.enum_value("0.4-0.6", description="Progress from 0.4 to below 0.7.")
    HIGH = strawberry.enum_value("0.7-1.0", description="Progress of 0.7 or more.")


def status(value: rollup.Status | None) -> Status | None:
    return None if value is None else Status(value.value)


@strawberry.type(description="Delivery of commitments as of an instant.")
class Delivery:
    committed: int = strawberry.field(description="Commitments not dropped.")
    delivered: int = strawberry.field(description="Commitments done.")
    open: int = strawberry.field(description="Commitments still open.")
    overdue: int = strawberry.field(description="Open commitments past their due date.")
    on_time_rate: float | None = strawberry.field(
        description="Share of done commitments done on or before their due date; null if none."
    )

    @classmethod
    def from_result(cls, value: rollup.Delivery) -> "Delivery":
        return cls(
            committed=value.committed,
            delivered=value.delivered,
            open=value.open,
            overdue=value.overdue,
            on_time_rate=value.on_time_rate,
        )


@strawberry.type(description="One item of a weighted mean and what it contributed.")
class BreakdownItem:
    item_id: strawberry.ID = strawberry.field(
        description="Global ID of the item (a key result or an objective)."
    )
    title: str = strawberry.field(description="Title of the item.")
    weight: float = strawberry.field(description="Weight of the item in the mean.")
    progress: float | None = strawberry.field(description="Progress of the item, 0 to 1.")
    status: Status = strawberry.field(description="Status of the item.")
    counted: bool = strawberry.field(description="Whether the item counts in the mean.")
    share: float = strawberry.field(description="Weight over the total counted weight.")
    contribution: float | None = strawberry.field(description="Share times progress.")

    @classmethod
    def from_result(cls, value: rollup.BreakdownItem) -> "BreakdownItem":
        type_name = "KeyResult" if value.kind is rollup.ItemKind.key_result else "Objective"
        return cls(
            item_id=to_global_id(type_name, value.id),
            title=value.title,
            weight=value.weight,
            progress=value.progress,
            status=Status(value.status.value),
            counted=value.counted,
            share=value.share,
            contribution=value.contribution,
        )


@strawberry.input(description="A half-open time window [from, to).")
class WindowInput:
    start: datetime = strawberry.field(description="Start of the window (included).")
    end: datetime = strawberry.field(description="End of the window (excluded).")


@strawberry.type(description="A half-open time window [start, end).")
class Window:
    start: datetime = strawberry.field(description="Start of the window (included).")
    end: datetime = strawberry.field(description="End of the window (excluded).")


@strawberry.type(description="A metric's value over a window, compared with the window before.")
class MetricValue:
    window: Window = strawberry.field(description="The window measured.")
    value: float | None = strawberry.field(description="Aggregate over the window.")
    previous_window: Window = strawberry.field(description="The window of equal length before.")
    previous_value: float | None = strawberry.field(description="Aggregate over the window before.")
    change: float | None = strawberry.field(description="Value minus previous value.")
    improving: bool | None = strawberry.field(
        description="Whether the change goes in the metric's better direction."
    )

    @classmethod
    def from_result(cls, value: rollup.MetricValue) -> "MetricValue":
        return cls(
            window=Window(start=value.window.start, end=value.window.end),
            value=value.value,
            previous_window=Window(
                start=value.previous_window.start, end=value.previous_window.end
            ),
            previous_value=value.previous_value,
            change=value.change,
            improving=value.improving,
        )


@strawberry.type(description="One bucket of a metric series.")
class SeriesPoint:
    bucket_start: datetime = strawberry.field(description="Start of the bucket.")
    value: float | None = strawberry.field(description="Aggregate over the bucket.")


@strawberry.type(description="A count of items with one status.")
class StatusCount:
    status: Status = strawberry.field(description="The status.")
    count: int = strawberry.field(description="How many items have it.")


@strawberry.type(description="A count of items in one score band.")
class BandCount:
    band: ScoreBand = strawberry.field(description="The score band.")
    count: int = strawberry.field(description="How many items are in it.")


@strawberry.type(description="A computed roll-up of an objective, key result, team or cycle.")
class Rollup:
    subject_id: strawberry.ID = strawberry.field(description="Global ID of what was rolled up.")
    as_of: datetime = strawberry.field(description="The instant the roll-up is computed at.")
    progress: float | None = strawberry.field(description="Progress, 0 to 1; null without items.")
    status: Status = strawberry.field(description="Status against pace.")
    expected_progress: float = strawberry.field(description="Share of the cycle elapsed.")
    breakdown: list[BreakdownItem] = strawberry.field(description="Items of the weighted mean.")
    delivery: Delivery = strawberry.field(description="Delivery of the supporting commitments.")
    objectives_by_status: list[StatusCount] = strawberry.field(
        description="For a cycle: objectives per status; empty otherwise."
    )
    key_results_by_status: list[StatusCount] = strawberry.field(
        description="For a cycle: key results per status; empty otherwise."
    )
    objectives_by_band: list[BandCount] = strawberry.field(
        description="For a cycle: objectives per score band; empty otherwise."
    )
    key_results_by_band: list[BandCount] = strawberry.field(
        description="For a cycle: key results per score band; empty otherwise."
    )


@strawberry.type(description="A roll-up as of the end of one bucket of a history.")
class RollupHistoryPoint:
    bucket_start: datetime = strawberry.field(description="Start of the bucket.")
    rollup: Rollup = strawberry.field(description="The roll-up as of the bucket's end.")


@strawberry.type(description="A component metric's value and weight in its parent.")
class ComponentValue:
    metric_id: strawberry.ID = strawberry.field(description="Global ID of the component metric.")
    weight: float = strawberry.field(description="Weight of the component in the sum.")
    value: float | None = strawberry.field(description="The component's value over the window.")


@strawberry.type(description="A parent metric next to the weighted sum of its components.")
class MetricComponents:
    window: Window = strawberry.field(description="The window measured.")
    value: float | None = strawberry.field(description="The parent's own value.")
    components: list[ComponentValue] = strawberry.field(description="Each component.")
    components_sum: float | None = strawberry.field(
        description="Σ weight × value over components with a value; null without any."
    )
    gap: float | None = strawberry.field(description="The parent's value minus componentsSum.")

    @classmethod
    def from_result(cls, value: rollup.MetricComponents) -> "MetricComponents":
        return cls(
            window=Window(start=value.window.start, end=value.window.end),
            value=value.value,
            components=[
                ComponentValue(
                    metric_id=to_global_id("Metric", item.metric_id),
                    weight=item.weight,
                    value=item.value,
                )
                for item in value.components
            ],
            components_sum=value.components_sum,
            gap=value.gap,
        )


@strawberry.type(description="A path from an item up to the North Star metric.")
class AlignmentPath:
    node_ids: list[strawberry.ID] = strawberry.field(
        description="Global IDs from the start item to the North Star, both included."
    )

    @strawberry.field(description="The objects on the path, in order.")
    async def nodes(
        self, info: strawberry.Info
    ) -> list[Annotated["Node", strawberry.lazy("schema.core.relay")]]:
        from schema.node_lookup import resolve_nodes

        found = await resolve_nodes(info, list(self.node_ids))
        return [node for node in found if node is not None]
