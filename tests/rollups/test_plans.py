"""Plans of a roll-up's statements: an objective's own roll-up reads its subtree with a
statement whose plan PostgreSQL keeps, instead of planning it again on every execution
(0.5-0.7 ms per roll-up at the benchmark's size); the statement below the objectives reads
each metric window from the points' primary key alone."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.rollups import Interval, objective_history, objective_rollup, repository
from tests import factories
from tests.conftest import StatementCounter, explain
from tests.rollups.test_statement_counts import build_org

START = datetime(2027, 1, 1, tzinfo=UTC)
T = datetime(2027, 2, 15, tzinfo=UTC)


def literal(value: Any) -> str:
    if isinstance(value, list):
        return f"ARRAY[{', '.join(literal(item) for item in value)}]::uuid[]"
    assert isinstance(value, uuid.UUID)
    return f"'{value}'::uuid"


async def test_the_subtree_of_one_objective_is_planned_once(
    session: AsyncSession, statements: StatementCounter
) -> None:
    # given an organization of 1,000 objectives with statistics, and the statement that reads
    # one objective's subtree
    ids = await build_org(session, 1000)
    objective = await session.scalar(
        text("SELECT id FROM objectives WHERE org_id = :org AND title = 'O100'"),
        {"org": ids["org"]},
    )
    connection = await session.connection()
    statements.reset()
    await repository.objectives_with_thresholds(session, ids["org"], [objective])
    [(statement, parameters)] = statements.executed("")

    # when it runs more often than PostgreSQL plans a prepared statement with its parameters
    # (five times: custom plans), as a statement of its own (the connection's cached ones
    # carry the plan costs of earlier tests)
    await connection.exec_driver_sql(f"PREPARE subtree_of_one AS {statement}")
    try:
        arguments = ", ".join(literal(value) for value in parameters)
        for _ in range(8):
            await connection.exec_driver_sql(f"EXECUTE subtree_of_one({arguments})")
        generic, custom = (
            await connection.exec_driver_sql(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE name = 'subtree_of_one'"
            )
        ).one()
    finally:
        await connection.exec_driver_sql("DEALLOCATE subtree_of_one")

    # then from the sixth run on it runs the plan made once (seeded by an array, the generic
    # plan expects ten seeds, hashes every alignment and is never chosen: eight custom plans)
    assert (generic, custom) == (3, 5)


async def test_the_windows_of_a_subtree_read_the_points_key_alone(
    session: AsyncSession, statements: StatementCounter
) -> None:
    # given an objective with a key result on a metric of each aggregation, with points
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    for aggregation in ("sum", "avg", "min", "max", "count", "last"):
        metric = await factories.create_metric(session, org, aggregation=aggregation)
        await factories.create_key_result(session, objective, measure="metric", metric_id=metric.id)
        for day in range(1, 6):
            await factories.create_point(session, metric, START + timedelta(days=day), float(day))
    await session.flush()
    connection = await session.connection()

    # when it is rolled up at one instant and over a history (one statement each below the
    # objectives)
    statements.reset()
    rollup = await objective_rollup(session, org.id, objective.id, as_of=T)
    await objective_history(
        session, org.id, objective.id, start=START, end=T, interval=Interval.week
    )

    # then each window's aggregate read the points' primary key alone (migration 0007), with
    # sequential and bitmap scans priced out as the table is tiny
    assert rollup.progress is not None
    scopes = statements.executed("window_number")
    assert len(scopes) == 2
    await connection.exec_driver_sql("ANALYZE points")
    for setting in ("enable_seqscan", "enable_bitmapscan"):
        await connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    for statement, parameters in scopes:
        plan = await explain(connection, statement, parameters)
        assert plan.count("Index Only Scan using pk_points on points") == 7, plan
        assert "Index Scan using pk_points" not in plan, plan
        assert "Seq Scan on points" not in plan, plan
