import uuid
from collections.abc import Collection

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.key_results.schemas import KeyResultFilter
from service.models import KeyResult


async def get(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_id: uuid.UUID,
    *,
    for_update: bool = False,
    for_share: bool = False,
) -> KeyResult | None:
    """One key result; `for_share` blocks a concurrent archive until the transaction ends.

    `for_update` takes FOR NO KEY UPDATE (key results' keys never change): it still excludes
    other writers and `for_share`, but not the key-share lock of a foreign-key check, so a
    row pointing at this key result (e.g. its stored status, written by the worker's recheck)
    can be inserted meanwhile without a lock cycle."""
    query = select(KeyResult).where(KeyResult.org_id == org_id, KeyResult.id == key_result_id)
    if for_update:
        query = query.with_for_update(key_share=True)
    elif for_share:
        query = query.with_for_update(read=True)
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def list_by_ids(
    session: AsyncSession, org_id: uuid.UUID, key_result_ids: Collection[uuid.UUID]
) -> list[KeyResult]:
    if not key_result_ids:
        return []
    result = await session.execute(
        select(KeyResult).where(KeyResult.org_id == org_id, KeyResult.id.in_(list(key_result_ids)))
    )
    return list(result.scalars())


async def list_for_objectives(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Collection[uuid.UUID]
) -> list[KeyResult]:
    if not objective_ids:
        return []
    result = await session.execute(
        select(KeyResult)
        .where(KeyResult.org_id == org_id, KeyResult.objective_id.in_(list(objective_ids)))
        .order_by(KeyResult.created_at, KeyResult.id)
    )
    return list(result.scalars())


async def list_for_org(
    session: AsyncSession,
    org_id: uuid.UUID,
    filters: KeyResultFilter,
    *,
    limit: int,
    after: uuid.UUID | None = None,
) -> list[KeyResult]:
    """Key results in creation order (then id), the page after the key result `after`."""
    query = select(KeyResult).where(KeyResult.org_id == org_id)
    if filters.objective_id is not None:
        query = query.where(KeyResult.objective_id == filters.objective_id)
    if filters.owner_person_id is not None:
        query = query.where(KeyResult.owner_person_id == filters.owner_person_id)
    if filters.metric_id is not None:
        query = query.where(KeyResult.metric_id == filters.metric_id)
    if filters.states is not None:
        query = query.where(KeyResult.state.in_([state.value for state in filters.states]))
    if after is not None:
        anchor = (
            select(KeyResult.created_at)
            .where(KeyResult.org_id == org_id, KeyResult.id == after)
            .scalar_subquery()
        )
        query = query.where(tuple_(KeyResult.created_at, KeyResult.id) > tuple_(anchor, after))
    query = query.order_by(KeyResult.created_at, KeyResult.id).limit(limit)
    result = await session.execute(query)
    return list(result.scalars())
