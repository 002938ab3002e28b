"""The background worker (`lodestar worker`, and a background task of `lodestar serve`).

It delivers webhooks (`service.webhooks.delivery`), waking on `LISTEN lodestar_events` (a
commit that fanned out deliveries notifies it) and otherwise sleeping until the earliest due
delivery, at most `worker_poll_seconds`. Once per loop it also runs the daily sweep
(`service.worker.sweep`), which is idempotent. Beside the delivery loop, every
`status_recheck_interval_seconds`, it announces ingested batches (`service.statuses.recheck`):
their `metric.points_ingested` event and the `key_result.status_changed` they caused, the
batches committed in between coalesced. Each run is one transaction; a failed run leaves its
queue rows.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db import unit_of_work
from service.events.listener import EventListener
from service.settings import Settings
from service.webhooks.addresses import Resolver, resolve
from service.webhooks.delivery import Deliverer, Outcome

log = logging.getLogger("lodestar.webhooks")

SWEEP_CHECK_SECONDS = 300.0  # how often a worker looks for organizations not swept today
RECHECK_LIMIT = 500  # queued ingestion rows claimed per announcing transaction
# A status recheck reads the points written into every touched key result's window since the
# last recheck (`service.statuses.window_cache`; some windows whole: `last` metrics, updated
# points, the first read), so under sustained ingestion one run takes a while. The next
# recheck then waits 9× as long as that one took: rechecking gets at most a tenth of the
# worker's time and of a database core, so that it does not take ingestion's throughput
# (docs/decisions/0005-recheck-takes-at-most-a-tenth-of-the-worker.md). The batches are still
# announced (`metric.points_ingested`) every interval; their spans wait for the recheck.
RECHECK_MAX_SHARE = 0.1
RECHECK_SLACK = 0.05  # of the interval: a run this close to its recheck time rechecks


def recheck_pause(duration: float, interval: float) -> float:
    """Seconds from the end of a recheck that took `duration` to the next: the rest of
    `interval`, or longer when the run was long enough to take more than
    `RECHECK_MAX_SHARE` of the time."""
    return max(interval - duration, duration * (1 / RECHECK_MAX_SHARE - 1))


@dataclass
class RecheckCadence:
    """When the announcing loop runs (every `interval`) and when a run also rechecks
    statuses (once `recheck_pause` has passed since the last recheck)."""

    interval: float
    recheck_at: float = 0.0

    def due(self, now: float) -> bool:
        """Whether a run starting at `now` rechecks (sleeps may end a little early)."""
        return now >= self.recheck_at - RECHECK_SLACK * self.interval

    def ran(self, started: float, took: float, *, rechecked: bool) -> float:
        """Record a run; the seconds to sleep before the next one."""
        if rechecked:
            self.recheck_at = started + took + recheck_pause(took, self.interval)
        return max(0.0, self.interval - took)


class Worker:
    """Delivers webhooks, announces ingested batches and runs the daily sweep; one or many
    per database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        listener: EventListener | None = None,
        client: httpx.AsyncClient | None = None,
        resolver: Resolver = resolve,
        sweep: bool = True,
        recheck: bool = True,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.listener = listener
        self.sweep = sweep
        self.deliveries = Deliverer(sessions, settings, client=client, resolver=resolver)
        self._wake = asyncio.Event()
        self._last_sweep = -SWEEP_CHECK_SECONDS
        self.recheck = recheck

    async def run(self) -> None:
        """Deliver until cancelled: up to `worker_batch_size` sends in flight at once.

        Slots are refilled as sends finish, so one slow receiver holds one slot, not the
        whole batch. On cancellation in-flight sends are abandoned; their leases expire.
        """
        if self.listener is not None:
            self.listener.add(self._notified)
        in_flight: set[asyncio.Task[Outcome]] = set()
        rechecks = asyncio.create_task(self._recheck_loop()) if self.recheck else None

        def finished(task: asyncio.Task[Outcome]) -> None:
            in_flight.discard(task)
            self._wake.set()  # a slot is free
            if not task.cancelled() and task.exception() is not None:
                log.error("delivery failed unexpectedly", exc_info=task.exception())

        try:
            while True:
                free = self.settings.worker_batch_size - len(in_flight)
                claimed = 0
                try:
                    if free > 0:
                        for claim in await self.deliveries.claim(free):
                            task = asyncio.create_task(self.deliveries.deliver(claim))
                            in_flight.add(task)
                            task.add_done_callback(finished)
                            claimed += 1
                    if self.sweep:
                        await self._sweep()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery worker step failed")
                    claimed = 0
                if free > 0 and claimed == free:
                    continue  # more may be due right now
                await self._idle(busy=free <= claimed)
        finally:
            if self.listener is not None:
                self.listener.remove(self._notified)
            if rechecks is not None:
                rechecks.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await rechecks
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            await self.deliveries.aclose()

    def _notified(self, _org_id: uuid.UUID, _seq: int, deliveries: int) -> None:
        if deliveries:  # an event no endpoint subscribed to leaves nothing to send
            self._wake.set()

    async def announce_once(self, *, recheck: bool = True) -> int:
        """Announce every queued ingestion batch, rechecking statuses or not (one transaction
        per `RECHECK_LIMIT` queue rows); the number of status changes announced."""
        from service.statuses.recheck import announce_ingested

        changes = 0
        while True:
            async with unit_of_work(self.sessions) as session:
                run = await announce_ingested(session, limit=RECHECK_LIMIT, recheck=recheck)
            changes += run.status_changes
            if run.claimed < RECHECK_LIMIT:
                return changes

    async def _recheck_loop(self) -> None:
        """`announce_once` every `status_recheck_interval_seconds`, rechecking statuses when
        `RecheckCadence` says so. An idle run is one statement finding the queue empty."""
        cadence = RecheckCadence(self.settings.status_recheck_interval_seconds)
        while True:
            started = time.monotonic()
            recheck = cadence.due(started)
            try:
                await self.announce_once(recheck=recheck)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("announcing ingested batches failed")
            took = time.monotonic() - started
            await asyncio.sleep(cadence.ran(started, took, rechecked=recheck))

    async def _idle(self, *, busy: bool) -> None:
        """Wait for a notification, a finished send, or the next due delivery (at most the
        poll interval). When every slot is busy, only a finished send is worth waking for."""
        timeout = self.settings.worker_poll_seconds
        if not busy:
            try:
                due_in = await self.deliveries.next_due()
                if due_in is not None:
                    timeout = max(0.0, min(timeout, due_in))
            except Exception:
                log.exception("could not read the next due delivery")
            if timeout <= 0:
                return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def _sweep(self) -> None:
        from service.worker.sweep import run_daily_sweeps

        if time.monotonic() - self._last_sweep < SWEEP_CHECK_SECONDS:
            return
        self._last_sweep = time.monotonic()
        await run_daily_sweeps(
            self.sessions, log_retention_days=self.settings.webhook_log_retention_days
        )


async def run_worker(database_url: str, settings: Settings) -> None:
    """`lodestar worker`: its own engine and listener, delivering until interrupted."""
    from service.db import create_engine, create_sessionmaker

    engine = create_engine(database_url, settings)
    listener = EventListener(database_url)
    try:
        await listener.start()
        await Worker(create_sessionmaker(engine), settings, listener=listener).run()
    finally:
        await listener.stop()
        await engine.dispose()
