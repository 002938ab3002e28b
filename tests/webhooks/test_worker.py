"""The delivery worker against a real HTTP receiver on loopback, with real commits."""

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from service.db import outbox, unit_of_work
from service.models import Delivery, DeliveryAttempt, Event, Organization, WebhookEndpoint
from service.settings import Environment, Settings
from service.webhooks import service
from service.webhooks.schemas import EndpointCreate
from service.worker.loop import Worker
from service.worker.sweep import run_daily_sweeps
from tests import factories
from tests.webhooks.receiver import Received, Receiver

Sessions = async_sessionmaker[AsyncSession]


async def subscribe(
    sessions: Sessions, org: Organization, receiver: Receiver, types: list[str] | None = None
) -> WebhookEndpoint:
    async with unit_of_work(sessions) as session:
        endpoint, secret = await service.create_endpoint(
            session,
            org.id,
            EndpointCreate(url=receiver.url, event_types=types or ["objective.created"]),
            production=False,
        )
    receiver.secret = secret
    return endpoint


async def emit_committed(sessions: Sessions, org: Organization, count: int = 1) -> list[Event]:
    async with unit_of_work(sessions) as session:
        return [
            await outbox.emit(
                session, org.id, "objective.created", uuid.uuid4(), {"title": f"Objective {i}"}
            )
            for i in range(count)
        ]


async def deliveries(sessions: Sessions, org: Organization) -> list[Delivery]:
    async with sessions() as session:
        result = await session.execute(select(Delivery).where(Delivery.org_id == org.id))
        return list(result.scalars())


async def attempts(sessions: Sessions, org: Organization) -> list[DeliveryAttempt]:
    async with sessions() as session:
        result = await session.execute(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.org_id == org.id)
            .order_by(DeliveryAttempt.created_at)
        )
        return list(result.scalars())


@contextlib.asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_until(check: Callable[[], object], limit: float = 10.0) -> None:
    """Poll the database until `check` holds (the worker runs in another task)."""
    async with asyncio.timeout(limit):
        while not await check():  # type: ignore[misc]  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_committed_event_arrives_signed_and_verifies_with_the_receivers_code(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given an endpoint subscribed to objective.created and one committed event
    await subscribe(live_sessions, live_org, receiver)
    [event] = await emit_committed(live_sessions, live_org)
    worker = Worker(live_sessions, worker_settings, sweep=False)

    # when the worker runs once
    claimed = await worker.deliveries.run_once()
    await worker.deliveries.aclose()

    # then the receiver verified the signature and got the event as `data`
    assert claimed == 1
    [received] = receiver.requests
    assert received.webhook_id == str(event.id)
    assert received.verified is not None
    assert received.verified["type"] == "objective.created"
    assert received.verified["data"] == {"title": "Objective 0"}
    [delivery] = await deliveries(live_sessions, live_org)
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    [attempt] = await attempts(live_sessions, live_org)
    assert attempt.status_code == 200
    assert attempt.latency_ms is not None and attempt.latency_ms >= 0
    assert attempt.response_excerpt == '{"ok": true}'


