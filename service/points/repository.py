"""All SQL of ingestion: one set-based upsert per batch, which also queues the batch for the
worker (its `metric.points_ingested` event and the status recheck)."""

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Why not the raw asyncpg connection: this is already one round trip per batch; going around
# the session would only hide the statement from the transaction's bookkeeping and from
# statement counting.
#
# The rows name their metric by key: the statement resolves the keys itself (`found`) and
# writes nothing unless every key names a metric that takes points (`usable`), so a valid
# batch costs one statement and the metric test and the write see one snapshot. The rows
# travel as five json arrays, one per column, zipped back into rows by `ROWS FROM` (cheaper
# to encode than binary arrays, each column lexed once); `json`, not `jsonb`, so a float
# comes back as the text sent (-0.0 included). Timestamps are sent in UTC (`validate`). The
# rows are written in the order given (`position`): callers sort them, so concurrent batches
# touching the same rows lock them in the same order. See
# docs/decisions/0002-ingestion-in-one-upsert-statement.md.
# Up to this many distinct keys a batch's metrics are found by index probes, beyond by a hash
# join over the organization's metrics (0002).
PROBED_KEYS = 64

# Two statements, one per way of finding the keys, rather than one with both branches behind a
# boolean parameter, which PostgreSQL planned anew on every execution: each of these keeps a
# generic plan (docs/decisions/0002-ingestion-in-one-upsert-statement.md).
_FOUND_PROBED = """
        -- A few keys: one index probe each.
        SELECT m.key, m.id, m.archived_at IS NOT NULL AS archived
        FROM json_array_elements_text(CAST(:keys AS json)) AS wanted(key)
        CROSS JOIN LATERAL (
            SELECT m.key, m.id, m.archived_at FROM metrics AS m
            WHERE m.org_id = :org_id AND m.key = wanted.key
            OFFSET 0
        ) AS m
"""
_FOUND_JOINED = """
        -- Many keys: one hash join over the organization's metrics.
        SELECT m.key, m.id, m.archived_at IS NOT NULL AS archived
        FROM json_array_elements_text(CAST(:keys AS json)) AS wanted(key)
        JOIN metrics AS m ON m.org_id = :org_id AND m.key = wanted.key
"""
_UPSERT = """
    WITH found AS MATERIALIZED ({found}), usable AS MATERIALIZED (
        SELECT count(*) = :key_count AND NOT COALESCE(bool_or(archived), false) AS ok
        FROM found
    ), written AS (
        INSERT INTO points AS p (org_id, metric_id, ts, dimensions, value, source)
        SELECT CAST(:org_id AS uuid), found.id, CAST(r.ts AS timestamptz),
               CAST(r.dimensions AS jsonb), CAST(r.value AS float8), r.source
        FROM ROWS FROM (
            json_array_elements_text(CAST(:metric_keys AS json)),
            json_array_elements_text(CAST(:tss AS json)),
            json_array_elements_text(CAST(:dimensions AS json)),
            json_array_elements_text(CAST(:vals AS json)),
            json_array_elements_text(CAST(:sources AS json))
        ) WITH ORDINALITY AS r(metric_key, ts, dimensions, value, source, position)
        JOIN found ON found.key = r.metric_key
        WHERE (SELECT ok FROM usable)
        ORDER BY r.position
        ON CONFLICT (org_id, metric_id, ts, dimensions) DO UPDATE
            SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = now()
            WHERE (p.value, p.source) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.source)
        RETURNING p.metric_id, p.ts, (p.xmax = 0) AS inserted, p.xmin
    ), per_metric AS (
        SELECT metric_id,
               CAST(count(*) FILTER (WHERE inserted) AS integer) AS inserted,
               CAST(count(*) FILTER (WHERE NOT inserted) AS integer) AS updated,
               min(ts) AS first_ts,
               max(ts) AS last_ts
        FROM written
        GROUP BY metric_id
    ), queued AS (
        -- The worker's queue (service.statuses.recheck): one row per batch that wrote points,
        -- each written metric with its earliest and latest ts and its counts, for the
        -- `metric.points_ingested` event and the status recheck, and the batch's
        -- transaction, the `xmin` of the points it wrote (the recheck's window cache,
        -- `service.statuses.window_cache`). In a savepoint the points carry the
        -- subtransaction's id instead, which snapshots do not list: the row then names no
        -- transaction (null), and the recheck reads the metrics' windows whole (one row
        -- tells: a statement writes all its rows in one (sub)transaction). The aggregates
        -- of one group read its rows in one order: no sort needed.
        INSERT INTO status_rechecks
            (org_id, metric_ids, first_ts, last_ts, inserted, updated, xids, announced)
        SELECT CAST(:org_id AS uuid), array_agg(metric_id), array_agg(first_ts),
               array_agg(last_ts), array_agg(inserted), array_agg(updated),
               CASE WHEN (SELECT xmin FROM written LIMIT 1) = CAST(pg_current_xact_id() AS xid)
                    THEN ARRAY[CAST(CAST(pg_current_xact_id() AS text) AS bigint)] END,
               false
        FROM per_metric
        HAVING count(*) > 0
    )
    SELECT (SELECT ok FROM usable),
           CAST(COALESCE(sum(inserted), 0) AS integer),
           CAST(COALESCE(sum(updated), 0) AS integer)
    FROM per_metric
"""
UPSERT_PROBED = text(_UPSERT.format(found=_FOUND_PROBED))
UPSERT_JOINED = text(_UPSERT.format(found=_FOUND_JOINED))

