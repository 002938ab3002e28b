"""Transactional outbox: every change records its event in the same transaction.

Services call `emit` next to the write it describes (a rolled-back transaction emits
nothing); the same statement fans the event out to webhooks, one `deliveries` row per
enabled endpoint subscribed to its type, so no dispatcher tails `events` by `seq` (which can
skip an event whose transaction commits late). Listeners hear of it by `NOTIFY
lodestar_events, '<org_id>:<seq>:<deliveries>'` (`deliveries` lets the delivery worker sleep
through events nobody subscribed to), sent right after the commit by
`OutboxSession.commit`, not inside the writing transaction. Ingestion is the exception: the
worker announces its batches (`service.statuses.recheck`). Why:
docs/decisions/0008-outbox-notify-after-commit-and-json-payloads.md.
"""

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from service.events.catalog import EventType
from service.events.channel import CHANNEL, notification

# In array order (a function scan), so listeners hear a transaction's events in seq order.
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', note) FROM unnest(CAST(:notes AS text[])) AS note")

# session.info key: [(note, transaction that emitted it)] not yet sent.
_PENDING = "lodestar.outbox.notifications"


class Emitted(NamedTuple):
    """An event as written: its id (the `webhook-id` of its deliveries) and `seq`."""

    id: uuid.UUID
    seq: int


async def emit(
    session: AsyncSession,
    org_id: uuid.UUID,
    type: EventType,
    subject_id: uuid.UUID | None,
    payload: dict[str, Any],
) -> Emitted:
    """Record event `type` (e.g. `objective.created`) about `subject_id` with a JSON payload.

    The payload of each type is documented in `service.events.catalog`.
    """
    (emitted,) = await emit_many(session, org_id, [(type, subject_id, payload)])
    return emitted


# The events arrive as columns zipped by `ROWS FROM`, each read once: types and subjects as
# two json arrays (cheaper to encode than array parameters; `->` on one document of events
# would re-read each event for every field). Payloads come as a text array, one serialized
# payload per element, each parsed once by its cast to `json` (inside a json array
# PostgreSQL lexed every payload twice), and are stored as `json`, not `jsonb` (migration
# 0006; decision record 0008). The seqs come back as one array (one row to decode instead of
# one per event).
_EMIT_MANY = text(
    """
    WITH event AS (
        INSERT INTO events (id, org_id, type, subject_id, payload)
        SELECT gen_random_uuid(), CAST(:org_id AS uuid), e.type, CAST(e.subject_id AS uuid),
               CAST(e.payload AS json)
        FROM ROWS FROM (
            json_array_elements_text(CAST(:types AS json)),
            json_array_elements_text(CAST(:subject_ids AS json)),
            unnest(CAST(:payloads AS text[]))
        ) WITH ORDINALITY AS e(type, subject_id, payload, position)
        ORDER BY e.position
        RETURNING id, org_id, seq, type
    ),
    fan_out AS (
        INSERT INTO deliveries (id, org_id, endpoint_id, event_id, status, attempts)
        SELECT gen_random_uuid(), endpoint.org_id, endpoint.id, event.id, 'pending', 0
        FROM event
        JOIN webhook_endpoints AS endpoint
          ON endpoint.org_id = event.org_id
         AND endpoint.enabled
         AND event.type = ANY (endpoint.event_types)
        RETURNING event_id
    ),
    fanned AS (
        SELECT event_id, count(*) AS deliveries FROM fan_out GROUP BY event_id
    )
    SELECT array_agg(event.id ORDER BY event.seq),
           array_agg(event.seq ORDER BY event.seq),
           array_agg(COALESCE(fanned.deliveries, 0) ORDER BY event.seq)
    FROM event
    LEFT JOIN fanned ON fanned.event_id = event.id
    """
)


def json_default(value: object) -> str:
    """orjson `default`: ids read back by asyncpg are its own `uuid.UUID` subclass, which
    orjson does not serialize natively."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


async def emit_many(
    session: AsyncSession,
    org_id: uuid.UUID,
    events: Sequence[tuple[EventType, uuid.UUID | None, dict[str, Any]]],
) -> list[Emitted]:
    """Record several (type, subject_id, payload) events, in ONE statement whatever their
    number (insert and fan-out; the notification follows the commit). Returns them in the
    given order."""
    if not events:
        return []
    # A text statement does not autoflush: pending ORM changes (a new webhook endpoint the
    # fan-out must see, rows the event describes) reach the database first.
    await session.flush()
    types, subject_ids, payloads = zip(*events, strict=True)
    result = await session.execute(
        _EMIT_MANY,
        {
            "org_id": org_id,
            "types": orjson.dumps(types).decode(),
            "subject_ids": orjson.dumps(subject_ids, default=json_default).decode(),
            "payloads": [
                orjson.dumps(payload, default=json_default).decode() for payload in payloads
            ],
        },
    )
    ids, seqs, deliveries = result.one()
    _notify_after_commit(
        session,
        [notification(org_id, seq, count) for seq, count in zip(seqs, deliveries, strict=True)],
    )
    return [Emitted(id, seq) for id, seq in zip(ids, seqs, strict=True)]


def _notify_after_commit(session: AsyncSession, notes: list[str]) -> None:
    emitted_in = (
        session.sync_session.get_nested_transaction() or session.sync_session.get_transaction()
    )
    session.info.setdefault(_PENDING, []).extend((note, emitted_in) for note in notes)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back transaction or savepoint takes its events' notifications with it (and
    those of savepoints inside it)."""
    pending = session.info.get(_PENDING)
    if not pending:
        return

    def inside(transaction: SessionTransaction | None) -> bool:
        while transaction is not None:
            if transaction is previous:
                return True
            transaction = transaction.parent
        return False

    session.info[_PENDING] = [(note, tx) for note, tx in pending if not inside(tx)]


class OutboxSession(AsyncSession):
    """The session of Lodestar's session factories: after a commit, it sends the
    notifications of the events the transaction emitted (see the module docstring)."""

    async def commit(self) -> None:
        await super().commit()
        pending = self.info.pop(_PENDING, None)
        if pending:
            # One autocommit statement (no BEGIN/COMMIT round trips); it writes nothing, so
            # its commit flushes no WAL under the NOTIFY lock.
            assert isinstance(self.bind, AsyncEngine), "OutboxSession is bound to an engine"
            async with self.bind.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(_NOTIFY, {"notes": [note for note, _ in pending]})

    async def close(self) -> None:
        self.info.pop(_PENDING, None)  # closing without a commit discards what it wrote
        await super().close()
