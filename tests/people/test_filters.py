import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Person, PersonKind
from service.people import service
from service.people.filters import PersonFilter, select_people
from tests.factories import create_org, create_person


async def listed(session: AsyncSession, org_id: uuid.UUID, filter: PersonFilter) -> list[Person]:
    return list(await session.scalars(select_people(org_id, filter).order_by(Person.name)))


async def test_people_filters_leave_out_archived_people_and_other_orgs(
    session: AsyncSession,
) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    bea = await create_person(session, org, name="Bea")
    ann = await create_person(session, org, name="Ann")
    gone = await create_person(session, org, name="Gone")
    bot = await create_person(session, org, name="Bot", kind="agent", accountable_person_id=ann.id)
    await service.archive_person(session, org.id, gone.id)
    await create_person(session, other_org, name="Stranger")

    # when
    active = await listed(session, org.id, PersonFilter())
    agents = await listed(session, org.id, PersonFilter(kind=PersonKind.agent))
    everyone = await listed(session, org.id, PersonFilter(include_archived=True))
    found = await listed(session, org.id, PersonFilter(search="B"))

    # then
    assert [p.id for p in active] == [ann.id, bea.id, bot.id]
    assert [p.id for p in agents] == [bot.id]
    assert [p.id for p in everyone] == [ann.id, bea.id, bot.id, gone.id]
    assert [p.id for p in found] == [bea.id, bot.id]
