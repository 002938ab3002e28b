"""The daily sweep: status changes caused by the passing of time, and overdue commitments.

Once per UTC day and organization (run by the delivery worker; safe to run from several
workers: an advisory lock serialises them and a marker makes it idempotent) it

- compares each active key result's status now with its last announced status (stored in
  `key_result_statuses`; where none is stored, with its status at the previous sweep or a
  status announced since) and emits `key_result.status_changed` with `cause: "sweep"` for
  the differences: pace moves with time even when no data arrives;
- emits `commitment.overdue` for open commitments whose due date passed since the previous
  sweep (on the first sweep: those due yesterday), once per commitment and due date;
- forgets webhook secrets replaced by a rotation once their overlap has ended;
- deletes finished (succeeded or failed) webhook deliveries older than
  `webhook_log_retention_days`, with their attempts; the events themselves stay.

The marker is an outbox row of type `lodestar.daily_sweep` with payload `{"day": "YYYY-MM-DD"}`
(not subscribable by webhooks): the outbox is the durable record of what was announced.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db import unit_of_work
from service.db.outbox import emit
from service.events.catalog import EventType
from service.models import (
    Commitment,
    CommitmentState,
    Delivery,
    DeliveryStatus,
    Event,
    KeyResult,
    KeyResultState,
    WebhookEndpoint,
)
from service.statuses.tracker import announce_changes, snapshot

# Literal, not a bind parameter, so the planner can use the partial index ix_events_daily_sweep.
IS_MARKER = text("events.type = 'lodestar.daily_sweep'")

_DUE_ORGS = text(
    """
    SELECT organization.id FROM organizations AS organization
    WHERE NOT EXISTS (
        SELECT 1 FROM events AS event
        WHERE event.org_id = organization.id AND event.type = 'lodestar.daily_sweep'
          AND event.payload ->> 'day' = :day
    )
    """
)


async def run_daily_sweeps(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime | None = None,
    *,
    log_retention_days: int | None = None,
) -> int:
    """Sweep every organization not yet swept today; the number swept."""
    now = now or datetime.now(UTC)
    async with sessions() as session:
        org_ids = list(
            (await session.execute(_DUE_ORGS, {"day": now.date().isoformat()})).scalars().all()
        )
    swept = 0
    for org_id in org_ids:
        async with unit_of_work(sessions) as session:
            swept += int(
                await sweep_organization(
                    session, org_id, now, log_retention_days=log_retention_days
                )
            )
    return swept


async def sweep_organization(
    session: AsyncSession,
    org_id: uuid.UUID,
    now: datetime,
    *,
    log_retention_days: int | None = None,
) -> bool:
    """One organization's sweep for `now`'s day; False when it was already done."""
    today = now.date()
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"lodestar-sweep:{org_id}")))
    )
    previous = (
        await session.execute(
            select(Event)
            .where(Event.org_id == org_id, IS_MARKER)
            .order_by(Event.seq.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if previous is not None and previous.payload.get("day") == today.isoformat():
        return False
    changed = 0
    if previous is not None:
        changed = await _time_status_changes(session, org_id, previous, now)
    since = date.fromisoformat(previous.payload["day"]) if previous else today - timedelta(days=1)
    overdue = await _overdue_commitments(session, org_id, since, today)
    await session.execute(  # replaced webhook secrets past their overlap are forgotten
        update(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == org_id, WebhookEndpoint.previous_secret_expires_at <= now)
        .values(previous_secret=None, previous_secret_expires_at=None)
    )
    if log_retention_days is not None:
        await session.execute(
            delete(Delivery).where(
                Delivery.org_id == org_id,
                Delivery.status != DeliveryStatus.pending,
                Delivery.created_at < now - timedelta(days=log_retention_days),
            )
        )
    await emit(
        session,
        org_id,
        EventType.DAILY_SWEEP,
        None,
        {
            "day": today.isoformat(),
            "as_of": now.isoformat(),
            "status_changes": changed,
            "overdue": overdue,
        },
    )
    return True


async def _time_status_changes(
    session: AsyncSession, org_id: uuid.UUID, previous: Event, now: datetime
) -> int:
    ids = list(
        (
            await session.execute(
                select(KeyResult.id).where(
                    KeyResult.org_id == org_id, KeyResult.state == KeyResultState.active
                )
            )
        ).scalars()
    )
    if not ids:
        return 0
    previous_as_of = datetime.fromisoformat(
        previous.payload.get("as_of") or previous.created_at.isoformat()
    )
    baseline: dict[uuid.UUID, Any] = dict(
        await snapshot(session, org_id, ids, as_of=previous_as_of)
    )
    announced = await session.execute(
        select(Event.subject_id, Event.payload)
        .where(
            Event.org_id == org_id,
            Event.type == EventType.KEY_RESULT_STATUS_CHANGED,
            Event.seq > previous.seq,
            Event.subject_id.in_(ids),
        )
        .order_by(Event.seq)
    )
    for subject_id, payload in announced.all():
        if subject_id is not None and subject_id in baseline:
            baseline[subject_id] = str(payload.get("after"))
    events = await announce_changes(session, org_id, baseline, cause="sweep", as_of=now)
    return len(events)


async def _overdue_commitments(
    session: AsyncSession, org_id: uuid.UUID, since: date, today: date
) -> int:
    from service.commitments.service import commitment_payload

    commitments = (
        (
            await session.execute(
                select(Commitment)
                .where(
                    Commitment.org_id == org_id,
                    Commitment.state == CommitmentState.open,
                    Commitment.due_on >= since,
                    Commitment.due_on < today,
                )
                .order_by(Commitment.due_on, Commitment.id)
            )
        )
        .scalars()
        .all()
    )
    count = 0
    for commitment in commitments:
        payload = await commitment_payload(session, commitment)
        payload["overdue_since"] = (commitment.due_on + timedelta(days=1)).isoformat()
        await emit(session, org_id, EventType.COMMITMENT_OVERDUE, commitment.id, payload)
        count += 1
    return count
