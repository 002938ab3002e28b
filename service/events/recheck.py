"""The worker's status recheck: `key_result.status_changed` caused by ingested points.

Ingestion (`service.points`) does not read key-result windows in its transaction (that
made it 20–25× slower than its upsert, issue 5): its upsert statement also queues one
`status_rechecks` row per batch that wrote points, holding each written metric's earliest
and latest `ts`. The delivery worker (`lodestar worker`, or inside `serve`) runs
`recheck_statuses` every `status_recheck_interval_seconds` (sooner after a quiet spell: a
commit's NOTIFY wakes it), so a change is announced within about five seconds (the default)
of the batch's commit, and the batches of those seconds are coalesced: each touched key
result's window is read
once however many batches reached it, and a key result that moved and moved back in
between announces nothing (only net changes are announced).

One transaction per run, so a crash or an error leaves the claimed rows queued for the
next run:

1. claim up to `limit` queue rows: `DELETE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
   LOCKED)`, so concurrent workers take disjoint rows, and merge their spans per metric in
   the same statement, which returns one row per organization;
2. per organization, under an advisory transaction lock (concurrent workers recheck one
   organization one after the other), lock the stored statuses
   of the key results the points can move, then find those key results (active, objective
   neither draft nor archived, window reached) and compute each one's status now with one
   window-aggregate statement;
3. compare with the stored status (`key_result_statuses`): a difference is announced with
   `cause: "ingest"` and stored; a key result without a stored status is stored silently
   (its first observation: nothing says what it was before).

Because writers lock the same stored rows before computing theirs, the events of a key
result form one chain (each `before` is the previous `after`) whichever path announced
them. See `service.events.status`.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.events.outbox import emit_many
from service.events.status import (
    Announcement,
    Span,
    StoredStatus,
    lock_metric_statuses,
    metric_key_results,
    metric_scores,
    status_changed,
    store_statuses,
)

CAUSE = "ingest"
DEFAULT_LIMIT = 1000

# The claimed batches' spans are merged here, per organization and metric, not in Python: a
# queued batch of 1,000 metrics carries 3,000 array elements, and under sustained ingestion a
# recheck claims hundreds of batches. Decoding and merging them in the worker cost ~2.8 ms of
# the event loop per claimed 1,000-metric batch (1,000 queued batches: 2.85 s), which `serve`
# paid beside the requests it was answering; PostgreSQL merges them in a hash aggregate and
# sends one row per organization.
_CLAIM = text(
    """
    WITH claimed AS (
        DELETE FROM status_rechecks
        WHERE id IN (
            SELECT id FROM status_rechecks ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
        )
        RETURNING org_id, metric_ids, first_ts, last_ts
    ), batches AS (
        SELECT org_id, count(*) AS batches FROM claimed GROUP BY org_id
    ), spans AS (
        SELECT claimed.org_id, span.metric_id, min(span.first_ts) AS first_ts,
               max(span.last_ts) AS last_ts
        FROM claimed
        CROSS JOIN LATERAL unnest(claimed.metric_ids, claimed.first_ts, claimed.last_ts)
            AS span(metric_id, first_ts, last_ts)
        GROUP BY claimed.org_id, span.metric_id
    )
    SELECT batches.org_id, batches.batches, array_agg(spans.metric_id),
           array_agg(spans.first_ts), array_agg(spans.last_ts)
    FROM batches
    JOIN spans ON spans.org_id = batches.org_id
    GROUP BY batches.org_id, batches.batches
    """
)


async def recheck_statuses(
    session: AsyncSession, *, limit: int = DEFAULT_LIMIT, as_of: datetime | None = None
) -> tuple[int, int]:
    """Claim up to `limit` queued batches and announce the status changes they caused, in
    the caller's transaction (commit it to make the claim and the events durable).

    Returns (batches claimed, events emitted); a full claim means more may be queued.
    """
    batches, spans = await claim(session, limit=limit)
    emitted = 0
    t = as_of or datetime.now(UTC)
    for org_id in sorted(spans):
        emitted += await _recheck_organization(session, org_id, spans[org_id], t)
    return batches, emitted


async def claim(
    session: AsyncSession, *, limit: int
) -> tuple[int, dict[uuid.UUID, dict[uuid.UUID, Span]]]:
    """Take up to `limit` queued batches (one statement): how many, and per organization each
    written metric's span over all of them (earliest first ts, latest last ts)."""
    claimed = (await session.execute(_CLAIM, {"limit": limit})).all()
    spans = {
        org_id: dict(zip(metric_ids, zip(firsts, lasts, strict=True), strict=True))
        for org_id, _, metric_ids, firsts, lasts in claimed
    }
    return sum(batches for _, batches, _, _, _ in claimed), spans


async def _recheck_organization(
    session: AsyncSession, org_id: uuid.UUID, spans: dict[uuid.UUID, Span], t: datetime
) -> int:
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"lodestar-recheck:{org_id}")))
    )
    # Lock first, then read: a writer that announced meanwhile has committed, so the reads
    # below see its change and the comparison its stored status.
    stored = await lock_metric_statuses(session, org_id, spans, t)
    thresholds, key_results = await metric_key_results(session, org_id, spans, t)
    scores = await metric_scores(session, org_id, key_results, t, thresholds)
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
