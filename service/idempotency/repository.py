"""All SQL of idempotency records (one row per API key and `Idempotency-Key`)."""

import uuid
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import IdempotencyRecord, IdempotencyStatus


def _hours(hours: int) -> Any:
    return func.make_interval(0, 0, 0, 0, hours)


async def claim(
    session: AsyncSession,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID,
    key: str,
    request_hash: bytes,
    *,
    ttl_hours: int,
    wait_ms: int,
) -> bool | None:
    """Insert the in-flight marker in the caller's transaction: True if this request now owns
    the key, False if a record is there, None if another request's marker was still
    uncommitted after `wait_ms` (the transaction is then aborted).

    An expired record is taken over, and so is an in-flight one committed by a version that
    committed markers on their own (its request can no longer be running).
    """
    record = IdempotencyRecord.__table__
    statement = (
        insert(IdempotencyRecord)
        .values(
            org_id=org_id,
            api_key_id=api_key_id,
            key=key,
            request_hash=request_hash,
            status=IdempotencyStatus.in_flight.value,
            expires_at=func.now() + _hours(ttl_hours),
        )
        .on_conflict_do_update(
            index_elements=[record.c.api_key_id, record.c.key],
            set_={
                "request_hash": request_hash,
                "status": IdempotencyStatus.in_flight.value,
                "response_status": None,
                "response_body": None,
                "expires_at": func.now() + _hours(ttl_hours),
                "created_at": func.now(),
            },
            where=(record.c.expires_at <= func.now())
            | (record.c.status == IdempotencyStatus.in_flight.value),
        )
        .returning(record.c.key)
    )
    await session.execute(_WAIT, {"wait": f"{wait_ms}ms"})
    try:
        result = await session.execute(statement)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return None
        raise
    await session.execute(_RESTORE)
    return result.first() is not None


LOCK_NOT_AVAILABLE = "55P03"
# The claim alone waits at most its own lock timeout; the work after it keeps the session's.
_WAIT = text("SELECT set_config('lock_timeout', :wait, true)")
_RESTORE = text("SET LOCAL lock_timeout TO DEFAULT")


async def get(
    session: AsyncSession, org_id: uuid.UUID, api_key_id: uuid.UUID, key: str
) -> IdempotencyRecord | None:
    result = await session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.org_id == org_id,
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.key == key,
        )
    )
    return result.scalar_one_or_none()


async def complete(
    session: AsyncSession,
    org_id: uuid.UUID,
    api_key_id: uuid.UUID,
    key: str,
    *,
    status: int,
    body: dict[str, Any],
    ttl_hours: int,
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.org_id == org_id,
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.key == key,
        )
        .values(
            status=IdempotencyStatus.completed.value,
            response_status=status,
            response_body=body,
            expires_at=func.now() + _hours(ttl_hours),
        )
    )


async def purge_expired(session: AsyncSession, org_id: uuid.UUID | None) -> int:
    """Delete expired records of one organization, or of all (`None`, for maintenance jobs)."""
    statement = delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= func.now())
    if org_id is not None:
        statement = statement.where(IdempotencyRecord.org_id == org_id)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
