"""Objectives, their alignments (child → parent, weighted) and the metrics they drive.

Decisions:
- States: `draft` ⇄ `active` ⇄ `closed` through `update_objective` (draft → closed is
  refused: activate first). New objectives start `draft` or `active` (default).
  `archive_objective` moves any other state to `archived`; archived is terminal for every
  change except `unarchive_objective`, which returns it to `draft` (the state before
  archiving is not kept, and `draft`, like `archived`, is left out of roll-ups, so
  unarchiving never changes a number until someone activates it again). Archiving an
  archived objective is INVALID_STATE.
- Aligning an objective already aligned under the same parent updates the weight (an
  upsert, so clients can retry); the same weight again changes nothing and emits nothing.
  Objectives on either side must not be archived. `unalign` works in any state (cleanup).
- Linking a metric already linked changes nothing and emits nothing (`objective.updated`
  otherwise); the metric must exist in the organization and not be archived. Unlinking
  works in any state.
- Every change emits its event with the objective's state after the change, including
  the ids of the metrics it drives; alignment events carry the alignment.
"""

import math
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.outbox import emit
from service.errors import CycleDetected, DomainError, ErrorCode, Invalid, NotFound
from service.events.catalog import EventType
from service.models import (
    Alignment,
    Cycle,
    Metric,
    Objective,
    ObjectiveMetric,
    ObjectiveState,
    Person,
    Team,
)
from service.objectives import repository
from service.objectives.repository import OwnerKind, Reference
from service.objectives.schemas import (
    AlignedObjective,
    AlignmentRead,
    ObjectiveCreate,
    ObjectiveFilter,
    ObjectiveRead,
    ObjectiveUpdate,
)
from service.statuses import tracker

TITLE_MAX = 300
DESCRIPTION_MAX = 20_000
SEARCH_MAX = 300
PAGE_MAX = 1000

INITIAL_STATES = frozenset({ObjectiveState.draft, ObjectiveState.active})
TRANSITIONS: dict[ObjectiveState, frozenset[ObjectiveState]] = {
    ObjectiveState.draft: frozenset({ObjectiveState.active}),
    ObjectiveState.active: frozenset({ObjectiveState.draft, ObjectiveState.closed}),
    ObjectiveState.closed: frozenset({ObjectiveState.active}),
    ObjectiveState.archived: frozenset(),
}


def clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("title must not be empty", field="title", code=ErrorCode.REQUIRED)
    if len(title) > TITLE_MAX:
        raise Invalid(f"title must be at most {TITLE_MAX} characters", field="title")
    return title


def clean_description(description: str) -> str:
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            f"description must be at most {DESCRIPTION_MAX} characters", field="description"
        )
    return description


def check_weight(weight: float, field: str = "weight") -> float:
    """A weight is a finite number ≥ 0 (0 leaves the item out of roll-ups)."""
    if not math.isfinite(weight) or weight < 0:
        raise Invalid(
            f"{field} must be a finite number ≥ 0, got {weight}",
            field=field,
            code=ErrorCode.OUT_OF_RANGE,
        )
    return float(weight)


def check_page_size(limit: int) -> int:
    if not 1 <= limit <= PAGE_MAX:
        raise Invalid(
            f"limit must be between 1 and {PAGE_MAX}", field="limit", code=ErrorCode.OUT_OF_RANGE
        )
    return limit


async def check_reference(
    session: AsyncSession,
    model: type[Cycle] | type[Metric] | type[Person] | type[Team],
    org_id: uuid.UUID,
    id: uuid.UUID,
    *,
    field: str,
    noun: str,
) -> None:
    """NotFound when `id` is not a `model` of the organization; INVALID_STATE when archived."""
    status = await repository.reference_status(session, model, org_id, id)
    if status is Reference.missing:
        raise NotFound(f"{noun} not found", field=field)
    if status is Reference.archived:
        raise DomainError(f"{noun} is archived", field=field, code=ErrorCode.INVALID_STATE)


