"""One `LISTEN lodestar_events` connection per process, fanned out to in-process subscribers.

`emit` queues `NOTIFY lodestar_events, '<org_id>:<seq>'` in the writer's transaction, so
every replica's listener hears about a change when (and only if) it commits. Subscribers
(the webhook worker's wake-up, each GraphQL subscription) register a callback or a queue
here; nothing else holds a database connection for live updates.

The connection is dedicated (asyncpg, outside the SQLAlchemy pool: a pooled connection
would drop its LISTEN when returned). It is re-opened after a loss; notifications sent
while it was down are lost, which is why the worker also polls and why subscriptions are
documented as live updates, not a durable feed (the outbox table is the durable record).
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
from sqlalchemy.engine import make_url

from service.events.channel import CHANNEL, parse_notification

log = logging.getLogger("lodestar.events")

Notification = tuple[uuid.UUID, int, int]  # org_id, seq, webhook deliveries fanned out
Callback = Callable[[uuid.UUID, int, int], None]
QUEUE_SIZE = 1000
PING_SECONDS = 30.0


def asyncpg_dsn(url: str) -> str:
    """asyncpg wants postgresql:// without a SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class EventListener:
    """Keeps one LISTEN connection open and calls every subscriber for each notification."""

    def __init__(self, database_url: str, *, reconnect_seconds: float = 1.0) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._reconnect_seconds = reconnect_seconds
        self._callbacks: set[Callback] = set()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self, wait_seconds: float = 10.0) -> None:
        """Open the connection in the background and wait until it listens (or give up waiting)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lodestar-event-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), wait_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.connected.clear()

    def add(self, callback: Callback) -> None:
        self._callbacks.add(callback)

    def remove(self, callback: Callback) -> None:
        self._callbacks.discard(callback)

    @contextlib.asynccontextmanager
    async def queue(self) -> AsyncIterator["asyncio.Queue[Notification]"]:
        """A queue of notifications for as long as the context is open (oldest dropped if
        full)."""
        queue: asyncio.Queue[Notification] = asyncio.Queue(QUEUE_SIZE)

        def put(org_id: uuid.UUID, seq: int, deliveries: int) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait((org_id, seq, deliveries))

        self.add(put)
        try:
            yield queue
        finally:
            self.remove(put)

    def _dispatch(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        parsed = parse_notification(payload)
        if parsed is None:
            return
        for callback in list(self._callbacks):
            try:
                callback(*parsed)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("event subscriber failed")

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._dispatch)
                self.connected.set()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), PING_SECONDS)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.execute("SELECT 1"), PING_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("event listener connection failed: %s", exc)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
            await asyncio.sleep(self._reconnect_seconds)
