import uuid
from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import CommitmentKeyResult


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
