"""Ingestion is set-based: the number of SQL statements does not grow with the points."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import StatementCounter
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
    # the API key, the metrics, the upsert (which also queues the batch for the worker's
    # status recheck: no statement of its own, and no key result read here), the events
    assert large_count <= 4, statements.statements
    assert sum("status_rechecks" in sql for sql in statements.statements) == 1
    assert not any("key_results" in sql for sql in statements.statements)
