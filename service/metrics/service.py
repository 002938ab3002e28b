"""Metrics and the metric tree: definitions, the single North Star, and an acyclic edge graph."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.outbox import emit
from service.errors import Conflict, CycleDetected, ErrorCode, Invalid, NotFound
from service.events.catalog import EventType
from service.kit import rows
from service.metrics import repository
from service.metrics.filters import MetricFilter
from service.metrics.schemas import (
    MetricCreate,
    MetricEdgeCreate,
    MetricEdgeUpdate,
    MetricPut,
    MetricUpdate,
)
from service.models import Aggregation, Metric, MetricEdge
from service.models.metric import METRIC_KEY_PATTERN

SERIES_BUCKETS = ("hour", "day", "week", "month")
_BUCKET_LENGTH = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=28),
}
MAX_SERIES_BUCKETS = 5_000
_KEY = re.compile(METRIC_KEY_PATTERN)
_REQUIRED_FIELDS = ("name", "description", "definition", "unit", "direction", "aggregation", "kind")
_NORTH_STAR_INDEX = "uq_metrics_org_id_north_star"
_KEY_INDEX = "uq_metrics_org_id_key"


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise Invalid(
            "a metric key is a lowercase letter followed by up to 62 lowercase letters, "
            "digits or underscores",
            field="key",
        )
    return key


def metric_payload(metric: Metric) -> dict[str, Any]:
    return {
        "id": str(metric.id),
        "key": metric.key,
        "name": metric.name,
        "description": metric.description,
        "definition": metric.definition,
        "unit": metric.unit,
        "direction": metric.direction,
        "aggregation": metric.aggregation,
        "kind": metric.kind,
        "observation_window_days": metric.observation_window_days,
        "owner_person_id": str(metric.owner_person_id) if metric.owner_person_id else None,
        "is_north_star": metric.is_north_star,
        "archived_at": metric.archived_at.isoformat() if metric.archived_at else None,
    }


def edge_payload(edge: MetricEdge) -> dict[str, Any]:
    return {
        "id": str(edge.id),
        "child_metric_id": str(edge.child_metric_id),
        "parent_metric_id": str(edge.parent_metric_id),
        "relation": edge.relation,
        "weight": edge.weight,
    }


# -- reads -------------------------------------------------------------------------------


async def get_metric(session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID) -> Metric:
    return await rows.get_one(session, Metric, org_id, metric_id, what="metric")


async def get_metric_by_key(session: AsyncSession, org_id: uuid.UUID, key: str) -> Metric:
    metric = await repository.get_by_key(session, org_id, key)
    if metric is None:
        raise NotFound(f"metric {key!r} not found", field="key")
    return metric


async def list_metrics(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    include_archived: bool = False,
    after: str | None = None,
    limit: int,
) -> tuple[list[Metric], str | None]:
    """One page of at most `limit` metrics in key order, and the key to pass as `after` for
    the next page (None on the last one)."""
    metrics = await repository.list_for_org(
        session,
        org_id,
        MetricFilter(include_archived=include_archived),
        after=after,
        limit=limit + 1,  # one more: is there a next page?
    )
    if len(metrics) > limit:
        return metrics[:limit], metrics[limit - 1].key
    return metrics, None


async def get_north_star(session: AsyncSession, org_id: uuid.UUID) -> Metric | None:
    return await repository.north_star(session, org_id)


# -- writes ------------------------------------------------------------------------------


async def _check_references(
    session: AsyncSession, org_id: uuid.UUID, metric: Metric | None, changes: dict[str, Any]
) -> None:
    owner = changes.get("owner_person_id")
    if owner is not None and not await repository.person_exists(session, org_id, owner):
        raise Invalid("owner person not found", field="owner_person_id", code=ErrorCode.NOT_FOUND)
    if changes.get("is_north_star") and not (metric is not None and metric.is_north_star):
        current = await repository.north_star(session, org_id)
        if current is not None and (metric is None or current.id != metric.id):
            raise Conflict(
                f"metric {current.key!r} is already the North Star of this organization; "
                "unset it before choosing another",
                field="is_north_star",
            )


async def _flush(session: AsyncSession) -> None:
    """Flush in a savepoint so that a lost race on a unique index becomes a Conflict."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        if _NORTH_STAR_INDEX in message:
            raise Conflict(
                "another metric became the North Star at the same time", field="is_north_star"
            ) from exc
        if _KEY_INDEX in message:
            raise Conflict(
                "a metric with this key already exists", field="key", code=ErrorCode.DUPLICATE
            ) from exc
        raise


async def create_metric(session: AsyncSession, org_id: uuid.UUID, data: MetricCreate) -> Metric:
    check_key(data.key)
    if await repository.get_by_key(session, org_id, data.key) is not None:
        raise Conflict(
            f"a metric with key {data.key!r} already exists", field="key", code=ErrorCode.DUPLICATE
        )
    fields = data.model_dump()
    await _check_references(session, org_id, None, fields)
    metric = Metric(org_id=org_id, **fields)
    session.add(metric)
    await _flush(session)
    await session.refresh(metric)
    await emit(session, org_id, EventType.METRIC_CREATED, metric.id, metric_payload(metric))
    return metric


async def _apply(
    session: AsyncSession, org_id: uuid.UUID, metric: Metric, changes: dict[str, Any]
) -> Metric:
    for name in _REQUIRED_FIELDS:
        if name in changes and changes[name] is None:
            raise Invalid(f"{name} cannot be null", field=name, code=ErrorCode.REQUIRED)
    if changes.get("is_north_star") is None:
        changes.pop("is_north_star", None)
    changed = {name: value for name, value in changes.items() if getattr(metric, name) != value}
    if not changed:
        return metric
    await _check_references(session, org_id, metric, changed)
    for name, value in changed.items():
        setattr(metric, name, value)
    await _flush(session)
    await session.refresh(metric)
    await emit(session, org_id, EventType.METRIC_UPDATED, metric.id, metric_payload(metric))
    return metric


