"""Run Alembic from code: `lodestar migrate`, `serve` start-up, `/readyz` and the tests."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent
# Advisory lock the migration environment (`migrations/env.py`) takes in its transaction,
# so that processes migrating together (replicas starting, two `serve` on one data
# directory, a hand-run `alembic upgrade`) run one after the other: the second waits, then
# finds the database at head.
MIGRATION_LOCK_KEY = 0x4C6F6D69  # "Lomi"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s",
    )
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    """Migrate the database at `url` to head. Call outside a running event loop."""
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def database_revision(conn: AsyncConnection) -> str | None:
    """The revision the database is at (None before the first migration).

    Read straight from `alembic_version` rather than through a MigrationContext, which logs
    at INFO on every call and `/readyz` is polled often.
    """
    exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    version: str | None = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    return version