async def check_owner_ref(
    session: AsyncSession,
    org_id: uuid.UUID,
    id: uuid.UUID,
    *,
    expected: OwnerKind,
    field: str,
    hint: str = "",
) -> None:
    """`id` is a `expected` (person or team) of the organization and not archived.

    A person given where a team is expected, or the reverse, is WRONG_OWNER (`hint` says
    what to do instead); an id that names neither in the organization is NotFound.
    """
    owner = await repository.find_owner(session, org_id, id)
    if owner is None:
        raise NotFound(f"{expected.value} not found", field=field)
    if owner.kind is not expected:
        raise DomainError(
            f"{field} names a {owner.kind.value}, not a {expected.value}{hint}",
            field=field,
            code=ErrorCode.WRONG_OWNER,
        )
    if owner.archived:
        raise DomainError(
            f"the {expected.value} is archived", field=field, code=ErrorCode.INVALID_STATE
        )


async def check_owner(
    session: AsyncSession,
    org_id: uuid.UUID,
    team_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
) -> None:
    if (team_id is None) == (person_id is None):
        raise Invalid("an objective has exactly one owner: a team or a person", field="owner")
    if team_id is not None:
        await check_owner_ref(
            session,
            org_id,
            team_id,
            expected=OwnerKind.team,
            field="owner_team_id",
            hint="; use owner_person_id for a person",
        )
    if person_id is not None:
        await check_owner_ref(
            session,
            org_id,
            person_id,
            expected=OwnerKind.person,
            field="owner_person_id",
            hint="; use owner_team_id for a team",
        )


def refuse_if_archived(objective: Objective, field: str | None = None) -> None:
    if objective.state == ObjectiveState.archived:
        raise DomainError(
            "the objective is archived; unarchive it first",
            field=field,
            code=ErrorCode.INVALID_STATE,
        )


async def objective_payload(session: AsyncSession, objective: Objective) -> dict[str, Any]:
    payload = ObjectiveRead.model_validate(objective).model_dump(mode="json")
    links = await repository.metric_ids_of(session, objective.org_id, [objective.id])
    payload["metric_ids"] = [str(metric_id) for _, metric_id in links]
    return payload


async def get_objective(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID, *, for_update: bool = False
) -> Objective:
    objective = await repository.get(session, org_id, objective_id, for_update=for_update)
    if objective is None:
        raise NotFound("objective not found", field="id")
    return objective


