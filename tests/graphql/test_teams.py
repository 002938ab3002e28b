"""Teams through GraphQL: create, read back, page, update, members, archive."""

from sqlalchemy.ext.asyncio import AsyncSession

from schema.core.relay import to_global_id
from service.models import Organization
from tests.factories import add_member, create_person, create_team
from tests.graphql import steps
from tests.graphql.conftest import Gql


async def test_a_team_is_created_read_back_updated_and_archived(gql: Gql) -> None:
    # given a team tree and a member
    company = await steps.team(gql, name="Company")
    growth = await steps.team(gql, name="Growth", parentTeamId=company)
    ada = await steps.person(gql, name="Ada")
    added = await steps.mutate(
        gql,
        "teamMemberAdd",
        {"teamId": growth, "personId": ada},
        "changed team { members { id } }",
        type_name="TeamMemberInput",
    )
    assert added["changed"] is True
    assert added["team"]["members"] == [{"id": ada}]

    # when read back through node
    found = await steps.node(
        gql, company, "... on Team { name parent { id } subteams { id name } }"
    )

    # then the tree is there
    assert found == {
        "id": company,
        "name": "Company",
        "parent": None,
        "subteams": [{"id": growth, "name": "Growth"}],
    }

    # when renamed, moved to the top, member removed and archived
    updated = await steps.mutate(
        gql,
        "teamUpdate",
        {"id": growth, "name": "Growth squad", "parentTeamId": None},
        "team { name parent { id } }",
    )
    assert updated["team"] == {"name": "Growth squad", "parent": None}
    removed = await steps.mutate(
        gql,
        "teamMemberRemove",
        {"teamId": growth, "personId": ada},
        "changed team { members { id } }",
        type_name="TeamMemberInput",
    )
    assert removed["changed"] is True and removed["team"]["members"] == []
    archived = await steps.mutate(gql, "teamArchive", {"id": growth}, "team { archivedAt }")

    # then only the live team is listed by default
    assert archived["team"]["archivedAt"] is not None
    assert await steps.page_through(gql, "teams") == [company]


async def test_teams_page_through_a_connection(gql: Gql) -> None:
    ids = [await steps.team(gql, name=f"Team {index}") for index in range(5)]

    assert await steps.page_through(gql, "teams", size=2) == ids


async def test_a_team_cannot_move_under_its_own_subteam(gql: Gql) -> None:
    # given a parent and its child
    parent = await steps.team(gql, name="Parent")
    child = await steps.team(gql, name="Child", parentTeamId=parent)

    # when the parent is moved under the child
    errors = await steps.refused(gql, "teamUpdate", {"id": parent, "parentTeamId": child})

    # then a CYCLE error and the tree is unchanged
    assert errors[0]["code"] == "CYCLE"
    found = await steps.node(gql, parent, "... on Team { parent { id } }")
    assert found is not None and found["parent"] is None


async def test_a_later_mutation_of_one_request_sees_the_earlier_ones(gql: Gql) -> None:
    # given a team and two people
    team = await steps.team(gql)
    ada, bob = await steps.person(gql, name="Ada"), await steps.person(gql, name="Bob")

    # when both are added in one request, each payload listing the members
    body = await gql(
        "mutation($t: ID!, $a: ID!, $b: ID!) {"
        " first: teamMemberAdd(input: {teamId: $t, personId: $a}) { team { members { name } } }"
        " second: teamMemberAdd(input: {teamId: $t, personId: $b}) { team { members { name } } } }",
        {"t": team, "a": ada, "b": bob},
    )

    # then the second payload sees both members, not the first one's cached list
    assert body["data"]["first"]["team"]["members"] == [{"name": "Ada"}]
    assert body["data"]["second"]["team"]["members"] == [{"name": "Ada"}, {"name": "Bob"}]


async def test_members_and_teams_of_a_person_are_listed_by_name(
    session: AsyncSession, org: Organization, gql: Gql
) -> None:
    # given
    core, web = (
        await create_team(session, org, name="Core"),
        await create_team(session, org, name="Web"),
    )
    zoe, amy = (
        await create_person(session, org, name="Zoe"),
        await create_person(session, org, name="Amy"),
    )
    loner = await create_person(session, org, name="Loner")
    for team, person in [(core, zoe), (core, amy), (web, zoe)]:
        await add_member(session, team, person)

    # when
    members = await steps.node(
        gql, to_global_id("Team", core.id), "... on Team { members { name } }"
    )
    teams = await steps.node(
        gql, to_global_id("Person", zoe.id), "... on Person { teams { name } }"
    )
    none = await steps.node(
        gql, to_global_id("Person", loner.id), "... on Person { teams { name } }"
    )

    # then
    assert members == {
        "id": to_global_id("Team", core.id),
        "members": [{"name": "Amy"}, {"name": "Zoe"}],
    }
    assert teams == {
        "id": to_global_id("Person", zoe.id),
        "teams": [{"name": "Core"}, {"name": "Web"}],
    }
    assert none == {"id": to_global_id("Person", loner.id), "teams": []}
