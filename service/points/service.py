"""Ingestion, the hot path: validate a whole batch, then write it with one statement.

A batch is atomic: every point is checked (plain dict checks, no object per point) and
any fault refuses the whole batch with each bad point listed. A valid batch is written by
one statement that also checks its metrics (`repository.upsert`); only a refused one
looks its metrics up, to list each point's fault. Within a batch the last
point of an identity (metric, ts, dimensions) wins; against stored points the last write
wins. One `metric.points_ingested` event per batch (per 1,000 metrics of it) is written in
the same transaction, listing each metric's counts and time span;
`key_result.status_changed` for key results the batch moved is announced by the worker
within about five seconds of the commit (`service.events.recheck`: the upsert queues the
batch).
"""

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Conflict, Invalid, NotFound
from service.events.outbox import emit_many
from service.points import repository
from service.points.errors import BatchRejected, PointErrorCode
from service.points.parsing import MALFORMED
from service.points.repository import Row
from service.points.schemas import (
    MAX_DIMENSION_NAME,
    MAX_DIMENSION_VALUE,
    MAX_DIMENSIONS,
    MAX_SOURCE,
    IngestResult,
)

FIELDS = frozenset(("metric", "ts", "value", "dimensions", "source"))
NO_DIMENSIONS = "{}"
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


class MetricRef(NamedTuple):
    """What validation needs of a metric (plain values: ORM attributes cost per point)."""

    id: str
    archived: bool


@dataclass(slots=True)
class _MetricStats:
    received: int
    first: datetime
    last: datetime


def _error(index: int, field: str | None, code: PointErrorCode, message: str) -> dict[str, Any]:
    return {"index": index, "field": field, "code": code.value, "message": message}


def _metric_keys(items: Iterable[Any]) -> set[str]:
    return {key for item in items if type(item) is dict and type(key := item.get("metric")) is str}


def _dimensions_error(dimensions: Any) -> str | None:
    if type(dimensions) is not dict:
        return "dimensions must be an object of string → string"
    if len(dimensions) > MAX_DIMENSIONS:
        return f"at most {MAX_DIMENSIONS} dimensions"
    for name, value in dimensions.items():
        if not 1 <= len(name) <= MAX_DIMENSION_NAME:
            return f"dimension names are 1 to {MAX_DIMENSION_NAME} characters"
        if type(value) is not str:
            return f"dimension {name!r} must be a string"
        if not 1 <= len(value) <= MAX_DIMENSION_VALUE:
            return f"dimension {name!r} must be 1 to {MAX_DIMENSION_VALUE} characters"
    return None


