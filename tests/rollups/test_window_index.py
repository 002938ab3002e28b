"""A metric window's aggregate reads the points' primary key alone (migration 0007)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Point
from service.rollups import repository
from tests import factories
from tests.conftest import StatementCounter, explain


async def test_every_aggregation_of_a_window_can_read_the_index_alone(
    session: AsyncSession, statements: StatementCounter
) -> None:
    # given metrics of every aggregation with points in and around a window
    org = await factories.create_org(session)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    windows = []
    for aggregation in ("sum", "avg", "min", "max", "count", "last"):
        metric = await factories.create_metric(session, org, aggregation=aggregation)
        for day in range(10):
            await session.execute(
                insert(Point).values(
                    org_id=org.id,
                    metric_id=metric.id,
                    ts=start + timedelta(days=day),
                    value=float(day),
                    dimensions={"region": "eu" if day % 2 else "us"},
                )
            )
        windows.append((metric.id, start + timedelta(days=2), start + timedelta(days=8)))

    # when their windows are read, over all dimensions and for one
    statements.reset()
    values = await repository.window_values(session, org.id, windows)
    filtered = await repository.window_values(session, org.id, windows, {"region": "eu"})

    # then the values are the aggregates of days 2..7 (eu: the odd days 3, 5, 7)
    assert list(values.values()) == [27.0, 4.5, 2.0, 7.0, 6.0, 13.0]
    assert list(filtered.values()) == [15.0, 5.0, 3.0, 7.0, 3.0, 7.0]
    # and with sequential and bitmap scans priced out (the table is tiny), both statements
    # read the points through the primary key alone
    connection = await session.connection()
    await connection.exec_driver_sql("ANALYZE points")
    for setting in ("enable_seqscan", "enable_bitmapscan"):
        await connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    executed = statements.executed("FROM points")
    assert len(executed) == 2
    for statement, parameters in executed:
        plan = await explain(connection, statement, parameters)
        assert "Index Only Scan using pk_points on points" in plan, plan
        assert "Index Scan using pk_points" not in plan, plan
        assert "Seq Scan on points" not in plan, plan
