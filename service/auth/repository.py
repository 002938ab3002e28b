import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiKey


async def get_by_hash(session: AsyncSession, secret_hash: bytes) -> ApiKey | None:
    result = await session.execute(select(ApiKey).where(ApiKey.secret_hash == secret_hash))
    return result.scalar_one_or_none()


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
