"""`lodestar keys create|list|revoke`: API keys of an organization, from the command line.

Registered on the main `lodestar` app in service/cli.py. The secret is printed once, at
creation; `list` shows only the display prefix.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import service
from service.cli.database import database, run_in_session
from service.errors import DomainError
from service.migrations import upgrade_to_head
from service.models import ApiKey, Scope
from service.organizations.service import get_organization
from service.settings import get_settings

T = TypeVar("T")

keys_app = typer.Typer(help="API keys of an organization.", no_args_is_help=True)

OrgOption = Annotated[str, typer.Option("--org", help="Id of the organization.", metavar="ORG_ID")]


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg="red")
    return typer.Exit(2)


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise fail(f"{what} {value!r} is not a valid id") from None


def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured (or embedded) database."""
    settings = get_settings()
    with database(settings) as url:
        upgrade_to_head(url)
        try:
            return run_in_session(url, settings, work)
        except DomainError as exc:
            raise fail(exc.message) from exc


async def require_org(session: AsyncSession, org_id: uuid.UUID) -> None:
    await get_organization(session, org_id)


def when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "-"


@keys_app.command("create")
def keys_create(
    org: OrgOption,
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help=f"Repeat for each scope: {', '.join(s.value for s in Scope)}.",
        ),
    ] = None,
) -> None:
    """Create an API key and print its secret (shown only once)."""
    org_id = parse_id(org, "organization")

    async def work(session: AsyncSession) -> tuple[ApiKey, str]:
        await require_org(session, org_id)
        return await service.create_key(session, org_id, name=name, scopes=scope or [])

    api_key, secret = run(work)
    typer.echo(f"key {api_key.id} ({api_key.prefix}…, scopes: {', '.join(api_key.scopes)})")
    typer.echo(f"secret (shown once, store it now): {secret}")


@keys_app.command("list")
def keys_list(org: OrgOption) -> None:
    """List an organization's keys: prefix, name, scopes, created, last used, revoked."""
    org_id = parse_id(org, "organization")

    async def work(session: AsyncSession) -> list[ApiKey]:
        await require_org(session, org_id)
        return await service.list_keys(session, org_id)

    rows = [
        (
            str(key.id),
            key.prefix,
            key.name,
            ",".join(key.scopes),
            when(key.created_at),
            when(key.last_used_at),
            when(key.revoked_at),
        )
        for key in run(work)
    ]
    header = ("ID", "PREFIX", "NAME", "SCOPES", "CREATED", "LAST USED", "REVOKED")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if not rows:
        typer.echo("(no keys)")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Id of the key (see `lodestar keys list`).")],
    org: OrgOption,
) -> None:
    """Revoke a key; requests with it are refused from the next one on."""
    org_id = parse_id(org, "organization")
    parsed_key_id = parse_id(key_id, "API key")

    async def work(session: AsyncSession) -> ApiKey:
        await require_org(session, org_id)
        return await service.revoke_key(session, org_id, parsed_key_id)

    api_key = run(work)
    typer.echo(f"revoked key {api_key.id} ({api_key.prefix}…) at {when(api_key.revoked_at)}")
