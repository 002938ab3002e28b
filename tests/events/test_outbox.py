"""Fan-out of events to webhook deliveries in the writer's transaction, and URL safety."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Text, cast, event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.db import outbox, unit_of_work
from service.errors import Invalid
from service.events import channel
from service.events.listener import asyncpg_dsn
from service.models import Delivery, Event, WebhookEndpoint
from service.webhooks import service as webhooks
from service.webhooks.addresses import check_url, is_public, send_target
from service.webhooks.schemas import EndpointCreate
from tests import factories
from tests.real_transactions import committed_org


async def test_an_event_fans_out_to_enabled_endpoints_subscribed_to_its_type(
    session: AsyncSession,
) -> None:
    # given three endpoints: subscribed, subscribed but disabled, subscribed to something else
    org = await factories.create_org(session)
    other_org = await factories.create_org(session)
    endpoints = {}
    for name, types, enabled, owner in [
        ("wanted", ["objective.created", "check_in.created"], True, org),
        ("disabled", ["objective.created"], False, org),
        ("elsewhere", ["check_in.created"], True, org),
        ("other_org", ["objective.created"], True, other_org),
    ]:
        endpoint = WebhookEndpoint(
            org_id=owner.id,
            url="http://127.0.0.1/h",
            secret="whsec_x",
            event_types=types,
            enabled=enabled,
        )
        session.add(endpoint)
        endpoints[name] = endpoint
    await session.flush()

    # when an objective.created event is emitted
    event = await outbox.emit(session, org.id, "objective.created", None, {"title": "t"})

    # then exactly one pending delivery exists, for the wanted endpoint, and seq is known
    rows = (
        (await session.execute(select(Delivery).where(Delivery.event_id == event.id)))
        .scalars()
        .all()
    )
    assert [(row.endpoint_id, row.status, row.attempts) for row in rows] == [
        (endpoints["wanted"].id, "pending", 0)
    ]
    assert isinstance(event.seq, int) and event.seq > 0


async def test_events_are_stored_as_written_in_order_with_their_subjects(
    session: AsyncSession,
) -> None:
    # given an organization
    org = await factories.create_org(session)
    subject = uuid.uuid4()

    # when two events are emitted in one statement, one about a subject and one not
    emitted = await outbox.emit_many(
        session,
        org.id,
        [
            ("metric.points_ingested", subject, {"count": 2, "inserted": 1, "metrics": []}),
            ("lodestar.test", None, {"zeta": 'é"\\', "alpha": [1.5, -0.0, None]}),
        ],
    )

    # then they are stored in the given order, with their subjects, and each payload reads
    # back as the text written (json, not jsonb: keys keep their order)
    rows = (
        await session.execute(
            select(Event.seq, Event.type, Event.subject_id, cast(Event.payload, Text))
            .where(Event.org_id == org.id)
            .order_by(Event.seq)
        )
    ).all()
    assert [row.seq for row in rows] == [event.seq for event in emitted]
    assert [(row.type, row.subject_id) for row in rows] == [
        ("metric.points_ingested", subject),
        ("lodestar.test", None),
    ]
    assert [row[3] for row in rows] == [
        '{"count":2,"inserted":1,"metrics":[]}',
        '{"zeta":"é\\"\\\\","alpha":[1.5,-0.0,null]}',
    ]


async def test_an_event_sees_the_unflushed_changes_made_before_it(session: AsyncSession) -> None:
    # given an endpoint added to the session but not flushed yet
    org = await factories.create_org(session)
    endpoint = WebhookEndpoint(
        org_id=org.id,
        url="http://127.0.0.1/h",
        secret="whsec_x",
        event_types=["objective.created"],
        enabled=True,
    )
    session.add(endpoint)

    # when an event is emitted (one text statement: no autoflush of its own)
    emitted = await outbox.emit(session, org.id, "objective.created", None, {})

    # then the endpoint was written first and the event fanned out to it
    deliveries = (
        await session.execute(select(Delivery.endpoint_id).where(Delivery.event_id == emitted.id))
    ).scalars()
    assert list(deliveries) == [endpoint.id]


def test_a_notification_round_trips() -> None:
    org = factories.uuid.uuid4()
    assert channel.parse_notification(channel.notification(org, 42, 3)) == (org, 42, 3)
    assert channel.parse_notification("garbage") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/h",
        "http://localhost:8080/h",
        "http://10.1.2.3/h",
        "http://172.16.0.1/h",
        "http://192.168.1.1/h",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/h",
        "http://[fe80::1]/h",
        "http://[::ffff:127.0.0.1]/h",
        "http://0.0.0.0/h",
        "http://100.64.0.1/h",
    ],
)
async def test_private_loopback_and_link_local_urls_are_refused_in_production(url: str) -> None:
    with pytest.raises(Invalid) as refused:
        await check_url(url, production=True)
    assert refused.value.field == "url"


async def test_the_same_urls_are_allowed_in_development() -> None:
    assert (
        await check_url(" http://127.0.0.1:8080/h ", production=False) == "http://127.0.0.1:8080/h"
    )


async def test_a_public_address_is_allowed_in_production() -> None:
    assert await check_url("https://93.184.215.14/h", production=True) == "https://93.184.215.14/h"
    assert is_public("2606:4700::1111")


@pytest.mark.parametrize("url", ["ftp://x/h", "not a url", "http:///nohost", "http://u:p@host/h"])
async def test_malformed_urls_are_refused_everywhere(url: str) -> None:
    with pytest.raises(Invalid):
        await check_url(url, production=False)


async def test_a_send_is_pinned_to_the_checked_address_in_production() -> None:
    async def six(host: str, port: int) -> list[str]:
        return ["2606:4700::1111", "93.184.215.14"]

    pinned = await send_target("https://Hooks.Example.test/in", production=True, resolver=six)
    literal = await send_target("https://93.184.215.14/in", production=True, resolver=six)
    development = await send_target("http://localhost:9/in", production=False, resolver=six)

    assert (pinned.url, pinned.headers, pinned.extensions) == (
        "https://[2606:4700::1111]/in",
        {"Host": "Hooks.Example.test"},
        {"sni_hostname": "hooks.example.test"},
    )
    assert (literal.url, literal.headers, literal.extensions) == (
        "https://93.184.215.14/in",
        {},
        {},
    )
    assert (development.url, development.headers) == ("http://localhost:9/in", {})


@pytest.fixture
async def heard(database_url: str) -> AsyncIterator[asyncio.Queue[str]]:
    """The payloads of the outbox's notifications, as a listener on its own connection
    hears them."""
    payloads: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(asyncpg_dsn(database_url))
    await listener.add_listener(channel.CHANNEL, lambda *args: payloads.put_nowait(args[3]))
    yield payloads
    await listener.close()


async def test_a_notification_says_how_many_deliveries_its_event_fanned_out(
    engine: AsyncEngine, heard: asyncio.Queue[str]
) -> None:
    # given a listener and an organization with one endpoint subscribed to objective.created
    async with committed_org(engine) as (sessions, org):
        async with unit_of_work(sessions) as session:
            await webhooks.create_endpoint(
                session,
                org.id,
                EndpointCreate(url="http://127.0.0.1/h", event_types=["objective.created"]),
                production=False,
            )

        # when one event is emitted alone, and a subscribed and an unsubscribed one together
        async with unit_of_work(sessions) as session:
            alone = await outbox.emit(session, org.id, "objective.created", None, {})
            together = await outbox.emit_many(
                session,
                org.id,
                [("check_in.created", None, {}), ("objective.created", None, {})],
            )

        # then each notification carries its event's number of deliveries
        payloads = [await asyncio.wait_for(heard.get(), 5) for _ in range(3)]
        assert [channel.parse_notification(payload) for payload in payloads] == [
            (org.id, alone.seq, 1),
            (org.id, together[0].seq, 0),
            (org.id, together[1].seq, 1),
        ]


async def test_notifications_are_sent_after_the_commit_and_not_for_rolled_back_savepoints(
    engine: AsyncEngine, heard: asyncio.Queue[str]
) -> None:
    # given a listener, and every statement and commit on the engine recorded in order
    log: list[str] = []

    def statement(conn: object, cursor: object, sql: str, *args: object) -> None:
        log.append("notify" if "pg_notify" in sql else "statement")

    def commit(conn: object) -> None:
        log.append("commit")

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "commit", commit)
    try:
        async with committed_org(engine) as (sessions, org):
            log.clear()
            # when a transaction emits one event, then one in a savepoint it rolls back, then
            # one in a savepoint it keeps
            async with unit_of_work(sessions) as session:
                kept = await outbox.emit(session, org.id, "objective.created", None, {})
                savepoint = await session.begin_nested()
                await outbox.emit_many(session, org.id, [("objective.updated", None, {})])
                await savepoint.rollback()
                async with session.begin_nested():
                    later = await outbox.emit(session, org.id, "objective.archived", None, {})

            # then the listener hears the two kept events, in order, and nothing else
            payloads = [await asyncio.wait_for(heard.get(), 5) for _ in range(2)]
            assert [channel.parse_notification(p) for p in payloads] == [
                (org.id, kept.seq, 0),
                (org.id, later.seq, 0),
            ]
            await asyncio.sleep(0.2)
            assert heard.empty()

            # and the writing transaction notified nothing: one NOTIFY statement after its
            # commit, on its own (autocommit: no transaction to begin or commit)
            assert log.count("notify") == 1
            assert log.count("commit") == 1
            assert log[-2:] == ["commit", "notify"]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", statement)
        event.remove(engine.sync_engine, "commit", commit)
