import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Team
from service.teams import service
from service.teams.filters import TeamFilter, select_teams
from tests.factories import create_org, create_team


async def ids(session: AsyncSession, org_id: uuid.UUID, **filters: Any) -> list[uuid.UUID]:
    found = await session.scalars(select_teams(org_id, TeamFilter(**filters)).order_by(Team.name))
    return [team.id for team in found]


async def test_team_filters_by_parent_top_level_and_archived(session: AsyncSession) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    root = await create_team(session, org, name="Root")
    child_b = await create_team(session, org, name="B", parent_team_id=root.id)
    child_a = await create_team(session, org, name="A", parent_team_id=root.id)
    gone = await create_team(session, org, name="Gone")
    await service.archive_team(session, org.id, gone.id)
    await create_team(session, other_org, name="Stranger")

    # when / then
    assert await ids(session, org.id) == [child_a.id, child_b.id, root.id]
    assert await ids(session, org.id, top_level=True) == [root.id]
    assert await ids(session, org.id, top_level=False) == [child_a.id, child_b.id]
    assert await ids(session, org.id, parent_team_id=root.id) == [child_a.id, child_b.id]
    assert gone.id in await ids(session, org.id, include_archived=True)
    assert await ids(session, org.id, search="ROO") == [root.id]
