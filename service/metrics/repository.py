"""All SQL of the metrics domain: metrics, metric edges and the small series query."""

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.metrics.filters import MetricFilter, select_metrics
from service.models import Aggregation, Metric, MetricEdge, Person


async def get_by_key(
    session: AsyncSession, org_id: uuid.UUID, key: str, *, for_update: bool = False
) -> Metric | None:
    query = select(Metric).where(Metric.org_id == org_id, Metric.key == key)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def list_for_org(
    session: AsyncSession,
    org_id: uuid.UUID,
    filter: MetricFilter,
    *,
    after: str | None = None,
    limit: int,
) -> list[Metric]:
    """The organization's metrics in key order: those after `after`, at most `limit`."""
    query = select_metrics(org_id, filter)
    if after is not None:
        query = query.where(Metric.key > after)
    result = await session.execute(query.order_by(Metric.key).limit(limit))
    return list(result.scalars())


async def north_star(session: AsyncSession, org_id: uuid.UUID) -> Metric | None:
    result = await session.execute(
        select(Metric).where(Metric.org_id == org_id, Metric.is_north_star)
    )
    return result.scalar_one_or_none()


async def person_exists(session: AsyncSession, org_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    result = await session.execute(
        select(exists().where(Person.org_id == org_id, Person.id == person_id))
    )
    return bool(result.scalar())


async def get_edge(
    session: AsyncSession, org_id: uuid.UUID, edge_id: uuid.UUID
) -> MetricEdge | None:
    result = await session.execute(
        select(MetricEdge).where(MetricEdge.org_id == org_id, MetricEdge.id == edge_id)
    )
    return result.scalar_one_or_none()


async def find_edge(
    session: AsyncSession, org_id: uuid.UUID, child_id: uuid.UUID, parent_id: uuid.UUID
) -> MetricEdge | None:
    result = await session.execute(
        select(MetricEdge).where(
            MetricEdge.org_id == org_id,
            MetricEdge.child_metric_id == child_id,
            MetricEdge.parent_metric_id == parent_id,
        )
    )
    return result.scalar_one_or_none()


async def delete_edge(session: AsyncSession, org_id: uuid.UUID, edge_id: uuid.UUID) -> None:
    await session.execute(
        delete(MetricEdge).where(MetricEdge.org_id == org_id, MetricEdge.id == edge_id)
    )


async def lock_metric_graph(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Serialise edge writes of one organization until the transaction ends (cycle checks)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('metric_edges:' || :org_id, 0))"),
        {"org_id": str(org_id)},
    )


async def reaches(
    session: AsyncSession, org_id: uuid.UUID, start_id: uuid.UUID, target_id: uuid.UUID
) -> bool:
    """Whether following edges child → parent from `start_id` arrives at `target_id`."""
    result = await session.execute(
        text(
            """
            WITH RECURSIVE ancestors(id) AS (
                SELECT parent_metric_id FROM metric_edges
                WHERE org_id = :org_id AND child_metric_id = :start_id
              UNION
                SELECT e.parent_metric_id FROM metric_edges e
                JOIN ancestors a ON e.child_metric_id = a.id
                WHERE e.org_id = :org_id
            )
            SELECT EXISTS (SELECT 1 FROM ancestors WHERE id = :target_id)
            """
        ),
        {"org_id": org_id, "start_id": start_id, "target_id": target_id},
    )
    return bool(result.scalar())


_AGGREGATES = {
    Aggregation.sum: "sum(value)",
    Aggregation.avg: "avg(value)",
    Aggregation.min: "min(value)",
    Aggregation.max: "max(value)",
    Aggregation.count: "count(*)::float8",
}


async def series(
    session: AsyncSession,
    org_id: uuid.UUID,
    metric_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    bucket: str,
    aggregation: Aggregation,
) -> list[tuple[datetime, float, int]]:
    """(bucket start, aggregate, point count) for buckets of [start, end) holding points.

    `bucket` is one of hour/day/week/month (validated by the caller; it is a bound value).
    `last` takes each series' (distinct dimensions) latest point in the bucket, summed.
    """
    params = {
        "org_id": org_id,
        "metric_id": metric_id,
        "start": start,
        "end": end,
        "bucket": bucket,
    }
    window = "org_id = :org_id AND metric_id = :metric_id AND ts >= :start AND ts < :end"
    if aggregation is Aggregation.last:
        sql = f"""
            SELECT bucket, sum(value), sum(points)::int FROM (
                SELECT DISTINCT ON (bucket, dimensions)
                       date_trunc(:bucket, ts, 'UTC') AS bucket, dimensions, value,
                       count(*) OVER (PARTITION BY date_trunc(:bucket, ts, 'UTC'), dimensions)
                           AS points
                FROM points WHERE {window}
                ORDER BY bucket, dimensions, ts DESC
            ) latest
            GROUP BY bucket ORDER BY bucket
        """
    else:
        sql = f"""
            SELECT date_trunc(:bucket, ts, 'UTC') AS bucket, {_AGGREGATES[aggregation]},
                   count(*)::int
            FROM points WHERE {window}
            GROUP BY 1 ORDER BY 1
        """
    result = await session.execute(text(sql), params)
    return [(row[0], float(row[1]), int(row[2])) for row in result]