def validate(
    items: list[Any],
    metrics: dict[str, MetricRef] | None,
    *,
    route_metric: str | None,
    text_values: bool,
    now: datetime,
    max_future: timedelta,
    errors: list[dict[str, Any]],
) -> tuple[dict[tuple[str, datetime, str], Row], dict[str, _MetricStats]]:
    """Check every point; return rows by identity (last wins) and per-metric stats (by key).

    With `metrics` None, whether a key names a metric that takes points is left to the
    upsert (`repository.upsert`), which refuses the batch otherwise. Row and stats
    timestamps are in UTC (the upsert and the event payloads rely on it).

    Faults are appended to `errors`; rows are meaningless when any were found.
    """
    latest = now + max_future
    rows: dict[tuple[str, datetime, str], Row] = {}  # keyed by metric key: str hashes are cached
    stats: dict[str, _MetricStats] = {}
    parsed_ts: dict[str, datetime] = {}
    for index, item in enumerate(items):
        if item is MALFORMED:
            continue
        if type(item) is not dict:
            errors.append(_error(index, None, PointErrorCode.INVALID, "a point is an object"))
            continue
        failed = False
        if not FIELDS.issuperset(item):
            unknown = ", ".join(sorted(str(name) for name in item if name not in FIELDS))
            errors.append(
                _error(index, None, PointErrorCode.UNKNOWN_FIELD, f"unknown field(s): {unknown}")
            )
            failed = True

        # metric
        key: Any = item.get("metric", route_metric)
        metric: MetricRef | None = None
        if key is None:
            errors.append(_error(index, "metric", PointErrorCode.REQUIRED, "metric is required"))
            failed = True
        elif route_metric is not None and key != route_metric:
            errors.append(
                _error(
                    index,
                    "metric",
                    PointErrorCode.METRIC_MISMATCH,
                    f"this route takes points of {route_metric!r} only",
                )
            )
            failed = True
        elif type(key) is not str or (metrics is not None and (metric := metrics.get(key)) is None):
            errors.append(
                _error(index, "metric", PointErrorCode.UNKNOWN_METRIC, f"unknown metric {key!r}")
            )
            failed = True
        elif metric is not None and metric.archived:
            errors.append(
                _error(
                    index,
                    "metric",
                    PointErrorCode.METRIC_ARCHIVED,
                    f"metric {key!r} is archived and takes no points",
                )
            )
            failed = True

        # ts
        raw_ts = item.get("ts")
        ts = parsed_ts.get(raw_ts) if type(raw_ts) is str else None
        if ts is None:
            if raw_ts is None:
                errors.append(_error(index, "ts", PointErrorCode.REQUIRED, "ts is required"))
                failed = True
            elif type(raw_ts) is not str:
                errors.append(
                    _error(index, "ts", PointErrorCode.INVALID, "ts is an ISO 8601 string")
                )
                failed = True
            else:
                try:
                    ts = datetime.fromisoformat(raw_ts)
                except ValueError:
                    errors.append(
                        _error(index, "ts", PointErrorCode.INVALID, f"{raw_ts!r} is not ISO 8601")
                    )
                    failed = True
                else:
                    if ts.tzinfo is None:
                        errors.append(
                            _error(
                                index,
                                "ts",
                                PointErrorCode.TIMEZONE_REQUIRED,
                                "ts needs a time zone (`Z` or an offset such as +02:00)",
                            )
                        )
                        failed = True
                        ts = None
                    elif ts < EARLIEST:
                        errors.append(
                            _error(index, "ts", PointErrorCode.INVALID, "ts must be after 1900")
                        )
                        failed = True
                        ts = None
                    else:
                        parsed_ts[raw_ts] = ts
        if ts is not None and ts > latest:
            errors.append(
                _error(
                    index,
                    "ts",
                    PointErrorCode.IN_FUTURE,
                    f"ts is more than {int(max_future.total_seconds())} s in the future",
                )
            )
            failed = True

        # value
        raw_value: Any = item.get("value")
        value_type = type(raw_value)
        value = 0.0
        if value_type is float:
            value = raw_value
        elif value_type is int:
            try:
                value = float(raw_value)
            except OverflowError:
                value = math.inf
        elif raw_value is None:
            errors.append(_error(index, "value", PointErrorCode.REQUIRED, "value is required"))
            failed = True
        elif text_values and value_type is str:
            try:
                value = float(raw_value)
            except ValueError:
                errors.append(
                    _error(index, "value", PointErrorCode.INVALID, f"{raw_value!r} is not a number")
                )
                failed = True
        else:
            errors.append(_error(index, "value", PointErrorCode.INVALID, "value must be a number"))
            failed = True
        if not math.isfinite(value):
            errors.append(
                _error(index, "value", PointErrorCode.NOT_FINITE, "value must be a finite number")
            )
            failed = True

        # dimensions
        raw_dimensions = item.get("dimensions")
        if raw_dimensions is None or raw_dimensions == {}:
            dimensions = NO_DIMENSIONS
        elif (problem := _dimensions_error(raw_dimensions)) is not None:
            errors.append(_error(index, "dimensions", PointErrorCode.INVALID, problem))
            failed = True
        else:
            dimensions = orjson.dumps(raw_dimensions, option=orjson.OPT_SORT_KEYS).decode()

        # source
        source = item.get("source", "")
        if type(source) is not str:
            errors.append(_error(index, "source", PointErrorCode.INVALID, "source is a string"))
            failed = True
        elif len(source) > MAX_SOURCE:
            errors.append(
                _error(index, "source", PointErrorCode.TOO_LONG, f"at most {MAX_SOURCE} characters")
            )
            failed = True

        if failed or errors:
            continue  # once anything failed, only more faults matter
        assert ts is not None
        if ts.tzinfo is not UTC:  # `Z` and `+00:00` parse to UTC itself: rows travel in UTC
            ts = ts.astimezone(UTC)
        rows[(key, ts, dimensions)] = (key, ts, dimensions, value, source)
        seen = stats.get(key)
        if seen is None:
            stats[key] = _MetricStats(1, ts, ts)
        else:
            seen.received += 1
            if ts < seen.first:
                seen.first = ts
            elif ts > seen.last:
                seen.last = ts
    return rows, stats


# A batch touching more metrics is announced in several events of at most this many, so
# that an event (and a webhook body) stays around 200 KB.
METRICS_PER_EVENT = 1000


