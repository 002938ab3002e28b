"""Per-key token buckets (429 + Retry-After), the request size guard (413) and key usage."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.app import create_app
from service.auth.usage import KeyUsage
from service.models import ApiKey
from service.ratelimit import TokenBuckets, retry_after_seconds
from service.settings import Settings
from tests.conftest import StatementCounter
from tests.factories import create_api_key, create_org

QUERY = {"query": "{ organization { name } }"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    clock = FakeClock()
    app.state.rate_limiter = TokenBuckets(rate=1.0, burst=2, clock=clock)
    return clock


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_requests_past_the_burst_get_429_with_retry_after(
    client: httpx.AsyncClient, session: AsyncSession, clock: FakeClock
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    first = await client.post("/graphql", json=QUERY, headers=bearer(key))
    second = await client.post("/graphql", json=QUERY, headers=bearer(key))
    third = await client.post("/graphql", json=QUERY, headers=bearer(key))

    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    assert third.headers["retry-after"] == "1"
    assert third.headers["content-type"].startswith("application/problem+json")
    assert third.json()["status"] == 429


async def test_the_bucket_refills_with_time(
    client: httpx.AsyncClient, session: AsyncSession, clock: FakeClock
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()
    for _ in range(2):
        await client.post("/graphql", json=QUERY, headers=bearer(key))
    assert (await client.post("/graphql", json=QUERY, headers=bearer(key))).status_code == 429

    clock.now += 1.0
    response = await client.post("/graphql", json=QUERY, headers=bearer(key))

    assert response.status_code == 200
    assert (await client.post("/graphql", json=QUERY, headers=bearer(key))).status_code == 429


async def test_each_key_has_its_own_bucket(
    client: httpx.AsyncClient, session: AsyncSession, clock: FakeClock
) -> None:
    org = await create_org(session)
    busy = await create_api_key(session, org, scopes=("read",))
    quiet = await create_api_key(session, org, scopes=("read",))
    await session.commit()
    for _ in range(3):
        await client.post("/graphql", json=QUERY, headers=bearer(busy))

    response = await client.post("/graphql", json=QUERY, headers=bearer(quiet))

    assert response.status_code == 200


async def test_requests_without_a_valid_key_are_not_limited_by_key(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    statuses = {(await client.post("/graphql", json=QUERY)).status_code for _ in range(5)}

    assert statuses == {401}


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=4.0, burst=1, clock=clock)

    assert buckets.take("k") == 0.0
    wait = buckets.take("k")

    assert wait == pytest.approx(0.25)
    assert retry_after_seconds(wait) == 1
    assert retry_after_seconds(2.01) == 3


def test_a_refused_request_spends_no_token() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=1.0, burst=1, clock=clock)
    buckets.take("k")
    for _ in range(10):
        buckets.take("k")

    clock.now += 1.0

    assert buckets.take("k") == 0.0


def test_replicas_share_the_configured_limit() -> None:
    settings = Settings(rate_limit_per_second=30, rate_limit_burst=90, rate_limit_replicas=3)

    buckets = TokenBuckets.from_settings(settings)

    assert (buckets.rate, buckets.burst) == (10.0, 30.0)


# Request size -------------------------------------------------------------------------------


@pytest.fixture
async def small_client(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"max_request_bytes": 1024}), engine=engine, sessions=sessions
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lodestar.test") as client:
        yield client


async def test_a_declared_body_over_the_limit_gets_413(small_client: httpx.AsyncClient) -> None:
    response = await small_client.post(
        "/graphql", content=b"x" * 1025, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


def chunks(count: int, size: int) -> Iterator[bytes]:
    for _ in range(count):
        yield b" " * size


async def test_a_streamed_body_over_the_limit_gets_413(
    small_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks(8, 200):
            yield chunk

    response = await small_client.post(
        "/graphql", content=body(), headers={"Content-Type": "application/json", **bearer(key)}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["status"] == 413


async def test_a_body_within_the_limit_passes(
    small_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await create_org(session, name="Small")
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    async def body() -> AsyncIterator[bytes]:
        yield b'{"query": "{ organization '
        yield b'{ name } }"}'

    response = await small_client.post(
        "/graphql", content=body(), headers={"Content-Type": "application/json", **bearer(key)}
    )

    assert response.status_code == 200
    assert response.json()["data"]["organization"]["name"] == "Small"


# last_used_at -------------------------------------------------------------------------------


async def last_used(session: AsyncSession, prefix: str) -> datetime | None:
    result = await session.execute(select(ApiKey.last_used_at).where(ApiKey.prefix == prefix))
    return result.scalar_one()


async def test_a_request_does_not_write_last_used_at_until_the_flush(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    await client.post("/graphql", json=QUERY, headers=bearer(key))
    before_flush = await last_used(session, key[:12])
    written = await app.state.key_usage.flush(sessions)

    assert before_flush is None
    assert written == 1
    assert await last_used(session, key[:12]) is not None


async def test_one_statement_flushes_many_keys_and_only_moves_forward(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    statements: StatementCounter,
) -> None:
    org = await create_org(session)
    keys = [await create_api_key(session, org, scopes=("read",)) for _ in range(3)]
    await session.commit()
    rows = (await session.execute(select(ApiKey).where(ApiKey.org_id == org.id))).scalars().all()
    late = datetime(2027, 1, 1, tzinfo=UTC)
    usage = KeyUsage()
    for row in rows:
        usage.touch(org.id, row.id, late)
    statements.reset()

    await usage.flush(sessions)
    updates = [s for s in statements.statements if s.lstrip().upper().startswith("UPDATE")]
    usage.touch(org.id, rows[0].id, late - timedelta(days=1))
    await usage.flush(sessions)

    assert len(updates) == 1
    for key in keys:
        assert await last_used(session, key[:12]) == late


async def test_the_buffer_is_flushed_at_shutdown(
    settings: Settings,
    engine: AsyncEngine,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    app = create_app(
        settings.model_copy(update={"worker_in_serve": False}), engine=engine, sessions=sessions
    )
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.post("/graphql", json=QUERY, headers=bearer(key))
        assert len(app.state.key_usage) == 1

    assert len(app.state.key_usage) == 0
    assert await last_used(session, key[:12]) is not None


async def test_rest_and_graphql_spend_the_same_bucket(
    client: httpx.AsyncClient, session: AsyncSession, clock: FakeClock
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    rest = await client.get("/v1/metrics", headers=bearer(key))
    graphql = await client.post("/graphql", json=QUERY, headers=bearer(key))
    refused = await client.get("/v1/metrics", headers=bearer(key))

    assert (rest.status_code, graphql.status_code) == (200, 200)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_refilled_buckets_are_forgotten_past_the_key_limit() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(rate=1.0, burst=1, clock=clock, max_keys=3)
    for key in range(3):
        buckets.take(key)
    clock.now += 1.0

    buckets.take("busy")
    refused_again = buckets.take("busy")

    assert refused_again > 0  # the busy key kept its (empty) bucket
    assert len(buckets._buckets) == 1


async def test_authenticated_requests_write_nothing_to_api_keys(
    client: httpx.AsyncClient, session: AsyncSession, statements: StatementCounter
) -> None:
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()
    statements.reset()

    for _ in range(3):
        assert (await client.post("/graphql", json=QUERY, headers=bearer(key))).status_code == 200

    reads = [s for s in statements.statements if "FROM api_keys" in s]
    writes = [s for s in statements.statements if "UPDATE api_keys" in s]
    assert len(reads) == 3  # revocation is seen on the very next request
    assert writes == []


async def test_a_graphql_batch_costs_one_token_per_operation(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    # given a key whose bucket holds 3 tokens and does not refill during the test
    clock = FakeClock()
    app.state.rate_limiter = TokenBuckets(rate=0.001, burst=3, clock=clock)
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    # when: a batch of two, then another batch of two (one token left)
    first = await client.post("/graphql", json=[QUERY, QUERY], headers=bearer(key))
    second = await client.post("/graphql", json=[QUERY, QUERY], headers=bearer(key))

    # then the first spent two tokens and the second is refused as a whole
    assert first.status_code == 200, first.text
    assert [len(result["data"]) for result in first.json()] == [1, 1]
    assert second.status_code == 429
    assert second.headers["content-type"].startswith("application/problem+json")


async def test_a_batch_larger_than_the_bucket_passes_once_it_is_full(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    # given a bucket of 2 tokens and a batch of 5 operations
    clock = FakeClock()
    app.state.rate_limiter = TokenBuckets(rate=1.0, burst=2, clock=clock)
    org = await create_org(session)
    key = await create_api_key(session, org, scopes=("read",))
    await session.commit()

    # when
    full = await client.post("/graphql", json=[QUERY] * 5, headers=bearer(key))
    drained = await client.post("/graphql", json=QUERY, headers=bearer(key))
    clock.now += 2.0
    refilled = await client.post("/graphql", json=[QUERY] * 5, headers=bearer(key))

    # then it costs the whole bucket, never more
    assert full.status_code == 200, full.text
    assert drained.status_code == 429
    assert refilled.status_code == 200
