"""`key_result.status_changed`: announce a key result's status when it changes.

Writers (check-ins, ingestion, key-result edits) bracket their change:

    before = await status.snapshot(session, org_id, key_result_ids)
    ... the change ...
    await status.announce_changes(session, org_id, before)

Both read the roll-up engine (`service.rollups.service.key_result_rollups`) inside the
writer's transaction, so the event commits or rolls back with the change. For ingestion,
`key_results_on_metrics` finds the key results measured on the touched metrics.
The passing of time is handled by the daily sweep (`service.events.sweep`).
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.events.outbox import emit_many
from service.models import Event, KeyResult, KeyResultState, Objective
from service.rollups.service import key_result_rollups
from service.rollups.types import KeyResultRollup

STATUS_CHANGED = "key_result.status_changed"


async def snapshot(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_ids: Iterable[uuid.UUID],
    *,
    as_of: datetime | None = None,
) -> dict[uuid.UUID, KeyResultRollup]:
    """The roll-ups (status included) of these key results, to compare after a change."""
    ids = list(dict.fromkeys(key_result_ids))
    if not ids:
        return {}
    return await key_result_rollups(session, org_id, ids, as_of=as_of)


async def announce_changes(
    session: AsyncSession,
    org_id: uuid.UUID,
    before: Mapping[uuid.UUID, KeyResultRollup | str],
    *,
    cause: str = "write",
    as_of: datetime | None = None,
) -> list[Event]:
    """Emit `key_result.status_changed` for every key result whose status differs from `before`
    (a roll-up or a bare status string). Returns the events written."""
    if not before:
        return []
    after = await key_result_rollups(session, org_id, list(before), as_of=as_of)
    changed = {
        kr_id: rollup
        for kr_id, rollup in after.items()
        if _status(before[kr_id]) != rollup.status.value
    }
    if not changed:
        return []
    rows = await session.execute(
        select(KeyResult.id, KeyResult.objective_id).where(
            KeyResult.org_id == org_id, KeyResult.id.in_(list(changed))
        )
    )
    objectives = {kr_id: objective_id for kr_id, objective_id in rows.all()}
    announced: list[tuple[str, uuid.UUID | None, dict[str, Any]]] = []
    for kr_id in sorted(changed, key=str):
        rollup = changed[kr_id]
        payload = {
            "key_result_id": str(kr_id),
            "objective_id": str(objectives[kr_id]) if kr_id in objectives else None,
            "before": _status(before[kr_id]),
            "after": rollup.status.value,
            "progress": rollup.progress,
            "expected_progress": rollup.expected_progress,
            "cause": cause,
            "as_of": rollup.as_of.isoformat(),
        }
        announced.append((STATUS_CHANGED, kr_id, payload))
    # One statement for all the events (ingestion may move many key results at once), one
    # to load them back: the cost does not grow with the number of changes.
    seqs = await emit_many(session, org_id, announced)
    events = await session.execute(
        select(Event).where(Event.org_id == org_id, Event.seq.in_(seqs)).order_by(Event.seq)
    )
    return list(events.scalars())


async def key_results_on_metrics(
    session: AsyncSession, org_id: uuid.UUID, metric_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Active key results measured on any of these metrics (for ingestion)."""
    if not metric_ids:
        return []
    result = await session.execute(
        select(KeyResult.id).where(
            KeyResult.org_id == org_id,
            KeyResult.metric_id.in_(list(metric_ids)),
            KeyResult.state == KeyResultState.active,
        )
    )
    return list(result.scalars())


async def key_results_in_cycles(
    session: AsyncSession, org_id: uuid.UUID, cycle_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Active key results of objectives in any of these cycles (their pace follows the dates)."""
    if not cycle_ids:
        return []
    result = await session.execute(
        select(KeyResult.id)
        .join(
            Objective,
            (Objective.org_id == KeyResult.org_id) & (Objective.id == KeyResult.objective_id),
        )
        .where(
            KeyResult.org_id == org_id,
            Objective.cycle_id.in_(list(cycle_ids)),
            KeyResult.state == KeyResultState.active,
        )
    )
    return list(result.scalars())


async def key_results_of_objectives(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Active key results of these objectives (an objective moved to another cycle)."""
    if not objective_ids:
        return []
    result = await session.execute(
        select(KeyResult.id).where(
            KeyResult.org_id == org_id,
            KeyResult.objective_id.in_(list(objective_ids)),
            KeyResult.state == KeyResultState.active,
        )
    )
    return list(result.scalars())


async def active_key_results(session: AsyncSession, org_id: uuid.UUID) -> list[uuid.UUID]:
    """Every active key result of the organization (its status thresholds changed)."""
    result = await session.execute(
        select(KeyResult.id).where(
            KeyResult.org_id == org_id, KeyResult.state == KeyResultState.active
        )
    )
    return list(result.scalars())


def _status(value: KeyResultRollup | str) -> str:
    return value if isinstance(value, str) else value.status.value
