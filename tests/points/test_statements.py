"""Ingestion is set-based: the number of SQL statements does not grow with the points."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Point
from service.points import repository
from tests.conftest import StatementCounter, explain
from tests.factories import create_api_key, create_metric, create_org


def batch(metrics: list[str], count: int, start: datetime) -> dict[str, object]:
    return {
        "points": [
            {
                "metric": metrics[i % len(metrics)],
                "ts": (start + timedelta(minutes=i)).isoformat(),
                "value": float(i),
                "dimensions": {"shard": str(i % 7)},
            }
            for i in range(count)
        ]
    }


async def test_ingesting_1000_points_runs_as_many_statements_as_ingesting_10(
    client: httpx.AsyncClient, session: AsyncSession, statements: StatementCounter
) -> None:
    # given
    org = await create_org(session)
    metrics = [(await create_metric(session, org, key=f"m{i}")).key for i in range(5)]
    key = await create_api_key(session, org, scopes=("ingest",))
    headers = {"Authorization": f"Bearer {key}"}
    start = datetime(2026, 6, 1, tzinfo=UTC)

    # when
    statements.reset()
    small = await client.post("/v1/points", json=batch(metrics, 10, start), headers=headers)
    small_count = statements.count
    statements.reset()
    large = await client.post(
        "/v1/points", json=batch(metrics, 1_000, start + timedelta(days=30)), headers=headers
    )
    large_count = statements.count

    # then
    assert (small.json()["inserted"], large.json()["inserted"]) == (10, 1_000)
    assert large_count == small_count
    # the API key and the upsert, which also checks the metrics and queues the batch for the
    # worker (its event and its status recheck: no statement of their own, no event written
    # and no key result read here)
    assert large_count == 2, statements.statements
    assert sum("status_rechecks" in sql for sql in statements.statements) == 1
    assert not any("key_results" in sql for sql in statements.statements)
    assert not any("INSERT INTO events" in sql for sql in statements.statements)


async def test_only_a_refused_batch_looks_its_metrics_up(
    client: httpx.AsyncClient, session: AsyncSession, statements: StatementCounter
) -> None:
    # given a metric and a key of the organization
    org = await create_org(session)
    metric = (await create_metric(session, org, key="signups")).key
    key = await create_api_key(session, org, scopes=("ingest",))
    headers = {"Authorization": f"Bearer {key}"}
    start = datetime(2026, 6, 1, tzinfo=UTC)

    # when a valid batch and then one naming an unknown metric are pushed
    statements.reset()
    valid = await client.post("/v1/points", json=batch([metric], 10, start), headers=headers)
    valid_statements = list(statements.statements)
    statements.reset()
    refused = await client.post(
        "/v1/points", json=batch([metric, "nope"], 10, start + timedelta(days=1)), headers=headers
    )
    refused_statements = list(statements.statements)

    # then the valid batch is written without a lookup of its own; the refused one is
    # refused by the upsert (nothing written), then looked up to name each bad point
    assert valid.status_code == 200, valid.text
    assert not any(
        "FROM json_array_elements_text" in sql and "INSERT" not in sql for sql in valid_statements
    ), valid_statements
    assert refused.status_code == 422, refused.text
    assert [error["index"] for error in refused.json()["errors"]] == [1, 3, 5, 7, 9]
    assert {error["code"] for error in refused.json()["errors"]} == {"UNKNOWN_METRIC"}
    assert sum("INSERT INTO points" in sql for sql in refused_statements) == 1
    assert sum("JOIN metrics" in sql and "INSERT" not in sql for sql in refused_statements) == 1, (
        refused_statements
    )
    stored = await session.scalar(
        select(func.count()).select_from(Point).where(Point.org_id == org.id)
    )
    assert stored == 10


async def test_a_few_metric_keys_are_probed_by_index_and_many_are_joined(
    client: httpx.AsyncClient, session: AsyncSession, statements: StatementCounter
) -> None:
    # given an organization with more metrics than a batch probes one by one
    org = await create_org(session)
    keys = [(await create_metric(session, org, key=f"m{i:03d}")).key for i in range(70)]
    key = await create_api_key(session, org, scopes=("ingest",))
    headers = {"Authorization": f"Bearer {key}"}
    start = datetime(2026, 6, 1, tzinfo=UTC)

    # when a one-metric batch, a batch over all 70 metrics and one with an unknown metric
    # among 70 are pushed
    statements.reset()
    one = await client.post("/v1/points", json=batch(keys[:1], 3, start), headers=headers)
    many = await client.post("/v1/points", json=batch(keys, 140, start), headers=headers)
    unknown = await client.post(
        "/v1/points",
        json=batch([*keys[:69], "nope"], 70, start + timedelta(days=1)),
        headers=headers,
    )
    upserts = statements.executed("INSERT INTO points")

    # then both sizes are stored (the first point of both is the same) and the unknown
    # metric is named
    assert one.json()["inserted"] == 3, one.text
    assert (many.json()["inserted"], many.json()["unchanged"]) == (139, 1), many.text
    assert unknown.status_code == 422
    assert [error["index"] for error in unknown.json()["errors"]] == [69]
    # and the one-metric batch looked its key up in the (org_id, key) index, where a large
    # batch reads the organization's metrics once (a table this small is read whole
    # anyway: sequential scans are priced out to see the shape)
    connection = await session.connection()
    await connection.exec_driver_sql("ANALYZE metrics")
    await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plans = [
        await explain(connection, statement, parameters) for statement, parameters in upserts[:2]
    ]
    probe = f"Index Cond: ((org_id = '{org.id}'::uuid) AND ((key)::text = wanted.key))"
    assert probe in plans[0], plans[0]
    assert probe not in plans[1], plans[1]


async def test_postgresql_keeps_a_generic_plan_for_both_ways_of_finding_metric_keys(
    session: AsyncSession,
) -> None:
    # given an organization of 2,000 metrics, with statistics (as autovacuum keeps them)
    org = await create_org(session)
    first = await create_metric(session, org, key="m0000")
    connection = await session.connection()
    await connection.execute(
        text(
            "INSERT INTO metrics (id, org_id, key, name, direction, aggregation, kind)"
            " SELECT gen_random_uuid(), org_id, 'm' || lpad(n::text, 4, '0'), name, direction,"
            " aggregation, kind FROM metrics, generate_series(1, 1999) AS n WHERE id = :first"
        ),
        {"first": first.id},
    )
    await connection.exec_driver_sql("ANALYZE metrics")
    keys = [f"m{n:04d}" for n in range(70)]
    start = datetime(2026, 6, 1, tzinfo=UTC)

    # when batches of one metric (its key probed) and of 70 (joined) are written 8 times each
    for n in range(8):
        for metrics in (keys[:1], keys):
            rows = [(key, start + timedelta(minutes=n), "{}", float(n), "") for key in metrics]
            assert await repository.upsert(session, org.id, rows) is not None

    # then PostgreSQL settled on a generic plan for each statement after its first custom
    # ones: with both ways in one statement behind a boolean parameter, the generic plan
    # (both branches) was costed above the custom plans (one branch folded away) and the
    # statement was planned anew on every execution
    plans = await connection.exec_driver_sql(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
        " WHERE ltrim(statement, E' \\n') LIKE 'WITH found AS MATERIALIZED%INSERT INTO points%'"
    )
    counts = plans.all()  # the pooled connection may have run them in earlier tests
    assert len(counts) == 2, counts
    assert all(generic >= 3 for generic, _ in counts), counts
