import asyncio
import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.errors import Conflict, CycleDetected, ErrorCode, Invalid, NotFound
from service.models import Event, Team, TeamMember
from service.people import service as people_service
from service.teams import service
from service.teams.schemas import TeamCreate, TeamUpdate
from tests.factories import add_member, create_org, create_person, create_team
from tests.real_transactions import committed_org, wait_for_lock_waiters


async def row_counts(session: AsyncSession) -> tuple[int, int, int]:
    teams = await session.scalar(select(func.count()).select_from(Team))
    members = await session.scalar(select(func.count()).select_from(TeamMember))
    events = await session.scalar(select(func.count()).select_from(Event))
    return int(teams or 0), int(members or 0), int(events or 0)


async def events_about(session: AsyncSession, subject_id: uuid.UUID) -> list[tuple[str, Any]]:
    result = await session.execute(
        select(Event.type, Event.payload).where(Event.subject_id == subject_id).order_by(Event.seq)
    )
    return [(type_, payload) for type_, payload in result.all()]


async def member_ids(session: AsyncSession, team: Team) -> list[uuid.UUID]:
    result = await session.scalars(
        select(TeamMember.person_id).where(
            TeamMember.org_id == team.org_id, TeamMember.team_id == team.id
        )
    )
    return list(result)


async def parent_of(session: AsyncSession, team: Team) -> uuid.UUID | None:
    await session.refresh(team)
    return team.parent_team_id


async def test_create_a_team_under_a_parent_emits_team_created(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    parent = await create_team(session, org)

    # when
    team = await service.create_team(
        session, org.id, TeamCreate(name="  Platform ", parent_team_id=parent.id)
    )

    # then
    assert (team.name, team.parent_team_id) == ("Platform", parent.id)
    assert await events_about(session, team.id) == [
        (
            "team.created",
            {
                "id": str(team.id),
                "name": "Platform",
                "parent_team_id": str(parent.id),
                "archived_at": None,
            },
        )
    ]


@pytest.mark.parametrize("name", ["", "  ", "t" * 201])
async def test_create_refuses_a_name_out_of_bounds(session: AsyncSession, name: str) -> None:
    org = await create_org(session)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_team(session, org.id, TeamCreate(name=name))

    assert error.value.field == "name"
    assert await row_counts(session) == before


async def test_create_input_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        TeamCreate.model_validate({"name": "A", "members": []})


@pytest.mark.parametrize("whose", ["unknown", "another org"])
async def test_create_under_a_parent_outside_the_org_is_not_found(
    session: AsyncSession, whose: str
) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    parent_id = uuid.uuid4() if whose == "unknown" else (await create_team(session, other_org)).id
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound) as error:
        await service.create_team(session, org.id, TeamCreate(name="T", parent_team_id=parent_id))
    assert error.value.field == "parent_team_id"
    assert await row_counts(session) == before


async def test_create_under_an_archived_parent_is_refused(session: AsyncSession) -> None:
    org = await create_org(session)
    parent = await create_team(session, org)
    await service.archive_team(session, org.id, parent.id)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_team(session, org.id, TeamCreate(name="T", parent_team_id=parent.id))

    assert error.value.code is ErrorCode.INVALID_STATE
    assert await row_counts(session) == before


async def test_a_team_cannot_be_its_own_parent(session: AsyncSession) -> None:
    org = await create_org(session)
    team = await create_team(session, org)
    before = await row_counts(session)

    with pytest.raises(CycleDetected) as error:
        await service.set_parent(session, org.id, team.id, team.id)

    assert error.value.field == "parent_team_id"
    assert await parent_of(session, team) is None
    assert await row_counts(session) == before


async def test_a_team_cannot_move_under_its_own_descendant(session: AsyncSession) -> None:
    # given: root > middle > leaf
    org = await create_org(session)
    root = await create_team(session, org)
    middle = await create_team(session, org, parent_team_id=root.id)
    leaf = await create_team(session, org, parent_team_id=middle.id)
    before = await row_counts(session)

    # when / then
    with pytest.raises(CycleDetected) as error:
        await service.update_team(session, org.id, root.id, TeamUpdate(parent_team_id=leaf.id))
    assert error.value.code is ErrorCode.CYCLE
    assert error.value.field == "parent_team_id"
    assert await parent_of(session, root) is None
    assert await row_counts(session) == before


