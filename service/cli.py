"""The `lodestar` command line."""

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import FrameType
from typing import Annotated, TypeVar

import typer

from service.auth.commands import keys_app
from service.db import create_engine, create_sessionmaker, unit_of_work
from service.embedded import EmbeddedPostgres
from service.migrations import upgrade_to_head
from service.push import push_command
from service.settings import Settings, get_settings

app = typer.Typer(
    help="Lodestar: goal alignment around a North Star metric tree.", no_args_is_help=True
)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(keys_app, name="keys")
app.command("push")(push_command)

log = logging.getLogger("lodestar")
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


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    settings = get_settings()
    with database(settings) as url:
        upgrade_to_head(url)
    typer.echo("database is at the latest migration")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo organization on first start.")
    ] = False,
) -> None:
    """Migrate and serve the API (embedded PostgreSQL unless LODESTAR_DATABASE_URL is set)."""
    import uvicorn

    from service.app import create_app
    from service.request_log import configure_logging

    settings = get_settings()
    configure_logging(settings)
    with database(settings) as url:
        upgrade_to_head(url)
        if demo:
            prepare_demo(url, settings)
        typer.secho(f"GraphiQL: http://{host}:{port}/graphql", fg="green")
        # access_log=False: RequestLogMiddleware already writes one line per request.
        uvicorn.run(
            create_app(settings, database_url=url),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
        )


def prepare_demo(url: str, settings: Settings) -> None:
    """Load the demo if missing; in development keep a working demo key for GraphiQL."""
    from service.demo import read_demo_key, start_demo, write_demo_key

    remember = not settings.is_production
    stored = read_demo_key(settings)
    started = run_in_session(
        url, settings, partial(start_demo, stored_key=stored, want_key=remember)
    )
    if started.loaded:
        typer.secho("demo organization loaded", fg="green")
    key = started.new_key or stored
    if started.new_key and remember:
        path = write_demo_key(settings, started.new_key)
        typer.echo(f"demo API key saved to {path} (GraphiQL uses it in development)")
    if key:
        typer.secho(f"demo admin API key: {key}", fg="green")


@app.command()
def demo() -> None:
    """Load the demo organization "Acme Analytics" and print its admin API key."""
    from service.demo import DEMO_ORG_NAME, demo_row_counts, ensure_demo, write_demo_key

    settings = get_settings()
    with database(settings) as url:
        upgrade_to_head(url)
        key = run_in_session(url, settings, ensure_demo)
        counts = run_in_session(url, settings, demo_row_counts)
    if key is None:
        typer.echo(f"the demo organization {DEMO_ORG_NAME!r} already exists; nothing loaded")
        return
    typer.echo(
        f"loaded {DEMO_ORG_NAME!r}: " + ", ".join(f"{n} {table}" for table, n in counts.items())
    )
    if not settings.is_production:
        write_demo_key(settings, key)
    typer.echo(f"admin API key (shown once): {key}")


@org_app.command("create")
def org_create(name: str) -> None:
    """Create an organization and print its first admin API key (shown only once)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from service.auth.service import create_key
    from service.errors import DomainError
    from service.organizations.service import create_organization

    settings = get_settings()

    async def work(session: AsyncSession) -> tuple[str, str]:
        org = await create_organization(session, name)
        _, secret = await create_key(
            session, org.id, name="admin (created by CLI)", scopes=["admin"]
        )
        return str(org.id), secret

    with database(settings) as url:
        upgrade_to_head(url)
        try:
            org_id, secret = run_in_session(url, settings, work)
        except DomainError as exc:
            typer.secho(f"error: {exc.message}", err=True, fg="red")
            raise typer.Exit(2) from exc
    typer.echo(f"organization {org_id}")
    typer.echo(f"admin API key (shown once): {secret}")


@app.command()
def worker() -> None:
    """Deliver webhooks (also runs inside `serve` unless LODESTAR_WORKER_IN_SERVE=false)."""
    from service.request_log import configure_logging
    from service.webhooks.worker import run_worker

    settings = get_settings()
    configure_logging(settings)
    with database(settings) as url:
        upgrade_to_head(url)
        typer.secho("delivering webhooks; Ctrl-C to stop", fg="green")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_worker(url, settings))


@app.command("export-contracts")
def export_contracts() -> None:
    """Write schema/schema.graphql and openapi/openapi.json from the code."""
    from service.app import create_app
    from service.contracts import write_contracts

    # The contracts do not depend on the database; a URL is needed only to build the app.
    app_ = create_app(get_settings(), database_url="postgresql://contracts@localhost/contracts")
    for path in write_contracts(app_):
        typer.echo(f"wrote {path}")
