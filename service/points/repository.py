"""All SQL of ingestion: one set-based upsert per batch (which also queues the batch for
the worker's status recheck), and the batch's events."""

import uuid
from collections.abc import Collection
from datetime import datetime

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.events.outbox import json_default

# Why not the raw asyncpg connection: this is already one round trip per batch; going around
# the session would only hide the statement from the transaction's bookkeeping and from
# statement counting.
#
# The rows travel as five json arrays, one per column, zipped back into rows by `ROWS FROM`,
# not as five binary arrays: asyncpg encodes array parameters element by element in Python
# (an `isinstance` against collections.abc per element, a timezone conversion per
# timestamp), ~2.7 ms of the event loop per 1,000 rows, where orjson writes them in ~0.4 ms.
# Nor as one document of rows `[[metric_id, ts, ...], ...]`: `->>` on a `json` value
# re-reads the element from its start for every field, and that lexing cost PostgreSQL
# 5.2-5.6 ms per 1,000 rows against 2.5 ms for `json_array_elements_text` reading each
# column once (binary arrays: 1.0 ms on the server plus 2.9 ms in the client; measured).
# `json`, not `jsonb`: each element comes back as the text sent, so a float keeps its exact
# shortest repr (-0.0 included) and float8in reads back the same double. Timestamps are
# sent in UTC (`validate`).
UPSERT = text(
    """
    WITH written AS (
        INSERT INTO points AS p (org_id, metric_id, ts, dimensions, value, source)
        SELECT CAST(:org_id AS uuid), CAST(r.metric_id AS uuid), CAST(r.ts AS timestamptz),
               CAST(r.dimensions AS jsonb), CAST(r.value AS float8), r.source
        FROM ROWS FROM (
            json_array_elements_text(CAST(:metric_ids AS json)),
            json_array_elements_text(CAST(:tss AS json)),
            json_array_elements_text(CAST(:dimensions AS json)),
            json_array_elements_text(CAST(:vals AS json)),
            json_array_elements_text(CAST(:sources AS json))
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
    SELECT array_agg(CAST(metric_id AS text)), array_agg(inserted), array_agg(updated)
    FROM per_metric
    """
)

# key → (id, archived) of the given (distinct) keys that exist. A Core text statement (no ORM
# select to build, no row objects): keys in as one json array, results out as one row of
# arrays. A join, not `key = ANY (array)`: that tests every metric of the organization
# against every key (1,000 keys × 2,000 metrics: 11–20 ms a batch, measured; the join 1.5 ms).
# Ids come back as text: ingestion only writes them into JSON documents (the rows, the event
# payload), where orjson copies a `str` but needs a `str()` (for asyncpg's UUID subclass a
# `default` call) per point and per metric for a `uuid.UUID`.
METRICS_BY_KEY = text(
    """
    SELECT array_agg(m.key), array_agg(CAST(m.id AS text)), array_agg(m.archived_at IS NOT NULL)
    FROM json_array_elements_text(CAST(:keys AS json)) AS wanted(key)
    JOIN metrics AS m ON m.org_id = :org_id AND m.key = wanted.key
    """
)

# metric id (text, see METRICS_BY_KEY), ts, dimensions JSON, value, source
Row = tuple[str, datetime, str, float, str]


async def metrics_by_key(
    session: AsyncSession, org_id: uuid.UUID, keys: Collection[str]
) -> dict[str, tuple[str, bool]]:
    """key → (metric id as text, archived) for those of `keys` that name a metric of `org_id`."""
    if not keys:
        return {}
    result = await session.execute(
        METRICS_BY_KEY, {"org_id": org_id, "keys": orjson.dumps(list(keys)).decode()}
    )
    found_keys, ids, archived = result.one()
    if found_keys is None:
        return {}
    return dict(zip(found_keys, zip(ids, archived, strict=True), strict=True))


async def upsert(
    session: AsyncSession, org_id: uuid.UUID, rows: list[Row]
) -> dict[str, tuple[int, int]]:
    """Write `rows` (distinct identities); per metric id (as text) (inserted, updated). Rows
    whose value and source are already stored are left alone and counted by neither.

    In the same statement, when anything was written, a `status_rechecks` row queues the
    written metrics' spans for the worker (`service.events.recheck`): key-result statuses
    are rechecked after the commit, not read here."""
    if not rows:
        return {}
    metric_ids, tss, dimensions, values, sources = zip(*rows, strict=True)
    result = await session.execute(
        UPSERT,
        {
            "org_id": org_id,
            "metric_ids": orjson.dumps(metric_ids, default=json_default).decode(),
            "tss": orjson.dumps(tss).decode(),
            "dimensions": orjson.dumps(dimensions).decode(),
            "vals": orjson.dumps(values).decode(),
            "sources": orjson.dumps(sources).decode(),
        },
    )
    # One row of three arrays (decoded by asyncpg in C) rather than a row per metric.
    metric_ids_written, inserted, updated = result.one()
    if metric_ids_written is None:  # nothing inserted or updated
        return {}
    return dict(zip(metric_ids_written, zip(inserted, updated, strict=True), strict=True))
