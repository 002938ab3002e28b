import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.kit import rows
from service.models import Cycle, Objective
from tests import factories
from tests.conftest import StatementCounter


async def test_get_by_ids_keeps_order_and_hides_other_organizations(
    session: AsyncSession,
) -> None:
    # given
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    first = await factories.create_objective(session, org, cycle)
    second = await factories.create_objective(session, org, cycle)
    foreign = await factories.create_objective(
        session, other, await factories.create_cycle(session, other)
    )

    # when
    found = await rows.get_by_ids(session, Objective, org.id, [second.id, foreign.id, first.id])

    # then
    assert found == [second, None, first]


async def test_get_by_ids_runs_one_statement_whatever_the_number_of_rows(
    session: AsyncSession, statements: StatementCounter
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objectives = [await factories.create_objective(session, org, cycle) for _ in range(6)]
    ids = [objective.id for objective in objectives]

    statements.reset()
    found = await rows.get_by_ids(session, Objective, org.id, ids)

    assert statements.count == 1
    assert [o.id if o else None for o in found] == ids


async def test_get_one_of_another_organization_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_cycle(session, other)

    with pytest.raises(NotFound) as error:
        await rows.get_one(session, Cycle, org.id, foreign.id, what="parent cycle", field="x")
    assert (error.value.message, error.value.field) == ("parent cycle not found", "x")
    assert await rows.find(session, Cycle, org.id, uuid.uuid4()) is None
    assert await rows.find(session, Cycle, other.id, foreign.id) == foreign
