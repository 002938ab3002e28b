"""GraphQL subscriptions over `graphql-transport-ws`, fed by PostgreSQL LISTEN/NOTIFY.

A write commits its outbox event and `NOTIFY lodestar_events, '<org_id>:<seq>'`; every
replica's single listener connection (`app.state.listener`) hears it and hands it to the
in-process queue of each open subscription, which keeps only its own organization's
notifications, loads the event by (org_id, seq) and yields it when it concerns the
subscribed object. A write on one replica therefore reaches subscribers on every replica.
Updates are live, not durable: a client that reconnects re-reads what it missed by query.

Authorization is the API key in the `connection_init` payload
(`{"Authorization": "Bearer lsk_..."}`), checked once per connection; the `read` scope is
needed, as for queries. The websocket route is served by its own router (`subscription_router`)
because the HTTP context getter depends on the request's bearer header and session.
"""

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

import strawberry
from fastapi import WebSocket
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.core.errors import ApiError, ErrorCodes
from schema.core.relay import decode_id, to_global_id
from service.auth.principal import Principal
from service.events.listener import EventListener
from service.models import Event, KeyResult
from service.settings import Settings

T = TypeVar("T")
log = logging.getLogger("lodestar.subscriptions")

KEY_RESULT_LEVEL = ("key_result.", "check_in.")


@dataclass
class SubscriptionContext(BaseContext):
    """Context of one websocket connection: the caller is known after `connection_init`."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    listener: EventListener | None
    loads: "EventLoads"
    websocket: WebSocket | None = None
    principal: Principal | None = None
    transport: ClassVar[str] = "websocket"

    def __post_init__(self) -> None:
        super().__init__()


@strawberry.type(description="An event of the outbox, as delivered to webhooks.")
class LiveEvent:
    id: strawberry.ID = strawberry.field(description="Event id (the webhook `webhook-id`).")
    type: str = strawberry.field(description="Event type, e.g. `key_result.status_changed`.")
    sequence: str = strawberry.field(description="Commit-order-ish sequence number (64-bit).")
    occurred_at: datetime = strawberry.field(description="When the change was written.")
    payload: JSON = strawberry.field(description="The event's payload (see the event catalog).")

    @classmethod
    def from_model(cls, event: Event) -> "LiveEvent":
        return cls(
            id=strawberry.ID(str(event.id)),
            type=event.type,
            sequence=str(event.seq),
            occurred_at=event.created_at,
            payload=event.payload,  # type: ignore[arg-type]
        )


@strawberry.type(description="A change to a key result, or a check-in on it.")
class KeyResultUpdate:
    key_result_id: strawberry.ID = strawberry.field(description="The key result that changed.")
    objective_id: strawberry.ID = strawberry.field(description="Its objective.")
    event: LiveEvent = strawberry.field(description="The event that announced the change.")


@strawberry.type(description="A change to an objective or to one of its key results.")
class ObjectiveUpdate:
    objective_id: strawberry.ID = strawberry.field(description="The objective.")
    event: LiveEvent = strawberry.field(description="The event that announced the change.")


@strawberry.type(description="Points were stored for a metric.")
class MetricPointsIngested:
    metric_key: str = strawberry.field(description="Key of the metric.")
    count: int = strawberry.field(description="Points of this metric stored (inserted + updated).")
    inserted: int = strawberry.field(description="New (ts, dimensions) identities stored.")
    updated: int = strawberry.field(description="Stored points whose value changed.")
    from_ts: datetime = strawberry.field(description="Earliest timestamp of these points.")
    to_ts: datetime = strawberry.field(description="Latest timestamp of these points.")
    event: LiveEvent = strawberry.field(
        description="The `metric.points_ingested` event (every metric it announces)."
    )


async def key_result_of(session: AsyncSession, event: Event) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(key result id, objective id) of a key-result-level event, None for other events."""
    if not event.type.startswith(KEY_RESULT_LEVEL):
        return None
    raw = event.payload.get("key_result_id") if event.type.startswith("check_in.") else None
    try:
        kr_id = uuid.UUID(str(raw)) if raw else event.subject_id
    except ValueError:
        return None
    if kr_id is None:
        return None
    objective = event.payload.get("objective_id")
    if objective is None:
        objective = (
            await session.execute(
                select(KeyResult.objective_id).where(
                    KeyResult.org_id == event.org_id, KeyResult.id == kr_id
                )
            )
        ).scalar_one_or_none()
    try:
        return (kr_id, uuid.UUID(str(objective))) if objective else None
    except ValueError:
        return None


def _context(info: Info[Any, None]) -> tuple[SubscriptionContext, Principal, EventListener]:
    ctx = info.context
    if not isinstance(ctx, SubscriptionContext) or ctx.principal is None:
        raise ApiError("subscriptions are served over websocket only", ErrorCodes.FORBIDDEN)
    if ctx.listener is None:
        raise ApiError("live updates are not running in this process", ErrorCodes.FORBIDDEN)
    return ctx, ctx.principal, ctx.listener


