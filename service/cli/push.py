"""`lodestar push`: send metric points from a CSV or NDJSON file (or stdin) to a Lodestar server.

How it stays safe to re-run:
- The input is cut into batches of `--batch-size` rows; CSV batches repeat the header line.
  Batches are sent one after another, in file order, so a later row for the same point
  still wins on the server (last write wins).
- Every batch carries an `Idempotency-Key` derived only from what is sent: the metric, the
  source (absolute path of the file, or `stdin`), the batch index and the SHA-256 of the batch
  body. Re-running the same command on the same input therefore resends the same keys, and
  the server replays its stored answer (kept >= 24 h) instead of applying a batch twice.
- A state file (default: next to the input, `<file>.lodestar-push`; `--state-file` for stdin
  or another place) records each acknowledged batch as `index key`, appended and fsynced as
  soon as the server answers. A re-run skips the batches recorded with the same key, so after
  a failure at batch 40 of 200 it resumes at 40; a batch whose content changed since is sent
  again. The state file is removed when the whole input has been pushed.
- Network errors, 409 (the same key still in flight), 429 (honouring `Retry-After`) and 5xx
  are retried with exponential backoff and jitter; any other 4xx stops the push (the batch is
  invalid as sent and retrying cannot help) and prints the server's problem details.
"""

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import os
import random
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

STATE_SUFFIX = ".lodestar-push"
STATE_VERSION = "lodestar-push v1"
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
COUNT_FIELDS = ("received", "inserted", "updated", "unchanged")
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_BATCH_BYTES = 8 * 1024 * 1024


class PushFormat(StrEnum):
    csv = "csv"
    ndjson = "ndjson"

    @property
    def content_type(self) -> str:
        return "text/csv" if self is PushFormat.csv else "application/x-ndjson"


