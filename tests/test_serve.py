"""`lodestar serve` on the embedded PostgreSQL, as real processes on a temporary data directory.

Each test starts `lodestar` subprocesses on free ports, waits for `/readyz`, stops them with
SIGTERM or SIGKILL and checks what survives. They always use the embedded server (the
database URL is removed from their environment), whatever database the rest of the suite uses.
"""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from service.embedded import EmbeddedPostgres

LODESTAR = str(Path(sys.executable).with_name("lodestar"))
KEY_PATTERN = re.compile(r"lsk_[0-9A-Za-z]{46}")
START_TIMEOUT = 90.0


class Lodestar:
    """Runs `lodestar` commands on one data directory and keeps track of every process."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("LODESTAR_") and key != "PYTHONWARNINGS"
        }
        self.env |= {
            "LODESTAR_DATA_DIR": str(data_dir),
            "LODESTAR_ENVIRONMENT": "development",
            "LODESTAR_LOG_LEVEL": "WARNING",
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [LODESTAR, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def create_org(self, name: str) -> str:
        match = KEY_PATTERN.search(self.run("org", "create", name))
        assert match is not None
        return match.group(0)

    def serve(self, *extra: str) -> "Served":
        port = free_port()
        log = self.data_dir.parent / f"serve-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [LODESTAR, "serve", "--port", str(port), *extra],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return Served(process, f"http://127.0.0.1:{port}", log)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def fetchval(self, query: str) -> object:
        """Run `query` on the embedded server's Lodestar database (the server must be up)."""
        socket_dir = (self.pgdata / "postmaster.pid").read_text().splitlines()[4]

        async def run() -> object:
            conn = await asyncpg.connect(host=socket_dir, user="postgres", database="lodestar")
            try:
                return await conn.fetchval(query)
            finally:
                await conn.close()

        return asyncio.run(run())

    def server_running(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and psutil.pid_exists(pid)

    def stop_everything(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        if self.server_running():
            # Register as the only remaining user and release: the server stops.
            embedded = EmbeddedPostgres(self.data_dir)
            embedded.start()
            embedded.stop()


class Served:
    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early:\n{self.output()}"
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve not ready after {START_TIMEOUT}s:\n{self.output()}")

    def organization_name(self, key: str) -> str:
        response = httpx.post(
            f"{self.base_url}/graphql",
            json={"query": "{ organization { name } }"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        name: str = response.json()["data"]["organization"]["name"]
        return name

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_gone(pid: int, timeout: float = 20.0) -> None:
    """Until the process is reaped (a zombie would still look like a running server)."""
    deadline = time.monotonic() + timeout
    while psutil.pid_exists(pid):
        assert time.monotonic() < deadline, f"process {pid} still exists"
        time.sleep(0.1)


@pytest.fixture
def lodestar() -> Iterator[Lodestar]:
    with tempfile.TemporaryDirectory(prefix="lodestar-serve-") as tmp:
        os.chmod(tmp, 0o755)  # the embedded server runs as its own system user under root
        instance = Lodestar(Path(tmp) / "data")
        try:
            yield instance
        finally:
            instance.stop_everything()


def test_two_serve_processes_share_one_embedded_server(lodestar: Lodestar) -> None:
    # given two processes started together on a fresh data directory
    first = lodestar.serve()
    second = lodestar.serve()
    first.wait_ready()
    second.wait_ready()
    key = lodestar.create_org("Shared Org")  # a third user of the same server

    # then both serve the same data
    assert first.organization_name(key) == "Shared Org"
    assert second.organization_name(key) == "Shared Org"

    # when the first stops, the second keeps its database
    assert first.stop(signal.SIGTERM) == 128 + signal.SIGTERM
    assert second.organization_name(key) == "Shared Org"
    assert lodestar.server_running()

    # and when the last one stops, the server stops cleanly with it
    assert second.stop(signal.SIGTERM) == 128 + signal.SIGTERM
    assert not lodestar.server_running()
    assert not (lodestar.pgdata / "postmaster.pid").exists()


def test_serve_demo_survives_kills_and_a_database_crash(lodestar: Lodestar) -> None:
    # given the demo loaded by a first start
    served = lodestar.serve("--demo")
    served.wait_ready()
    key_file = lodestar.data_dir / "demo-api-key"
    key = key_file.read_text().strip()
    assert served.organization_name(key) == "Acme Analytics"
    assert "demo organization loaded" in served.output()

    # when serve is killed outright and restarts without the saved key
    assert served.stop(signal.SIGKILL) == -signal.SIGKILL
    key_file.unlink()
    restarted = lodestar.serve("--demo")
    restarted.wait_ready()

    # then the data is there, the demo is not loaded twice, and a fresh key is saved
    new_key = key_file.read_text().strip()
    assert new_key != key
    assert restarted.organization_name(new_key) == "Acme Analytics"
    assert restarted.organization_name(key) == "Acme Analytics"
    assert "demo organization loaded" not in restarted.output()
    assert lodestar.fetchval("SELECT count(*) FROM organizations") == 1

    # when PostgreSQL itself is killed, the next start recovers it
    postmaster = lodestar.postmaster_pid()
    assert postmaster is not None
    os.kill(postmaster, signal.SIGKILL)
    wait_until_gone(postmaster)
    assert restarted.stop(signal.SIGKILL) == -signal.SIGKILL
    recovered = lodestar.serve()
    recovered.wait_ready()
    assert recovered.organization_name(new_key) == "Acme Analytics"

    # and the killed processes did not stay registered: stopping the last one stops the server
    assert recovered.stop(signal.SIGTERM) == 128 + signal.SIGTERM
    assert not lodestar.server_running()
