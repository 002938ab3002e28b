"""A roll-up runs the same number of statements at 10 and at 1,000 objectives, and a
history of many buckets runs as many as one roll-up."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from service import models
from service.rollups import (
    Interval,
    cycle_history,
    cycle_rollup,
    key_result_progresses,
    key_result_rollup,
    objective_history,
    objective_rollup,
    team_rollup,
)

if TYPE_CHECKING:
    from tests.conftest import StatementCounter

AS_OF = datetime(2027, 2, 15, tzinfo=UTC)


async def build_org(session: AsyncSession, size: int) -> dict[str, Any]:
    """A cycle with `size` objectives in a 3-ary tree (plus one second parent per node),
    four key results each (manual, metric, milestone, at_least), check-ins, points and
    commitments; everything owned by one team."""
    org_id, team_id, cycle_id, person_id = (uuid.uuid4() for _ in range(4))
    metric_ids = [uuid.uuid4() for _ in range(3)]
    await session.execute(
        insert(models.Organization.__table__), [{"id": org_id, "name": "Big", "settings": {}}]
    )
    await session.execute(
        insert(models.Person.__table__),
        [{"id": person_id, "org_id": org_id, "name": "P", "kind": "human"}],
    )
    await session.execute(
        insert(models.Team.__table__), [{"id": team_id, "org_id": org_id, "name": "T"}]
    )
    await session.execute(
        insert(models.Cycle.__table__),
        [
            {
                "id": cycle_id,
                "org_id": org_id,
                "name": "Q1",
                "starts_on": date(2027, 1, 1),
                "ends_on": date(2027, 3, 31),
            }
        ],
    )
    await session.execute(
        insert(models.Metric.__table__),
        [
            {
                "id": m,
                "org_id": org_id,
                "key": f"m{i}",
                "name": f"M{i}",
                "aggregation": agg,
                "direction": "increase",
                "kind": "lagging",
            }
            for i, (m, agg) in enumerate(zip(metric_ids, ["sum", "last", "avg"], strict=True))
        ],
    )
    await session.execute(
        insert(models.Point.__table__),
        [
            {
                "org_id": org_id,
                "metric_id": m,
                "ts": datetime(2027, 1, 1, tzinfo=UTC) + timedelta(hours=7 * i),
                "value": float(i % 5),
                "dimensions": {"r": "eu" if i % 2 else "us"},
            }
            for m in metric_ids
            for i in range(200)
        ],
    )
    objective_ids = [uuid.uuid4() for _ in range(size)]
    await session.execute(
        insert(models.Objective.__table__),
        [
            {
                "id": o,
                "org_id": org_id,
                "title": f"O{i}",
                "cycle_id": cycle_id,
                "owner_team_id": team_id,
                "state": "active",
                "rollup_mode": ["auto", "both", "children", "key_results"][i % 4],
            }
            for i, o in enumerate(objective_ids)
        ],
    )
    alignments = []
    for i in range(1, size):
        alignments.append((objective_ids[i], objective_ids[(i - 1) // 3], float(i % 3)))
        if i > 3 and i % 5 == 0:
            alignments.append((objective_ids[i], objective_ids[(i - 1) // 3 - 1], 1.0))
    await session.execute(
        insert(models.Alignment.__table__),
        [
            {"org_id": org_id, "child_objective_id": c, "parent_objective_id": p, "weight": w}
            for c, p, w in alignments
        ],
    )
    krs: list[dict[str, Any]] = []
    for i, o in enumerate(objective_ids):
        krs += [
            {
                "id": uuid.uuid4(),
                "objective_id": o,
                "measure": "manual",
                "direction": "increase",
                "start_value": 0.0,
                "target_value": 100.0,
                "metric_id": None,
            },
            {
                "id": uuid.uuid4(),
                "objective_id": o,
                "measure": "metric",
                "direction": "increase",
                "start_value": 0.0,
                "target_value": 500.0,
                "metric_id": metric_ids[i % 3],
            },
            {
                "id": uuid.uuid4(),
                "objective_id": o,
                "measure": "milestone",
                "direction": "increase",
                "start_value": None,
                "target_value": None,
                "metric_id": None,
            },
            {
                "id": uuid.uuid4(),
                "objective_id": o,
                "measure": "manual",
                "direction": "at_least",
                "start_value": None,
                "target_value": 5.0,
                "metric_id": None,
            },
        ]
    await session.execute(
        insert(models.KeyResult.__table__),
        [{**kr, "org_id": org_id, "title": "KR", "weight": 1.0, "state": "active"} for kr in krs],
    )
    check_ins = []
    for i, kr in enumerate(krs):
        if kr["measure"] == "metric":
            continue
        for day in (3, 20, 40, 70):
            check_ins.append(
                {
                    "id": uuid.uuid4(),
                    "org_id": org_id,
                    "key_result_id": kr["id"],
                    "observed_at": datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=day),
                    "value": None if kr["measure"] == "milestone" else float((i + day) % 100),
                    "done": (day > 30) if kr["measure"] == "milestone" else None,
                    "confidence": 0.5,
                    "source": "api",
                }
            )
    await session.execute(insert(models.CheckIn.__table__), check_ins)
    commitments = [
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "title": "C",
            "success_criteria": "Done.",
            "owner_person_id": person_id,
            "due_on": date(2027, 2, 1),
            "state": "done" if i % 2 else "open",
            "done_at": datetime(2027, 1, 20, tzinfo=UTC) if i % 2 else None,
        }
        for i in range(size)
    ]
    await session.execute(insert(models.Commitment.__table__), commitments)
    await session.execute(
        insert(models.CommitmentKeyResult.__table__),
        [
            {"org_id": org_id, "commitment_id": c["id"], "key_result_id": krs[4 * i]["id"]}
            for i, c in enumerate(commitments)
        ],
    )
    # As autovacuum would after a bulk load; without statistics the planner guesses blind.
    for table in (
        "objectives",
        "alignments",
        "key_results",
        "check_ins",
        "points",
        "commitments",
        "commitment_key_results",
    ):
        await session.execute(text(f"ANALYZE {table}"))
    return {
        "org": org_id,
        "team": team_id,
        "cycle": cycle_id,
        "root": objective_ids[0],
        "kr": krs[1]["id"],
    }


async def count_statements(
    session: AsyncSession, statements: "StatementCounter", size: int
) -> dict[str, int]:
    ids = await build_org(session, size)
    org = ids["org"]
    calls = {
        "objective": lambda: objective_rollup(session, org, ids["root"], as_of=AS_OF),
        "key_result": lambda: key_result_rollup(session, org, ids["kr"], as_of=AS_OF),
        "key_result_progress": lambda: key_result_progresses(
            session, org, [ids["kr"]], as_of=AS_OF
        ),
        "team": lambda: team_rollup(
            session, org, ids["team"], ids["cycle"], include_subteams=True, as_of=AS_OF
        ),
        "cycle": lambda: cycle_rollup(session, org, ids["cycle"], as_of=AS_OF),
        "objective_history": lambda: objective_history(
            session,
            org,
            ids["root"],
            start=datetime(2027, 1, 1, tzinfo=UTC),
            end=AS_OF,
            interval=Interval.day,
        ),
        "cycle_history": lambda: cycle_history(
            session,
            org,
            ids["cycle"],
            start=datetime(2027, 1, 1, tzinfo=UTC),
            end=datetime(2027, 3, 31, tzinfo=UTC),
            interval=Interval.week,
        ),
    }
    counts = {}
    for name, call in calls.items():
        statements.reset()
        result = await call()
        counts[name] = statements.count
        assert result  # the call produced a roll-up
    return counts


async def test_rollups_run_the_same_statements_at_10_and_1000_objectives(
    session: AsyncSession, statements: "StatementCounter"
) -> None:
    small = await count_statements(session, statements, 10)
    large = await count_statements(session, statements, 1000)

    assert small == large
    # the subtree with its alignments and the organization's thresholds, then one statement
    # for its key results, their check-ins, metric windows and commitments (a cycle also
    # reads its settings and dates; a team also its sub-teams)
    assert large["objective"] <= 2
    assert large["team"] <= 5
    assert large["cycle"] <= 4
    # Without confidence and delivery: no commitments statement, and check-ins only for
    # key results that read their value from them (none for a metric key result).
    assert large["key_result_progress"] < large["key_result"]


async def test_history_costs_what_one_rollup_costs(
    session: AsyncSession, statements: "StatementCounter"
) -> None:
    counts = await count_statements(session, statements, 50)

    assert counts["objective_history"] == counts["objective"]
    assert counts["cycle_history"] == counts["cycle"]


async def test_large_tree_rolls_up_through_every_level(session: AsyncSession) -> None:
    ids = await build_org(session, 1000)

    rollup = await cycle_rollup(session, ids["org"], ids["cycle"], as_of=AS_OF)

    assert sum(rollup.objectives_by_status.values()) == 1000
    assert sum(rollup.key_results_by_status.values()) == 4000
    assert [item.id for item in rollup.breakdown] == [ids["root"]]
    assert rollup.progress is not None and 0 < rollup.progress < 1
