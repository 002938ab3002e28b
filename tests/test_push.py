"""`lodestar push`: batching, idempotency keys, retries and resuming, against a real HTTP server.

The server here is a small loopback HTTP server that stores rows like a naive backend (every
executed batch appends its rows), honours `Idempotency-Key` by replaying the first answer, and
can be told to fail: so "each row stored exactly once" is something the client must earn.
"""

import json
import threading
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from service.cli import app as cli
from service.cli.push import (
    STATE_SUFFIX,
    PushError,
    PushFormat,
    PushReport,
    RetryPolicy,
    StateFile,
    detect_format,
    iter_batches,
    open_state,
    push_source,
)
from service.models import Point
from tests.factories import create_api_key, create_metric, create_org

KEY = "lsk_test"


@dataclass
class FakeServer:
    url: str = ""
    stored: Counter[str] = field(default_factory=Counter)
    answers: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (idempotency key, path)
    actions: deque[str] = field(default_factory=deque)  # consumed one per request
    accept_batches: int | None = None  # then answer 500 to everything

    def rows_sent(self) -> list[str]:
        return sorted(self.stored.elements())


def make_handler(state: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            key = self.headers["Idempotency-Key"]
            state.requests.append((key, self.path))
            assert self.headers["Authorization"] == f"Bearer {KEY}"
            action = state.actions.popleft() if state.actions else "ok"
            if action.startswith("429:"):
                self.answer(429, b"{}", {"Retry-After": action[4:]})
                return
            if action == "422":
                problem = {"title": "Invalid points", "status": 422, "errors": [{"index": 1}]}
                self.answer(422, json.dumps(problem).encode())
                return
            if key in state.answers:
                self.answer(*state.answers[key])
                return
            if state.accept_batches is not None and len(state.answers) >= state.accept_batches:
                self.answer(500, b'{"title": "boom"}')
                return
            lines = [line for line in body.splitlines() if line.strip()]
            if self.headers["Content-Type"] == "text/csv":
                lines = lines[1:]
            state.stored.update(lines)
            answer = json.dumps(
                {"received": len(lines), "inserted": len(lines), "updated": 0, "unchanged": 0}
            ).encode()
            state.answers[key] = (200, answer)
            if action == "drop":  # processed, but the answer never reaches the client
                self.close_connection = True
                return
            self.answer(200, answer)

    return Handler


@pytest.fixture
def server() -> Iterator[FakeServer]:
    state = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def write_csv(path: Path, rows: int) -> list[str]:
    lines = [f"2027-01-{1 + i // 24:02d}T{i % 24:02d}:00:00Z,{i}" for i in range(rows)]
    path.write_text("ts,value\n" + "\n".join(lines) + "\n")
    return lines


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def push_file(
    server: FakeServer, path: Path, *, state: bool = True, sleeps: Sleeps | None = None
) -> tuple[int, int]:
    state_file, _ = (
        open_state(path.with_name(path.name + STATE_SUFFIX), "wau", 5) if state else (None, 0)
    )
    with path.open(newline="") as stream:
        report = await push_source(
            lines=stream,
            source=str(path),
            fmt=PushFormat.csv,
            metric="wau",
            url=server.url,
            api_key=KEY,
            batch_size=5,
            state=state_file,
            policy=RetryPolicy(max_attempts=3, base_delay=0.01),
            sleep=sleeps or Sleeps(),
        )
    return report.batches_sent, report.batches_skipped


# Exactly once across failures -------------------------------------------------------------


async def test_a_rerun_after_a_failure_sends_every_row_exactly_once(
    server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "points.csv"
    rows = write_csv(path, 23)
    server.accept_batches = 2

    with pytest.raises(PushError, match="run the same command again"):
        await push_file(server, path)
    recorded = StateFile(path.with_name(path.name + STATE_SUFFIX), "wau", 5)
    assert recorded.load() and sorted(recorded.done) == [0, 1]
    first_run_keys = [key for key, _ in server.requests]

    server.accept_batches = None
    sent, skipped = await push_file(server, path)

    assert (sent, skipped) == (3, 2)
    assert server.rows_sent() == sorted(rows)
    assert set(server.stored.values()) == {1}
    second_run_keys = [key for key, _ in server.requests[len(first_run_keys) :]]
    assert not set(second_run_keys) & set(first_run_keys[:2])  # batches 0, 1 not resent
    assert second_run_keys[0] == first_run_keys[2]  # the failed batch is resent with its key
    assert not path.with_name(path.name + STATE_SUFFIX).exists()


async def test_a_lost_answer_is_retried_with_the_same_key_and_replayed(
    server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "points.csv"
    rows = write_csv(path, 7)
    server.actions.extend(["drop"])

    sent, _ = await push_file(server, path)

    assert sent == 2
    assert server.requests[0][0] == server.requests[1][0]
    assert len(server.requests) == 3
    assert server.rows_sent() == sorted(rows)


async def test_a_rerun_without_state_resends_the_same_keys_and_is_replayed(
    server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "points.csv"
    rows = write_csv(path, 12)

    await push_file(server, path, state=False)
    first = [key for key, _ in server.requests]
    await push_file(server, path, state=False)
    second = [key for key, _ in server.requests[len(first) :]]

    assert first == second
    assert len(set(first)) == 3
    assert server.rows_sent() == sorted(rows)


async def test_retry_after_is_honoured_on_429(server: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    write_csv(path, 3)
    server.actions.extend(["429:7"])
    sleeps = Sleeps()

    await push_file(server, path, sleeps=sleeps)

    assert sleeps.delays == [7.0]
    assert len(server.requests) == 2


async def test_server_errors_back_off_exponentially(server: FakeServer, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    write_csv(path, 3)
    server.accept_batches = 0
    sleeps = Sleeps()

    with pytest.raises(PushError):
        await push_file(server, path, sleeps=sleeps)

    assert len(server.requests) == 3
    assert len(sleeps.delays) == 2
    assert 0.005 <= sleeps.delays[0] <= 0.01 and 0.01 <= sleeps.delays[1] <= 0.02


async def test_an_invalid_batch_stops_at_once_naming_the_rows(
    server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "points.csv"
    write_csv(path, 12)
    server.actions.extend(["ok", "422"])

    with pytest.raises(PushError) as failure:
        await push_file(server, path)

    assert len(server.requests) == 2
    assert "batch 1 (rows 6-10)" in failure.value.message
    assert "row 7" in failure.value.message
    assert server.requests[0][1] == "/v1/metrics/wau/points"


# Batching and keys --------------------------------------------------------------------------


def test_csv_batches_repeat_the_header_and_keep_quoted_newlines() -> None:
    text = 'ts,value,dim.note\n2027-01-01T00:00:00Z,1,"two\nlines"\n2027-01-02T00:00:00Z,2,x\n\n2027-01-03T00:00:00Z,3,y'
    batches = list(
        iter_batches(text.splitlines(keepends=True), PushFormat.csv, 2, metric="m", source="s")
    )

    assert [b.rows for b in batches] == [2, 1]
    assert batches[0].body.decode() == (
        'ts,value,dim.note\n2027-01-01T00:00:00Z,1,"two\nlines"\n2027-01-02T00:00:00Z,2,x\n'
    )
    assert batches[1].body.decode() == "ts,value,dim.note\n2027-01-03T00:00:00Z,3,y\n"
    assert (batches[0].first_row, batches[1].first_row) == (1, 3)


def test_ndjson_batches_skip_blank_lines() -> None:
    lines = [
        '{"ts": "a", "value": 1}\n',
        "\n",
        '{"ts": "b", "value": 2}\n',
        '{"ts": "c", "value": 3}',
    ]
    batches = list(iter_batches(lines, PushFormat.ndjson, 2, metric="m", source="s"))

    assert [b.rows for b in batches] == [2, 1]
    assert batches[1].body == b'{"ts": "c", "value": 3}\n'


def test_batches_are_cut_before_the_byte_limit() -> None:
    lines = [f'{{"ts": "{i}", "value": {i}}}\n' for i in range(10)]

    batches = list(
        iter_batches(lines, PushFormat.ndjson, 100, metric="m", source="s", max_bytes=50)
    )

    assert all(len(b.body) <= 50 + len(lines[0]) for b in batches)
    assert sum(b.rows for b in batches) == 10 and len(batches) > 1


def test_keys_depend_on_metric_source_index_and_content_only() -> None:
    def keys(text: str, metric: str = "m", source: str = "s") -> list[str]:
        lines = text.splitlines(keepends=True)
        batches = iter_batches(lines, PushFormat.ndjson, 1, metric=metric, source=source)
        return [b.idempotency_key for b in batches]

    base = keys("1\n2\n")

    assert keys("1\n2\n") == base
    assert keys("1\n3\n")[0] == base[0] and keys("1\n3\n")[1] != base[1]
    assert keys("2\n1\n") != base[::-1]  # the index is part of the key
    assert keys("1\n2\n", metric="other") != base
    assert keys("1\n2\n", source="t") != base
    assert all(len(key) <= 255 for key in base)


def test_format_comes_from_the_extension_unless_given() -> None:
    assert detect_format(Path("a.CSV"), None) is PushFormat.csv
    assert detect_format(Path("a.jsonl"), None) is PushFormat.ndjson
    assert detect_format(Path("a.txt"), PushFormat.ndjson) is PushFormat.ndjson
    with pytest.raises(PushError):
        detect_format(None, None)


def test_a_state_file_of_another_metric_or_batch_size_is_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "state"
    path.write_text("lodestar-push v1 metric=m batch_size=5\n0 lodestar-push-abc\n")

    assert StateFile(path, "m", 5).load()
    assert not StateFile(path, "m", 6).load()
    assert not StateFile(path, "other", 5).load()


# Command line -------------------------------------------------------------------------------


def test_the_command_pushes_a_file_with_the_key_from_the_environment(
    server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "points.csv"
    rows = write_csv(path, 11)

    result = CliRunner().invoke(
        cli,
        ["push", "--metric", "wau", str(path), "--url", server.url, "--batch-size", "4"],
        env={"LODESTAR_API_KEY": KEY},
    )

    assert result.exit_code == 0, result.output
    assert "pushed 11 rows in 3 batches" in result.stdout
    assert "inserted 11" in result.stdout
    assert server.rows_sent() == sorted(rows)
    assert not (tmp_path / ("points.csv" + STATE_SUFFIX)).exists()


def test_the_command_reads_ndjson_from_stdin(server: FakeServer) -> None:
    result = CliRunner().invoke(
        cli,
        ["push", "--metric", "wau", "--format", "ndjson", "--url", server.url, "--key", KEY],
        input='{"ts": "2027-01-01T00:00:00Z", "value": 1}\n{"ts": "2027-01-02T00:00:00Z", "value": 2}\n',
    )

    assert result.exit_code == 0, result.output
    assert len(server.stored) == 2
    assert server.requests[0][1] == "/v1/metrics/wau/points"


def test_the_command_refuses_to_run_without_a_key_or_a_format(
    server: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "points.txt"
    write_csv(path, 2)

    no_key = CliRunner().invoke(
        cli,
        ["push", "--metric", "wau", str(path), "--url", server.url],
        env={"LODESTAR_API_KEY": ""},
    )
    no_format = CliRunner().invoke(
        cli, ["push", "--metric", "wau", str(path), "--url", server.url, "--key", KEY]
    )

    assert no_key.exit_code == 2 and "API key" in no_key.output
    assert no_format.exit_code == 2 and "--format" in no_format.output
    assert server.requests == []


# Against the real app -----------------------------------------------------------------------


class FaultyTransport(httpx.AsyncBaseTransport):
    """The real app behind a flaky network: some answers are lost after the app ran, some
    requests never arrive. Every response that does arrive is recorded."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.lose_answer_of: set[int] = set()  # request numbers (from 0)
        self.unreachable_from: int | None = None
        self.requests = 0
        self.answers: list[httpx.Response] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        number, self.requests = self.requests, self.requests + 1
        if self.unreachable_from is not None and number >= self.unreachable_from:
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if number in self.lose_answer_of:
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        self.answers.append(response)
        return response


async def push_to_app(
    transport: FaultyTransport, path: Path, key: str, metric: str, *, state: bool = True
) -> PushReport:
    state_file, _ = (
        open_state(path.with_name(path.name + STATE_SUFFIX), metric, 5) if state else (None, 0)
    )
    with path.open(newline="") as stream:
        return await push_source(
            lines=stream,
            source=str(path),
            fmt=PushFormat.csv,
            metric=metric,
            url="http://lodestar.test",
            api_key=key,
            batch_size=5,
            state=state_file,
            policy=RetryPolicy(max_attempts=2, base_delay=0.001),
            transport=transport,
            sleep=Sleeps(),
        )


async def test_push_to_the_app_stores_every_row_once_across_lost_answers_and_a_rerun(
    app: FastAPI, session: AsyncSession, tmp_path: Path
) -> None:
    org = await create_org(session)
    metric = await create_metric(session, org, key="weekly_active_teams")
    key = await create_api_key(session, org, scopes=("ingest",))
    await session.commit()
    path = tmp_path / "wat.csv"
    rows = [
        (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i), float(i * 10)) for i in range(23)
    ]
    path.write_text("ts,value\n" + "".join(f"{ts.isoformat()},{value}\n" for ts, value in rows))
    flaky = FaultyTransport(app)
    flaky.lose_answer_of = {1}  # batch 1 is stored, but its answer is lost: retried, replayed
    flaky.unreachable_from = 5  # batches 0-3 get through (5 requests), then the network fails

    with pytest.raises(PushError):
        await push_to_app(flaky, path, key, metric.key)
    rerun = await push_to_app(FaultyTransport(app), path, key, metric.key)
    from_scratch = await push_to_app(FaultyTransport(app), path, key, metric.key, state=False)

    stored = (
        await session.execute(
            select(Point.ts, Point.value).where(Point.metric_id == metric.id).order_by(Point.ts)
        )
    ).all()
    assert [(ts, value) for ts, value in stored] == rows
    assert [a.headers.get("idempotent-replayed") for a in flaky.answers] == [
        None,
        "true",
        None,
        None,
    ]
    assert (rerun.batches_skipped, rerun.batches_sent, rerun.batches_replayed) == (4, 1, 0)
    assert rerun.counts == {"received": 3, "inserted": 3, "updated": 0, "unchanged": 0}
    assert (from_scratch.batches_sent, from_scratch.batches_replayed) == (5, 5)