@dataclass(frozen=True, slots=True)
class LoadedEvent:
    """A notified event, with the key result and objective it concerns (if any)."""

    event: Event
    key_result: tuple[uuid.UUID, uuid.UUID] | None


class EventLoads:
    """Loads each notified event once per process, however many subscriptions want it.

    The first subscription to ask for (org_id, seq) starts the load; the others await the
    same task. The last `size` loads are kept (events are immutable).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], size: int = 512) -> None:
        self._sessions = sessions
        self._size = size
        self._tasks: OrderedDict[tuple[uuid.UUID, int], asyncio.Task[LoadedEvent | None]] = (
            OrderedDict()
        )

    async def get(self, org_id: uuid.UUID, seq: int) -> LoadedEvent | None:
        key = (org_id, seq)
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.create_task(self._load(org_id, seq))
            self._tasks[key] = task
            while len(self._tasks) > self._size:
                self._tasks.popitem(last=False)
        return await asyncio.shield(task)

    async def _load(self, org_id: uuid.UUID, seq: int) -> LoadedEvent | None:
        try:
            async with self._sessions() as session:
                event = (
                    await session.execute(
                        select(Event).where(Event.org_id == org_id, Event.seq == seq)
                    )
                ).scalar_one_or_none()
                if event is None:
                    return None
                return LoadedEvent(event, await key_result_of(session, event))
        except Exception:
            log.exception("could not load event %s:%s for subscriptions", org_id, seq)
            return None


async def stream(
    info: Info[Any, None], accept: Callable[[LoadedEvent], T | None]
) -> AsyncGenerator[T, None]:
    """Every committed event of the caller's organization that `accept` turns into an item."""
    ctx, principal, listener = _context(info)
    async with listener.queue() as queue:
        while True:
            org_id, seq, _ = await queue.get()
            if org_id != principal.org_id:
                continue
            loaded = await ctx.loads.get(org_id, seq)
            item = accept(loaded) if loaded is not None else None
            if item is not None:
                yield item


@strawberry.type(description="Live updates over websocket (`graphql-transport-ws`).")
class Subscription:
    @strawberry.subscription(
        description="Changes to the key results of an objective: edits, moves, check-ins and"
        " status changes."
    )
    async def key_result_updated(
        self,
        info: Info[Any, None],
        objective_id: Annotated[
            strawberry.ID, strawberry.argument(description="The objective to watch.")
        ],
    ) -> AsyncGenerator[KeyResultUpdate, None]:
        wanted = decode_id(objective_id, "Objective", field="objectiveId")

        def accept(loaded: LoadedEvent) -> KeyResultUpdate | None:
            event, found = loaded.event, loaded.key_result
            previous = event.payload.get("from_objective_id")
            if found is None or wanted not in (found[1], _uuid(previous)):
                return None
            return KeyResultUpdate(
                key_result_id=to_global_id("KeyResult", found[0]),
                objective_id=to_global_id("Objective", found[1]),
                event=LiveEvent.from_model(event),
            )

        async for item in stream(info, accept):
            yield item

    @strawberry.subscription(
        description="Changes to an objective and to its key results (which move its progress)."
    )
    async def objective_updated(
        self,
        info: Info[Any, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The objective to watch.")],
    ) -> AsyncGenerator[ObjectiveUpdate, None]:
        wanted = decode_id(id, "Objective", field="id")

        def accept(loaded: LoadedEvent) -> ObjectiveUpdate | None:
            event, found = loaded.event, loaded.key_result
            if event.type.startswith("objective."):
                concerned = event.subject_id == wanted
            else:
                concerned = found is not None and found[1] == wanted
            if not concerned:
                return None
            return ObjectiveUpdate(
                objective_id=to_global_id("Objective", wanted), event=LiveEvent.from_model(event)
            )

        async for item in stream(info, accept):
            yield item

    @strawberry.subscription(
        description="Points stored for the metric with this key, as the worker announces them"
        " (within about five seconds of the commit, batches coalesced)."
    )
    async def metric_points_ingested(
        self,
        info: Info[Any, None],
        metric_key: Annotated[str, strawberry.argument(description="Key of the metric to watch.")],
    ) -> AsyncGenerator[MetricPointsIngested, None]:
        def accept(loaded: LoadedEvent) -> MetricPointsIngested | None:
            event = loaded.event
            entry = _metric_entry(event, metric_key)
            if entry is None:
                return None
            return MetricPointsIngested(
                metric_key=metric_key,
                count=int(entry["count"]),
                inserted=int(entry["inserted"]),
                updated=int(entry["updated"]),
                from_ts=datetime.fromisoformat(str(entry["from_ts"])),
                to_ts=datetime.fromisoformat(str(entry["to_ts"])),
                event=LiveEvent.from_model(event),
            )

        async for item in stream(info, accept):
            yield item


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _metric_entry(event: Event, metric_key: str) -> dict[str, Any] | None:
    """The entry of `metric_key` in a `metric.points_ingested` event, else None."""
    if event.type != "metric.points_ingested":
        return None
    for entry in event.payload.get("metrics") or []:
        if isinstance(entry, dict) and entry.get("metric_key") == metric_key:
            return entry
    return None
