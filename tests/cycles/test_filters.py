import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.cycles import service
from service.cycles.filters import CycleFilter, select_cycles
from service.models import Cycle
from tests.factories import create_cycle, create_org

YEAR = (date(2027, 1, 1), date(2027, 12, 31))
Q1 = (date(2027, 1, 1), date(2027, 3, 31))


async def test_cycle_filters_by_parent_day_and_archived(session: AsyncSession) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    year = await create_cycle(session, org, name="2027", starts_on=YEAR[0], ends_on=YEAR[1])
    q2 = await create_cycle(
        session,
        org,
        name="Q2",
        starts_on=date(2027, 4, 1),
        ends_on=date(2027, 6, 30),
        parent_cycle_id=year.id,
    )
    q1 = await create_cycle(
        session, org, name="Q1", starts_on=Q1[0], ends_on=Q1[1], parent_cycle_id=year.id
    )
    old = await create_cycle(
        session, org, name="2026", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31)
    )
    await service.archive_cycle(session, org.id, old.id)
    await create_cycle(session, other_org, name="Stranger")

    async def ids(**filters: Any) -> list[uuid.UUID]:
        statement = select_cycles(org.id, CycleFilter(**filters))
        found = await session.scalars(statement.order_by(Cycle.starts_on, Cycle.ends_on.desc()))
        return [c.id for c in found]

    # when / then
    assert await ids() == [year.id, q1.id, q2.id]
    assert await ids(parent_cycle_id=year.id) == [q1.id, q2.id]
    assert await ids(active_on=date(2027, 5, 1)) == [year.id, q2.id]
    assert await ids(include_archived=True) == [old.id, year.id, q1.id, q2.id]
    assert await ids(search="q") == [q1.id, q2.id]
