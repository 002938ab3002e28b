"""Metrics and metric edges through GraphQL."""

from tests.graphql import steps
from tests.graphql.conftest import Gql


async def test_a_metric_tree_is_built_read_both_ways_and_taken_apart(gql: Gql) -> None:
    # given a North Star and a driver connected by an edge
    north = await steps.metric(gql, key="weekly_active_teams", isNorthStar=True)
    driver = await steps.metric(gql, key="activation_rate", name="Activation", kind="LEADING")
    edge = await steps.mutate(
        gql,
        "metricEdgeCreate",
        {"childMetricId": driver, "parentMetricId": north, "weight": 0.5},
        "metricEdge { id relation weight }",
    )
    edge_id = edge["metricEdge"]["id"]
    assert edge["metricEdge"]["relation"] == "DRIVER"

    # when the tree is read from both ends
    body = await gql(
        "{ northStar { id key drivers { weight child { key } } }"
        ' metric(key: "activation_rate") { kind parents { parent { key isNorthStar } } } }'
    )

    # then the edge shows both ways
    assert body["data"] == {
        "northStar": {
            "id": north,
            "key": "weekly_active_teams",
            "drivers": [{"weight": 0.5, "child": {"key": "activation_rate"}}],
        },
        "metric": {
            "kind": "LEADING",
            "parents": [{"parent": {"key": "weekly_active_teams", "isNorthStar": True}}],
        },
    }
    assert (await steps.node(gql, edge_id, "... on MetricEdge { parent { id } }")) == {
        "id": edge_id,
        "parent": {"id": north},
    }

    # when updated, the edge deleted and the driver archived
    updated = await steps.mutate(
        gql, "metricUpdate", {"id": driver, "unit": "%"}, "metric { unit }"
    )
    assert updated["metric"] == {"unit": "%"}
    deleted = await steps.mutate(gql, "metricEdgeDelete", {"id": edge_id}, "deletedId")
    assert deleted["deletedId"] == edge_id
    await steps.mutate(gql, "metricArchive", {"id": driver}, "metric { archivedAt }")

    # then the edge is gone and the default list has the North Star only
    assert await steps.node(gql, edge_id, "") is None
    assert await steps.page_through(gql, "metrics") == [north]
    restored = await steps.mutate(gql, "metricRestore", {"id": driver}, "metric { archivedAt }")
    assert restored["metric"] == {"archivedAt": None}


async def test_metrics_page_through_a_connection_by_key(gql: Gql) -> None:
    ids = [await steps.metric(gql, key=f"metric_{index}", name=f"M {index}") for index in range(5)]

    assert await steps.page_through(gql, "metrics", size=2) == ids


async def test_a_metric_edge_closing_a_cycle_is_refused(gql: Gql) -> None:
    # given a → b
    a = await steps.metric(gql, key="a_metric", name="A")
    b = await steps.metric(gql, key="b_metric", name="B")
    await steps.mutate(
        gql, "metricEdgeCreate", {"childMetricId": a, "parentMetricId": b}, "metricEdge { id }"
    )

    # when b → a is asked for
    errors = await steps.refused(gql, "metricEdgeCreate", {"childMetricId": b, "parentMetricId": a})

    # then it is refused and no edge was added
    assert errors[0]["code"] == "CYCLE"
    found = await steps.node(gql, a, "... on Metric { parents { id } drivers { id } }")
    assert found is not None and len(found["parents"]) == 1 and found["drivers"] == []
