"""The status recheck's window reads, kept (`window_aggregates`) and extended with what was
written since, instead of read whole every time.

A kept row holds a window's count and its metric's aggregate, the snapshot it was read at and
how far (`through`); the next recheck adds the points of the queued batches' transactions
that snapshot did not see and every point after `through`, in one statement taken after the
recheck's status locks. Why that is complete, and when a window is read whole instead:
docs/decisions/0006-kept-window-aggregates.md.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, BOOLEAN, INTEGER, TIMESTAMP, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from service.rollups.repository import last_of_window, window_points

Span = tuple[datetime, datetime]  # a metric's earliest and latest written ts
Window = tuple[uuid.UUID, datetime, datetime]  # (metric, start, end): [start, end)

# A backlog: from this many queue rows not claimed by the run, windows are read whole.
MAX_QUEUED = 100
# A kept window is extended only while it holds at least this many times the points
# inserted since: a written point is read from the table (for its `xmin`), where a whole read
# on vacuumed pages reads the index alone (docs/decisions/0006-kept-window-aggregates.md).
KEPT_FACTOR = 8
# Windows of fewer points are not kept: reading them whole costs less than writing their row
# each time (0006).
KEEP_FROM = 1000
# A kept row is read whole again after this long.
WHOLE_READ_EVERY = timedelta(hours=1)


class Written(NamedTuple):
    """What the claimed queue rows of an organization wrote: each metric's span (earliest
    first ts, latest last ts), each metric's inserted and updated points over all of them
    (None: a row does not say), and their transactions (`xid8` as int)."""

    spans: dict[uuid.UUID, Span]
    inserted: dict[uuid.UUID, int | None]
    updated: dict[uuid.UUID, int | None]
    xids: list[int]


# The `computed` rows of windows read whole, one branch per aggregation: the count and the
# metric's own aggregate, in the kept row's columns (count, sum, min, max).
_WHOLE_READS = "        UNION ALL\n".join(
    f"""
        SELECT w.i, r.*
        FROM windows w
        CROSS JOIN LATERAL (
            SELECT count(*) AS count, {columns}
            FROM points p WHERE {window_points()}
        ) AS r
        WHERE w.whole AND w.aggregation IN ({", ".join(f"'{name}'" for name in names)})
