import uuid
from collections.abc import Collection

from sqlalchemy import and_, exists, select, text, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import (
    Alignment,
    Objective,
    ObjectiveMetric,
)
from service.objectives.schemas import ObjectiveFilter


async def get(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID, *, for_update: bool = False
) -> Objective | None:
    query = select(Objective).where(Objective.org_id == org_id, Objective.id == objective_id)
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def list_by_ids(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Collection[uuid.UUID]
) -> list[Objective]:
    if not objective_ids:
        return []
    result = await session.execute(
        select(Objective).where(Objective.org_id == org_id, Objective.id.in_(list(objective_ids)))
    )
    return list(result.scalars())


def like_pattern(text_: str) -> str:
    """`%text%` with the LIKE wildcards of the text escaped (escape character `\\`)."""
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_for_org(
    session: AsyncSession,
    org_id: uuid.UUID,
    filters: ObjectiveFilter,
    *,
    limit: int,
    after: uuid.UUID | None = None,
) -> list[Objective]:
    """Objectives in creation order (then id), the page after the objective `after`."""
    query = select(Objective).where(Objective.org_id == org_id)
    if filters.cycle_id is not None:
        query = query.where(Objective.cycle_id == filters.cycle_id)
    if filters.owner_team_id is not None:
        query = query.where(Objective.owner_team_id == filters.owner_team_id)
    if filters.owner_person_id is not None:
        query = query.where(Objective.owner_person_id == filters.owner_person_id)
    if filters.states is not None:
        query = query.where(Objective.state.in_([state.value for state in filters.states]))
    if filters.search:
        query = query.where(Objective.title.ilike(like_pattern(filters.search), escape="\\"))
    if after is not None:
        anchor = (
            select(Objective.created_at)
            .where(Objective.org_id == org_id, Objective.id == after)
            .scalar_subquery()
        )
        query = query.where(tuple_(Objective.created_at, Objective.id) > tuple_(anchor, after))
    query = query.order_by(Objective.created_at, Objective.id).limit(limit)
    result = await session.execute(query)
    return list(result.scalars())


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


async def parents_of(
    session: AsyncSession, org_id: uuid.UUID, child_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, Objective, float]]:
    """(child id, parent objective, weight) for every parent of the given objectives."""
    if not child_ids:
        return []
    result = await session.execute(
        select(Alignment.child_objective_id, Objective, Alignment.weight)
        .join(
            Objective,
            and_(
                Objective.org_id == Alignment.org_id,
                Objective.id == Alignment.parent_objective_id,
            ),
        )
        .where(Alignment.org_id == org_id, Alignment.child_objective_id.in_(list(child_ids)))
        .order_by(Objective.created_at, Objective.id)
    )
    return [(id, objective, weight) for id, objective, weight in result]


async def children_of(
    session: AsyncSession, org_id: uuid.UUID, parent_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, Objective, float]]:
    """(parent id, child objective, weight) for every child of the given objectives."""
    if not parent_ids:
        return []
    result = await session.execute(
        select(Alignment.parent_objective_id, Objective, Alignment.weight)
        .join(
            Objective,
            and_(
                Objective.org_id == Alignment.org_id,
                Objective.id == Alignment.child_objective_id,
            ),
        )
        .where(Alignment.org_id == org_id, Alignment.parent_objective_id.in_(list(parent_ids)))
        .order_by(Objective.created_at, Objective.id)
    )
    return [(id, objective, weight) for id, objective, weight in result]


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
