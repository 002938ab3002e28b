"""The number of SQL statements of a GraphQL request grows with depth, never with rows."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from schema.core.relay import parse_global_id
from service.models import Organization
from service.rollups import key_result_rollups
from tests import factories
from tests.conftest import StatementCounter
from tests.graphql.conftest import post

DEEP_QUERY = """
{
  objectives(first: 100, filter: {topLevel: true}) {
    totalCount
    nodes {
      title
      progress
      status

      owner { __typename ... on Team { name } }
      keyResults { title checkIns(first: 3) { value author { name } } }
      children { weight child { title children { child { title cycle { name } } } } }
    }
  }
}
"""


async def build_tree(
    session: AsyncSession, org: Organization, roots: int, children: int, grandchildren: int
) -> int:
    """`roots` objectives with children and grandchildren, each with two key results with
    three check-ins by different authors; returns how many objectives were made."""
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)
    authors = [await factories.create_person(session, org) for _ in range(3)]
    made = 0
    observed = datetime.now(UTC) - timedelta(days=1)

    async def objective(**fields: object) -> object:
        nonlocal made
        made += 1
        created = await factories.create_objective(session, org, cycle, owner_team_id=team.id)
        for _ in range(2):
            key_result = await factories.create_key_result(session, created)
            for index, author in enumerate(authors):
                await factories.create_check_in(
                    session,
                    key_result,
                    observed + timedelta(minutes=index),
                    value=float(index),
                    author_person_id=author.id,
                )
        return created

    for _ in range(roots):
        root = await objective()
        for _ in range(children):
            child = await objective()
            await factories.create_alignment(session, child, root)  # type: ignore[arg-type]
            for _ in range(grandchildren):
                grandchild = await objective()
                await factories.create_alignment(session, grandchild, child)  # type: ignore[arg-type]
    return made


async def test_a_deep_query_runs_as_many_statements_over_10_as_over_200_objectives(
    session: AsyncSession, client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    # given one organization with 10 objectives and another with 200, in trees
    small, large = await factories.create_org(session), await factories.create_org(session)
    assert await build_tree(session, small, roots=2, children=2, grandchildren=1) == 10
    assert await build_tree(session, large, roots=20, children=3, grandchildren=2) == 200
    small_gql = post(client, await factories.create_api_key(session, small, ("read",)))
    large_gql = post(client, await factories.create_api_key(session, large, ("read",)))

    # when the same deep query runs over each
    statements.reset()
    small_body = await small_gql(DEEP_QUERY)
    small_count = statements.count
    statements.reset()
    large_body = await large_gql(DEEP_QUERY)
    large_count = statements.count

    # then both answered in full, with the same number of statements
    assert "errors" not in small_body and "errors" not in large_body, (small_body, large_body)
    assert small_body["data"]["objectives"]["totalCount"] == 2
    assert large_body["data"]["objectives"]["totalCount"] == 20
    first = large_body["data"]["objectives"]["nodes"][0]
    assert len(first["keyResults"]) == 2
    assert len(first["keyResults"][0]["checkIns"]) == 3
    assert first["keyResults"][0]["checkIns"][0]["author"]["name"]
    assert len(first["children"]) == 3 and len(first["children"][0]["child"]["children"]) == 2
    assert small_count == large_count, statements.statements


METRIC_TREE_QUERY = """
query Tree($asOf: DateTime) {
  northStar { key value(asOf: $asOf) { value previousValue change improving }
    drivers { child { key value(asOf: $asOf) { value previousValue }
      drivers { child { key value(asOf: $asOf) { value previousValue } } }
    } }
  }
}
"""


async def build_metric_tree(
    session: AsyncSession, org: Organization, drivers: int, sub_drivers: int, now: datetime
) -> int:
    """A North Star with `drivers` drivers of `sub_drivers` drivers each, every metric with
    a point in its current and previous 7-day windows; returns how many metrics were made."""
    made = 0

    async def metric(**fields: object) -> Any:
        nonlocal made
        made += 1
        created = await factories.create_metric(session, org, **fields)
        await factories.create_point(session, created, now - timedelta(days=1), float(made))
        await factories.create_point(session, created, now - timedelta(days=8), 1.0)
        return created

    north = await metric(is_north_star=True)
    for _ in range(drivers):
        driver = await metric()
        await factories.create_metric_edge(session, driver, north)
        for _ in range(sub_drivers):
            await factories.create_metric_edge(session, await metric(), driver)
    return made


async def test_a_metric_tree_with_values_runs_as_many_statements_over_10_as_over_100_metrics(
    session: AsyncSession, client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    # given one organization with a tree of 10 metrics and another with 100, all with values
    now = datetime.now(UTC)
    small, large = await factories.create_org(session), await factories.create_org(session)
    assert await build_metric_tree(session, small, drivers=3, sub_drivers=2, now=now) == 10
    assert await build_metric_tree(session, large, drivers=9, sub_drivers=10, now=now) == 100
    small_gql = post(client, await factories.create_api_key(session, small, ("read",)))
    large_gql = post(client, await factories.create_api_key(session, large, ("read",)))
    variables = {"asOf": now.isoformat()}

    # when the tree is read with every metric's value over each
    statements.reset()
    small_body = await small_gql(METRIC_TREE_QUERY, variables)
    small_count = statements.count
    statements.reset()
    large_body = await large_gql(METRIC_TREE_QUERY, variables)
    large_count = statements.count

    # then both answered in full, with the same number of statements
    assert "errors" not in small_body and "errors" not in large_body, (small_body, large_body)
    north = large_body["data"]["northStar"]
    assert len(north["drivers"]) == 9
    assert all(len(d["child"]["drivers"]) == 10 for d in north["drivers"])
    assert north["value"] == {"value": 1.0, "previousValue": 1.0, "change": 0.0, "improving": False}
    leaf = north["drivers"][0]["child"]["drivers"][0]["child"]["value"]
    assert leaf["value"] is not None and leaf["value"] > 2 and leaf["previousValue"] == 1.0
    assert small_count == large_count, statements.statements


KEY_RESULT_NUMBERS_QUERY = """
query Numbers($asOf: DateTime) {
  objectives(first: 100, filter: {topLevel: true}) {
    nodes {
      keyResults { id progress(asOf: $asOf) ...Numbers }
      children { child { keyResults {
        id progress status currentValue(asOf: "2030-01-01T00:00:00Z")
      } } }
    }
  }
}
fragment Numbers on KeyResult {
  status(asOf: $asOf) currentValue(asOf: $asOf) attainment(asOf: $asOf)
  expectedProgress(asOf: $asOf)
}
"""


async def test_key_result_numbers_in_lists_cost_the_same_statements_and_match_the_engine(
    session: AsyncSession, client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    # given two organizations of 10 and 200 objectives with two key results each
    small, large = await factories.create_org(session), await factories.create_org(session)
    await build_tree(session, small, roots=2, children=2, grandchildren=1)
    await build_tree(session, large, roots=20, children=3, grandchildren=2)
    small_gql = post(client, await factories.create_api_key(session, small, ("read",)))
    large_gql = post(client, await factories.create_api_key(session, large, ("read",)))
    as_of = datetime.now(UTC) - timedelta(hours=1)
    variables = {"asOf": as_of.isoformat()}

    # when key-result numbers are read through lists, at a variable instant (directly and in
    # a fragment), at a literal one and at the default one
    statements.reset()
    small_body = await small_gql(KEY_RESULT_NUMBERS_QUERY, variables)
    small_count = statements.count
    statements.reset()
    large_body = await large_gql(KEY_RESULT_NUMBERS_QUERY, variables)
    large_count = statements.count

    # then the statements do not grow with the rows
    assert "errors" not in small_body and "errors" not in large_body, (small_body, large_body)
    assert small_count == large_count, statements.statements
    # and every number is the engine's full key-result roll-up at that instant
    nodes = large_body["data"]["objectives"]["nodes"]
    top = [kr for node in nodes for kr in node["keyResults"]]
    nested = [
        kr
        for node in nodes
        for alignment in node["children"]
        for kr in alignment["child"]["keyResults"]
    ]
    assert len(top) == 40 and len(nested) == 120
    ids = [parse_global_id(kr["id"])[1] for kr in top + nested]
    at_variable = await key_result_rollups(session, large.id, ids, as_of=as_of)
    at_literal = await key_result_rollups(
        session, large.id, ids, as_of=datetime(2030, 1, 1, tzinfo=UTC)
    )
    for kr in top:
        expected = at_variable[parse_global_id(kr["id"])[1]]
        assert (
            kr["progress"],
            kr["status"],
            kr["currentValue"],
            kr["attainment"],
            kr["expectedProgress"],
        ) == (
            expected.progress,
            expected.status.value.upper(),
            expected.current_value,
            expected.attainment,
            expected.expected_progress,
        )
    for kr in nested:
        kr_id = parse_global_id(kr["id"])[1]
        assert kr["currentValue"] == at_literal[kr_id].current_value == 2.0
        assert kr["progress"] is not None and kr["status"] is not None
