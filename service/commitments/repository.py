import uuid
from collections.abc import Collection

from sqlalchemy import delete, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.commitments.schemas import CommitmentFilter
from service.models import Commitment, CommitmentKeyResult


async def get(
    session: AsyncSession, org_id: uuid.UUID, commitment_id: uuid.UUID, *, for_update: bool = False
) -> Commitment | None:
    query = select(Commitment).where(Commitment.org_id == org_id, Commitment.id == commitment_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def list_by_ids(
    session: AsyncSession, org_id: uuid.UUID, commitment_ids: Collection[uuid.UUID]
) -> list[Commitment]:
    if not commitment_ids:
        return []
    result = await session.execute(
        select(Commitment).where(
            Commitment.org_id == org_id, Commitment.id.in_(list(commitment_ids))
        )
    )
    return list(result.scalars())


async def list_for_org(
    session: AsyncSession,
    org_id: uuid.UUID,
    filters: CommitmentFilter,
    *,
    limit: int,
    after: uuid.UUID | None = None,
) -> list[Commitment]:
    """Commitments by due date (then creation, then id), the page after the commitment `after`."""
    query = select(Commitment).where(Commitment.org_id == org_id)
    if filters.owner_person_id is not None:
        query = query.where(Commitment.owner_person_id == filters.owner_person_id)
    if filters.states is not None:
        query = query.where(Commitment.state.in_([state.value for state in filters.states]))
    if filters.due_before is not None:
        query = query.where(Commitment.due_on < filters.due_before)
    if filters.due_after is not None:
        query = query.where(Commitment.due_on > filters.due_after)
    if filters.key_result_id is not None:
        query = query.where(
            exists().where(
                CommitmentKeyResult.org_id == org_id,
                CommitmentKeyResult.commitment_id == Commitment.id,
                CommitmentKeyResult.key_result_id == filters.key_result_id,
            )
        )
    key = tuple_(Commitment.due_on, Commitment.created_at, Commitment.id)
    if after is not None:
        anchor = (
            select(Commitment).where(Commitment.org_id == org_id, Commitment.id == after).subquery()
        )
        query = query.where(
            key
            > tuple_(
                select(anchor.c.due_on).scalar_subquery(),
                select(anchor.c.created_at).scalar_subquery(),
                after,
            )
        )
    query = query.order_by(Commitment.due_on, Commitment.created_at, Commitment.id).limit(limit)
    result = await session.execute(query)
    return list(result.scalars())


async def key_result_ids_of(
    session: AsyncSession, org_id: uuid.UUID, commitment_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(commitment id, key result id) for every key result the given commitments support."""
    if not commitment_ids:
        return []
    result = await session.execute(
        select(CommitmentKeyResult.commitment_id, CommitmentKeyResult.key_result_id)
        .where(
            CommitmentKeyResult.org_id == org_id,
            CommitmentKeyResult.commitment_id.in_(list(commitment_ids)),
        )
        .order_by(CommitmentKeyResult.created_at, CommitmentKeyResult.key_result_id)
    )
    return [(commitment_id, key_result_id) for commitment_id, key_result_id in result]


async def commitment_ids_of(
    session: AsyncSession, org_id: uuid.UUID, key_result_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(key result id, commitment id) for every commitment supporting the given key results."""
    if not key_result_ids:
        return []
    result = await session.execute(
        select(CommitmentKeyResult.key_result_id, CommitmentKeyResult.commitment_id)
        .where(
            CommitmentKeyResult.org_id == org_id,
            CommitmentKeyResult.key_result_id.in_(list(key_result_ids)),
        )
        .order_by(CommitmentKeyResult.created_at, CommitmentKeyResult.commitment_id)
    )
    return [(key_result_id, commitment_id) for key_result_id, commitment_id in result]


def add_key_results(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    key_result_ids: Collection[uuid.UUID],
) -> None:
    session.add_all(
        CommitmentKeyResult(org_id=org_id, commitment_id=commitment_id, key_result_id=kr_id)
        for kr_id in key_result_ids
    )


async def remove_key_results(
    session: AsyncSession,
    org_id: uuid.UUID,
    commitment_id: uuid.UUID,
    key_result_ids: Collection[uuid.UUID],
) -> None:
    if not key_result_ids:
        return
    await session.execute(
        delete(CommitmentKeyResult).where(
            CommitmentKeyResult.org_id == org_id,
            CommitmentKeyResult.commitment_id == commitment_id,
            CommitmentKeyResult.key_result_id.in_(list(key_result_ids)),
        )
    )
