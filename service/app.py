"""Assembles the FastAPI application: probes, REST routers and the GraphQL endpoint."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from schema.http.app import graphql_router
from schema.http.subscriptions import subscription_router
from service import health, observability, problems
from service.auth.usage import KeyUsage
from service.check_ins import endpoints as check_ins_endpoints
from service.db import create_engine, create_sessionmaker
from service.input_guard import UnstorableTextMiddleware
from service.key_results import endpoints as key_results_endpoints
from service.metrics import endpoints as metrics_endpoints
from service.points import endpoints as points_endpoints
from service.ratelimit import RequestSizeLimitMiddleware, TokenBuckets
from service.request_log import RequestLogMiddleware
from service.settings import Settings, get_settings
from service.worker.live import live_events

# A request allocates tens of thousands of short-lived objects (a nested GraphQL read of
# ~1,300 nodes: about 350,000 calls), nearly all freed by reference counting; at Python's
# default (700, 10, 10) the generational collector still ran often enough to take a large
# share of such a read's CPU (docs/decisions/0013-garbage-collector-settings.md). Collections
# are rarer, not gone: cycles are still found.
GC_THRESHOLDS = (50_000, 20, 10)


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    engine: AsyncEngine | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the app. Pass `database_url`, or an `engine` (and optionally `sessions`, as tests do)."""
    settings = settings or get_settings()
    owns_engine = engine is None
    if engine is None:
        url = database_url or settings.database_url
        if not url:
            raise RuntimeError("create_app needs a database URL or an engine")
        engine = create_engine(url, settings)
    sessionmaker = sessions or create_sessionmaker(engine)
    key_usage = KeyUsage()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The start-up heap (modules, the app) is never garbage: frozen, full collections no
        # longer rescan it, which would otherwise pause a large batch (decision record 0013).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        async with (
            key_usage.flushing(sessionmaker, settings.key_usage_flush_seconds),
            live_events(app, engine, settings),
        ):
            yield
        if owns_engine:
            await engine.dispose()

    app = FastAPI(
        title="Lodestar",
        version="0.1.0",
        summary="Goal alignment around a North Star metric tree.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessionmaker
    app.state.key_usage = key_usage
    app.state.rate_limiter = TokenBuckets.from_settings(settings)
    # Innermost of the two: bodies it buffers were already capped by the size limit.
    app.add_middleware(UnstorableTextMiddleware)  # NUL / lone surrogates under /v1: 422
    app.add_middleware(RequestSizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    observability.install(app, engine)  # /metrics and the request metrics middleware
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health.router)
    # The websocket side of /graphql (subscriptions) first: its route only matches websockets.
    app.include_router(subscription_router(settings), prefix="/graphql")
    app.include_router(graphql_router(settings), prefix="/graphql")
    problems.install(app)  # RFC 9457 problem details for every REST error
    app.include_router(metrics_endpoints.router)
    app.include_router(points_endpoints.router)
    app.include_router(key_results_endpoints.router)
    app.include_router(check_ins_endpoints.router)
    return app
