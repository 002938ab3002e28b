"""`/metrics`: request counts and latencies per route template, ingestion counters, pool usage."""

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import outbox
from service.observability import POINTS_INGESTED, POINTS_REJECTED
from service.settings import Settings
from service.webhooks import service as webhooks
from service.webhooks.schemas import EndpointCreate
from tests import factories


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_and_timed_per_route_and_status(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)

    await client.get("/healthz")
    await client.get("/healthz")
    await client.post("/graphql", json={"query": "{ organization { name } }"})
    after = await scrape(client)

    ok = {"method": "GET", "route": "/healthz", "status": "200"}
    denied = {"method": "POST", "route": "/graphql", "status": "401"}
    assert (
        value(after, "lodestar_http_requests_total", **ok)
        - value(before, "lodestar_http_requests_total", **ok)
        == 2
    )
    assert (
        value(after, "lodestar_http_requests_total", **denied)
        - value(before, "lodestar_http_requests_total", **denied)
        == 1
    )
    assert (
        value(after, "lodestar_http_request_duration_seconds_count", **ok)
        - value(before, "lodestar_http_request_duration_seconds_count", **ok)
        == 2
    )
    assert value(after, "lodestar_http_request_duration_seconds_bucket", le="+Inf", **ok) >= 2


async def test_routes_are_labelled_by_template_not_by_raw_path(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app.add_api_route("/things/{thing_id}", thing)
    before = await scrape(client)

    await client.get("/things/1")
    await client.get("/things/2")
    await client.get("/no/such/path/42")
    after = await scrape(client)

    templated = {"method": "GET", "route": "/things/{thing_id}", "status": "200"}
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert (
        value(after, "lodestar_http_requests_total", **templated)
        - value(before, "lodestar_http_requests_total", **templated)
        == 2
    )
    assert (
        value(after, "lodestar_http_requests_total", **unmatched)
        - value(before, "lodestar_http_requests_total", **unmatched)
        == 1
    )
    assert not any("/things/1" in dict(labels).get("route", "") for _, labels in after)


async def test_ingestion_counters_are_exposed(client: httpx.AsyncClient) -> None:
    before = await scrape(client)

    POINTS_INGESTED.inc(3)
    POINTS_REJECTED.labels(reason="NOT_FINITE").inc(2)
    after = await scrape(client)

    assert (
        value(after, "lodestar_points_ingested_total")
        - value(before, "lodestar_points_ingested_total")
        == 3
    )
    assert (
        value(after, "lodestar_points_rejected_total", reason="NOT_FINITE")
        - value(before, "lodestar_points_rejected_total", reason="NOT_FINITE")
        == 2
    )


async def test_pool_usage_is_read_at_scrape_time(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    samples = await scrape(client)

    assert value(samples, "lodestar_db_pool_size") == settings.pool_size
    assert (
        0
        <= value(samples, "lodestar_db_pool_checked_out")
        <= (settings.pool_size + settings.pool_max_overflow)
    )
    assert ("lodestar_db_pool_overflow", frozenset()) in samples


async def test_ingestion_routes_are_labelled_with_their_template(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)

    await client.post("/v1/metrics/some_metric/points", content=b"ts,value\n")
    after = await scrape(client)

    labels = {"method": "POST", "route": "/v1/metrics/{key}/points", "status": "401"}
    assert (
        value(after, "lodestar_http_requests_total", **labels)
        - value(before, "lodestar_http_requests_total", **labels)
        == 1
    )


async def test_the_workers_backlog_is_read_at_scrape_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # given what is waiting for the worker now (other tests may have left work behind)
    idle = await scrape(client)

    # when a batch is ingested (queued for the status recheck) and a delivery is overdue
    org = await factories.create_org(session)
    await factories.create_metric(session, org, key="signups")
    key = await factories.create_api_key(session, org, ("ingest",))
    ingested = await client.post(
        "/v1/points",
        json={"points": [{"metric": "signups", "ts": "2026-01-05T00:00:00Z", "value": 3}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert ingested.status_code == 200, ingested.text
    await session.execute(
        text("UPDATE status_rechecks SET created_at = now() - interval '90 seconds'")
    )
    await webhooks.create_endpoint(
        session,
        org.id,
        EndpointCreate(url="http://127.0.0.1:9/h", event_types=["metric.points_ingested"]),
        production=False,
    )
    await outbox.emit(session, org.id, "metric.points_ingested", None, {"metric": "signups"})
    await session.execute(
        text("UPDATE deliveries SET next_attempt_at = now() - interval '30 seconds'")
    )
    busy = await scrape(client)

    # then
    queued = "lodestar_status_rechecks_queued"
    pending = "lodestar_webhook_deliveries_pending"
    assert value(busy, queued) == value(idle, queued) + 1
    assert value(busy, "lodestar_status_recheck_lag_seconds") >= 90
    assert value(busy, pending) == value(idle, pending) + 1
    assert value(busy, "lodestar_webhook_delivery_lag_seconds") >= 30
