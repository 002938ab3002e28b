"""A real uvicorn server for an app on a free loopback port, lifespan included."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` (its lifespan starts the listener and, if enabled, the worker); yields
    `host:port`."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    # Start-up runs the lifespan (a full GC, the LISTEN connection): allow a busy machine
    # its time; a server that cannot start still fails the test.
    async with asyncio.timeout(30):
        while not server.started:  # noqa: ASYNC110  # uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
