"""Objectives and alignments through GraphQL."""

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from schema.core.relay import to_global_id
from tests import factories
from tests.conftest import StatementCounter, explain
from tests.graphql import steps
from tests.graphql.conftest import Gql, post


async def test_an_objective_is_created_read_back_updated_and_archived(gql: Gql) -> None:
    # given a cycle, a team, a metric and a company objective with a child aligned under it
    cycle = await steps.cycle(gql)
    team = await steps.team(gql, name="Growth")
    ada = await steps.person(gql, name="Ada")
    metric = await steps.metric(gql, isNorthStar=True)
    company = await steps.objective(gql, cycle, team, title="Win the market", metricIds=[metric])
    child = await steps.objective(gql, cycle, ada, title="Onboard faster", parentIds=[company])

    # when read back through node
    found = await steps.node(
        gql,
        company,
        "... on Objective { title state rollupMode cycle { id }"
        " owner { __typename ... on Team { id } }"
        " metrics { id } children { weight child { id owner { ... on Person { name } } } } parents { weight } }",
    )

    # then the objective and its links are there
    assert found == {
        "id": company,
        "title": "Win the market",
        "state": "ACTIVE",
        "rollupMode": "AUTO",
        "cycle": {"id": cycle},
        "owner": {"__typename": "Team", "id": team},
        "metrics": [{"id": metric}],
        "children": [{"weight": 1.0, "child": {"id": child, "owner": {"name": "Ada"}}}],
        "parents": [],
    }

    # when the alignment weight changes, the objective is updated and then archived
    aligned = await steps.mutate(
        gql,
        "alignmentCreate",
        {"childId": child, "parentId": company, "weight": 2.5},
        "alignment { weight child { id } parent { id } }",
    )
    assert aligned["alignment"] == {
        "weight": 2.5,
        "child": {"id": child},
        "parent": {"id": company},
    }
    updated = await steps.mutate(
        gql,
        "objectiveUpdate",
        {"id": child, "title": "Onboard much faster", "ownerId": team},
        "objective { title owner { __typename } }",
    )
    assert updated["objective"] == {"title": "Onboard much faster", "owner": {"__typename": "Team"}}
    archived = await steps.mutate(gql, "objectiveArchive", {"id": child}, "objective { state }")

    # then the archived objective is out of the default list but still readable
    assert archived["objective"] == {"state": "ARCHIVED"}
    assert await steps.page_through(gql, "objectives") == [company]
    assert (await steps.node(gql, child, "... on Objective { state }")) == {
        "id": child,
        "state": "ARCHIVED",
    }
    # and it can be brought back, as a draft
    back = await steps.mutate(gql, "objectiveUnarchive", {"id": child}, "objective { state }")
    assert back["objective"] == {"state": "DRAFT"}


async def test_alignments_show_both_objectives_from_either_end(gql: Gql) -> None:
    # given a company objective with two children, one of them also under a second parent
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    company = await steps.objective(gql, cycle, team, title="Company")
    other = await steps.objective(gql, cycle, team, title="Other")
    first = await steps.objective(gql, cycle, team, title="First", parentIds=[company])
    second = await steps.objective(gql, cycle, team, title="Second", parentIds=[company, other])

    # when the alignments are read from the parent's and from a child's side
    ends = "weight child { id title } parent { id title }"
    parent_side = await steps.node(gql, company, f"... on Objective {{ children {{ {ends} }} }}")
    child_side = await steps.node(gql, second, f"... on Objective {{ parents {{ {ends} }} }}")

    # then every alignment names its child and its parent
    assert parent_side is not None and child_side is not None
    titles = {first: "First", second: "Second", company: "Company", other: "Other"}

    def alignment(child: str, parent: str) -> dict[str, object]:
        return {
            "weight": 1.0,
            "child": {"id": child, "title": titles[child]},
            "parent": {"id": parent, "title": titles[parent]},
        }

    by_child = sorted(parent_side["children"], key=lambda a: a["child"]["title"])
    by_parent = sorted(child_side["parents"], key=lambda a: a["parent"]["title"])
    assert by_child == [alignment(first, company), alignment(second, company)]
    assert by_parent == [alignment(second, company), alignment(second, other)]


