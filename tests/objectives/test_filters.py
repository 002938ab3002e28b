import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ObjectiveState, Organization
from service.objectives.filters import ObjectiveFilter, select_objectives
from tests import factories


async def ids(session: AsyncSession, org: Organization, **filters: Any) -> set[uuid.UUID]:
    found = await session.scalars(select_objectives(org.id, ObjectiveFilter(**filters)))
    return {objective.id for objective in found}


async def test_objective_filters_by_cycle_owner_and_state(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    later = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)
    person = await factories.create_person(session, org)
    team_active = await factories.create_objective(session, org, cycle, owner_team_id=team.id)
    person_draft = await factories.create_objective(
        session, org, cycle, owner_person_id=person.id, state="draft"
    )
    later_closed = await factories.create_objective(
        session, org, later, owner_team_id=team.id, state="closed"
    )
    archived = await factories.create_objective(session, org, cycle, state="archived")
    await factories.create_objective(session, other, await factories.create_cycle(session, other))

    # when / then
    assert await ids(session, org) == {team_active.id, person_draft.id, later_closed.id}
    assert await ids(session, org, cycle_id=cycle.id) == {team_active.id, person_draft.id}
    assert await ids(session, org, owner_team_id=team.id) == {team_active.id, later_closed.id}
    assert await ids(session, org, owner_person_id=person.id) == {person_draft.id}
    states = [ObjectiveState.draft, ObjectiveState.closed]
    assert await ids(session, org, states=states) == {person_draft.id, later_closed.id}
    assert await ids(session, org, states=[ObjectiveState.archived]) == {archived.id}


async def test_objective_search_is_case_insensitive_and_escapes_wildcards(
    session: AsyncSession,
) -> None:
    # given
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    percent = await factories.create_objective(session, org, cycle, title="Reach 100% uptime")
    underscore = await factories.create_objective(session, org, cycle, title="Fix snake_case names")
    plain = await factories.create_objective(session, org, cycle, title="Reach 1000 users")
    await factories.create_objective(session, org, cycle, title="Fix snakeXcase names")

    # when / then
    assert await ids(session, org, search="REACH") == {percent.id, plain.id}
    assert await ids(session, org, search="0%") == {percent.id}
    assert await ids(session, org, search="snake_case") == {underscore.id}
    assert await ids(session, org, search="%") == {percent.id}
    assert await ids(session, org, search="\\") == set()
    assert await ids(session, org, search="  ") == await ids(session, org, search="")
