"""The worker's handling of ingested batches: their `metric.points_ingested` event and the
`key_result.status_changed` they caused.

Ingestion queues one `status_rechecks` row per batch in its upsert statement. Every
`status_recheck_interval_seconds` the worker runs `announce_ingested`, one transaction: it
claims queued rows (SKIP LOCKED), emits one coalesced `metric.points_ingested` per
organization (per 1,000 metrics) and, when its cadence allows, rechecks the touched key
results' statuses against `key_result_statuses` (`cause: "ingest"`). The queue row commits
with its batch and is deleted by the run that announces it, so none is lost or announced
twice. Why and how: docs/decisions/0004-ingested-batches-announced-by-the-worker.md (the
cadence: 0005; window reads: 0006; one chain of status events: 0007).
"""

import uuid
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, INTEGER
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.outbox import emit_many
from service.events.catalog import EventType
from service.statuses.tracker import (
    SPANS,
    Announcement,
    StoredStatus,
    lock_metric_statuses,
    metric_key_results,
    metric_scores,
    span_params,
    status_changed,
    store_statuses,
)
from service.statuses.window_cache import Written

CAUSE = "ingest"
DEFAULT_LIMIT = 1000

# The claimed batches' spans and counts are merged here, per organization and metric, not in
# Python: a queued batch of 1,000 metrics carries 5,000 array elements, and under sustained
# ingestion a run claims hundreds of batches, which the worker would decode and merge on the
# event loop `serve` answers requests on (decision record 0004); PostgreSQL merges them in a
# hash aggregate and sends one row per organization, its metrics in key order (the event's).
# Counts and the event's spans come from the batches not announced yet; the recheck's spans
# from every claimed row (a row `announced` is the merged spans a run announced without
# rechecking them, or a batch written by code before revision 0009, which announced itself),
# as do what the window cache needs (`service.statuses.window_cache`): the claimed rows'
# transactions, and per metric the points inserted and updated by all of them
# (`all_inserted`, `all_updated`; null when a row does not say: rows queued before revision
# 0011). A run that will not recheck claims only batches not announced yet (`fresh_only`):
# the rows it puts back are not claimed again until a recheck, so its drain loop ends. A metric
# deleted since has no points left to announce or recheck: the join drops it (its rows still
# count as claimed).
_CLAIM = text(
    """
    WITH claimed AS (
        DELETE FROM status_rechecks
        WHERE id IN (
            SELECT id FROM status_rechecks
            WHERE NOT (announced AND :fresh_only)
            ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
        )
        RETURNING org_id, metric_ids, first_ts, last_ts, inserted, updated, xids, announced,
                  created_at
    ), batches AS (
        SELECT org_id, count(*) AS claimed, count(*) FILTER (WHERE NOT announced) AS fresh,
               min(created_at) AS queued_since
        FROM claimed GROUP BY org_id
    ), xids AS (
        SELECT org_id, array_agg(DISTINCT xid ORDER BY xid) AS xids
        FROM claimed CROSS JOIN LATERAL unnest(claimed.xids) AS xid
        GROUP BY org_id
    ), spans AS (
        SELECT claimed.org_id, span.metric_id,
               min(span.first_ts) AS first_ts, max(span.last_ts) AS last_ts,
               min(span.first_ts) FILTER (WHERE NOT claimed.announced) AS fresh_first_ts,
               max(span.last_ts) FILTER (WHERE NOT claimed.announced) AS fresh_last_ts,
               CAST(COALESCE(sum(span.inserted) FILTER (WHERE NOT claimed.announced), 0)
                    AS integer) AS inserted,
               CAST(COALESCE(sum(span.updated) FILTER (WHERE NOT claimed.announced), 0)
                    AS integer) AS updated,
               CASE WHEN NOT bool_or(claimed.xids IS NULL OR span.inserted IS NULL)
                    THEN CAST(sum(span.inserted) AS integer) END AS all_inserted,
               CASE WHEN NOT bool_or(claimed.xids IS NULL OR span.updated IS NULL)
                    THEN CAST(sum(span.updated) AS integer) END AS all_updated
        FROM claimed
        CROSS JOIN LATERAL unnest(
            claimed.metric_ids, claimed.first_ts, claimed.last_ts, claimed.inserted,
            claimed.updated
        ) AS span(metric_id, first_ts, last_ts, inserted, updated)
        GROUP BY claimed.org_id, span.metric_id
    )
    SELECT batches.org_id, batches.claimed, batches.fresh, batches.queued_since, xids.xids,
           named.*
    FROM batches
    LEFT JOIN xids ON xids.org_id = batches.org_id
    CROSS JOIN LATERAL (
        SELECT array_agg(spans.metric_id ORDER BY m.key), array_agg(m.key ORDER BY m.key),
               array_agg(spans.first_ts ORDER BY m.key), array_agg(spans.last_ts ORDER BY m.key),
               array_agg(spans.fresh_first_ts ORDER BY m.key),
               array_agg(spans.fresh_last_ts ORDER BY m.key),
               array_agg(spans.inserted ORDER BY m.key), array_agg(spans.updated ORDER BY m.key),
               array_agg(spans.all_inserted ORDER BY m.key),
               array_agg(spans.all_updated ORDER BY m.key)
        FROM spans
        JOIN metrics AS m ON m.org_id = spans.org_id AND m.id = spans.metric_id
        WHERE spans.org_id = batches.org_id
    ) AS named
    """
)