# key → archived of the given (distinct) keys that exist, for the faults of a refused
# batch (`upsert` resolves the keys of a valid one itself). Keys in as one json array,
# results out as one row of arrays. A join, not `key = ANY (array)`, which tests every metric
# of the organization against every key (0002).
METRICS_BY_KEY = text(
    """
    SELECT array_agg(m.key), array_agg(m.archived_at IS NOT NULL)
    FROM json_array_elements_text(CAST(:keys AS json)) AS wanted(key)
    JOIN metrics AS m ON m.org_id = :org_id AND m.key = wanted.key
    """
)

# metric key, ts, dimensions JSON, value, source
Row = tuple[str, datetime, str, float, str]


class Written(NamedTuple):
    """How many points `upsert` inserted (new identities) and updated (changed values)."""

    inserted: int
    updated: int


async def metrics_by_key(
    session: AsyncSession, org_id: uuid.UUID, keys: Collection[str]
) -> dict[str, bool]:
    """key → archived for those of `keys` that name a metric of `org_id`."""
    if not keys:
        return {}
    result = await session.execute(
        METRICS_BY_KEY, {"org_id": org_id, "keys": orjson.dumps(list(keys)).decode()}
    )
    found_keys, archived = result.one()
    if found_keys is None:
        return {}
    return dict(zip(found_keys, archived, strict=True))


async def upsert(session: AsyncSession, org_id: uuid.UUID, rows: list[Row]) -> Written | None:
    """Write `rows` (distinct identities, in the order given), or nothing and return None
    when one of their keys names no metric of `org_id` or an archived one. Rows whose value
    and source are already stored are left alone and counted by neither `inserted` nor
    `updated`.

    In the same statement, when anything was written, a `status_rechecks` row queues the
    written metrics' spans and counts for the worker (`service.statuses.recheck`), which
    announces them (`metric.points_ingested`) and rechecks key-result statuses after the
    commit: neither is done here."""
    if not rows:
        return Written(0, 0)
    metric_keys, tss, dimensions, values, sources = zip(*rows, strict=True)
    keys = list(dict.fromkeys(metric_keys))
    result = await session.execute(
        UPSERT_PROBED if len(keys) <= PROBED_KEYS else UPSERT_JOINED,
        {
            "org_id": org_id,
            "keys": orjson.dumps(keys).decode(),
            "key_count": len(keys),
            "metric_keys": orjson.dumps(metric_keys).decode(),
            "tss": orjson.dumps(tss).decode(),
            "dimensions": orjson.dumps(dimensions).decode(),
            "vals": orjson.dumps(values).decode(),
            "sources": orjson.dumps(sources).decode(),
        },
    )
    ok, inserted, updated = result.one()
    return Written(inserted, updated) if ok else None