async def test_a_team_moves_under_a_team_of_another_branch(session: AsyncSession) -> None:
    # given: root > a > a1, and root > b
    org = await create_org(session)
    root = await create_team(session, org)
    a = await create_team(session, org, parent_team_id=root.id)
    a1 = await create_team(session, org, parent_team_id=a.id)
    b = await create_team(session, org, parent_team_id=root.id)

    # when
    moved = await service.set_parent(session, org.id, a.id, b.id)

    # then
    assert moved.parent_team_id == b.id
    assert set(await service.subtree_ids(session, org.id, b.id)) == {b.id, a.id, a1.id}
    events = await events_about(session, a.id)
    assert events[-1] == ("team.updated", {**events[-1][1], "parent_team_id": str(b.id)})


async def test_set_parent_to_none_makes_a_root(session: AsyncSession) -> None:
    org = await create_org(session)
    parent = await create_team(session, org)
    team = await create_team(session, org, parent_team_id=parent.id)

    await service.set_parent(session, org.id, team.id, None)

    assert await parent_of(session, team) is None


async def test_rename_keeps_the_parent(session: AsyncSession) -> None:
    org = await create_org(session)
    parent = await create_team(session, org)
    team = await create_team(session, org, parent_team_id=parent.id)

    updated = await service.update_team(session, org.id, team.id, TeamUpdate(name=" Core "))

    assert (updated.name, updated.parent_team_id) == ("Core", parent.id)


@pytest.mark.parametrize("whose", ["unknown", "another org"])
async def test_moving_under_a_parent_outside_the_org_is_not_found(
    session: AsyncSession, whose: str
) -> None:
    org, other_org = await create_org(session), await create_org(session)
    team = await create_team(session, org)
    parent_id = uuid.uuid4() if whose == "unknown" else (await create_team(session, other_org)).id
    before = await row_counts(session)

    with pytest.raises(NotFound) as error:
        await service.set_parent(session, org.id, team.id, parent_id)

    assert error.value.field == "parent_team_id"
    assert await parent_of(session, team) is None
    assert await row_counts(session) == before


async def test_another_orgs_team_is_not_found_for_every_operation(session: AsyncSession) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    theirs = await create_team(session, other_org, name="Theirs")
    mine = await create_team(session, org)
    person = await create_person(session, org)
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound):
        await service.get_team(session, org.id, theirs.id)
    with pytest.raises(NotFound):
        await service.update_team(session, org.id, theirs.id, TeamUpdate(name="Mine"))
    with pytest.raises(NotFound):
        await service.set_parent(session, org.id, theirs.id, mine.id)
    with pytest.raises(NotFound):
        await service.archive_team(session, org.id, theirs.id)
    with pytest.raises(NotFound):
        await service.add_member(session, org.id, theirs.id, person.id)
    with pytest.raises(NotFound):
        await service.subtree_ids(session, org.id, theirs.id)
    await session.refresh(theirs)
    assert (theirs.name, theirs.parent_team_id, theirs.archived_at) == ("Theirs", None, None)
    assert await row_counts(session) == before


async def test_archive_is_refused_while_the_team_has_active_sub_teams(
    session: AsyncSession,
) -> None:
    org = await create_org(session)
    parent = await create_team(session, org)
    await create_team(session, org, parent_team_id=parent.id)

    with pytest.raises(Conflict):
        await service.archive_team(session, org.id, parent.id)

    await session.refresh(parent)
    assert parent.archived_at is None


async def test_archive_marks_the_team_once_and_emits_once(session: AsyncSession) -> None:
    org = await create_org(session)
    team = await create_team(session, org)

    first_archived_at = (await service.archive_team(session, org.id, team.id)).archived_at
    second = await service.archive_team(session, org.id, team.id)

    assert first_archived_at is not None
    assert second.archived_at == first_archived_at
    assert [type_ for type_, _ in await events_about(session, team.id)] == ["team.archived"]