def ingested_events(
    stats: dict[str, _MetricStats], written: repository.Written
) -> list[tuple[str, uuid.UUID | None, dict[str, Any]]]:
    """The batch's `metric.points_ingested` events (payload: service.events.catalog): its
    metrics by key, in chunks of `METRICS_PER_EVENT`, each with its totals; the subject is
    the metric when there is one.

    The timestamps (UTC: see `validate`) stay datetimes here: `emit_many` serializes them
    with orjson, which writes exactly `isoformat()`'s text (`2026-01-02T03:04:05.000006+00:00`)
    several times faster than formatting them in Python. The entries are built inline (a
    dict display per metric, no call): this runs once per metric of every batch.
    """
    untouched = (0, 0)
    ids, counts = written
    entries: list[dict[str, Any]] = [
        {
            "metric_id": (metric_id := ids[key]),
            "metric_key": key,
            "count": metric.received,
            "inserted": (written_counts := counts.get(metric_id, untouched))[0],
            "updated": written_counts[1],
            "from_ts": metric.first,
            "to_ts": metric.last,
        }
        for key, metric in sorted(stats.items())
    ]
    events: list[tuple[str, uuid.UUID | None, dict[str, Any]]] = []
    for start in range(0, len(entries), METRICS_PER_EVENT):
        chunk = entries[start : start + METRICS_PER_EVENT]
        subject = uuid.UUID(chunk[0]["metric_id"]) if len(chunk) == 1 else None
        payload = {
            "count": sum(entry["count"] for entry in chunk),
            "inserted": sum(entry["inserted"] for entry in chunk),
            "updated": sum(entry["updated"] for entry in chunk),
            "metrics": chunk,
        }
        events.append(("metric.points_ingested", subject, payload))
    return events


async def ingest(
    session: AsyncSession,
    org_id: uuid.UUID,
    items: list[Any],
    *,
    route_metric: str | None = None,
    text_values: bool = False,
    max_future_skew_seconds: int = 600,
    errors: list[dict[str, Any]] | None = None,
) -> IngestResult:
    """Store a batch of decoded points atomically, or raise BatchRejected listing each fault.

    `route_metric` is the metric of a per-metric route (unknown → NotFound); `errors` are
    faults found while decoding, reported together with the rest.
    """
    check = partial(
        validate,
        items,
        route_metric=route_metric,
        text_values=text_values,
        now=datetime.now(UTC),
        max_future=timedelta(seconds=max_future_skew_seconds),
    )
    # First with the metrics unchecked: a valid batch is then one statement, which refuses
    # it (writing nothing) if a key names no metric or an archived one.
    faults = list(errors or [])
    rows, stats = check(None, errors=faults)
    written = None
    if rows and not faults:
        written = await repository.upsert(session, org_id, _in_lock_order(rows))
    if written is None:
        # Refused, faulty or empty: look the metrics up, for the route's 404 and for each
        # point's fault, and check again (a batch refused above meets a metric archived or
        # deleted meanwhile here).
        keys = [route_metric] if route_metric is not None else _metric_keys(items)
        metrics = {
            key: MetricRef(metric_id, archived)
            for key, (metric_id, archived) in (
                await repository.metrics_by_key(session, org_id, keys)
            ).items()
        }
        if route_metric is not None:
            if route_metric not in metrics:
                raise NotFound(f"metric {route_metric!r} not found", field="key")
            if metrics[route_metric].archived:
                raise Invalid(
                    f"metric {route_metric!r} is archived and takes no points", field="key"
                )
        faults = list(errors or [])
        rows, stats = check(metrics, errors=faults)
        if faults:
            faults.sort(key=lambda fault: fault["index"])  # decoding faults came first
            raise BatchRejected(faults)
        if not rows:
            return IngestResult(received=0, inserted=0, updated=0, unchanged=0, duplicates=0)
        written = await repository.upsert(session, org_id, _in_lock_order(rows))
        if written is None:  # a metric was archived or deleted between the two statements
            raise Conflict("a metric of the batch changed while it was written; send it again")

    # One statement for the batch's `metric.points_ingested` event (one per 1,000 metrics).
    await emit_many(session, org_id, ingested_events(stats, written))

    inserted = sum(count[0] for count in written.counts.values())
    updated = sum(count[1] for count in written.counts.values())
    return IngestResult(
        received=len(items),
        inserted=inserted,
        updated=updated,
        unchanged=len(rows) - inserted - updated,
        duplicates=len(items) - len(rows),
    )


def _in_lock_order(rows: dict[tuple[str, datetime, str], Row]) -> list[Row]:
    """Sorted by identity, so concurrent batches touching the same rows lock them in the same
    order. Key results measured on these metrics may change status: the upsert also queues
    the batch for the worker's recheck (`service.events.recheck`), which announces the
    changes after the commit; no window is read here."""
    return [rows[identity] for identity in sorted(rows)]
