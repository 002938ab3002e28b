import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.key_results.filters import KeyResultFilter, select_key_results
from service.models import KeyResultState, Measure
from tests import factories


async def test_key_result_filters_all_hold(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    first = await factories.create_objective(session, org, cycle)
    second = await factories.create_objective(session, org, cycle)
    owner = await factories.create_person(session, org)
    metric = await factories.create_metric(session, org)
    a = await factories.create_key_result(session, first, owner_person_id=owner.id)
    b = await factories.create_key_result(session, first, measure="metric", metric_id=metric.id)
    c = await factories.create_key_result(session, second, state="archived")
    foreign_cycle = await factories.create_cycle(session, other)
    await factories.create_key_result(
        session, await factories.create_objective(session, other, foreign_cycle)
    )

    async def ids(**filters: Any) -> set[uuid.UUID]:
        found = await session.scalars(select_key_results(org.id, KeyResultFilter(**filters)))
        return {kr.id for kr in found}

    # when / then
    assert await ids() == {a.id, b.id, c.id}
    assert await ids(objective_id=first.id) == {a.id, b.id}
    assert await ids(owner_person_id=owner.id) == {a.id}
    assert await ids(metric_id=metric.id) == {b.id}
    assert await ids(measure=Measure.metric) == {b.id}
    assert await ids(state=KeyResultState.archived) == {c.id}
    assert await ids(cycle_id=foreign_cycle.id) == set()
