import uuid
from collections.abc import Collection

from sqlalchemy import exists, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import (
    Alignment,
    ObjectiveMetric,
)


async def lock_alignment_graph(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Serialise changes to the organization's alignment graph until the transaction ends.

    Two transactions that each add one edge could otherwise both pass the cycle check
    (neither sees the other's uncommitted edge) and together close a cycle.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"lodestar.alignments:{org_id}"},
    )


async def is_ancestor(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID, candidate_id: uuid.UUID
) -> bool:
    """Whether `objective_id` is aligned, directly or transitively, under `candidate_id`.

    One recursive CTE walking up from `objective_id`: ancestors are few in goal trees
    (depth × parents), where descendants of a company objective can be the whole org. The
    step is a LATERAL lookup so each level is a primary-key probe on `child_objective_id`;
    a plain join lets the planner hash the org's whole alignment table at every level.
    """
    ancestors = (
        select(Alignment.parent_objective_id.label("id"))
        .where(Alignment.org_id == org_id, Alignment.child_objective_id == objective_id)
        .cte("ancestors", recursive=True)
    )
    step = (
        select(Alignment.parent_objective_id.label("id"))
        .where(Alignment.org_id == org_id, Alignment.child_objective_id == ancestors.c.id)
        .offset(0)  # keeps PostgreSQL from flattening the LATERAL back into a join
        .lateral("step")
    )
    ancestors = ancestors.union(select(step.c.id).select_from(ancestors).join(step, true()))
    found = await session.scalar(select(exists().where(ancestors.c.id == candidate_id)))
    return bool(found)


async def get_alignment(
    session: AsyncSession, org_id: uuid.UUID, child_id: uuid.UUID, parent_id: uuid.UUID
) -> Alignment | None:
    result = await session.execute(
        select(Alignment).where(
            Alignment.org_id == org_id,
            Alignment.child_objective_id == child_id,
            Alignment.parent_objective_id == parent_id,
        )
    )
    return result.scalar_one_or_none()


async def get_objective_metric(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID, metric_id: uuid.UUID
) -> ObjectiveMetric | None:
    result = await session.execute(
        select(ObjectiveMetric).where(
            ObjectiveMetric.org_id == org_id,
            ObjectiveMetric.objective_id == objective_id,
            ObjectiveMetric.metric_id == metric_id,
        )
    )
    return result.scalar_one_or_none()


async def metric_ids_of(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(objective id, metric id) for every metric the given objectives drive."""
    if not objective_ids:
        return []
    result = await session.execute(
        select(ObjectiveMetric.objective_id, ObjectiveMetric.metric_id)
        .where(
            ObjectiveMetric.org_id == org_id,
            ObjectiveMetric.objective_id.in_(list(objective_ids)),
        )
        .order_by(ObjectiveMetric.created_at, ObjectiveMetric.metric_id)
    )
    return [(objective_id, metric_id) for objective_id, metric_id in result]
