"""Roll-up fields and root fields: each resolves through schema/rollups/fields.py to the engine."""

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Metric, Organization, Point
from tests.graphql import steps
from tests.graphql.conftest import Gql

AS_OF = "2026-07-02T00:00:00Z"


async def test_rollup_and_history_of_every_kind_come_from_the_engine(gql: Gql) -> None:
    # given a 2026 cycle with a team objective whose one key result is half-way
    cycle = await steps.cycle(gql, name="2026", startsOn="2026-01-01", endsOn="2026-12-31")
    team = await steps.team(gql)
    objective = await steps.objective(gql, cycle, team)
    kr = await steps.key_result(gql, objective)
    await steps.check_in(gql, kr, value=50, observedAt="2026-06-01T00:00:00Z")

    # when each kind is rolled up
    body = await gql(
        "query($o: ID!, $k: ID!, $c: ID!, $t: ID!) {"
        f' o: rollup(id: $o, asOf: "{AS_OF}") {{ subjectId progress breakdown {{ itemId }} }}'
        f' k: rollup(id: $k, asOf: "{AS_OF}") {{ progress }}'
        f' c: rollup(id: $c, asOf: "{AS_OF}") {{ progress objectivesByStatus {{ status count }} }}'
        f' t: rollup(id: $t, cycle: $c, asOf: "{AS_OF}") {{ progress }}'
        ' h: rollupHistory(id: $k, start: "2026-05-30T00:00:00Z",'
        ' end: "2026-06-02T00:00:00Z", interval: DAY) { bucketStart rollup { progress } }'
        f" team: node(id: $t) {{ ... on Team {{ objectives {{ id }}"
        f' rollup(cycle: $c, asOf: "{AS_OF}") {{ progress }} }} }}'
        f' cycle: node(id: $c) {{ ... on Cycle {{ rollup(asOf: "{AS_OF}") {{ progress }} }} }} }}',
        {"o": objective, "k": kr, "c": cycle, "t": team},
    )

    # then every roll-up sees the same half-way key result
    assert "errors" not in body, body
    data = body["data"]
    assert data["o"] == {"subjectId": objective, "progress": 0.5, "breakdown": [{"itemId": kr}]}
    assert data["k"] == {"progress": 0.5}
    assert data["c"]["progress"] == 0.5
    assert sum(item["count"] for item in data["c"]["objectivesByStatus"]) == 1
    assert data["t"] == {"progress": 0.5}
    assert data["team"] == {"objectives": [{"id": objective}], "rollup": {"progress": 0.5}}
    assert data["cycle"] == {"rollup": {"progress": 0.5}}
    # and the history moves when the check-in was observed
    progress = [point["rollup"]["progress"] for point in data["h"]]
    assert progress[0] == 0.0 and progress[-1] == 0.5


async def test_a_team_rollup_without_a_cycle_is_a_coded_error(gql: Gql) -> None:
    team = await steps.team(gql)

    body = await gql("query($t: ID!) { rollup(id: $t) { progress } }", {"t": team})

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_metric_values_series_components_and_alignment_to_the_north_star(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a North Star that is the sum of one component, with points, and a key result on it
    north = await steps.metric(gql, key="revenue", isNorthStar=True)
    part = await steps.metric(gql, key="revenue_eu", name="EU revenue")
    await steps.mutate(
        gql,
        "metricEdgeCreate",
        {"childMetricId": part, "parentMetricId": north, "relation": "COMPONENT"},
        "metricEdge { id }",
    )
    for key, value in (("revenue", 10.0), ("revenue_eu", 4.0)):
        metric_id = (
            await session.execute(
                select(Metric.id).where(Metric.org_id == org.id, Metric.key == key)
            )
        ).scalar_one()
        # Core insert: the ORM cannot key a row by its JSONB `dimensions`.
        await session.execute(
            insert(Point),
            [
                {
                    "org_id": org.id,
                    "metric_id": metric_id,
                    "ts": datetime(2026, 3, day, tzinfo=UTC),
                    "value": value,
                    "dimensions": {},
                }
                for day in (1, 2)
            ],
        )
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    objective = await steps.objective(gql, cycle, team)
    kr = await steps.key_result(gql, objective, measure="METRIC", metricId=part)

    # when the metrics are read
    window = '{start: "2026-03-01T00:00:00Z", end: "2026-03-03T00:00:00Z"}'
    body = await gql(
        "query($kr: ID!) { northStar {"
        f" value(window: {window}) {{ value previousValue change improving }}"
        ' series(start: "2026-03-01T00:00:00Z", end: "2026-03-03T00:00:00Z", interval: DAY)'
        " { bucketStart value }"
        f" components(window: {window}) {{ value componentsSum gap components {{ value }} }}"
        " alignedToNorthStar }"
        " paths: alignmentPaths(id: $kr) { nodeIds nodes { __typename } } }",
        {"kr": kr},
    )

    # then
    assert "errors" not in body, body
    star = body["data"]["northStar"]
    assert star["value"] == {
        "value": 20.0,
        "previousValue": None,
        "change": None,
        "improving": None,
    }
    assert [point["value"] for point in star["series"]] == [10.0, 10.0]
    assert star["components"] == {
        "value": 20.0,
        "componentsSum": 8.0,
        "gap": 12.0,
        "components": [{"value": 8.0}],
    }
    assert star["alignedToNorthStar"] is True
    paths = body["data"]["paths"]
    assert paths == [
        {
            "nodeIds": [kr, part, north],
            "nodes": [
                {"__typename": "KeyResult"},
                {"__typename": "Metric"},
                {"__typename": "Metric"},
            ],
        }
    ]


async def test_lists_filter_by_computed_status(gql: Gql) -> None:
    # given two objectives, one with its key result done and one with no data
    cycle = await steps.cycle(gql, name="2026", startsOn="2026-01-01", endsOn="2026-12-31")
    team = await steps.team(gql)
    done = await steps.objective(gql, cycle, team, title="Done")
    empty = await steps.objective(gql, cycle, team, title="Empty")
    done_kr = await steps.key_result(gql, done)
    empty_kr = await steps.key_result(gql, empty)
    await steps.check_in(gql, done_kr, value=100, observedAt="2026-06-01T00:00:00Z")

    # when filtered by status
    body = await gql(
        f'{{ d: objectives(filter: {{status: [DONE], statusAsOf: "{AS_OF}"}}) {{ nodes {{ id }} }}'
        f' n: keyResults(filter: {{status: [NO_DATA], statusAsOf: "{AS_OF}"}})'
        " { totalCount nodes { id } } }"
    )

    # then
    assert "errors" not in body, body
    assert body["data"]["d"]["nodes"] == [{"id": done}]
    assert body["data"]["n"] == {"totalCount": 1, "nodes": [{"id": empty_kr}]}
