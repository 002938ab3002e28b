"""Plain async factories: each inserts one row with sensible defaults and returns it."""

import uuid
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import service as auth_service
from service.models import (
    Alignment,
    CheckIn,
    Commitment,
    CommitmentKeyResult,
    Cycle,
    KeyResult,
    Metric,
    MetricEdge,
    Objective,
    Organization,
    Person,
    Point,
    Team,
    TeamMember,
)

T = TypeVar("T")


def _short() -> str:
    return uuid.uuid4().hex[:8]


async def _add(session: AsyncSession, row: T) -> T:
    session.add(row)
    await session.flush()
    return row


async def create_org(session: AsyncSession, **fields: Any) -> Organization:
    fields.setdefault("name", f"Org {_short()}")
    fields.setdefault("settings", {"on_track_ratio": 0.7, "at_risk_ratio": 0.4})
    return await _add(session, Organization(**fields))


async def create_api_key(
    session: AsyncSession, org: Organization, scopes: tuple[str, ...] = ("admin",)
) -> str:
    _, secret = await auth_service.create_key(session, org.id, name="test key", scopes=scopes)
    return secret


async def create_person(session: AsyncSession, org: Organization, **fields: Any) -> Person:
    fields.setdefault("name", f"Person {_short()}")
    fields.setdefault("kind", "human")
    return await _add(session, Person(org_id=org.id, **fields))


async def create_team(session: AsyncSession, org: Organization, **fields: Any) -> Team:
    fields.setdefault("name", f"Team {_short()}")
    return await _add(session, Team(org_id=org.id, **fields))


async def add_member(session: AsyncSession, team: Team, person: Person) -> TeamMember:
    return await _add(session, TeamMember(org_id=team.org_id, team_id=team.id, person_id=person.id))


async def create_cycle(session: AsyncSession, org: Organization, **fields: Any) -> Cycle:
    fields.setdefault("name", f"Cycle {_short()}")
    fields.setdefault("starts_on", date(2027, 1, 1))
    fields.setdefault("ends_on", date(2027, 3, 31))
    return await _add(session, Cycle(org_id=org.id, **fields))


async def create_metric(session: AsyncSession, org: Organization, **fields: Any) -> Metric:
    fields.setdefault("key", f"metric_{_short()}")
    fields.setdefault("name", fields["key"].replace("_", " ").title())
    fields.setdefault("direction", "increase")
    fields.setdefault("aggregation", "sum")
    fields.setdefault("kind", "lagging")
    return await _add(session, Metric(org_id=org.id, **fields))


async def create_metric_edge(
    session: AsyncSession, child: Metric, parent: Metric, **fields: Any
) -> MetricEdge:
    fields.setdefault("relation", "driver")
    fields.setdefault("weight", 1.0)
    return await _add(
        session,
        MetricEdge(
            org_id=child.org_id, child_metric_id=child.id, parent_metric_id=parent.id, **fields
        ),
    )


async def create_point(
    session: AsyncSession,
    metric: Metric,
    ts: datetime,
    value: float,
    dimensions: dict[str, str] | None = None,
    **fields: Any,
) -> None:
    """Written with Core: the ORM identity map cannot hash the JSONB `dimensions` that is part
    of the points' primary key, so a second point through `session.add` fails."""
    await session.execute(
        insert(Point).values(
            org_id=metric.org_id,
            metric_id=metric.id,
            ts=ts,
            value=value,
            dimensions=dimensions or {},
            **fields,
        )
    )


async def create_objective(
    session: AsyncSession, org: Organization, cycle: Cycle, **fields: Any
) -> Objective:
    fields.setdefault("title", f"Objective {_short()}")
    fields.setdefault("state", "active")
    fields.setdefault("rollup_mode", "auto")
    if "owner_team_id" not in fields and "owner_person_id" not in fields:
        fields["owner_team_id"] = (await create_team(session, org)).id
    return await _add(session, Objective(org_id=org.id, cycle_id=cycle.id, **fields))


async def create_alignment(
    session: AsyncSession, child: Objective, parent: Objective, weight: float = 1.0
) -> Alignment:
    return await _add(
        session,
        Alignment(
            org_id=child.org_id,
            child_objective_id=child.id,
            parent_objective_id=parent.id,
            weight=weight,
        ),
    )


async def create_key_result(
    session: AsyncSession, objective: Objective, **fields: Any
) -> KeyResult:
    fields.setdefault("title", f"Key result {_short()}")
    fields.setdefault("measure", "manual")
    fields.setdefault("direction", "increase")
    if fields["measure"] != "milestone":
        fields.setdefault("start_value", 0.0)
        fields.setdefault("target_value", 100.0)
    return await _add(
        session, KeyResult(org_id=objective.org_id, objective_id=objective.id, **fields)
    )


async def create_check_in(
    session: AsyncSession, key_result: KeyResult, observed_at: datetime | None = None, **fields: Any
) -> CheckIn:
    if "done" not in fields:
        fields.setdefault("value", 0.0)
    fields.setdefault("source", "graphql")
    return await _add(
        session,
        CheckIn(
            org_id=key_result.org_id,
            key_result_id=key_result.id,
            observed_at=observed_at or datetime.now(UTC),
            **fields,
        ),
    )


async def create_commitment(
    session: AsyncSession,
    owner: Person,
    key_results: list[KeyResult] | None = None,
    **fields: Any,
) -> Commitment:
    fields.setdefault("title", f"Commitment {_short()}")
    fields.setdefault("success_criteria", "Shipped to production and announced.")
    fields.setdefault("due_on", date(2027, 2, 15))
    fields.setdefault("state", "open")
    commitment = await _add(
        session, Commitment(org_id=owner.org_id, owner_person_id=owner.id, **fields)
    )
    for key_result in key_results or []:
        await _add(
            session,
            CommitmentKeyResult(
                org_id=owner.org_id, commitment_id=commitment.id, key_result_id=key_result.id
            ),
        )
    return commitment