async def get_objectives(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> list[Objective | None]:
    """The objectives in the order of `objective_ids`, None where missing (for dataloaders)."""
    found = {
        objective.id: objective
        for objective in await repository.list_by_ids(session, org_id, set(objective_ids))
    }
    return [found.get(objective_id) for objective_id in objective_ids]


async def list_objectives(
    session: AsyncSession,
    org_id: uuid.UUID,
    filters: ObjectiveFilter | None = None,
    *,
    limit: int = 100,
    after: uuid.UUID | None = None,
) -> list[Objective]:
    """Up to `limit` objectives in creation order, starting after the objective `after`."""
    filters = filters or ObjectiveFilter()
    if filters.search is not None:
        search = filters.search.strip()
        if len(search) > SEARCH_MAX:
            raise Invalid(f"search must be at most {SEARCH_MAX} characters", field="search")
        filters = filters.model_copy(update={"search": search or None})
    return await repository.list_for_org(
        session, org_id, filters, limit=check_page_size(limit), after=after
    )


async def create_objective(
    session: AsyncSession, org_id: uuid.UUID, data: ObjectiveCreate
) -> Objective:
    title = clean_title(data.title)
    description = clean_description(data.description)
    if data.state not in INITIAL_STATES:
        raise Invalid("a new objective is draft or active", field="state")
    await check_owner(session, org_id, data.owner_team_id, data.owner_person_id)
    await check_reference(session, Cycle, org_id, data.cycle_id, field="cycle_id", noun="cycle")
    objective = Objective(
        org_id=org_id,
        title=title,
        description=description,
        cycle_id=data.cycle_id,
        owner_team_id=data.owner_team_id,
        owner_person_id=data.owner_person_id,
        state=data.state.value,
        rollup_mode=data.rollup_mode.value,
    )
    session.add(objective)
    await session.flush()
    payload = ObjectiveRead.model_validate(objective).model_dump(mode="json")
    payload["metric_ids"] = []
    await emit(session, org_id, EventType.OBJECTIVE_CREATED, objective.id, payload)
    return objective


async def create_objective_with_links(
    session: AsyncSession,
    org_id: uuid.UUID,
    data: ObjectiveCreate,
    *,
    parent_ids: Sequence[uuid.UUID] = (),
    metric_ids: Sequence[uuid.UUID] = (),
) -> Objective:
    """Create an objective, align it under `parent_ids` (weight 1), then link `metric_ids`.

    Emits `objective.created`, then one event per alignment and per new link, in that order.
    """
    objective = await create_objective(session, org_id, data)
    for parent_id in parent_ids:
        await align(session, org_id, objective.id, parent_id)
    for metric_id in metric_ids:
        await link_metric(session, org_id, objective.id, metric_id)
    return objective


async def align_and_get_objectives(
    session: AsyncSession,
    org_id: uuid.UUID,
    child_id: uuid.UUID,
    parent_id: uuid.UUID,
    weight: float = 1.0,
) -> tuple[Alignment, Objective, Objective]:
    """`align`, then the alignment with the child and the parent as they are after it."""
    alignment = await align(session, org_id, child_id, parent_id, weight)
    child = await get_objective(session, org_id, child_id)
    parent = await get_objective(session, org_id, parent_id)
    return alignment, child, parent


async def unalign_and_get_objectives(
    session: AsyncSession, org_id: uuid.UUID, child_id: uuid.UUID, parent_id: uuid.UUID
) -> tuple[Objective, Objective]:
    """`unalign`, then the child and the parent as they are after it."""
    await unalign(session, org_id, child_id, parent_id)
    child = await get_objective(session, org_id, child_id)
    parent = await get_objective(session, org_id, parent_id)
    return child, parent


async def change_metric_link(
    session: AsyncSession,
    org_id: uuid.UUID,
    objective_id: uuid.UUID,
    metric_id: uuid.UUID,
    *,
    linked: bool,
) -> Objective:
    """`link_metric` (or `unlink_metric` when not `linked`), then the objective."""
    operation = link_metric if linked else unlink_metric
    await operation(session, org_id, objective_id, metric_id)
    return await get_objective(session, org_id, objective_id)


async def update_objective(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID, data: ObjectiveUpdate
) -> Objective:
    """Change the fields that are set; state moves only along TRANSITIONS (not to archived)."""
    objective = await get_objective(session, org_id, objective_id, for_update=True)
    refuse_if_archived(objective)
    fields = data.model_fields_set
    changes: dict[str, Any] = {}
    if "title" in fields:
        if data.title is None:
            raise Invalid("title must not be empty", field="title", code=ErrorCode.REQUIRED)
        changes["title"] = clean_title(data.title)
    if "description" in fields:
        changes["description"] = clean_description(data.description or "")
    if "cycle_id" in fields:
        if data.cycle_id is None:
            raise Invalid("an objective needs a cycle", field="cycle_id", code=ErrorCode.REQUIRED)
        if data.cycle_id != objective.cycle_id:
            await check_reference(
                session, Cycle, org_id, data.cycle_id, field="cycle_id", noun="cycle"
            )
        changes["cycle_id"] = data.cycle_id
    if fields & {"owner_team_id", "owner_person_id"}:
        await check_owner(session, org_id, data.owner_team_id, data.owner_person_id)
        changes["owner_team_id"] = data.owner_team_id
        changes["owner_person_id"] = data.owner_person_id
    if "state" in fields:
        if data.state is None:
            raise Invalid("state must not be null", field="state", code=ErrorCode.REQUIRED)
        current = ObjectiveState(objective.state)
        if data.state == ObjectiveState.archived:
            raise DomainError(
                "use archive to archive an objective", field="state", code=ErrorCode.INVALID_STATE
            )
        if data.state != current and data.state not in TRANSITIONS[current]:
            raise DomainError(
                f"an objective cannot go from {current.value} to {data.state.value}",
                field="state",
                code=ErrorCode.INVALID_STATE,
            )
        changes["state"] = data.state.value
    if "rollup_mode" in fields:
        if data.rollup_mode is None:
            raise Invalid(
                "rollup_mode must not be null", field="rollup_mode", code=ErrorCode.REQUIRED
            )
        changes["rollup_mode"] = data.rollup_mode.value

    changed = {name: value for name, value in changes.items() if getattr(objective, name) != value}
    if not changed:
        return objective
    # Another cycle is another pace for its key results, and so maybe another status.
    paced = (
        await tracker.key_results_of_objectives(session, org_id, [objective.id])
        if "cycle_id" in changed
        else []
    )
    before = await tracker.snapshot(session, org_id, paced)
    for name, value in changed.items():
        setattr(objective, name, value)
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.OBJECTIVE_UPDATED,
        objective.id,
        await objective_payload(session, objective),
    )
    await tracker.announce_changes(session, org_id, before)
    return objective


