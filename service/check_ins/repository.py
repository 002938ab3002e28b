import uuid

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import CheckIn


async def get(
    session: AsyncSession, org_id: uuid.UUID, check_in_id: uuid.UUID, *, for_update: bool = False
) -> CheckIn | None:
    query = select(CheckIn).where(CheckIn.org_id == org_id, CheckIn.id == check_in_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def list_for_key_result(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_id: uuid.UUID,
    *,
    include_retracted: bool,
    limit: int,
    after: uuid.UUID | None = None,
) -> list[CheckIn]:
    """Newest first (observed_at, then recorded_at, then id, all descending).

    Served by the index on (key_result_id, observed_at, recorded_at), read backwards.
    """
    query = select(CheckIn).where(CheckIn.org_id == org_id, CheckIn.key_result_id == key_result_id)
    if not include_retracted:
        query = query.where(CheckIn.retracted_at.is_(None))
    if after is not None:
        anchor = select(CheckIn).where(CheckIn.org_id == org_id, CheckIn.id == after).subquery()
        query = query.where(
            tuple_(CheckIn.observed_at, CheckIn.recorded_at, CheckIn.id)
            < tuple_(
                select(anchor.c.observed_at).scalar_subquery(),
                select(anchor.c.recorded_at).scalar_subquery(),
                after,
            )
        )
    query = query.order_by(
        CheckIn.observed_at.desc(), CheckIn.recorded_at.desc(), CheckIn.id.desc()
    ).limit(limit)
    result = await session.execute(query)
    return list(result.scalars())
