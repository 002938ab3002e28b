import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.commitments.filters import CommitmentFilter, select_commitments
from service.models import Commitment, CommitmentState
from tests import factories

NOW = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)


async def test_commitment_filters_all_hold_and_due_dates_are_inclusive(
    session: AsyncSession,
) -> None:
    # given
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    alice = await factories.create_person(session, org)
    bob = await factories.create_person(session, org)
    cycle = await factories.create_cycle(session, org)
    key_result = await factories.create_key_result(
        session, await factories.create_objective(session, org, cycle)
    )
    early = await factories.create_commitment(
        session, alice, [key_result], due_on=date(2027, 1, 10)
    )
    middle = await factories.create_commitment(
        session, bob, due_on=date(2027, 2, 10), state="done", done_at=NOW
    )
    late = await factories.create_commitment(session, alice, due_on=date(2027, 3, 10))
    await factories.create_commitment(session, await factories.create_person(session, other))

    async def ids(**filters: Any) -> list[uuid.UUID]:
        statement = select_commitments(org.id, CommitmentFilter(**filters))
        found = await session.scalars(statement.order_by(Commitment.due_on))
        return [c.id for c in found]

    # when / then
    assert await ids() == [early.id, middle.id, late.id]
    assert await ids(owner_person_id=alice.id) == [early.id, late.id]
    assert await ids(states=[CommitmentState.done]) == [middle.id]
    assert await ids(due_before=date(2027, 2, 9)) == [early.id]
    assert await ids(due_after=date(2027, 2, 11)) == [late.id]
    assert await ids(due_after=date(2027, 1, 10), due_before=date(2027, 2, 10)) == [
        early.id,
        middle.id,
    ]
    assert await ids(key_result_id=key_result.id) == [early.id]
