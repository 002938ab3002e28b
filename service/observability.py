"""Prometheus metrics: `/metrics`, the per-route request middleware and the ingestion counters.

What is exported (prefix `lodestar_`):
- `http_requests_total{method,route,status}` and `http_request_duration_seconds{method,route,status}`,
  labelled with the route *template* (`/v1/metrics/{key}/points`), never the raw path, so the
  number of series stays bounded; requests that match no route share `route="unmatched"`.
- `points_ingested_total` and `points_rejected_total{reason}`: ingestion increments them
  (`POINTS_INGESTED.inc(n)`, `POINTS_REJECTED.labels(reason=code).inc(n)`).
- `rate_limited_total`: requests refused with 429.
- `db_pool_size`, `db_pool_checked_out`, `db_pool_overflow`: read from the SQLAlchemy pool at
  scrape time (no bookkeeping on the request path).
- `webhook_deliveries_pending`, `webhook_delivery_lag_seconds` (how long the oldest due
  attempt has waited), `status_rechecks_queued`, `status_recheck_lag_seconds` (age of the
  oldest ingested batch whose event or status changes are not announced yet): the work waiting for
  `lodestar worker`, read from the database at scrape time (one statement), so an alert on
  the lags catches a worker that stopped. Left out of a scrape when the database does not
  answer.

`/metrics` has no authentication: it exposes no tenant data, but route names, volumes and pool
usage are operational information, so keep it off the public listener (bind it to an internal
network, or block `/metrics` at the load balancer / ingress).

Processes: the counters live in this process's memory. `lodestar serve` runs one process per
replica, and Prometheus scrapes every replica (service discovery) and sums. If several worker
processes ever share one port (`uvicorn --workers`, gunicorn), set `PROMETHEUS_MULTIPROC_DIR` to
an empty directory before start: prometheus-client then writes the counters to files there and
`/metrics` aggregates them with its `MultiProcessCollector`; the pool gauges still describe only
the process that answers the scrape.
"""

import logging
import os
import time
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("lodestar.observability")

# Collectors are created without a registry and registered into each app's registry, so that
# several apps in one process (tests) each expose the same process-wide counters.
REQUESTS = Counter(
    "lodestar_http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
    registry=None,
)
REQUEST_DURATION = Histogram(
    "lodestar_http_request_duration_seconds",
    "Time from request start to the end of the response, by route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)
POINTS_INGESTED = Counter(
    "lodestar_points_ingested", "Metric points accepted and stored.", registry=None
)
POINTS_REJECTED = Counter(
    "lodestar_points_rejected",
    "Metric points refused, by the reason code of the per-point error.",
    ["reason"],
    registry=None,
)
RATE_LIMITED = Counter(
    "lodestar_rate_limited", "Requests refused with 429 by the per-key rate limit.", registry=None
)

PROCESS_WIDE: tuple[Collector, ...] = (
    REQUESTS,
    REQUEST_DURATION,
    POINTS_INGESTED,
    POINTS_REJECTED,
    RATE_LIMITED,
)
UNMATCHED_ROUTE = "unmatched"


class PoolCollector(Collector):
    """Pool gauges computed when Prometheus scrapes, from the engine's connection pool."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):  # NullPool/StaticPool keep no counts
            return
        size = GaugeMetricFamily(
            "lodestar_db_pool_size", "Connections the pool keeps open (without overflow)."
        )
        size.add_metric([], pool.size())
        checked_out = GaugeMetricFamily(
            "lodestar_db_pool_checked_out", "Connections currently lent to requests or workers."
        )
        checked_out.add_metric([], pool.checkedout())
        overflow = GaugeMetricFamily(
            "lodestar_db_pool_overflow",
            "Connections open beyond the pool size (negative while the pool is not yet full).",
        )
        overflow.add_metric([], pool.overflow())
        yield size
        yield checked_out
        yield overflow


def build_registry(engine: AsyncEngine) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in PROCESS_WIDE:
            registry.register(collector)
    registry.register(PoolCollector(engine))
    return registry


_BACKLOG = text(
    """
    SELECT
        (SELECT count(*) FROM deliveries WHERE status = 'pending'),
        (SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(delivery.next_attempt_at)), 0)
         FROM deliveries AS delivery
         JOIN webhook_endpoints AS endpoint
           ON endpoint.org_id = delivery.org_id AND endpoint.id = delivery.endpoint_id
         WHERE delivery.status = 'pending' AND endpoint.enabled
           AND delivery.next_attempt_at <= now()),
        (SELECT count(*) FROM status_rechecks),
        (SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) FROM status_rechecks)
    """
)
_BACKLOG_GAUGES = (
    ("lodestar_webhook_deliveries_pending", "Webhook deliveries not yet delivered or failed."),
    (
        "lodestar_webhook_delivery_lag_seconds",
        "How long the oldest due delivery attempt has waited for a worker (0 when none).",
    ),
    (
        "lodestar_status_rechecks_queued",
        "Queued ingestion rows: batches (or their merged spans) whose event or key-result"
        " status changes are not announced yet.",
    ),
    (
        "lodestar_status_recheck_lag_seconds",
        "Age of the oldest of those batches (0 when none).",
    ),
)


async def backlog(sessions: async_sessionmaker[AsyncSession]) -> list[Metric]:
    """The worker's backlog gauges; none when the database does not answer."""
    try:
        async with sessions() as session:
            row = (await session.execute(_BACKLOG)).one()
    except (DBAPIError, OSError):
        log.warning("/metrics: backlog not read (database unavailable)", exc_info=True)
        return []
    gauges: list[Metric] = []
    for (name, documentation), number in zip(_BACKLOG_GAUGES, row, strict=True):
        gauge = GaugeMetricFamily(name, documentation)
        gauge.add_metric([], float(number))
        gauges.append(gauge)
    return gauges


class _Gauges(Collector):
    def __init__(self, gauges: list[Metric]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterable[Metric]:
        return self.gauges


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics_registry
    body = generate_latest(registry)
    gauges = await backlog(request.app.state.sessions)
    if gauges:
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Gauges(gauges))
        body += generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, engine: AsyncEngine) -> None:
    """Mount `/metrics` and the request middleware on `app`."""
    app.state.metrics_registry = build_registry(engine)
    app.include_router(router)
    app.add_middleware(PrometheusMiddleware)


def route_template(scope: Scope) -> str:
    """The path template of the route that handled the request, prefixes included.

    FastAPI (>= 0.121) leaves the *included* router's own route in `scope["route"]`, whose
    path lacks the include prefix; the full template is on the effective route context it
    records under `scope["fastapi"]`. Plain Starlette routes carry the full path themselves.
    A test pins this, so a FastAPI upgrade that moves it fails loudly instead of mislabelling.
    """
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        context = fastapi_scope.get("effective_route_context")
        path = getattr(context, "path_format", None)
        if isinstance(path, str) and path:
            return path
    route: BaseRoute | None = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class PrometheusMiddleware:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            labels = (scope["method"], route_template(scope), str(status))
            REQUESTS.labels(*labels).inc()
            REQUEST_DURATION.labels(*labels).observe(time.perf_counter() - started)
