"""Refuses REST requests carrying text PostgreSQL cannot store, before any route runs.

One check for every route under `/v1` (new routes are covered without doing anything): the
decoded path, every query parameter, every header and the body — JSON, NDJSON or CSV — are
searched for NUL characters and lone UTF-16 surrogates (`service.unstorable_text`). Any
found is answered with a 422 problem whose `errors` name each offending value (`index` of
the point in a batch, `field`, code `INVALID_CHARACTER`); nothing runs, nothing is written.

The body is buffered here (it sits inside `RequestSizeLimitMiddleware`, so at most
`max_request_bytes`) and replayed to the route. Only a body holding a `\\u0000` or surrogate
escape (JSON, NDJSON) or a NUL byte (CSV) is decoded a second time, so clean batches pay one
regular-expression scan.
"""

import csv
import io
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import problem
from service.unstorable_text import CODE, Path, shown, unstorable_reason, unstorable_strings

PREFIXES = ("/v1",)
MAX_REPORTED = 100
# `\u0000` or a surrogate escape (`\ud800`..`\udfff`); valid pairs (emoji) match too and are
# then found fine by the full decode, which only such bodies pay.
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})")


def _entry(field: str, reason: str, index: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": field, "code": CODE, "message": f"`{field}` {reason}"}
    if index is not None:
        entry["index"] = index
    return entry


def _json_entry(path: Path, reason: str, index: int | None = None) -> dict[str, Any]:
    """("points", 3, "dimensions", "region") → index 3, field `dimensions.region`."""
    position = next((n for n, part in enumerate(path) if isinstance(part, int)), None)
    if position is not None and index is None:
        index = int(path[position])
        path = path[position + 1 :]
    names = [shown(str(part)) for part in path if not isinstance(part, int)]
    return _entry(".".join(names) or "body", reason, index)


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip().lower()
    return ""


def _json_faults(body: bytes) -> list[dict[str, Any]]:
    if SUSPECT_ESCAPE.search(body) is None:  # JSON holds NUL or surrogates only as escapes
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, too deep: the route says so
        return []
    return [_json_entry(path, reason) for path, reason in unstorable_strings(document)]


def _ndjson_faults(body: bytes) -> list[dict[str, Any]]:
    if SUSPECT_ESCAPE.search(body) is None:
        return []
    faults = []
    index = 0
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        if SUSPECT_ESCAPE.search(line) is not None:
            try:
                document = json.loads(line)
            except (ValueError, RecursionError):
                document = None
            faults += [_json_entry(p, r, index) for p, r in unstorable_strings(document)]
        index += 1
    return faults


def _csv_faults(body: bytes) -> list[dict[str, Any]]:
    if b"\x00" not in body:  # valid UTF-8 cannot encode a surrogate
        return []
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None) or []
    faults = [_entry("header", reason) for cell in header if (reason := unstorable_reason(cell))]
    index = 0
    for row in rows:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        for position, cell in enumerate(row):
            reason = unstorable_reason(cell)
            if reason is not None:
                name = shown(header[position].strip()) if position < len(header) else str(position)
                faults.append(_entry(name, reason, index))
        index += 1
    return faults


def body_faults(body: bytes, content_type: str) -> list[dict[str, Any]]:
    if content_type == "text/csv":
        return _csv_faults(body)
    if content_type in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        return _ndjson_faults(body)
    return _json_faults(body)


def request_faults(scope: Scope) -> list[dict[str, Any]]:
    """Faults of the path, query parameters and headers."""
    faults = []
    reason = unstorable_reason(scope.get("path", ""))
    if reason is not None:
        faults.append(_entry("path", reason))
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        reason = unstorable_reason(name) or unstorable_reason(value)
        if reason is not None:
            faults.append(_entry(shown(name), reason))
    for name, raw in scope.get("headers", []):
        if b"\x00" in raw:
            faults.append(
                _entry(f"header.{name.decode('latin-1')}", "contains a NUL character (U+0000)")
            )
    return faults


class UnstorableTextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        faults = request_faults(scope)
        chunks = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # disconnected: nothing left to answer
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if not faults and body:
            faults = body_faults(body, _content_type(scope))
        if faults:
            response = problem(
                422,
                "text may not contain NUL characters or lone UTF-16 surrogates; see `errors`",
                slug="invalid",
                errors=faults[:MAX_REPORTED],
            )
            await response(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
