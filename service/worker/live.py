"""What a serving process runs beside its requests: the event listener and the delivery worker."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db import create_sessionmaker
from service.events.listener import EventListener
from service.settings import Settings
from service.worker.loop import Worker


@contextlib.asynccontextmanager
async def live_events(app: FastAPI, engine: AsyncEngine, settings: Settings) -> AsyncIterator[None]:
    """Start the process's LISTEN connection (`app.state.listener`, used by GraphQL
    subscriptions) and, unless `LODESTAR_WORKER_IN_SERVE=false`, the webhook worker."""
    listener = EventListener(engine.url.render_as_string(hide_password=False))
    await listener.start()
    app.state.listener = listener
    worker: asyncio.Task[None] | None = None
    if settings.worker_in_serve:
        delivery_worker = Worker(create_sessionmaker(engine), settings, listener=listener)
        worker = asyncio.create_task(delivery_worker.run(), name="lodestar-delivery-worker")
    try:
        yield
    finally:
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await listener.stop()