"""
    for names, columns in (
        (("sum", "avg"), "sum(p.value) AS sum, NULL::float8 AS min, NULL::float8 AS max"),
        (("count",), "NULL::float8 AS sum, NULL::float8 AS min, NULL::float8 AS max"),
        (("min",), "NULL::float8 AS sum, min(p.value) AS min, NULL::float8 AS max"),
        (("max",), "NULL::float8 AS sum, NULL::float8 AS min, max(p.value) AS max"),
    )
)

_STATEMENT = text(
    """
    WITH wanted AS MATERIALIZED (
        SELECT w.i, w.metric_id, w.a, w.e, w.b, m.aggregation
        FROM unnest(:metric_ids, :starts, :ends, :throughs) WITH ORDINALITY
            AS w(metric_id, a, e, b, i)
        JOIN metrics m ON m.org_id = :org AND m.id = w.metric_id
    ), queued AS MATERIALIZED (
        -- Committed rows this run did not claim (it deleted those it claimed).
        SELECT q.metric_ids, q.first_ts, q.last_ts, q.inserted, q.updated, q.xids
        FROM status_rechecks q WHERE q.org_id = :org
        LIMIT :max_queued + 1
    ), backlog AS (
        SELECT count(*) > :max_queued AS yes FROM queued
    ), me AS (
        -- This transaction's id, and the first id this statement's snapshot does not see
        -- (above every committed one), as bigints.
        SELECT CAST(CAST(pg_current_xact_id() AS text) AS bigint) AS x,
               CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) AS horizon
    ), fresh AS MATERIALIZED (
        -- The transactions whose points a kept row may not hold.
        SELECT x FROM unnest(:xids) AS x
        UNION
        SELECT unnest(q.xids) FROM queued q
    ), touched AS MATERIALIZED (
        -- Per metric, the span written since, the points inserted (null: unknown) and
        -- whether points were updated.
        SELECT s.metric_id, min(s.first_ts) AS first_ts, max(s.last_ts) AS last_ts,
               CASE WHEN NOT bool_or(s.inserted IS NULL) THEN sum(s.inserted) END AS inserted,
               bool_or(s.dirty) AS dirty
        FROM (
            SELECT c.metric_id, c.first_ts, c.last_ts, c.inserted, c.dirty
            FROM unnest(:span_ids, :firsts, :lasts, :inserted, :dirty)
                AS c(metric_id, first_ts, last_ts, inserted, dirty)
            UNION ALL
            SELECT u.metric_id, u.first_ts, u.last_ts, u.inserted,
                   q.xids IS NULL OR u.updated IS DISTINCT FROM 0
            FROM queued q
            CROSS JOIN LATERAL unnest(
                q.metric_ids, q.first_ts, q.last_ts, q.inserted, q.updated
            ) AS u(metric_id, first_ts, last_ts, inserted, updated)
        ) AS s
        GROUP BY s.metric_id
    ), windows AS MATERIALIZED (
        SELECT w.*, k.through, k.count, k.sum, k.min, k.max, k.snapshot, k.read_at,
               t.first_ts, t.last_ts, CAST(k.snapshot AS pg_snapshot) AS seen,
               COALESCE(
                   k.org_id IS NULL OR w.aggregation = 'last' OR w.aggregation <> k.aggregation
                   OR w.b < k.through
                   OR k.read_at < now() - CAST(:whole_read_every AS interval) OR t.dirty
                   OR k.count < :kept_factor * t.inserted
                   OR k.read_by IN (SELECT x FROM fresh) OR (SELECT yes FROM backlog)
                   -- a snapshot from ahead of this one: another cluster's (a restore)
                   OR CAST(CAST(pg_snapshot_xmax(CAST(k.snapshot AS pg_snapshot)) AS text)
                           AS bigint) > (SELECT horizon FROM me),
                   true
               ) AS whole
        FROM wanted w
        LEFT JOIN window_aggregates k ON k.org_id = :org AND k.metric_id = w.metric_id
            AND k.starts_at = w.a AND k.ends_at = w.e
        LEFT JOIN touched t ON t.metric_id = w.metric_id
    ), added AS (
        -- Points of the batches' transactions the kept snapshot did not see. `xmin` holds
        -- the low 32 bits of an xid8: first it must be one of the batches' (a hashed
        -- subplan: `NOT IN` of an uncorrelated subquery; a point written 2^31 transactions
        -- ago, or rewritten by a tool, is not), then, as the xid8 below the statement's
        -- horizon with those bits, not visible in the kept snapshot. Filters on each point,
        -- not a join against the transactions: with these row estimates the planner chose a
        -- merge or a nested loop there, far slower (decision record 0006).
        SELECT w.i, count(*) AS count, sum(p.value) AS sum, min(p.value) AS min,
               max(p.value) AS max
        FROM windows w
        JOIN points p ON p.org_id = :org AND p.metric_id = w.metric_id
            AND p.ts >= GREATEST(w.a, w.first_ts) AND p.ts <= w.last_ts AND p.ts < w.through
        WHERE NOT w.whole
          AND NOT (
              CAST(CAST(p.xmin AS text) AS bigint)
                  NOT IN (SELECT f.x % 4294967296 FROM fresh f)
          )
          AND NOT pg_visible_in_snapshot(
              CAST(
                  CAST(
                      (SELECT horizon FROM me)
                      - (((SELECT horizon FROM me) - CAST(CAST(p.xmin AS text) AS bigint))
                         % 4294967296 + 4294967296) % 4294967296
                      AS text
                  ) AS xid8
              ),
              w.seen
          )
        GROUP BY w.i
    ), later AS (
        SELECT w.i, count(*) AS count, sum(p.value) AS sum, min(p.value) AS min,
               max(p.value) AS max
        FROM windows w
        JOIN points p ON p.org_id = :org AND p.metric_id = w.metric_id
            AND p.ts >= w.through AND p.ts < w.b
        WHERE NOT w.whole
        GROUP BY w.i
    ), computed AS MATERIALIZED (
        -- Windows read whole: the count and the one aggregate the metric needs (all four
        -- cost more: decision record 0006), so a kept row holds the count and its metric's
        -- aggregate only (`aggregation`).
        WHOLE_READS
        UNION ALL
        SELECT w.i, w.count + COALESCE(n.count, 0) + COALESCE(l.count, 0),
               CASE WHEN w.aggregation IN ('sum', 'avg')
                    THEN (SELECT sum(v) FROM (VALUES (w.sum), (n.sum), (l.sum)) AS s(v)) END,
               CASE WHEN w.aggregation = 'min' THEN LEAST(w.min, n.min, l.min) END,
               CASE WHEN w.aggregation = 'max' THEN GREATEST(w.max, n.max, l.max) END
        FROM windows w
        LEFT JOIN added n ON n.i = w.i
        LEFT JOIN later l ON l.i = w.i
        WHERE NOT w.whole
    ), kept AS (
        INSERT INTO window_aggregates AS k
            (org_id, metric_id, starts_at, ends_at, aggregation, through, count, sum, min, max,
             snapshot, read_by, read_at)
        SELECT :org, w.metric_id, w.a, w.e, w.aggregation, w.b, c.count, c.sum, c.min, c.max,
               CAST(pg_current_snapshot() AS text),
               (SELECT x FROM me),
               CASE WHEN w.whole THEN now() ELSE w.read_at END
        FROM windows w JOIN computed c ON c.i = w.i
        WHERE c.count >= :keep_from
        ORDER BY w.metric_id, w.a, w.e
        ON CONFLICT (org_id, metric_id, starts_at, ends_at) DO UPDATE
            SET aggregation = EXCLUDED.aggregation, through = EXCLUDED.through,
                count = EXCLUDED.count, sum = EXCLUDED.sum,
                min = EXCLUDED.min, max = EXCLUDED.max, snapshot = EXCLUDED.snapshot,
                read_by = EXCLUDED.read_by, read_at = EXCLUDED.read_at
    ), dropped AS (
        -- Kept rows the claimed spans reach that this run does not rewrite (their key
        -- results are not rechecked, `last`, too few points): their batches are consumed.
        -- `NOT IN` of an uncorrelated subquery is a hashed subplan: as `NOT EXISTS` the
        -- planner chose an anti join testing every pair (decision record 0006).
        DELETE FROM window_aggregates k
        USING unnest(:span_ids, :firsts, :lasts) AS s(metric_id, first_ts, last_ts)
        WHERE k.org_id = :org AND k.metric_id = s.metric_id
          AND k.starts_at <= s.last_ts AND s.first_ts < k.through
          AND (k.metric_id, k.starts_at, k.ends_at) NOT IN (
              SELECT w.metric_id, w.a, w.e
              FROM windows w JOIN computed c ON c.i = w.i
              WHERE c.count >= :keep_from
          )
    )
    SELECT w.i,
           CASE w.aggregation
               WHEN 'sum' THEN c.sum
               WHEN 'avg' THEN c.sum / NULLIF(c.count, 0)
               WHEN 'min' THEN c.min
               WHEN 'max' THEN c.max
               WHEN 'count' THEN CAST(c.count AS float8)
           END
    FROM windows w JOIN computed c ON c.i = w.i
    UNION ALL
    SELECT w.i, LAST_OF_WINDOW FROM windows w WHERE w.aggregation = 'last'
    """.replace("WHOLE_READS", _WHOLE_READS).replace("LAST_OF_WINDOW", last_of_window())
).bindparams(
    bindparam("metric_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("starts", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("ends", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("throughs", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("span_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("firsts", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("lasts", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("inserted", type_=ARRAY(INTEGER)),
    bindparam("dirty", type_=ARRAY(BOOLEAN)),
    bindparam("xids", type_=ARRAY(BIGINT)),
    bindparam("max_queued", type_=INTEGER),
    bindparam("kept_factor", type_=INTEGER),
    bindparam("keep_from", type_=INTEGER),
)


async def window_values(
    session: AsyncSession,
    org_id: uuid.UUID,
    windows: Sequence[tuple[Window, datetime]],
    written: Written,
) -> dict[Window, float | None]:
    """Each window's aggregate (`service.rollups.repository.window_values`: `count` over no
    points is 0, the others null), given with its cycle's end ([start, min(as of, cycle
    end)) grows towards it), reading only what `written` and the queue say changed where a
    kept row allows; one statement, which also keeps what it read and drops the kept rows of
    other windows `written` reaches (they would miss its points).

    Only under the organization's recheck lock (`service.statuses.recheck`): two unlocked
    callers could each keep a row, the later one from a snapshot older than the batches the
    earlier one consumed."""
    unique = list(dict.fromkeys(windows))
    if not unique and not written.spans:
        return {}
    spans = written.spans
    result = await session.execute(
        _STATEMENT,
        {
            "org": org_id,
            "metric_ids": [w[0][0] for w in unique],
            "starts": [w[0][1] for w in unique],
            "ends": [w[1] for w in unique],
            "throughs": [w[0][2] for w in unique],
            "span_ids": list(spans),
            "firsts": [span[0] for span in spans.values()],
            "lasts": [span[1] for span in spans.values()],
            "inserted": [written.inserted.get(metric_id) for metric_id in spans],
            "dirty": [written.updated.get(metric_id) != 0 for metric_id in spans],
            "xids": written.xids,
            "max_queued": MAX_QUEUED,
            "kept_factor": KEPT_FACTOR,
            "keep_from": KEEP_FROM,
            "whole_read_every": WHOLE_READ_EVERY,
        },
    )
    values: dict[Window, float | None] = {w[0]: None for w in unique}
    for index, value in result.all():
        values[unique[index - 1][0]] = None if value is None else float(value)
    return values