async def test_objectives_page_forwards_and_backwards_with_filters(gql: Gql) -> None:
    # given six objectives in one cycle and one in another
    cycle = await steps.cycle(gql)
    other_cycle = await steps.cycle(gql, name="2027-Q2", startsOn="2027-04-01", endsOn="2027-06-30")
    team = await steps.team(gql)
    ids = [await steps.objective(gql, cycle, team, title=f"Goal {index}") for index in range(6)]
    await steps.objective(gql, other_cycle, team, title="Elsewhere")

    # when paged forwards within the cycle, and backwards from the end
    forwards = await steps.page_through(
        gql, "objectives", f', filter: {{cycle: "{cycle}"}}, orderBy: {{field: TITLE}}', size=4
    )
    body = await gql(
        "query($cycle: ID!) { objectives(last: 4, filter: {cycle: $cycle}, orderBy: {field: TITLE}) {"
        " pageInfo { hasPreviousPage hasNextPage startCursor } nodes { id } } }",
        {"cycle": cycle},
    )
    last_page = body["data"]["objectives"]
    before = await gql(
        "query($cycle: ID!, $before: String) { objectives(last: 4, before: $before,"
        " filter: {cycle: $cycle}, orderBy: {field: TITLE}) { pageInfo { hasPreviousPage } nodes { id } } }",
        {"cycle": cycle, "before": last_page["pageInfo"]["startCursor"]},
    )

    # then both directions agree on the order
    assert forwards == ids
    assert [node["id"] for node in last_page["nodes"]] == ids[2:]
    assert last_page["pageInfo"]["hasPreviousPage"] is True
    assert [node["id"] for node in before["data"]["objectives"]["nodes"]] == ids[:2]
    assert before["data"]["objectives"]["pageInfo"]["hasPreviousPage"] is False


async def test_objectives_are_searched_by_title_and_filtered_by_owner(gql: Gql) -> None:
    # given objectives of a team and of a person
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    ada = await steps.person(gql, name="Ada")
    await steps.objective(gql, cycle, team, title="Grow revenue")
    mine = await steps.objective(gql, cycle, ada, title="Grow the community")

    # when searched and filtered
    body = await gql(
        'query($ada: ID!) { search: objectives(filter: {search: "COMMUNITY"}) { nodes { id } }'
        " owned: objectives(filter: {owner: $ada}) { totalCount nodes { id } } }",
        {"ada": ada},
    )

    # then
    assert body["data"]["search"]["nodes"] == [{"id": mine}]
    assert body["data"]["owned"] == {"totalCount": 1, "nodes": [{"id": mine}]}


TOP_LEVEL_PAGE = """
query Page($cycle: ID!, $after: String) {
  objectives(filter: {cycle: $cycle, topLevel: true}, first: 2, after: $after) {
    totalCount
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_a_cycles_top_level_page_is_read_in_creation_order_and_stops_early(
    session: AsyncSession,
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    statements: StatementCounter,
) -> None:
    # given a cycle whose 5 top-level objectives each have 3 children (and another cycle)
    org = await factories.create_org(session)
    cycle, other = (
        await factories.create_cycle(session, org),
        await factories.create_cycle(session, org),
    )
    team = await factories.create_team(session, org)
    roots = []
    for _ in range(5):
        root = await factories.create_objective(session, org, cycle, owner_team_id=team.id)
        roots.append(root)
        for _ in range(3):
            child = await factories.create_objective(session, org, cycle, owner_team_id=team.id)
            await factories.create_alignment(session, child, root)
    await factories.create_objective(session, org, other, owner_team_id=team.id)
    gql = post(client, await factories.create_api_key(session, org, ("read",)))
    expected = [
        to_global_id("Objective", o.id) for o in sorted(roots, key=lambda o: (o.created_at, o.id))
    ]
    pages: list[dict[str, Any]] = []

    # when its top-level objectives are paged two at a time
    statements.reset()
    after = None
    while True:
        variables = {"cycle": to_global_id("Cycle", cycle.id), "after": after}
        page = (await gql(TOP_LEVEL_PAGE, variables))["data"]["objectives"]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # then the pages hold the roots in creation order, each with the total count
    assert [node["id"] for page in pages for node in page["nodes"]] == expected
    assert [page["totalCount"] for page in pages] == [5, 5, 5]
    # and a page can be read in that order from an index, stopping once it has its rows:
    # even with sorting and hashing priced out, the plan has neither (it had to hash every
    # alignment of the organization and sort the cycle before the index existed)
    statement, parameters = next(
        (statement, parameters)
        for statement, parameters in statements.executed("FROM objectives")
        if "LIMIT" in statement
    )
    await connection.exec_driver_sql("SET LOCAL enable_sort = off")
    await connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
    text = await explain(connection, statement, parameters)
    assert "ix_objectives_org_id_cycle_id_created_at_id" in text, text
    assert "Sort" not in text and "Hash" not in text, text
