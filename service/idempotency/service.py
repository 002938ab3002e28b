"""`Idempotency-Key`: run a request once per key and replay its first response afterwards.

A claim inserts an in-flight marker in the transaction that then does the work and stores
its response (`complete`): the marker lives exactly as long as the request's transaction.
A concurrent request with the same key waits on the marker's row for at most
`IN_FLIGHT_WAIT_MS`, then replays the stored response if the first one committed meanwhile,
or gets a 409 with `Retry-After` (`InFlight`). A failed or crashed request's transaction
rolls back, marker included, so the key is free at once. Records live `ttl_hours`
(≥ 24 h); expired ones of the organization are deleted whenever a new key is claimed, and
`purge_expired(session, None)` clears every organization's (for a maintenance job).
"""

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import ErrorCode, InFlight, Invalid
from service.idempotency import repository
from service.models import IdempotencyStatus

MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"
# How long a request waits on the marker of another request with its key before the 409.
IN_FLIGHT_WAIT_MS = 250
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise Invalid(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters",
            field=HEADER,
            code=ErrorCode.OUT_OF_RANGE,
        )
    return key


def fingerprint(*parts: bytes) -> bytes:
    """SHA-256 over the parts that make two requests "the same" (route, media type, body)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


async def claim(
    session: AsyncSession,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID,
    key: str,
    request_hash: bytes,
    *,
    ttl_hours: int,
) -> StoredResponse | None:
    """None when this request now owns `key` (do the work, `complete`, commit); else the
    response to replay.

    Raises InFlight while another request with the key is running, and Invalid when the key
    was used with a different request.
    """
    check_key(key)
    await repository.purge_expired(session, org_id)
    for _ in range(_CLAIM_ATTEMPTS):
        claimed = await repository.claim(
            session,
            org_id,
            api_key_id,
            key,
            request_hash,
            ttl_hours=ttl_hours,
            wait_ms=IN_FLIGHT_WAIT_MS,
        )
        if claimed is None:
            raise _in_flight()
        if claimed:
            return None
        record = await repository.get(session, org_id, api_key_id, key)
        if record is None:
            continue  # released between our insert and our read: claim again
        if record.request_hash != request_hash:
            raise Invalid(
                f"this {HEADER} was already used with a different request; use a new key",
                field=HEADER,
            )
        if record.status == IdempotencyStatus.in_flight or record.response_status is None:
            raise _in_flight()
        return StoredResponse(status=record.response_status, body=record.response_body or {})
    raise _in_flight()


def _in_flight() -> InFlight:
    return InFlight(f"a request with this {HEADER} is still in progress; retry later", field=HEADER)


async def complete(
    session: AsyncSession,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID,
    key: str,
    response: StoredResponse,
    *,
    ttl_hours: int,
) -> None:
    await repository.complete(
        session,
        org_id,
        api_key_id,
        key,
        status=response.status,
        body=response.body,
        ttl_hours=ttl_hours,
    )


async def purge_expired(session: AsyncSession, org_id: uuid.UUID | None) -> int:
    return await repository.purge_expired(session, org_id)
