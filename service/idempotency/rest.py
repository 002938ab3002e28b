"""The HTTP side of `Idempotency-Key` for REST routes that create things.

`respond_once` runs a route's work at most once per (API key, Idempotency-Key): the
in-flight marker, the work and its stored response are one transaction, so a failed or
crashed attempt leaves no marker behind. Only successful responses are stored and replayed (with `Idempotent-Replayed:
true`); a refused request changed nothing, so a retry — corrected or not — runs again.
All of it uses the request's one session (and so one pooled connection at a time).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.idempotency import service
from service.idempotency.service import HEADER, MAX_KEY_LENGTH, StoredResponse

REPLAYED_HEADER = "Idempotent-Replayed"
# The route parameter (documents the header in OpenAPI) and the success response's header.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=MAX_KEY_LENGTH,
        description="Retry-safe key (≤ 255 characters, scoped to the API key, kept ≥ 24 h): "
        "the same key and body replay the first response; another body is a 422; while the "
        "first is still running, 409.",
    ),
]
REPLAYED_RESPONSE: dict[str, Any] = {
    REPLAYED_HEADER: {
        "description": "`true` when this is the stored response of an earlier request.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

Work = Callable[[], Awaitable[StoredResponse]]


def request_fingerprint(request: Request, body: bytes) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return service.fingerprint(
        request.method.encode(), request.url.path.encode(), media_type.encode(), body
    )


async def respond_once(
    request: Request, session: AsyncSession, principal: Principal, body: bytes, work: Work
) -> JSONResponse:
    """Run `work` and answer with its response, committed before the answer is sent."""
    key = request.headers.get(HEADER)
    if key is None:
        response = await work()
        await session.commit()
        return JSONResponse(response.body, status_code=response.status)

    ttl_hours = request.app.state.settings.idempotency_ttl_hours
    service.check_key(key)
    try:
        stored = await service.claim(
            session,
            principal.org_id,
            principal.api_key_id,
            key,
            request_fingerprint(request, body),
            ttl_hours=ttl_hours,
        )
        if stored is not None:
            await session.commit()
            return JSONResponse(
                stored.body, status_code=stored.status, headers={REPLAYED_HEADER: "true"}
            )
        response = await work()
        await service.complete(
            session, principal.org_id, principal.api_key_id, key, response, ttl_hours=ttl_hours
        )
        await session.commit()
    except BaseException:
        await session.rollback()  # the marker goes with the work
        raise
    return JSONResponse(response.body, status_code=response.status)
