"""`key_result.status_changed`: announce a key result's status when it changes.

Writers (check-ins, key-result edits and moves, cycle dates, objective moves, thresholds,
the daily sweep) bracket their change, in their own transaction:

    before = await tracker.snapshot(session, org_id, key_result_ids)
    ... the change ...
    await tracker.announce_changes(session, org_id, before)

Ingested points are announced by the worker's recheck instead (`service.statuses.recheck`),
through this module's light path (`metric_key_results`, `metric_scores`). Every announcer
compares with the last announced status (`key_result_statuses`) and locks those rows before
computing the new statuses, so each key result's events form one chain (each `before` is
the previous `after`): docs/decisions/0007-status-changes-announced-as-one-chain.md.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.outbox import emit_many
from service.events.catalog import EventType
from service.models import Event, KeyResult, KeyResultState, Objective
from service.models.key_result_status import STATUSES
from service.rollups import formulas
from service.rollups.service import key_result_progresses
from service.rollups.types import KeyResultProgress, Status
from service.statuses import window_cache
from service.statuses.window_cache import Span, Window, Written

assert tuple(status.value for status in Status) == STATUSES  # the table's check constraint


Announcement = tuple[EventType, uuid.UUID | None, dict[str, Any]]  # what `emit_many` takes


def status_changed(
    key_result_id: uuid.UUID,
    objective_id: uuid.UUID | None,
    before: str,
    after: str,
    progress: float,
    expected_progress: float,
    cause: str,
    as_of: datetime,
) -> Announcement:
    """A `key_result.status_changed` event (payload: `service.events.catalog`), whichever
    path announces it."""
    return (
        EventType.KEY_RESULT_STATUS_CHANGED,
        key_result_id,
        {
            "key_result_id": str(key_result_id),
            "objective_id": None if objective_id is None else str(objective_id),
            "before": before,
            "after": after,
            "progress": progress,
            "expected_progress": expected_progress,
            "cause": cause,
            "as_of": as_of.isoformat(),
        },
    )


async def snapshot(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_ids: Iterable[uuid.UUID],
    *,
    as_of: datetime | None = None,
) -> dict[uuid.UUID, KeyResultProgress]:
    """The roll-ups (status included) of these key results, to compare after a change."""
    ids = list(dict.fromkeys(key_result_ids))
    if not ids:
        return {}
    return await key_result_progresses(session, org_id, ids, as_of=as_of)


# Stored statuses -------------------------------------------------------------------------------

# Lock the stored status of each key result, storing `before` where none is stored yet (an
# insert that conflicts locks the existing row instead: the no-op update), and return what
# is stored. In key-result order, so concurrent announcers lock in the same order.
_LOCK = text(
    """
    INSERT INTO key_result_statuses AS stored (org_id, key_result_id, status, progress, as_of)
    SELECT CAST(:org AS uuid), r.key_result_id, r.status, r.progress, r.as_of
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:statuses AS varchar[]), CAST(:progress AS float8[]),
        CAST(:as_ofs AS timestamptz[])
    ) AS r(key_result_id, status, progress, as_of)
    ORDER BY r.key_result_id
    ON CONFLICT (org_id, key_result_id) DO UPDATE SET status = stored.status
    RETURNING stored.key_result_id, stored.status
    """
)

# Store statuses: `replace` rows overwrite the stored one (an announced change, on a row the
# caller has locked), the others are first observations, kept only where nothing is stored
# (a concurrent announcer's row wins).
_STORE = text(
    """
    WITH r AS (
        SELECT *
        FROM unnest(
            CAST(:ids AS uuid[]), CAST(:statuses AS varchar[]), CAST(:progress AS float8[]),
            CAST(:as_ofs AS timestamptz[]), CAST(:replace AS boolean[])
        ) AS r(key_result_id, status, progress, as_of, replace)
    ), replaced AS (
        UPDATE key_result_statuses AS stored
        SET status = r.status, progress = r.progress, as_of = r.as_of, updated_at = now()
        FROM r
        WHERE r.replace AND stored.org_id = CAST(:org AS uuid)
          AND stored.key_result_id = r.key_result_id
    )
    INSERT INTO key_result_statuses (org_id, key_result_id, status, progress, as_of)
    SELECT CAST(:org AS uuid), r.key_result_id, r.status, r.progress, r.as_of
    FROM r
    WHERE NOT r.replace
    ORDER BY r.key_result_id
    ON CONFLICT (org_id, key_result_id) DO NOTHING
    """
)


@dataclass(frozen=True, slots=True)
class StoredStatus:
    """A status to store: `replace` an announced change, or a first observation."""

    key_result_id: uuid.UUID
    status: str
    progress: float | None
    as_of: datetime
    replace: bool


async def store_statuses(
    session: AsyncSession, org_id: uuid.UUID, statuses: Sequence[StoredStatus]
) -> None:
    """Store these statuses in one statement (nothing to do for none)."""
    if not statuses:
        return
    await session.execute(
        _STORE,
        {
            "org": org_id,
            "ids": [s.key_result_id for s in statuses],
            "statuses": [s.status for s in statuses],
            "progress": [s.progress for s in statuses],
            "as_ofs": [s.as_of for s in statuses],
            "replace": [s.replace for s in statuses],
        },
    )


async def observe(
    session: AsyncSession, org_id: uuid.UUID, key_result_ids: Iterable[uuid.UUID]
) -> None:
    """Store the current status of key results that have none (a new key result), so that
    the first change ingestion causes is announced with the right `before`."""
    rollups = await snapshot(session, org_id, key_result_ids)
    await store_statuses(
        session,
        org_id,
        [
            StoredStatus(kr_id, rollup.status.value, rollup.progress, rollup.as_of, False)
            for kr_id, rollup in sorted(rollups.items(), key=lambda item: item[0])
        ],
    )


async def announce_changes(
    session: AsyncSession,
    org_id: uuid.UUID,
    before: Mapping[uuid.UUID, KeyResultProgress | str],
    *,
    cause: str = "write",
    as_of: datetime | None = None,
) -> list[Event]:
    """Emit `key_result.status_changed` for every key result whose status now differs from
    its stored status (`key_result_statuses`), or from `before` (a roll-up or a bare status
    string) where none is stored; store the announced statuses. Returns the events written.

    The stored rows are locked (and `before` stored where missing) before the new statuses
    are computed: a concurrent announcer of the same key results (another writer, the
    worker's recheck after ingestion) waits, and the later one compares with what the
    earlier one announced.
    """
    if not before:
        return []
    ids = sorted(before)
    now = datetime.now(UTC)
    locked = await session.execute(
        _LOCK,
        {
            "org": org_id,
            "ids": ids,
            "statuses": [_status(before[kr_id]) for kr_id in ids],
            "progress": [_progress(before[kr_id]) for kr_id in ids],
            "as_ofs": [_as_of(before[kr_id], now) for kr_id in ids],
        },
    )
    stored: dict[uuid.UUID, str] = {kr_id: value for kr_id, value in locked.all()}
    after = await key_result_progresses(session, org_id, ids, as_of=as_of)
    changed = {
        kr_id: rollup
        for kr_id, rollup in after.items()
        if stored.get(kr_id, _status(before[kr_id])) != rollup.status.value
    }
    if not changed:
        return []
    rows = await session.execute(
        select(KeyResult.id, KeyResult.objective_id).where(
            KeyResult.org_id == org_id, KeyResult.id.in_(list(changed))
        )
    )
    objectives = {kr_id: objective_id for kr_id, objective_id in rows.all()}
    announced = [
        status_changed(
            kr_id,
            objectives.get(kr_id),
            stored.get(kr_id, _status(before[kr_id])),
            rollup.status.value,
            rollup.progress,
            rollup.expected_progress,
            cause,
            rollup.as_of,
        )
        for kr_id, rollup in sorted(changed.items(), key=lambda item: str(item[0]))
    ]
    # One statement for all the events (a sweep may move many key results at once), one
    # to load them back, one to store them: the cost does not grow with the changes.
    seqs = [emitted.seq for emitted in await emit_many(session, org_id, announced)]
    await store_statuses(
        session,
        org_id,
        [
            StoredStatus(kr_id, rollup.status.value, rollup.progress, rollup.as_of, True)
            for kr_id, rollup in sorted(changed.items(), key=lambda item: item[0])
        ],
    )
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


# The recheck's light path ----------------------------------------------------------------------


# Active key results (of objectives neither draft nor archived) measured on the touched
# metrics whose window [cycle start, min(t, cycle end)) can hold one of the written points
# (the metric's earliest..latest ts). The window test is exact, so nothing outside it
# reaches Python; `cycle_window` stays the one definition of the window. The key results
# and their objectives are found first (`OFFSET 0` keeps that subquery whole), then their
# cycles: left to itself the planner paired every touched metric with every cycle before
# finding key results, and looked each objective up once per cycle (decision record 0007).
_MATCH = """
    FROM (
        SELECT kr.id, kr.objective_id, kr.metric_id, kr.direction, kr.start_value,
               kr.target_value, o.cycle_id, touched.first_ts, touched.last_ts
        FROM unnest(:metric_ids, :firsts, :lasts) AS touched(metric_id, first_ts, last_ts)
        JOIN key_results kr ON kr.org_id = :org AND kr.metric_id = touched.metric_id
        JOIN objectives o ON o.org_id = :org AND o.id = kr.objective_id
        WHERE kr.state = 'active' AND kr.measure = 'metric'
          AND o.state NOT IN ('draft', 'archived')
        OFFSET 0
    ) AS kr
    JOIN cycles cy ON cy.org_id = :org AND cy.id = kr.cycle_id
    {join}
    WHERE (cy.starts_on::timestamp AT TIME ZONE 'UTC') <= kr.last_ts
      AND (cy.starts_on::timestamp AT TIME ZONE 'UTC') < :t
      AND kr.first_ts < LEAST(:t, ((cy.ends_on + 1)::timestamp AT TIME ZONE 'UTC'))
"""
# Spans as bound arrays (`span_params`), for every statement taking them.
SPANS = (
    bindparam("metric_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("firsts", type_=ARRAY(TIMESTAMP(timezone=True))),
    bindparam("lasts", type_=ARRAY(TIMESTAMP(timezone=True))),
)

# ... with the organization's thresholds as JSON text (tiny strings, decoded once, rather
# than the settings object decoded on every row).
_METRIC_KEY_RESULTS = text(
    """
    SELECT kr.id, kr.objective_id, kr.metric_id, kr.direction, kr.start_value,
           kr.target_value, cy.starts_on, cy.ends_on,
           (org.settings -> 'on_track_ratio')::text, (org.settings -> 'at_risk_ratio')::text
    """
    + _MATCH.format(join="JOIN organizations org ON org.id = :org")
).bindparams(*SPANS)

# ... their stored statuses, locked (rows of key results without one are not locked: there
# is nothing to lock; their first observation is stored only if nobody stored one meanwhile).
_LOCK_METRIC_STATUSES = text(
    "SELECT kr.id, stored.status"
    + _MATCH.format(
        join="JOIN key_result_statuses stored"
        " ON stored.org_id = :org AND stored.key_result_id = kr.id"
    )
    + " ORDER BY kr.id FOR UPDATE OF stored"
).bindparams(*SPANS)


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


def metric_score(
    kr: MetricKeyResult,
    values: Mapping[Window, float | None],
    as_of: datetime,
    thresholds: formulas.Thresholds,
) -> MetricScore:
    """The engine's score of a metric key result (`GoalEvaluator._score_all`), from its window's
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


def span_params(org_id: uuid.UUID, spans: Mapping[uuid.UUID, Span], t: datetime) -> dict[str, Any]:
    """The parameters of a statement taking an organization's spans (`SPANS`) at `t`."""
    return {
        "org": org_id,
        "metric_ids": list(spans),
        "firsts": [span[0] for span in spans.values()],
        "lasts": [span[1] for span in spans.values()],
        "t": t,
    }


async def lock_metric_statuses(
    session: AsyncSession, org_id: uuid.UUID, spans: Mapping[uuid.UUID, Span], t: datetime
) -> dict[uuid.UUID, str]:
    """Lock the stored statuses of the key results `metric_key_results` may return (one
    statement); by key result. Run it first, then read: see the module docstring."""
    if not spans:
        return {}
    result = await session.execute(_LOCK_METRIC_STATUSES, span_params(org_id, spans, t))
    return {kr_id: value for kr_id, value in result.all()}


async def metric_key_results(
    session: AsyncSession, org_id: uuid.UUID, spans: Mapping[uuid.UUID, Span], t: datetime
) -> tuple[formulas.Thresholds, list[MetricKeyResult]]:
    """The key results points written in `spans` (per metric) can move at `t`, with the
    organization's thresholds; one statement."""
    if not spans:
        return formulas.Thresholds(), []
    found = (await session.execute(_METRIC_KEY_RESULTS, span_params(org_id, spans, t))).all()
    if not found:
        return formulas.Thresholds(), []
    thresholds = formulas.Thresholds.from_json_texts(found[0][8], found[0][9])
    cycles: dict[tuple[date, date], tuple[datetime, datetime]] = {}
    key_results = []
    for kr_id, objective_id, metric_id, direction, start_value, target_value, a, b, _, _ in found:
        cycle = cycles.get((a, b))
        if cycle is None:
            cycle = cycles[(a, b)] = formulas.cycle_window(a, b)
        window = (metric_id, cycle[0], cycle[1] if cycle[1] < t else t)
        key_results.append(
            MetricKeyResult(
                kr_id, objective_id, direction, start_value, target_value, cycle, window
            )
        )
    return thresholds, key_results


async def metric_scores(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_results: Sequence[MetricKeyResult],
    t: datetime,
    thresholds: formulas.Thresholds,
    written: Written,
) -> dict[uuid.UUID, MetricScore]:
    """Each key result's score at `t`, after the batches of `written`: one window-aggregate
    statement for all of them, which reads only what changed where it can
    (`service.statuses.window_cache`), and forgets what it kept of windows the batches reach
    that none of `key_results` reads (with none, that is all it does)."""
    values = await window_cache.window_values(
        session, org_id, [(kr.window, kr.cycle[1]) for kr in key_results], written
    )
    return {kr.id: metric_score(kr, values, t, thresholds) for kr in key_results}


def _status(value: KeyResultProgress | str) -> str:
    return value if isinstance(value, str) else value.status.value


def _progress(value: KeyResultProgress | str) -> float | None:
    return None if isinstance(value, str) else value.progress


def _as_of(value: KeyResultProgress | str, now: datetime) -> datetime:
    return now if isinstance(value, str) else value.as_of