class PushError(Exception):
    """The push stopped; `message` says why and how to go on."""

    def __init__(self, message: str, *, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem


def detect_format(path: Path | None, explicit: PushFormat | None) -> PushFormat:
    if explicit is not None:
        return explicit
    if path is not None:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return PushFormat.csv
        if suffix in (".ndjson", ".jsonl"):
            return PushFormat.ndjson
    raise PushError("cannot tell the format from the file name; pass --format csv or ndjson")


# Batching -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    index: int
    first_row: int  # 1-based number of the batch's first data row in the input
    rows: int
    body: bytes
    idempotency_key: str
    data_bytes: int  # bytes of input this batch covers (for progress)


def idempotency_key(metric: str, source: str, index: int, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (metric, source, str(index)):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(hashlib.sha256(body).digest())
    return f"lodestar-push-{digest.hexdigest()}"


def csv_records(lines: Iterable[str]) -> Iterator[str]:
    """The input's CSV records as their exact text (a quoted field may span several lines)."""
    raw: list[str] = []

    def remembered() -> Iterator[str]:
        for line in lines:
            raw.append(line)
            yield line

    for _ in csv.reader(remembered()):
        record = "".join(raw)
        raw.clear()
        if record.strip():
            yield record if record.endswith("\n") else record + "\n"


def ndjson_records(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if line.strip():
            yield line if line.endswith("\n") else line + "\n"


def iter_batches(
    lines: Iterable[str],
    fmt: PushFormat,
    batch_size: int,
    *,
    metric: str,
    source: str,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[Batch]:
    """Batches of at most `batch_size` rows and about `max_bytes` (the server takes 10 MB)."""
    if batch_size < 1:
        raise PushError("--batch-size must be at least 1")
    records = csv_records(lines) if fmt is PushFormat.csv else ndjson_records(lines)
    header = ""
    if fmt is PushFormat.csv:
        header = next(records, "")
        if not header:
            raise PushError("the CSV input is empty: it needs a header line")
    index, first_row, size, chunk = 0, 1, 0, list[str]()

    def make(chunk: list[str]) -> Batch:
        data = "".join(chunk).encode()
        body = header.encode() + data
        return Batch(
            index=index,
            first_row=first_row,
            rows=len(chunk),
            body=body,
            idempotency_key=idempotency_key(metric, source, index, body),
            data_bytes=len(data) + (len(header.encode()) if index == 0 else 0),
        )

    for record in records:
        chunk.append(record)
        size += len(record.encode())
        if len(chunk) == batch_size or size >= max_bytes:
            yield make(chunk)
            index, first_row, size, chunk = index + 1, first_row + len(chunk), 0, []
    if chunk:
        yield make(chunk)


# State file ---------------------------------------------------------------------------------


class StateFile:
    """Append-only record of acknowledged batches: a header line, then `index key` lines."""

    def __init__(self, path: Path, metric: str, batch_size: int) -> None:
        self.path = path
        self.header = f"{STATE_VERSION} metric={metric} batch_size={batch_size}\n"
        self.done: dict[int, str] = {}
        self._handle: TextIO | None = None

    def load(self) -> bool:
        """Read earlier progress; False when there is none usable (other metric or batch size)."""
        try:
            lines = self.path.read_text().splitlines(keepends=True)
        except FileNotFoundError:
            return False
        if not lines or lines[0] != self.header:
            return False
        for line in lines[1:]:
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                self.done[int(parts[0])] = parts[1]
        return True

    def open(self, resume: bool) -> None:
        if resume:
            self._handle = self.path.open("a", encoding="utf-8")
        else:
            self.done.clear()
            self._handle = self.path.open("w", encoding="utf-8")
            self._handle.write(self.header)
            self._sync()

    def is_done(self, batch: Batch) -> bool:
        return self.done.get(batch.index) == batch.idempotency_key

    def record(self, batch: Batch) -> None:
        assert self._handle is not None
        self._handle.write(f"{batch.index} {batch.idempotency_key}\n")
        self._sync()
        self.done[batch.index] = batch.idempotency_key

    def _sync(self) -> None:
        assert self._handle is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


# Sending ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float((moment - datetime.now(UTC)).total_seconds()))


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def describe_problem(batch: Batch, response: httpx.Response) -> str:
    problem = json_object(response) or {}
    title = problem.get("title") or response.reason_phrase
    detail = problem.get("detail")
    lines = [
        f"batch {batch.index} (rows {batch.first_row}-{batch.first_row + batch.rows - 1}) "
        f"was refused: {response.status_code} {title}" + (f": {detail}" if detail else "")
    ]
    if response.status_code == 413:
        lines.append("  lower --batch-size so that each request stays under the server's limits")
    errors = problem.get("errors")
    if isinstance(errors, list):
        for error in errors[:20]:
            if isinstance(error, dict) and isinstance(error.get("index"), int):
                row = batch.first_row + error["index"]
                rest = {k: v for k, v in error.items() if k != "index"}
                lines.append(f"  row {row}: {json.dumps(rest, sort_keys=True)}")
            else:
                lines.append(f"  {json.dumps(error, sort_keys=True)}")
        if len(errors) > 20:
            lines.append(f"  … and {len(errors) - 20} more")
    return "\n".join(lines)


@dataclass
class PushReport:
    batches_sent: int = 0
    batches_skipped: int = 0
    batches_replayed: int = 0  # answered from the server's idempotency record: applied before
    rows_sent: int = 0
    rows_skipped: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))

    def add(self, answer: dict[str, Any]) -> None:
        for name in COUNT_FIELDS:
            value = answer.get(name)
            if isinstance(value, int):
                self.counts[name] += value


Sleep = Callable[[float], Awaitable[None]]
Progress = Callable[[Batch, bool], None]  # (batch, skipped)


@dataclass
class Pusher:
    client: httpx.AsyncClient
    url: str
    api_key: str
    metric: str
    fmt: PushFormat
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = asyncio.sleep

    @property
    def endpoint(self) -> str:
        return f"{self.url.rstrip('/')}/v1/metrics/{quote(self.metric, safe='')}/points"

    async def send(self, batch: Batch) -> tuple[dict[str, Any], bool]:
        """POST one batch until acknowledged: (the server's answer, whether it was a replay).

        Raises PushError when the batch cannot be acknowledged."""
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": self.fmt.content_type,
            "Idempotency-Key": batch.idempotency_key,
            "Accept": "application/json",
        }
        last_failure, delay = "", 0.0
        for attempt in range(self.policy.max_attempts):
            if attempt:
                await self.sleep(delay)
            try:
                response = await self.client.post(
                    self.endpoint, content=batch.body, headers=headers
                )
            except httpx.TransportError as exc:
                last_failure = f"{type(exc).__name__}: {exc}"
                delay = self.policy.backoff(attempt)
                continue
            if response.is_success:
                replayed = response.headers.get(REPLAYED_HEADER, "").lower() == "true"
                return json_object(response) or {}, replayed
            if response.status_code in RETRY_STATUSES:
                last_failure = f"{response.status_code} {response.reason_phrase}"
                waited = retry_after(response)
                delay = waited if waited is not None else self.policy.backoff(attempt)
                continue
            raise PushError(describe_problem(batch, response), problem=json_object(response))
        raise PushError(
            f"batch {batch.index} was not acknowledged after {self.policy.max_attempts} attempts "
            f"(last: {last_failure}); run the same command again to resume"
        )

    async def push(
        self,
        batches: Iterable[Batch],
        state: StateFile | None = None,
        progress: Progress | None = None,
    ) -> PushReport:
        report = PushReport()
        for batch in batches:
            skipped = state is not None and state.is_done(batch)
            if skipped:
                report.batches_skipped += 1
                report.rows_skipped += batch.rows
            else:
                answer, replayed = await self.send(batch)
                report.add(answer)
                report.batches_replayed += replayed
                if state is not None:
                    state.record(batch)
                report.batches_sent += 1
                report.rows_sent += batch.rows
            if progress is not None:
                progress(batch, skipped)
        return report


def default_state_path(path: Path | None) -> Path | None:
    return path.with_name(path.name + STATE_SUFFIX) if path is not None else None


def open_state(path: Path | None, metric: str, batch_size: int) -> tuple[StateFile | None, int]:
    """The state file ready to append to, and how many batches it already records."""
    if path is None:
        return None, 0
    state = StateFile(path, metric, batch_size)
    resume = state.load()
    try:
        state.open(resume)
    except OSError as exc:
        print(f"warning: no state file ({exc}); a re-run will resend every batch", file=sys.stderr)
        return None, 0
    return state, len(state.done)


async def push_source(
    *,
    lines: Iterable[str],
    source: str,
    fmt: PushFormat,
    metric: str,
    url: str,
    api_key: str,
    batch_size: int,
    state: StateFile | None,
    policy: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    request_timeout: float = 60.0,
    sleep: Sleep = asyncio.sleep,
    progress: Progress | None = None,
) -> PushReport:
    """Push every batch of `lines`; removes the state file once all are acknowledged."""
    async with httpx.AsyncClient(transport=transport, timeout=request_timeout) as client:
        pusher = Pusher(
            client, url, api_key, metric, fmt, policy=policy or RetryPolicy(), sleep=sleep
        )
        batches = iter_batches(lines, fmt, batch_size, metric=metric, source=source)
        try:
            report = await pusher.push(batches, state, progress)
        finally:
            if state is not None:
                state.close()
    if state is not None:
        state.remove()
    return report


# Command line -------------------------------------------------------------------------------


def push_command(
    metric: Annotated[
        str, typer.Option("--metric", help="Key of the metric the points belong to.")
    ],
    file: Annotated[
        Path | None,
        typer.Argument(
            help="CSV or NDJSON file; standard input when omitted or '-'.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        PushFormat | None,
        typer.Option("--format", help="Input format; by default from the file's extension."),
    ] = None,
    url: Annotated[
        str, typer.Option("--url", envvar="LODESTAR_URL", help="Base URL of the Lodestar server.")
    ] = "http://127.0.0.1:8000",
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            envvar="LODESTAR_API_KEY",
            help="API key with the ingest scope (prefer the environment variable).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="Rows per request.")
    ] = 5_000,
    state_file: Annotated[
        Path | None,
        typer.Option(
            "--state-file",
            help="Where progress is kept for resuming (default: <file>.lodestar-push; none for stdin).",
            show_default=False,
        ),
    ] = None,
    no_state: Annotated[
        bool, typer.Option("--no-state", help="Keep no state file (a re-run resends everything).")
    ] = False,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, help="Tries per batch before giving up.")
    ] = 8,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds per request.")] = 60,
) -> None:
    """Send points from CSV or NDJSON to POST /v1/metrics/{metric}/points, in batches.

    Safe to re-run: each batch has a deterministic Idempotency-Key, and acknowledged batches
    are recorded in a state file so that a re-run after a failure resumes where it stopped.
    """
    if not key:
        typer.secho(
            "error: an API key is needed: set LODESTAR_API_KEY or pass --key", err=True, fg="red"
        )
        raise typer.Exit(2)
    path = None if file is None or str(file) == "-" else file
    try:
        push_format = detect_format(path, fmt)
    except PushError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(2) from exc
    if path is not None and not path.is_file():
        typer.secho(f"error: no such file: {path}", err=True, fg="red")
        raise typer.Exit(2)

    state, already = (
        (None, 0)
        if no_state
        else open_state(state_file or default_state_path(path), metric, batch_size)
    )
    if already:
        typer.echo(f"resuming: {already} batches were acknowledged by an earlier run", err=True)
    total = path.stat().st_size if path is not None else None
    console = Console(stderr=True)
    with contextlib.ExitStack() as stack:
        if path is not None:
            stream: TextIO = stack.enter_context(path.open(encoding="utf-8-sig", newline=""))
            source = str(path.resolve())
        else:
            stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
            source = "stdin"
        bar = stack.enter_context(
            RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TimeRemainingColumn(),
                console=console,
            )
        )
        task = bar.add_task(metric, total=total, rows=0)
        rows = 0

        def advance(batch: Batch, skipped: bool) -> None:
            nonlocal rows
            rows += batch.rows
            bar.update(task, advance=batch.data_bytes, rows=rows)

        try:
            report = asyncio.run(
                push_source(
                    lines=stream,
                    source=source,
                    fmt=push_format,
                    metric=metric,
                    url=url,
                    api_key=key,
                    batch_size=batch_size,
                    state=state,
                    policy=RetryPolicy(max_attempts=max_attempts),
                    request_timeout=timeout,
                    progress=advance,
                )
            )
        except PushError as exc:
            bar.stop()
            typer.secho(f"error: {exc.message}", err=True, fg="red")
            raise typer.Exit(1) from exc
    counts = ", ".join(f"{name} {report.counts[name]}" for name in COUNT_FIELDS)
    skipped = (
        f" ({report.batches_skipped} batches, {report.rows_skipped} rows already sent earlier)"
        if report.batches_skipped
        else ""
    )
    if report.batches_replayed:
        counts += (
            f" ({report.batches_replayed} batches had been applied before: the server "
            "replayed its first answer)"
        )
    typer.echo(
        f"pushed {report.rows_sent} rows in {report.batches_sent} batches{skipped}: {counts}"
    )
