"""The database a command runs against: the configured server or the embedded one."""

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

import typer

from service.db import create_engine, create_sessionmaker, unit_of_work
from service.embedded import EmbeddedPostgres
from service.settings import Settings

T = TypeVar("T")


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so `finally` blocks run (and stop the embedded server).

    uvicorn handles SIGTERM itself and re-raises it once it has shut down; with the default
    handler that would end the process before the embedded server is released.
    """

    def exit_(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, exit_)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database URL, or the embedded server started for the duration."""
    if settings.database_url:
        yield settings.database_url
        return
    with sigterm_as_exit():
        yield from embedded_database(settings)


def embedded_database(settings: Settings) -> Iterator[str]:
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        embedded.start()
    except Exception as exc:
        typer.secho(
            f"could not start the embedded PostgreSQL in {embedded.pgdata}: {exc}",
            err=True,
            fg="red",
        )
        raise typer.Exit(1) from exc
    try:
        yield embedded.ensure_database()
    finally:
        embedded.stop()


def run_in_session(url: str, settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(url, settings)
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