# What a run that announced batches without rechecking them puts back: one row per
# organization with the merged spans, already announced, for the next recheck, queued since
# the earliest of them (`status_recheck_lag_seconds` keeps counting from there), with what
# the window cache needs: the batches' transactions and each metric's inserted and updated
# points over every merged row (not used for events: the row is announced).
_REQUEUE = text(
    """
    INSERT INTO status_rechecks
        (org_id, metric_ids, first_ts, last_ts, inserted, updated, xids, announced, created_at)
    VALUES (:org, :metric_ids, :firsts, :lasts, :inserted, :updated, :xids, true, :queued_since)
    """
).bindparams(
    *SPANS,
    bindparam("inserted", type_=ARRAY(INTEGER)),
    bindparam("updated", type_=ARRAY(INTEGER)),
    bindparam("xids", type_=ARRAY(BIGINT)),
)

# A run touching more metrics of an organization announces them in several events of at most
# this many, so that an event (and a webhook body) stays around 200 KB.
METRICS_PER_EVENT = 1000


class IngestedMetric(NamedTuple):
    """A metric the claimed batches wrote points of, merged over those batches."""

    id: uuid.UUID
    key: str
    first_ts: datetime
    last_ts: datetime
    inserted: int
    updated: int


class Claimed(NamedTuple):
    """The claimed queue rows of one organization: how many, how many of them are batches
    not announced yet, when the earliest was queued, the metrics the batches wrote (in key
    order), and for the recheck what every claimed row wrote (`Written`)."""

    rows: int
    batches: int
    queued_since: datetime
    ingested: list[IngestedMetric]
    written: Written


class Announced(NamedTuple):
    """What a run did: queue rows claimed (a full claim means more may be queued) and status
    changes announced."""

    claimed: int
    status_changes: int


async def announce_ingested(
    session: AsyncSession,
    *,
    limit: int = DEFAULT_LIMIT,
    recheck: bool = True,
    as_of: datetime | None = None,
) -> Announced:
    """Claim up to `limit` queued rows and announce the batches among them
    (`metric.points_ingested`), in the caller's transaction (commit it to make the claim and
    the events durable). With `recheck`, also announce the status changes they caused;
    without, put their merged spans back in the queue (one row per organization) for a later
    run to recheck."""
    claimed = await claim(session, limit=limit, fresh_only=not recheck)
    changes = 0
    t = as_of or datetime.now(UTC)
    for org_id in sorted(claimed):
        org = claimed[org_id]
        await emit_many(session, org_id, ingested_events(org))
        if recheck:
            changes += await _recheck_organization(session, org_id, org.written, t)
        elif org.written.spans:
            await session.execute(
                _REQUEUE,
                span_params(org_id, org.written.spans, t)
                | {
                    "inserted": list(org.written.inserted.values()),
                    "updated": list(org.written.updated.values()),
                    "xids": org.written.xids,
                    "queued_since": org.queued_since,
                },
            )
    return Announced(sum(org.rows for org in claimed.values()), changes)


