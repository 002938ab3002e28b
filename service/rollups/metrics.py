"""Metric values over windows, series, component sums and metric roll-ups as of an instant."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Invalid, NotFound
from service.rollups import repository
from service.rollups.repository import MetricRow
from service.rollups.service import history_buckets, resolve_as_of
from service.rollups.types import (
    ComponentValue,
    HistoryPoint,
    Interval,
    MetricComponents,
    MetricRollup,
    MetricValue,
    SeriesPoint,
    Window,
)

DEFAULT_OBSERVATION_WINDOW = timedelta(days=7)
MAX_SERIES_BUCKETS = 5000


def _check_window(window: Window) -> None:
    if window.start.tzinfo is None or window.end.tzinfo is None:
        raise Invalid("window bounds need a time zone", field="window")
    if window.end <= window.start:
        raise Invalid("a window must end after it starts", field="window")


def previous_window(window: Window) -> Window:
    """The window of equal length that ends where `window` starts."""
    return Window(window.start - (window.end - window.start), window.start)


def improving(direction: str, change: float | None) -> bool | None:
    if change is None:
        return None
    return change > 0 if direction == "increase" else change < 0


async def _metric(session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID) -> MetricRow:
    row = await repository.metric(session, org_id, metric_id)
    if row is None:
        raise NotFound("metric not found")
    return row


def _metric_value(
    row: MetricRow,
    window: Window,
    values: dict[tuple[uuid.UUID, datetime, datetime], float | None],
) -> MetricValue:
    previous = previous_window(window)
    value = values[(row.id, window.start, window.end)]
    previous_value = values[(row.id, previous.start, previous.end)]
    change = None if value is None or previous_value is None else value - previous_value
    return MetricValue(
        metric_id=row.id,
        window=window,
        value=value,
        previous_window=previous,
        previous_value=previous_value,
        change=change,
        improving=improving(row.direction, change),
    )


async def metric_value(
    session: AsyncSession,
    org_id: uuid.UUID,
    metric_id: uuid.UUID,
    window: Window,
    *,
    dimensions: dict[str, str] | None = None,
) -> MetricValue:
    """The metric's aggregate over [start, end), the previous window and the change."""
    _check_window(window)
    row = await _metric(session, org_id, metric_id)
    previous = previous_window(window)
    values = await repository.window_values(
        session,
        org_id,
        [(row.id, window.start, window.end), (row.id, previous.start, previous.end)],
        dimensions,
    )
    return _metric_value(row, window, values)


async def metric_series(
    session: AsyncSession,
    org_id: uuid.UUID,
    metric_id: uuid.UUID,
    window: Window,
    interval: Interval,
    *,
    dimensions: dict[str, str] | None = None,
) -> list[SeriesPoint]:
    """The metric's aggregate per UTC bucket meeting [start, end); empty buckets are null
    (0 for `count`). Buckets are cut at the window's bounds."""
    _check_window(window)
    buckets = history_buckets(window.start, window.end - timedelta(microseconds=1), interval)
    if len(buckets) > MAX_SERIES_BUCKETS:
        raise Invalid(f"a series holds at most {MAX_SERIES_BUCKETS} buckets", field="interval")
    row = await _metric(session, org_id, metric_id)
    found = {
        bucket.replace(tzinfo=UTC): value
        for bucket, value in await repository.series(
            session, org_id, row, window.start, window.end, interval.value, dimensions
        )
    }
    empty = 0.0 if row.aggregation == "count" else None
    return [SeriesPoint(bucket_start=start, value=found.get(start, empty)) for start, _ in buckets]


async def metric_components(
    session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID, window: Window
) -> MetricComponents:
    """`componentsSum` (the plain sum of the component values, as a `component` parent is the
    sum of its components; edge weights do not apply; null without components or values)
    and the gap (own value − componentsSum)."""
    _check_window(window)
    row = await _metric(session, org_id, metric_id)
    children = await repository.component_children(session, org_id, metric_id)
    values = await repository.window_values(
        session,
        org_id,
        [(m, window.start, window.end) for m in [metric_id, *(c for c, _ in children)]],
    )
    own = values[(metric_id, window.start, window.end)]
    components = tuple(
        ComponentValue(metric_id=c, weight=w, value=values[(c, window.start, window.end)])
        for c, w in children
    )
    known = [c.value for c in components if c.value is not None]
    components_sum = sum(known) if known else None
    return MetricComponents(
        metric_id=row.id,
        window=window,
        value=own,
        components=components,
        components_sum=components_sum,
        gap=None if own is None or components_sum is None else own - components_sum,
    )


def observation_window(row: MetricRow, as_of: datetime) -> Window:
    """The trailing window a metric is judged on at `as_of`: observation_window_days, else 7."""
    length = (
        timedelta(days=row.observation_window_days)
        if row.observation_window_days
        else DEFAULT_OBSERVATION_WINDOW
    )
    return Window(as_of - length, as_of)


async def _metric_rollups_at(
    session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID, instants: Sequence[datetime]
) -> list[MetricRollup]:
    row = await _metric(session, org_id, metric_id)
    windows = [observation_window(row, t) for t in instants]
    keys = []
    for window in windows:
        previous = previous_window(window)
        keys += [(row.id, window.start, window.end), (row.id, previous.start, previous.end)]
    values = await repository.window_values(session, org_id, keys)
    return [
        MetricRollup(metric_id=row.id, as_of=t, value=_metric_value(row, window, values))
        for t, window in zip(instants, windows, strict=True)
    ]


async def metric_rollup(
    session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID, *, as_of: datetime | None = None
) -> MetricRollup:
    return (await _metric_rollups_at(session, org_id, metric_id, [resolve_as_of(as_of)]))[0]


async def metric_history(
    session: AsyncSession,
    org_id: uuid.UUID,
    metric_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    interval: Interval,
) -> list[HistoryPoint[MetricRollup]]:
    buckets = history_buckets(start, end, interval)
    values = await _metric_rollups_at(session, org_id, metric_id, [b[1] for b in buckets])
    return [
        HistoryPoint(bucket_start=s, as_of=e, rollup=v)
        for (s, e), v in zip(buckets, values, strict=True)
    ]
