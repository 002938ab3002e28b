"""`key_result.status_changed`: announce a key result's status when it changes.

Writers (check-ins, key-result edits, ...) bracket their change:

    before = await status.snapshot(session, org_id, key_result_ids)
    ... the change ...
    await status.announce_changes(session, org_id, before)

Both read the roll-up engine (`service.rollups.service.key_result_rollups`) inside the
writer's transaction, so the event commits or rolls back with the change.
The passing of time is handled by the daily sweep (`service.events.sweep`).

Ingestion, the hot path, has its own light bracket (`metric_snapshot` before the write,
`metric_status_changes` after): a point can only move a key result measured on its
metric, and only through that metric's aggregate over the key result's window
[cycle start, min(t, cycle end)). So it loads just those key results whose window can hold
a point of the batch (one statement), and reads each window's
aggregate once before and once after the write (`service.rollups.repository.window_values`,
the engine's own statement), computing status with the engine's formulas and nothing else
(no check-ins, no commitments, no delivery). `tests/events/test_ingestion_status.py` checks
that it agrees with `key_result_rollups`.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from service.events.outbox import emit_many
from service.models import Event, KeyResult, KeyResultState, Objective
from service.rollups import formulas
from service.rollups.repository import window_values
from service.rollups.service import key_result_rollups
from service.rollups.types import KeyResultRollup, Status

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


# Ingestion's light bracket ---------------------------------------------------------------------

Window = tuple[uuid.UUID, datetime, datetime]

# Active key results measured on the touched metrics whose window [cycle start, min(t, cycle
# end)) can hold one of the batch's points (the metric's earliest..latest ts of the batch),
# with the organization's thresholds as JSON text (tiny strings, decoded once, rather than
# the settings object decoded on every row). The window test is exact, so nothing outside
# it reaches Python; `cycle_window` stays the one definition of the window.
_METRIC_KEY_RESULTS = text(
    """
    SELECT kr.id, kr.objective_id, kr.metric_id, kr.direction, kr.start_value,
           kr.target_value, cy.starts_on, cy.ends_on,
           (org.settings -> 'on_track_ratio')::text, (org.settings -> 'at_risk_ratio')::text
    FROM unnest(:metric_ids, :firsts, :lasts) AS touched(metric_id, first_ts, last_ts)
    JOIN key_results kr ON kr.org_id = :org AND kr.metric_id = touched.metric_id
    JOIN objectives o ON o.org_id = :org AND o.id = kr.objective_id
    JOIN cycles cy ON cy.org_id = :org AND cy.id = o.cycle_id
    JOIN organizations org ON org.id = :org
    WHERE kr.state = 'active' AND kr.measure = 'metric'
      AND (cy.starts_on::timestamp AT TIME ZONE 'UTC') <= touched.last_ts
      AND (cy.starts_on::timestamp AT TIME ZONE 'UTC') < :t
      AND touched.first_ts < LEAST(:t, ((cy.ends_on + 1)::timestamp AT TIME ZONE 'UTC'))
    """
).bindparams(
    bindparam("metric_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("firsts", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("lasts", type_=ARRAY(TIMESTAMP(timezone=True))),
)


@dataclass(frozen=True, slots=True)
class MetricKeyResult:
    id: uuid.UUID
    objective_id: uuid.UUID
    direction: str
    start_value: float | None
    target_value: float | None
    cycle: tuple[datetime, datetime]
    window: Window  # (metric, cycle start, min(as_of, cycle end)), never empty


@dataclass(frozen=True, slots=True)
class MetricScore:
    """What `key_result.status_changed` reports of a metric key result at one instant."""

    status: Status
    progress: float
    expected_progress: float


@dataclass(slots=True)
class MetricSnapshot:
    """Statuses before and after an ingestion, of the key results the batch may move."""

    as_of: datetime
    thresholds: formulas.Thresholds
    key_results: list[MetricKeyResult]
    before: dict[uuid.UUID, MetricScore]
    after: dict[uuid.UUID, MetricScore]


def metric_score(
    kr: MetricKeyResult,
    values: Mapping[Window, float | None],
    as_of: datetime,
    thresholds: formulas.Thresholds,
) -> MetricScore:
    """The engine's score of a metric key result (`GoalEvaluator._score`), from its window's
    aggregate."""
    expected = formulas.expected_progress(kr.cycle[0], kr.cycle[1], as_of)
    current = values.get(kr.window)
    if current is None:
        return MetricScore(Status.no_data, 0.0, expected)
    progress = formulas.key_result_score(
        "metric", kr.direction, kr.start_value, kr.target_value, current
    )[1]
    status = formulas.key_result_status(
        "metric", kr.direction, current, progress, expected, thresholds
    )
    return MetricScore(status, progress, expected)


# A batch row: metric id, ts, dimensions JSON, value (then anything, e.g. the source).
BatchRow = tuple[uuid.UUID, datetime, str, float, Any]


async def metric_snapshot(
    session: AsyncSession,
    org_id: uuid.UUID,
    rows: Sequence[BatchRow],
    *,
    as_of: datetime | None = None,
) -> MetricSnapshot:
    """Before writing the batch `rows`: the status of every active key result on their
    metrics whose window can hold one of them (see `metric_status_changes` for after).

    One statement to find the key results, plus one window-aggregate statement (the
    engine's `window_values`) when any exist.
    """
    t = datetime.now(UTC) if as_of is None else as_of
    snapshot = MetricSnapshot(t, formulas.Thresholds(), [], {}, {})
    touched: dict[uuid.UUID, tuple[datetime, datetime]] = {}
    for metric_id, ts, *_ in rows:
        span = touched.get(metric_id)
        if span is None:
            touched[metric_id] = (ts, ts)
        elif ts < span[0]:
            touched[metric_id] = (ts, span[1])
        elif ts > span[1]:
            touched[metric_id] = (span[0], ts)
    if not touched:
        return snapshot
    found = (
        await session.execute(
            _METRIC_KEY_RESULTS,
            {
                "org": org_id,
                "metric_ids": list(touched),
                "firsts": [span[0] for span in touched.values()],
                "lasts": [span[1] for span in touched.values()],
                "t": t,
            },
        )
    ).all()
    if not found:
        return snapshot
    on_track, at_risk = found[0][8], found[0][9]
    snapshot.thresholds = formulas.Thresholds.from_settings(
        {
            name: orjson.loads(value)
            for name, value in (("on_track_ratio", on_track), ("at_risk_ratio", at_risk))
            if value is not None
        }
    )
    cycles: dict[tuple[date, date], tuple[datetime, datetime]] = {}
    for kr_id, objective_id, metric_id, direction, start_value, target_value, a, b, _, _ in found:
        cycle = cycles.get((a, b))
        if cycle is None:
            cycle = cycles[(a, b)] = formulas.cycle_window(a, b)
        window = (metric_id, cycle[0], cycle[1] if cycle[1] < t else t)
        snapshot.key_results.append(
            MetricKeyResult(
                kr_id, objective_id, direction, start_value, target_value, cycle, window
            )
        )
    before = await _window_values(session, org_id, snapshot.key_results)
    snapshot.before = {
        kr.id: metric_score(kr, before, t, snapshot.thresholds) for kr in snapshot.key_results
    }
    return snapshot


async def _window_values(
    session: AsyncSession, org_id: uuid.UUID, key_results: Sequence[MetricKeyResult]
) -> dict[Window, float | None]:
    return await window_values(session, org_id, [kr.window for kr in key_results])


async def metric_status_changes(
    session: AsyncSession, org_id: uuid.UUID, snapshot: MetricSnapshot, *, cause: str = "write"
) -> list[tuple[str, uuid.UUID | None, dict[str, Any]]]:
    """After writing the batch: the `key_result.status_changed` events (type, subject,
    payload) of the key results of `snapshot` whose status moved, to pass to `emit_many`
    (`snapshot.after` is filled). One window-aggregate statement, none without key results.

    Measured rather than predicted from the batch: one pass per window over the stored
    points either way, and reading the windows again also counts points that concurrent
    batches committed meanwhile (as the full engine did).
    """
    if not snapshot.key_results:
        return []
    values = await _window_values(session, org_id, snapshot.key_results)
    snapshot.after = {
        kr.id: metric_score(kr, values, snapshot.as_of, snapshot.thresholds)
        for kr in snapshot.key_results
    }
    moved = [
        (str(kr.id), kr)
        for kr in snapshot.key_results
        if snapshot.after[kr.id].status is not snapshot.before[kr.id].status
    ]
    moved.sort(key=lambda item: item[0])
    announced: list[tuple[str, uuid.UUID | None, dict[str, Any]]] = []
    for _, kr in moved:
        after = snapshot.after[kr.id]
        payload = {
            "key_result_id": str(kr.id),
            "objective_id": str(kr.objective_id),
            "before": snapshot.before[kr.id].status.value,
            "after": after.status.value,
            "progress": after.progress,
            "expected_progress": after.expected_progress,
            "cause": cause,
            "as_of": snapshot.as_of.isoformat(),
        }
        announced.append((STATUS_CHANGED, kr.id, payload))
    return announced


def _status(value: KeyResultRollup | str) -> str:
    return value if isinstance(value, str) else value.status.value