async def claim(
    session: AsyncSession, *, limit: int, fresh_only: bool = False
) -> dict[uuid.UUID, Claimed]:
    """Take up to `limit` queued rows (one statement), merged per organization; with
    `fresh_only`, only batches not announced yet."""
    claimed: dict[uuid.UUID, Claimed] = {}
    for org_id, rows, batches, since, xids, *arrays in (
        await session.execute(_CLAIM, {"limit": limit, "fresh_only": fresh_only})
    ).all():
        # (an organization whose claimed metrics are all deleted gets nulls)
        ids, keys, firsts, lasts, *fresh, all_inserted, all_updated = (
            array or [] for array in arrays
        )
        claimed[org_id] = Claimed(
            rows,
            batches,
            since,
            [
                IngestedMetric(metric_id, key, first, last, inserted, updated)
                for metric_id, key, first, last, inserted, updated in zip(
                    ids, keys, *fresh, strict=True
                )
                if first is not None  # written by a batch not announced yet
            ],
            Written(
                dict(zip(ids, zip(firsts, lasts, strict=True), strict=True)),
                dict(zip(ids, all_inserted, strict=True)),
                dict(zip(ids, all_updated, strict=True)),
                xids or [],
            ),
        )
    return claimed


def ingested_events(claimed: Claimed) -> list[Announcement]:
    """The `metric.points_ingested` events (payload: service.events.catalog) of one
    organization's claimed batches: its metrics by key, in chunks of `METRICS_PER_EVENT`,
    each with its totals; the subject is the metric when the event lists one. Timestamps stay
    datetimes (UTC, from PostgreSQL): `emit_many` serializes them with orjson, which writes
    exactly `isoformat()`'s text."""
    events: list[Announcement] = []
    for start in range(0, len(claimed.ingested), METRICS_PER_EVENT):
        chunk = claimed.ingested[start : start + METRICS_PER_EVENT]
        entries = [
            {
                "metric_id": str(metric.id),
                "metric_key": metric.key,
                "count": metric.inserted + metric.updated,
                "inserted": metric.inserted,
                "updated": metric.updated,
                "from_ts": metric.first_ts,
                "to_ts": metric.last_ts,
            }
            for metric in chunk
        ]
        inserted = sum(metric.inserted for metric in chunk)
        updated = sum(metric.updated for metric in chunk)
        payload = {
            "batches": claimed.batches,
            "count": inserted + updated,
            "inserted": inserted,
            "updated": updated,
            "metrics": entries,
        }
        subject = chunk[0].id if len(chunk) == 1 else None
        events.append((EventType.METRIC_POINTS_INGESTED, subject, payload))
    return events


async def _recheck_organization(
    session: AsyncSession, org_id: uuid.UUID, written: Written, t: datetime
) -> int:
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"lodestar-recheck:{org_id}")))
    )
    # Lock first, then read: a writer that announced meanwhile has committed, so the reads
    # below see its change and the comparison its stored status.
    stored = await lock_metric_statuses(session, org_id, written.spans, t)
    thresholds, key_results = await metric_key_results(session, org_id, written.spans, t)
    scores = await metric_scores(session, org_id, key_results, t, thresholds, written)
    announced: list[Announcement] = []
    to_store: list[StoredStatus] = []
    for kr in sorted(key_results, key=lambda kr: kr.id):
        score = scores[kr.id]
        before = stored.get(kr.id)
        if before is None:
            # No stored status (or one stored after our lock: the insert keeps that one).
            to_store.append(StoredStatus(kr.id, score.status.value, score.progress, t, False))
        elif before != score.status.value:
            to_store.append(StoredStatus(kr.id, score.status.value, score.progress, t, True))
            announced.append(
                status_changed(
                    kr.id,
                    kr.objective_id,
                    before,
                    score.status.value,
                    score.progress,
                    score.expected_progress,
                    CAUSE,
                    t,
                )
            )
    announced.sort(key=lambda event: str(event[1]))
    await emit_many(session, org_id, announced)
    await store_statuses(session, org_id, to_store)
    return len(announced)
