"""Ingestion, the hot path: validate a whole batch, then write it with one statement.

A batch is atomic: every point is checked (plain dict checks, no object per point) and
any fault refuses the whole batch with each bad point listed. A valid batch is written by
one statement that also checks its metrics (`repository.upsert`); only a refused one
looks its metrics up, to list each point's fault. Within a batch the last
point of an identity (metric, ts, dimensions) wins; against stored points the last write
wins. The upsert also queues the batch (each written metric's counts and time span) in its
transaction; the worker announces it (`service.statuses.recheck`): within about five seconds
of the commit one `metric.points_ingested` event coalescing the batches of those seconds,
and `key_result.status_changed` for the key results they moved (later under heavy
ingestion: rechecks take at most a tenth of the worker's time).
"""

import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Conflict, Invalid, NotFound
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
    metrics: dict[str, bool] | None,
    *,
    route_metric: str | None,
    text_values: bool,
    now: datetime,
    max_future: timedelta,
    errors: list[dict[str, Any]],
) -> dict[tuple[str, datetime, str], Row]:
    """Check every point; return rows by identity (last wins).

    `metrics` maps each known key to whether its metric is archived. With `metrics` None,
    whether a key names a metric that takes points is left to the
    upsert (`repository.upsert`), which refuses the batch otherwise. Row timestamps are in
    UTC (the upsert relies on it).

    Faults are appended to `errors`; rows are meaningless when any were found.
    """
    latest = now + max_future
    rows: dict[tuple[str, datetime, str], Row] = {}  # keyed by metric key: str hashes are cached
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
        archived: bool | None = None
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
        elif type(key) is not str or (
            metrics is not None and (archived := metrics.get(key)) is None
        ):
            errors.append(
                _error(index, "metric", PointErrorCode.UNKNOWN_METRIC, f"unknown metric {key!r}")
            )
            failed = True
        elif archived:
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
    return rows


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
    rows = check(None, errors=faults)
    written = None
    if rows and not faults:
        written = await repository.upsert(session, org_id, _in_lock_order(rows))
    if written is None:
        # Refused, faulty or empty: look the metrics up, for the route's 404 and for each
        # point's fault, and check again (a batch refused above meets a metric archived or
        # deleted meanwhile here).
        keys = [route_metric] if route_metric is not None else _metric_keys(items)
        metrics = await repository.metrics_by_key(session, org_id, keys)
        if route_metric is not None:
            if route_metric not in metrics:
                raise NotFound(f"metric {route_metric!r} not found", field="key")
            if metrics[route_metric]:
                raise Invalid(
                    f"metric {route_metric!r} is archived and takes no points", field="key"
                )
        faults = list(errors or [])
        rows = check(metrics, errors=faults)
        if faults:
            faults.sort(key=lambda fault: fault["index"])  # decoding faults came first
            raise BatchRejected(faults)
        if not rows:
            return IngestResult(received=0, inserted=0, updated=0, unchanged=0, duplicates=0)
        written = await repository.upsert(session, org_id, _in_lock_order(rows))
        if written is None:  # a metric was archived or deleted between the two statements
            raise Conflict("a metric of the batch changed while it was written; send it again")

    return IngestResult(
        received=len(items),
        inserted=written.inserted,
        updated=written.updated,
        unchanged=len(rows) - written.inserted - written.updated,
        duplicates=len(items) - len(rows),
    )


def _in_lock_order(rows: dict[tuple[str, datetime, str], Row]) -> list[Row]:
    """Sorted by identity, so concurrent batches touching the same rows lock them in the same
    order."""
    return [rows[identity] for identity in sorted(rows)]