async def archive_objective(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID
) -> Objective:
    objective = await get_objective(session, org_id, objective_id, for_update=True)
    if objective.state == ObjectiveState.archived:
        raise DomainError("the objective is already archived", code=ErrorCode.INVALID_STATE)
    objective.state = ObjectiveState.archived.value
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.OBJECTIVE_ARCHIVED,
        objective.id,
        await objective_payload(session, objective),
    )
    return objective


async def unarchive_objective(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID
) -> Objective:
    """Bring an archived objective back as `draft`."""
    objective = await get_objective(session, org_id, objective_id, for_update=True)
    if objective.state != ObjectiveState.archived:
        raise DomainError("the objective is not archived", code=ErrorCode.INVALID_STATE)
    objective.state = ObjectiveState.draft.value
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.OBJECTIVE_UPDATED,
        objective.id,
        await objective_payload(session, objective),
    )
    return objective


async def align(
    session: AsyncSession,
    org_id: uuid.UUID,
    child_id: uuid.UUID,
    parent_id: uuid.UUID,
    weight: float = 1.0,
) -> Alignment:
    """Align `child_id` under `parent_id`, or change the weight of that alignment.

    Refused with CycleDetected when the parent is the child or is already aligned (at any
    depth) under the child. An advisory lock per organization, held to the end of the
    transaction, serialises alignment changes so two concurrent ones cannot close a cycle.
    """
    weight = check_weight(weight)
    await repository.lock_alignment_graph(session, org_id)
    found = {
        objective.id: objective
        for objective in await repository.list_by_ids(session, org_id, {child_id, parent_id})
    }
    child, parent = found.get(child_id), found.get(parent_id)
    if child is None:
        raise NotFound("child objective not found", field="child_id")
    if parent is None:
        raise NotFound("parent objective not found", field="parent_id")
    refuse_if_archived(child, "child_id")
    refuse_if_archived(parent, "parent_id")
    if child_id == parent_id:
        raise CycleDetected("an objective cannot be aligned under itself", field="parent_id")

    alignment = await repository.get_alignment(session, org_id, child_id, parent_id)
    if alignment is not None:
        if alignment.weight == weight:
            return alignment
        alignment.weight = weight
    else:
        if await repository.is_ancestor(session, org_id, parent_id, child_id):
            raise CycleDetected(
                "the parent is already aligned under this objective; aligning would make a cycle",
                field="parent_id",
            )
        alignment = Alignment(
            org_id=org_id, child_objective_id=child_id, parent_objective_id=parent_id, weight=weight
        )
        session.add(alignment)
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.OBJECTIVE_ALIGNED,
        child_id,
        AlignmentRead.model_validate(alignment).model_dump(mode="json"),
    )
    return alignment


async def unalign(
    session: AsyncSession, org_id: uuid.UUID, child_id: uuid.UUID, parent_id: uuid.UUID
) -> None:
    alignment = await repository.get_alignment(session, org_id, child_id, parent_id)
    if alignment is None:
        raise NotFound("the objective is not aligned under that parent", field="parent_id")
    payload = AlignmentRead.model_validate(alignment).model_dump(mode="json")
    await session.delete(alignment)
    await session.flush()
    await emit(session, org_id, EventType.OBJECTIVE_UNALIGNED, child_id, payload)


