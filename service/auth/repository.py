import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiKey


async def active_key_by_hash(
    session: AsyncSession, secret_hash: bytes
) -> tuple[uuid.UUID, uuid.UUID, list[str]] | None:
    """(org_id, key id, scopes) of the unrevoked key with this hash: the per-request lookup,
    a Core select of three columns (no ORM object, no identity map)."""
    result = await session.execute(
        select(ApiKey.org_id, ApiKey.id, ApiKey.scopes).where(
            ApiKey.secret_hash == secret_hash, ApiKey.revoked_at.is_(None)
        )
    )
    row = result.first()
    return None if row is None else (row[0], row[1], list(row[2]))


async def get(session: AsyncSession, org_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    result = await session.execute(
        select(ApiKey).where(ApiKey.org_id == org_id, ApiKey.id == key_id)
    )
    return result.scalar_one_or_none()


async def list_for_org(session: AsyncSession, org_id: uuid.UUID) -> list[ApiKey]:
    result = await session.execute(
        select(ApiKey).where(ApiKey.org_id == org_id).order_by(ApiKey.created_at, ApiKey.id)
    )
    return list(result.scalars())