async def test_add_member_is_idempotent_and_emits_once(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    team, person = await create_team(session, org), await create_person(session, org)

    # when
    first = await service.add_member(session, org.id, team.id, person.id)
    second = await service.add_member(session, org.id, team.id, person.id)

    # then
    assert (first, second) == (True, False)
    assert await member_ids(session, team) == [person.id]
    assert await events_about(session, team.id) == [
        ("team.member_added", {"team_id": str(team.id), "person_id": str(person.id)})
    ]


async def test_remove_member_is_idempotent_and_emits_once(session: AsyncSession) -> None:
    org = await create_org(session)
    team, person = await create_team(session, org), await create_person(session, org)
    await add_member(session, team, person)

    first = await service.remove_member(session, org.id, team.id, person.id)
    second = await service.remove_member(session, org.id, team.id, person.id)

    assert (first, second) == (True, False)
    assert await member_ids(session, team) == []
    assert [type_ for type_, _ in await events_about(session, team.id)] == ["team.member_removed"]


@pytest.mark.parametrize("whose", ["unknown", "another org"])
async def test_membership_with_a_person_outside_the_org_is_not_found(
    session: AsyncSession, whose: str
) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    team = await create_team(session, org)
    person_id = uuid.uuid4() if whose == "unknown" else (await create_person(session, other_org)).id
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound) as error:
        await service.add_member(session, org.id, team.id, person_id)
    assert error.value.field == "person_id"
    with pytest.raises(NotFound):
        await service.remove_member(session, org.id, team.id, person_id)
    assert await row_counts(session) == before


async def test_removing_a_member_through_another_orgs_team_is_not_found(
    session: AsyncSession,
) -> None:
    # given: a membership in the other org
    org, other_org = await create_org(session), await create_org(session)
    theirs = await create_team(session, other_org)
    their_person = await create_person(session, other_org)
    await add_member(session, theirs, their_person)
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound) as error:
        await service.remove_member(session, org.id, theirs.id, their_person.id)
    assert error.value.field == "team_id"
    assert await row_counts(session) == before


async def test_archived_people_and_teams_take_no_new_members(session: AsyncSession) -> None:
    org = await create_org(session)
    team, person = await create_team(session, org), await create_person(session, org)
    archived_team = await create_team(session, org)
    archived_person = await create_person(session, org)
    await service.archive_team(session, org.id, archived_team.id)
    await people_service.archive_person(session, org.id, archived_person.id)
    before = await row_counts(session)

    with pytest.raises(Invalid) as team_error:
        await service.add_member(session, org.id, archived_team.id, person.id)
    with pytest.raises(Invalid) as person_error:
        await service.add_member(session, org.id, team.id, archived_person.id)

    assert (team_error.value.field, person_error.value.field) == ("team_id", "person_id")
    assert await row_counts(session) == before


async def test_concurrent_opposite_moves_cannot_make_a_cycle(engine: AsyncEngine) -> None:
    """A under B and B under A at the same time: the advisory lock lets only one through."""
    async with committed_org(engine) as (sessions, org):
        # given: two committed root teams
        async with sessions() as setup:
            a = await create_team(setup, org, name="A")
            b = await create_team(setup, org, name="B")
            await setup.commit()

        async with sessions() as first, sessions() as second:
            # when: the first moves A under B and holds its transaction open ...
            await service.set_parent(first, org.id, a.id, b.id)
            # ... while the second tries B under A and must wait for the tree lock
            attempt = asyncio.create_task(service.set_parent(second, org.id, b.id, a.id))
            await wait_for_lock_waiters(engine, attempt)
            await first.commit()

            # then: the second sees the committed move and refuses
            with pytest.raises(CycleDetected):
                await attempt
            await second.rollback()

        async with sessions() as check:
            parents = dict(
                (
                    await check.execute(
                        select(Team.id, Team.parent_team_id).where(Team.org_id == org.id)
                    )
                ).all()
            )
        assert parents == {a.id: b.id, b.id: None}