async def list_parents(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID
) -> list[AlignedObjective]:
    await get_objective(session, org_id, objective_id)
    rows = await repository.parents_of(session, org_id, [objective_id])
    return [AlignedObjective(objective=parent, weight=weight) for _, parent, weight in rows]


async def list_children(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID
) -> list[AlignedObjective]:
    await get_objective(session, org_id, objective_id)
    rows = await repository.children_of(session, org_id, [objective_id])
    return [AlignedObjective(objective=child, weight=weight) for _, child, weight in rows]


async def parents_by_objective(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> list[list[AlignedObjective]]:
    """Parents of each objective, in the order of `objective_ids` (one query, for dataloaders)."""
    grouped: dict[uuid.UUID, list[AlignedObjective]] = {id: [] for id in objective_ids}
    for child_id, parent, weight in await repository.parents_of(
        session, org_id, set(objective_ids)
    ):
        grouped[child_id].append(AlignedObjective(objective=parent, weight=weight))
    return [grouped[id] for id in objective_ids]


async def children_by_objective(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> list[list[AlignedObjective]]:
    """Children of each objective, in the order of `objective_ids` (one query, for dataloaders)."""
    grouped: dict[uuid.UUID, list[AlignedObjective]] = {id: [] for id in objective_ids}
    for parent_id, child, weight in await repository.children_of(
        session, org_id, set(objective_ids)
    ):
        grouped[parent_id].append(AlignedObjective(objective=child, weight=weight))
    return [grouped[id] for id in objective_ids]


async def link_metric(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID, metric_id: uuid.UUID
) -> list[uuid.UUID]:
    """Record that the objective drives the metric; returns the ids of all metrics it drives."""
    objective = await get_objective(session, org_id, objective_id, for_update=True)
    refuse_if_archived(objective)
    await check_reference(session, Metric, org_id, metric_id, field="metric_id", noun="metric")
    if await repository.get_objective_metric(session, org_id, objective_id, metric_id) is None:
        session.add(ObjectiveMetric(org_id=org_id, objective_id=objective_id, metric_id=metric_id))
        await session.flush()
        await emit(
            session,
            org_id,
            EventType.OBJECTIVE_UPDATED,
            objective.id,
            await objective_payload(session, objective),
        )
    return await linked_metric_ids(session, org_id, objective_id)


async def unlink_metric(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID, metric_id: uuid.UUID
) -> list[uuid.UUID]:
    """Remove a metric the objective drives (in any state); returns the ids it still drives."""
    objective = await get_objective(session, org_id, objective_id, for_update=True)
    link = await repository.get_objective_metric(session, org_id, objective_id, metric_id)
    if link is None:
        raise NotFound("the objective does not drive that metric", field="metric_id")
    await session.delete(link)
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.OBJECTIVE_UPDATED,
        objective.id,
        await objective_payload(session, objective),
    )
    return await linked_metric_ids(session, org_id, objective_id)


async def linked_metric_ids(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID
) -> list[uuid.UUID]:
    rows = await repository.metric_ids_of(session, org_id, [objective_id])
    return [metric_id for _, metric_id in rows]


async def list_metric_ids(
    session: AsyncSession, org_id: uuid.UUID, objective_id: uuid.UUID
) -> list[uuid.UUID]:
    await get_objective(session, org_id, objective_id)
    return await linked_metric_ids(session, org_id, objective_id)


async def metric_ids_by_objective(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> list[list[uuid.UUID]]:
    """Metric ids each objective drives, in the order of `objective_ids` (for dataloaders)."""
    grouped: dict[uuid.UUID, list[uuid.UUID]] = {id: [] for id in objective_ids}
    for objective_id, metric_id in await repository.metric_ids_of(
        session, org_id, set(objective_ids)
    ):
        grouped[objective_id].append(metric_id)
    return [grouped[id] for id in objective_ids]
