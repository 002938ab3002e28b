"""The `lodestar` command line."""

import asyncio
import contextlib
import logging
from functools import partial
from typing import Annotated

import typer

from service.cli.database import database, run_in_session
from service.cli.keys import keys_app
from service.cli.push import push_command
from service.loopback import is_loopback
from service.migrations import upgrade_to_head
from service.settings import Settings, get_settings

app = typer.Typer(
    help="Lodestar: goal alignment around a North Star metric tree.", no_args_is_help=True
)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(keys_app, name="keys")
app.command("push")(push_command)

log = logging.getLogger("lodestar")


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
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="In development mode, listen on a non-loopback interface anyway.",
        ),
    ] = False,
) -> None:
    """Migrate and serve the API (embedded PostgreSQL unless LODESTAR_DATABASE_URL is set)."""
    import uvicorn

    from service.app import create_app
    from service.request_log import configure_logging

    settings = get_settings()
    if not settings.is_production and not is_loopback(host) and not allow_remote:
        typer.secho(
            f"development mode serves GraphiQL and the demo key: refusing to listen on {host}."
            " Set LODESTAR_ENVIRONMENT=production, or pass --allow-remote.",
            err=True,
            fg="red",
        )
        raise typer.Exit(2)
    configure_logging(settings)
    with database(settings) as url:
        upgrade_to_head(url)
        if demo:
            prepare_demo(url, settings)
        if not settings.is_production:  # production logs JSON lines only
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
    from service.cli.demo import start_demo
    from service.demo_key import read_demo_key, write_demo_key

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
    from service.cli.demo import DEMO_ORG_NAME, demo_row_counts, ensure_demo
    from service.demo_key import write_demo_key

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
    from service.worker.loop import run_worker

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
