"""All SQL of idempotency records (one row per API key and `Idempotency-Key`)."""

import uuid
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
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
    abandoned_after_seconds: int,
) -> bool:
    """Insert the in-flight marker; True if this request now owns the key.

    An expired record, or an in-flight one older than `abandoned_after_seconds` (its process
    died before finishing), is taken over.
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
            | (
                (record.c.status == IdempotencyStatus.in_flight.value)
                & (
                    record.c.created_at
                    < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, abandoned_after_seconds)
                )
            ),
        )
        .returning(record.c.key)
    )
    result = await session.execute(statement)
    return result.first() is not None


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


async def release(
    session: AsyncSession, org_id: uuid.UUID, api_key_id: uuid.UUID, key: str
) -> None:
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.org_id == org_id,
            IdempotencyRecord.api_key_id == api_key_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.status == IdempotencyStatus.in_flight.value,
        )
    )


async def purge_expired(session: AsyncSession, org_id: uuid.UUID | None) -> int:
    """Delete expired records of one organization, or of all (`None`, for maintenance jobs)."""
    statement = delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= func.now())
    if org_id is not None:
        statement = statement.where(IdempotencyRecord.org_id == org_id)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
