"""RFC 9457 problem details (`application/problem+json`) for every REST error.

Handlers turn `HTTPException`, request validation errors and `service.errors.DomainError`
into one shape: `type`, `title`, `status`, `detail` and, for invalid input, an `errors` list
of `{index?, field, code, message}`. Routes declare theirs with `problem_responses(...)`.
"""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import (
    Conflict,
    CycleDetected,
    DomainError,
    ErrorCode,
    InFlight,
    Invalid,
    NotFound,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:lodestar:problem:"

log = logging.getLogger("lodestar.problems")

# SQLSTATEs a retry can outlive: connection exceptions (class 08), insufficient resources
# (53), the server shutting down or starting (57P01-57P03), serialization and deadlock.
_TRANSIENT_CLASSES = ("08", "53", "57P")
_TRANSIENT_STATES = frozenset({"40001", "40P01"})
RETRY_AFTER_SECONDS = 1


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` says the database is unreachable or busy for now, not that the request
    is wrong: the same request may succeed in a moment."""
    if isinstance(exc, PoolTimeout | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    return isinstance(state, str) and (
        state.startswith(_TRANSIENT_CLASSES) or state in _TRANSIENT_STATES
    )


class ProblemFieldError(BaseModel):
    """One reason a request was refused: the input at fault and a stable code."""

    model_config = ConfigDict(extra="forbid")

    index: int | None = Field(
        default=None, description="Position of the item at fault in a batch (from 0)."
    )
    field: str | None = Field(default=None, description="The input field at fault.")
    code: str = Field(description="Stable machine-readable reason, e.g. `NOT_FINITE`.")
    message: str = Field(description="What is wrong, for people.")


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(
        description="URI naming the kind of problem, e.g. `urn:lodestar:problem:not-found`."
    )
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What happened in this occurrence, for people.")
    errors: list[ProblemFieldError] | None = Field(
        default=None, description="For invalid input: every reason, one entry per fault."
    )


_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request.",
    401: "No valid API key (`Authorization: Bearer lsk_...`).",
    403: "The API key lacks the scope this route needs.",
    404: "Not found, or outside the caller's organization (the two look the same).",
    409: "Conflicts with the current state (or the same `Idempotency-Key` is in flight).",
    413: "The request is too large.",
    415: "Unsupported content type.",
    422: "Invalid input; `errors` lists every fault. Nothing was changed.",
    429: "Rate limited; retry after `Retry-After` seconds.",
    503: "The database is unavailable for the moment; retry after `Retry-After` seconds.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring `application/problem+json` for each status, and
    503 (every route reads the database)."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in (*statuses, 503)
    }


def problem_type(slug: str) -> str:
    return f"{TYPE_PREFIX}{slug}"


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": problem_type(slug or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def domain_status(exc: DomainError) -> int:
    """The class decides first (an `Invalid` with code NOT_FOUND is still 422), then the code."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Invalid):
        return 422
    if isinstance(exc, Conflict | CycleDetected):
        return 409
    if exc.code is ErrorCode.NOT_FOUND:
        return 404
    if exc.code in (
        ErrorCode.CONFLICT,
        ErrorCode.DUPLICATE,
        ErrorCode.INVALID_STATE,
        ErrorCode.CYCLE,
    ):
        return 409
    return 422


def domain_errors(exc: DomainError) -> list[dict[str, Any]]:
    """A domain error's own list (`exc.errors`, e.g. every bad point of a batch) or one entry."""
    listed = getattr(exc, "errors", None)
    if isinstance(listed, list):
        return listed
    return [{"field": exc.field, "code": exc.code.value, "message": exc.message}]


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    retry = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, InFlight) else None
    return problem(
        domain_status(exc),
        exc.message,
        slug=exc.code.value.lower().replace("_", "-"),
        errors=domain_errors(exc),
        headers=retry,
    )


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, headers=dict(exc.headers or {}))


def _location(loc: Sequence[int | str]) -> tuple[int | None, str]:
    """(`points`, 3, `value`) → index 3, field `value`; (`query`, `from`) → field `from`."""
    parts = [part for part in loc if part not in ("body", "query", "path", "header")]
    index = next((part for part in parts if isinstance(part, int)), None)
    names = [str(part) for part in parts if not isinstance(part, int)]
    return index, ".".join(names) or "body"


async def handle_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    if not is_transient(exc):
        raise exc
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return problem(
        503,
        "the database is unavailable for the moment; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def handle_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        index, field = _location(error.get("loc", ()))
        entry: dict[str, Any] = {
            "field": field,
            "code": str(error.get("type", "invalid")).upper(),
            "message": str(error.get("msg", "invalid")),
        }
        if index is not None:
            entry["index"] = index
        errors.append(entry)
    return problem(422, "the request is invalid; see `errors`", slug="invalid", errors=errors)


def install(app: FastAPI) -> None:
    """Register the handlers and the `Problem` schemas the routes' `responses=` refer to."""
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
    for transient in (DBAPIError, PoolTimeout, ConnectionError, TimeoutError):
        app.add_exception_handler(transient, handle_database_unavailable)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem_schema.pop("$defs", {}))
        schemas["Problem"] = problem_schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
