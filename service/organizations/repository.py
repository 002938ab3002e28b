import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Organization


async def get(
    session: AsyncSession, org_id: uuid.UUID, *, for_update: bool = False
) -> Organization | None:
    statement = select(Organization).where(Organization.id == org_id)
    if for_update:
        statement = statement.with_for_update()
    result = await session.execute(statement)
    return result.scalar_one_or_none()