async def test_a_tampered_secret_fails_verification_at_the_receiver(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given the receiver holds another secret than the endpoint
    await subscribe(live_sessions, live_org, receiver)
    receiver.secret = service.generate_secret()
    await emit_committed(live_sessions, live_org)

    # when delivered
    worker = Worker(live_sessions, worker_settings, sweep=False)
    await worker.deliveries.run_once()
    await worker.deliveries.aclose()

    # then verification fails (the check is real)
    [received] = receiver.requests
    assert received.verified is None


async def test_delivery_is_retried_after_the_receiver_answers_500(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given a receiver that fails twice, then accepts
    async def flaky(received: Received) -> int:
        return 500 if len(receiver.requests) <= 2 else 200

    receiver.respond = flaky
    await subscribe(live_sessions, live_org, receiver)
    [event] = await emit_committed(live_sessions, live_org)

    # when the worker runs
    async with running(Worker(live_sessions, worker_settings, sweep=False)):
        await receiver.wait_for(lambda: len(receiver.requests) >= 3)
        await wait_until(
            lambda: _status_is(live_sessions, live_org, "succeeded"),
        )

    # then three attempts of one webhook-id, numbered 1..3, each logged
    assert [(r.webhook_id, r.attempt) for r in receiver.requests] == [
        (str(event.id), 1),
        (str(event.id), 2),
        (str(event.id), 3),
    ]
    assert all(r.verified is not None for r in receiver.requests)
    assert [a.status_code for a in await attempts(live_sessions, live_org)] == [500, 500, 200]


async def test_delivery_is_retried_after_the_receiver_times_out(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given a receiver that hangs past the timeout on the first request
    async def slow_first(received: Received) -> int:
        if len(receiver.requests) == 1:
            await asyncio.sleep(3)
        return 200

    receiver.respond = slow_first
    await subscribe(live_sessions, live_org, receiver)
    await emit_committed(live_sessions, live_org)

    # when the worker runs (timeout 1 s)
    async with running(Worker(live_sessions, worker_settings, sweep=False)):
        await wait_until(lambda: _status_is(live_sessions, live_org, "succeeded"))

    # then the first attempt is logged as a timeout and the second succeeded
    first, second = await attempts(live_sessions, live_org)
    assert first.status_code is None and first.error is not None and "timed out" in first.error
    assert second.status_code == 200
    assert [r.attempt for r in receiver.requests] == [1, 2]


async def test_a_receiver_slower_than_five_seconds_is_waited_for_up_to_the_timeout(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given a receiver answering after 5.5 s, past httpx's default timeout of 5 s
    async def slow(received: Received) -> int:
        await asyncio.sleep(5.5)
        return 200

    receiver.respond = slow
    await subscribe(live_sessions, live_org, receiver)
    await emit_committed(live_sessions, live_org)

    # when a worker with an 8-second timeout delivers
    settings = worker_settings.model_copy(update={"webhook_timeout_seconds": 8.0})
    worker = Worker(live_sessions, settings, sweep=False)
    await worker.deliveries.run_once()
    await worker.deliveries.aclose()

    # then the first attempt succeeded
    [attempt] = await attempts(live_sessions, live_org)
    assert (attempt.status_code, attempt.error) == (200, None)


async def test_a_rolled_back_transaction_delivers_nothing(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given an endpoint, and a transaction that emits and then rolls back
    await subscribe(live_sessions, live_org, receiver)
    with pytest.raises(RuntimeError):
        async with unit_of_work(live_sessions) as session:
            await outbox.emit(session, live_org.id, "objective.created", None, {"title": "x"})
            raise RuntimeError("the change failed")
    # and a committed event after it
    [committed] = await emit_committed(live_sessions, live_org)

    # when the worker runs until idle
    worker = Worker(live_sessions, worker_settings, sweep=False)
    while await worker.deliveries.run_once():
        pass
    await worker.deliveries.aclose()

    # then only the committed event was sent
    assert [r.webhook_id for r in receiver.requests] == [str(committed.id)]
    assert len(await deliveries(live_sessions, live_org)) == 1


async def test_two_workers_at_once_never_send_one_attempt_twice(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given 40 events and a receiver that takes a little time and fails every 5th request
    async def busy(received: Received) -> int:
        await asyncio.sleep(0.01)
        return 500 if len(receiver.requests) % 5 == 0 else 200

    receiver.respond = busy
    await subscribe(live_sessions, live_org, receiver)
    events = await emit_committed(live_sessions, live_org, count=40)
    settings = worker_settings.model_copy(update={"worker_batch_size": 5})

    # when two workers run at the same time until everything succeeded
    async with (
        running(Worker(live_sessions, settings, sweep=False)),
        running(Worker(live_sessions, settings, sweep=False)),
    ):
        await wait_until(lambda: _all_succeeded(live_sessions, live_org, 40), limit=20)

    # then every event arrived and no (webhook-id, attempt) was sent twice
    assert receiver.ids() == {str(event.id) for event in events}
    assert max(receiver.sends_per_attempt().values()) == 1
    assert len(receiver.requests) == len(await attempts(live_sessions, live_org))


async def test_a_worker_killed_mid_delivery_is_replaced_and_every_event_arrives(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given 5 events and a receiver that hangs on the very first request
    release = asyncio.Event()

    async def hang_first(received: Received) -> int:
        if len(receiver.requests) == 1:
            await release.wait()
        return 200

    receiver.respond = hang_first
    await subscribe(live_sessions, live_org, receiver)
    events = await emit_committed(live_sessions, live_org, count=5)
    settings = worker_settings.model_copy(
        update={"webhook_lease_seconds": 1.0, "webhook_timeout_seconds": 30.0}
    )

    # when a worker is killed while a request is in flight, and a new one starts
    first = asyncio.create_task(Worker(live_sessions, settings, sweep=False).run())
    await receiver.wait_for(lambda: len(receiver.requests) >= 1)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    async with running(Worker(live_sessions, settings, sweep=False)):
        await wait_until(lambda: _all_succeeded(live_sessions, live_org, 5), limit=15)
    release.set()

    # then every event was delivered, and the duplicate carries the same webhook-id
    assert receiver.ids() == {str(event.id) for event in events}
    hung_id = receiver.requests[0].webhook_id
    assert [r.attempt for r in receiver.requests if r.webhook_id == hung_id][-1] >= 2
    assert max(receiver.sends_per_attempt().values()) == 1


async def test_a_delivery_failing_for_the_whole_window_fails_and_disables_the_endpoint(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given a receiver that always fails and a retry window of one second
    async def broken(received: Received) -> int:
        return 503

    receiver.respond = broken
    endpoint = await subscribe(live_sessions, live_org, receiver)
    await emit_committed(live_sessions, live_org)
    settings = worker_settings.model_copy(update={"webhook_retry_window_seconds": 1.0})

    # when the worker retries past the window
    async with running(Worker(live_sessions, settings, sweep=False)):
        await wait_until(lambda: _status_is(live_sessions, live_org, "failed"))

    # then the delivery is failed after several attempts and the endpoint disabled
    [delivery] = await deliveries(live_sessions, live_org)
    assert delivery.attempts >= 2
    async with live_sessions() as session:
        stored = await session.get(WebhookEndpoint, endpoint.id)
    assert stored is not None
    assert stored.enabled is False and stored.disabled_at is not None
    assert stored.consecutive_failures == delivery.attempts


async def _status_is(sessions: Sessions, org: Organization, status: str) -> bool:
    return [d.status for d in await deliveries(sessions, org)] == [status]


async def _all_succeeded(sessions: Sessions, org: Organization, count: int) -> bool:
    rows = await deliveries(sessions, org)
    return len(rows) == count and all(d.status == "succeeded" for d in rows)


@contextlib.asynccontextmanager
async def worker_process(database_url: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`lodestar worker` in its own process, with a one-second lease."""
    env = {
        **os.environ,
        "LODESTAR_DATABASE_URL": database_url,
        "LODESTAR_ENVIRONMENT": "development",
        "LODESTAR_LOG_LEVEL": "WARNING",
        "LODESTAR_WEBHOOK_LEASE_SECONDS": "1",
        "LODESTAR_WEBHOOK_TIMEOUT_SECONDS": "30",
        "LODESTAR_WORKER_POLL_SECONDS": "0.2",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from service.cli import app; app()",
        "worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_a_killed_worker_process_is_replaced_and_every_event_arrives_once_per_attempt(
    database_url: str, live_sessions: Sessions, live_org: Organization, receiver: Receiver
) -> None:
    # given 5 events and a receiver that hangs on the very first request
    release = asyncio.Event()

    async def hang_first(received: Received) -> int:
        if len(receiver.requests) == 1:
            await release.wait()
        return 200

    receiver.respond = hang_first
    await subscribe(live_sessions, live_org, receiver)
    events = await emit_committed(live_sessions, live_org, count=5)

    # when `lodestar worker` is SIGKILLed while that request is in flight, and started again
    async with worker_process(database_url) as first:
        await receiver.wait_for(lambda: len(receiver.requests) >= 1, limit=30)
        first.kill()
    async with worker_process(database_url):
        await wait_until(lambda: _all_succeeded(live_sessions, live_org, 5), limit=30)
    release.set()

    # then every event arrived, the hung one again under the same webhook-id, no attempt twice
    assert receiver.ids() == {str(event.id) for event in events}
    hung_id = receiver.requests[0].webhook_id
    assert len([r for r in receiver.requests if r.webhook_id == hung_id]) >= 2
    assert max(receiver.sends_per_attempt().values()) == 1
    assert all(r.verified is not None for r in receiver.requests)


async def test_a_manual_redelivery_is_sent_again_with_the_same_webhook_id(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given a delivered event
    await subscribe(live_sessions, live_org, receiver)
    [event] = await emit_committed(live_sessions, live_org)
    worker = Worker(live_sessions, worker_settings, sweep=False)
    await worker.deliveries.run_once()
    [delivery] = await deliveries(live_sessions, live_org)

    # when it is redelivered by hand and the worker runs
    async with unit_of_work(live_sessions) as session:
        await service.redeliver(session, live_org.id, delivery.id)
    await worker.deliveries.run_once()
    await worker.deliveries.aclose()

    # then the receiver got it twice under one webhook-id, as attempts 1 and 2
    assert [(r.webhook_id, r.attempt) for r in receiver.requests] == [
        (str(event.id), 1),
        (str(event.id), 2),
    ]
    assert [d.status for d in await deliveries(live_sessions, live_org)] == ["succeeded"]


async def test_the_worker_sweeps_each_organization_once_a_day_whatever_the_number_of_workers(
    live_sessions: Sessions, live_org: Organization
) -> None:
    # given an open commitment that fell due yesterday
    async with unit_of_work(live_sessions) as session:
        owner = await factories.create_person(session, live_org)
        await factories.create_commitment(session, owner, due_on=date(2027, 2, 14))
    now = datetime(2027, 2, 15, 8, tzinfo=UTC)

    # when two workers run the daily sweeps at the same time, twice
    for _ in range(2):
        await asyncio.gather(
            run_daily_sweeps(live_sessions, now), run_daily_sweeps(live_sessions, now)
        )

    # then the organization was swept once and the commitment announced once
    async with live_sessions() as session:
        types = (
            (await session.execute(select(Event.type).where(Event.org_id == live_org.id)))
            .scalars()
            .all()
        )
    assert sorted(types) == ["commitment.overdue", "lodestar.daily_sweep"]


class RebindingResolver:
    """A name with a zero TTL: a public address first, a private one afterwards."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


async def subscribe_url(sessions: Sessions, org: Organization, url: str) -> None:
    async with unit_of_work(sessions) as session:
        await service.create_endpoint(
            session,
            org.id,
            EndpointCreate(url=url, event_types=["objective.created"]),
            production=False,  # saved without resolving: the send decides
        )


async def test_in_production_a_send_connects_to_the_address_it_checked(
    live_sessions: Sessions, live_org: Organization, worker_settings: Settings
) -> None:
    # given an endpoint by name, whose name answers public once and then private (DNS
    # rebinding), and an HTTP client that records what the worker asks it to open
    await subscribe_url(live_sessions, live_org, "https://hooks.example.test:8443/in?x=1")
    await emit_committed(live_sessions, live_org)
    resolver = RebindingResolver(["93.184.215.14"], ["127.0.0.1"])
    opened: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        opened.append(request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    production = worker_settings.model_copy(update={"environment": Environment.production})
    worker = Worker(
        live_sessions, production, sweep=False, recheck=False, client=client, resolver=resolver
    )

    # when
    await worker.deliveries.run_once()
    await client.aclose()

    # then the name was resolved once, and the request went to that address, keeping the
    # name for the Host header and as the TLS server name the certificate is checked against
    assert resolver.calls == ["hooks.example.test"]
    [request] = opened
    assert str(request.url) == "https://93.184.215.14:8443/in?x=1"
    assert request.headers["host"] == "hooks.example.test:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.test"
    [delivery] = await deliveries(live_sessions, live_org)
    assert delivery.status == "succeeded"


async def test_in_production_a_name_turned_private_is_not_sent_to(
    live_sessions: Sessions, live_org: Organization, worker_settings: Settings
) -> None:
    # given an endpoint whose name now resolves to a private address
    await subscribe_url(live_sessions, live_org, "http://hooks.example.test/in")
    await emit_committed(live_sessions, live_org)
    opened: list[httpx.Request] = []
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: opened.append(request) or httpx.Response(204))
    )
    production = worker_settings.model_copy(update={"environment": Environment.production})
    worker = Worker(
        live_sessions,
        production,
        sweep=False,
        recheck=False,
        client=client,
        resolver=RebindingResolver(["10.0.0.7"]),
    )

    # when
    await worker.deliveries.run_once()
    await client.aclose()

    # then nothing was opened and the attempt says why
    assert opened == []
    [attempt] = await attempts(live_sessions, live_org)
    assert attempt.status_code is None
    assert attempt.error is not None and "private" in attempt.error


async def rotate(
    sessions: Sessions, endpoint: WebhookEndpoint, hours: int, now: datetime | None = None
) -> str:
    async with unit_of_work(sessions) as session:
        _, secret = await service.rotate_secret(
            session, endpoint.org_id, endpoint.id, keep_previous_for_hours=hours, now=now
        )
    return secret


async def test_after_a_rotation_both_secrets_verify_until_the_overlap_ends(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given an endpoint whose receiver still holds the old secret, rotated with an overlap
    endpoint = await subscribe(live_sessions, live_org, receiver)
    old_secret = receiver.secret
    assert old_secret is not None
    new_secret = await rotate(live_sessions, endpoint, hours=24)
    await emit_committed(live_sessions, live_org)
    worker = Worker(live_sessions, worker_settings, sweep=False, recheck=False)

    # when delivered during the overlap
    await worker.deliveries.run_once()

    # then it carries two signatures: the old secret verifies, and so does the new one
    [received] = receiver.requests
    assert received.verified is not None
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new_secret).verify(received.body, received.headers) == received.verified

    # and once the overlap has ended, only the new secret signs
    async with unit_of_work(live_sessions) as session:
        stored = await session.get(WebhookEndpoint, endpoint.id)
        assert stored is not None and stored.previous_secret == old_secret
        stored.previous_secret_expires_at = datetime.now(UTC)
    await emit_committed(live_sessions, live_org)
    await worker.deliveries.run_once()
    await worker.deliveries.aclose()
    later = receiver.requests[-1]
    assert later.verified is None  # the receiver's old secret no longer verifies
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(later.body, later.headers)


async def test_a_rotation_without_overlap_drops_the_old_secret_at_once(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver, worker_settings: Settings
) -> None:
    # given a leaked secret, rotated with no overlap
    endpoint = await subscribe(live_sessions, live_org, receiver)
    new_secret = await rotate(live_sessions, endpoint, hours=0)
    await emit_committed(live_sessions, live_org)

    # when delivered
    worker = Worker(live_sessions, worker_settings, sweep=False, recheck=False)
    await worker.deliveries.run_once()
    await worker.deliveries.aclose()

    # then the old secret verifies nothing
    [received] = receiver.requests
    assert received.verified is None
    Webhook(new_secret).verify(received.body, received.headers)


async def test_the_daily_sweep_forgets_secrets_past_their_overlap(
    live_sessions: Sessions, live_org: Organization, receiver: Receiver
) -> None:
    # given two endpoints rotated a day apart with a 24 h overlap
    ended = await subscribe(live_sessions, live_org, receiver)
    running_overlap = await subscribe(live_sessions, live_org, receiver)
    now = datetime.now(UTC)
    await rotate(live_sessions, ended, hours=24, now=now - timedelta(hours=25))
    await rotate(live_sessions, running_overlap, hours=24, now=now - timedelta(hours=1))

    # when the sweep runs
    await run_daily_sweeps(live_sessions, now)

    # then only the ended overlap's secret is gone
    async with live_sessions() as session:
        first = await session.get(WebhookEndpoint, ended.id)
        second = await session.get(WebhookEndpoint, running_overlap.id)
    assert first is not None and second is not None
    assert (first.previous_secret, first.previous_secret_expires_at) == (None, None)
    assert second.previous_secret is not None
