"""Assembles the FastAPI application: probes, REST routers and the GraphQL endpoint."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from schema.app import graphql_router
from service import health
from service.db import create_engine, create_sessionmaker
from service.request_log import RequestLogMiddleware
from service.settings import Settings, get_settings


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health.router)
    app.include_router(graphql_router(settings), prefix="/graphql")
    return app
