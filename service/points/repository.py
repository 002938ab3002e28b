"""All SQL of ingestion: one set-based upsert per batch (which also queues the batch for
the worker's status recheck), and the batch's events."""

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Why not the raw asyncpg connection: this is already one round trip per batch, and under
# text() SQLAlchemy hands the Python lists straight to asyncpg, which encodes the arrays in
# binary itself; going around the session would only hide the statement from the
# transaction's bookkeeping and from statement counting.
UPSERT = text(
    """
    WITH written AS (
        INSERT INTO points AS p (org_id, metric_id, ts, dimensions, value, source)
        SELECT CAST(:org_id AS uuid), r.metric_id, r.ts, r.dimensions::jsonb, r.value, r.source
        FROM unnest(
            CAST(:metric_ids AS uuid[]),
            CAST(:ts AS timestamptz[]),
            CAST(:dimensions AS text[]),
            CAST(:values AS float8[]),
            CAST(:sources AS text[])
        ) AS r(metric_id, ts, dimensions, value, source)
        ON CONFLICT (org_id, metric_id, ts, dimensions) DO UPDATE
            SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = now()
            WHERE (p.value, p.source) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.source)
        RETURNING p.metric_id, p.ts, (p.xmax = 0) AS inserted
    ), per_metric AS (
        SELECT metric_id,
               count(*) FILTER (WHERE inserted) AS inserted,
               count(*) FILTER (WHERE NOT inserted) AS updated,
               min(ts) AS first_ts,
               max(ts) AS last_ts
        FROM written
        GROUP BY metric_id
    ), queued AS (
        -- The worker's status recheck (service.events.recheck): one row per batch that
        -- wrote points, each written metric with its earliest and latest ts.
        INSERT INTO status_rechecks (org_id, metric_ids, first_ts, last_ts)
        SELECT CAST(:org_id AS uuid), array_agg(metric_id ORDER BY metric_id),
               array_agg(first_ts ORDER BY metric_id), array_agg(last_ts ORDER BY metric_id)
        FROM per_metric
        HAVING count(*) > 0
    )
    SELECT metric_id, inserted, updated FROM per_metric
    """
)

Row = tuple[uuid.UUID, datetime, str, float, str]  # metric id, ts, dimensions JSON, value, source


async def upsert(
    session: AsyncSession, org_id: uuid.UUID, rows: list[Row]
) -> dict[uuid.UUID, tuple[int, int]]:
    """Write `rows` (distinct identities); per metric (inserted, updated). Rows whose value
    and source are already stored are left alone and counted by neither.

    In the same statement, when anything was written, a `status_rechecks` row queues the
    written metrics' spans for the worker (`service.events.recheck`): key-result statuses
    are rechecked after the commit, not read here."""
    metric_ids, ts, dimensions, values, sources = (
        list(column) for column in zip(*rows, strict=True)
    )
    result = await session.execute(
        UPSERT,
        {
            "org_id": org_id,
            "metric_ids": metric_ids,
            "ts": ts,
            "dimensions": dimensions,
            "values": values,
            "sources": sources,
        },
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in result}