async def update_metric(
    session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID, data: MetricUpdate
) -> Metric:
    metric = await get_metric(session, org_id, metric_id)
    return await _apply(session, org_id, metric, data.model_dump(exclude_unset=True))


async def put_metric(
    session: AsyncSession, org_id: uuid.UUID, key: str, data: MetricPut
) -> tuple[Metric, bool]:
    """Create the metric `key` or replace its definition; True when it was created."""
    check_key(key)
    metric = await repository.get_by_key(session, org_id, key, for_update=True)
    if metric is None:
        created = await create_metric(session, org_id, MetricCreate(key=key, **data.model_dump()))
        return created, True
    return await _apply(session, org_id, metric, data.model_dump()), False


async def archive_metric(session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID) -> Metric:
    """Archived metrics keep their points and edges but take no new points."""
    metric = await get_metric(session, org_id, metric_id)
    if metric.archived_at is not None:
        return metric
    if metric.is_north_star:
        raise Invalid(
            "the North Star cannot be archived; unset it first",
            field="id",
            code=ErrorCode.INVALID_STATE,
        )
    metric.archived_at = datetime.now(UTC)
    await _flush(session)
    await emit(session, org_id, EventType.METRIC_ARCHIVED, metric.id, metric_payload(metric))
    return metric


async def restore_metric(session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID) -> Metric:
    metric = await get_metric(session, org_id, metric_id)
    if metric.archived_at is None:
        return metric
    metric.archived_at = None
    await _flush(session)
    await emit(session, org_id, EventType.METRIC_RESTORED, metric.id, metric_payload(metric))
    return metric


# -- the metric tree ---------------------------------------------------------------------


async def create_metric_edge(
    session: AsyncSession, org_id: uuid.UUID, data: MetricEdgeCreate
) -> MetricEdge:
    """Add child → parent. Refuses self-loops, duplicates and anything that closes a cycle."""
    if data.child_metric_id == data.parent_metric_id:
        raise CycleDetected("a metric cannot drive itself", field="parent_metric_id")
    await get_metric(session, org_id, data.child_metric_id)
    await get_metric(session, org_id, data.parent_metric_id)
    # One writer per organization's graph at a time, so two concurrent edges cannot
    # together close a cycle that neither check alone would see.
    await repository.lock_metric_graph(session, org_id)
    if await repository.find_edge(session, org_id, data.child_metric_id, data.parent_metric_id):
        raise Conflict(
            "this edge already exists", field="parent_metric_id", code=ErrorCode.DUPLICATE
        )
    if await repository.reaches(session, org_id, data.parent_metric_id, data.child_metric_id):
        raise CycleDetected(
            "the parent already depends on the child; this edge would close a cycle",
            field="parent_metric_id",
        )
    edge = MetricEdge(org_id=org_id, **data.model_dump())
    session.add(edge)
    await session.flush()
    await emit(session, org_id, EventType.METRIC_EDGE_CREATED, edge.id, edge_payload(edge))
    return edge


async def update_metric_edge(
    session: AsyncSession, org_id: uuid.UUID, edge_id: uuid.UUID, data: MetricEdgeUpdate
) -> MetricEdge:
    edge = await repository.get_edge(session, org_id, edge_id)
    if edge is None:
        raise NotFound("metric edge not found", field="id")
    changes = {
        name: value
        for name, value in data.model_dump(exclude_unset=True).items()
        if value is not None and getattr(edge, name) != value
    }
    if not changes:
        return edge
    for name, value in changes.items():
        setattr(edge, name, value)
    await session.flush()
    await emit(session, org_id, EventType.METRIC_EDGE_UPDATED, edge.id, edge_payload(edge))
    return edge


async def delete_metric_edge(session: AsyncSession, org_id: uuid.UUID, edge_id: uuid.UUID) -> None:
    edge = await repository.get_edge(session, org_id, edge_id)
    if edge is None:
        raise NotFound("metric edge not found", field="id")
    payload = edge_payload(edge)
    await repository.delete_edge(session, org_id, edge_id)
    await emit(session, org_id, EventType.METRIC_EDGE_DELETED, edge_id, payload)


# -- a small series read (the full metric-value semantics live in service/rollups/) -------


async def metric_series(
    session: AsyncSession,
    org_id: uuid.UUID,
    key: str,
    *,
    start: datetime,
    end: datetime,
    bucket: str = "day",
    aggregation: Aggregation | None = None,
) -> tuple[Metric, Aggregation, list[tuple[datetime, float, int]]]:
    """Buckets of [start, end) in UTC with the metric's aggregation (or `aggregation`)."""
    if bucket not in SERIES_BUCKETS:
        raise Invalid(f"bucket must be one of {', '.join(SERIES_BUCKETS)}", field="bucket")
    for name, value in (("to", end), ("from", start)):
        if value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone (e.g. `Z`)", field=name)
    if end <= start:
        raise Invalid("`to` must be after `from`", field="to")
    if (end - start) / _BUCKET_LENGTH[bucket] > MAX_SERIES_BUCKETS:
        raise Invalid(
            f"at most {MAX_SERIES_BUCKETS} buckets per request; use a larger bucket",
            field="bucket",
            code=ErrorCode.OUT_OF_RANGE,
        )
    metric = await get_metric_by_key(session, org_id, key)
    used = aggregation or Aggregation(metric.aggregation)
    rows = await repository.series(
        session, org_id, metric.id, start=start, end=end, bucket=bucket, aggregation=used
    )
    return metric, used, rows
