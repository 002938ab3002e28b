"""Public roll-up functions: load a scope in a fixed number of statements, evaluate in Python."""

import functools
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import Invalid, NotFound
from service.rollups import formulas, repository
from service.rollups.formulas import COUNTING_OBJECTIVE_STATES, Thresholds
from service.rollups.gc_pause import collector_paused
from service.rollups.repository import LoadedObjective
from service.rollups.snapshot import (
    CommitmentRow,
    GoalEvaluator,
    GoalSnapshot,
    KeyResultRow,
    MetricWindowKey,
    metric_window,
)
from service.rollups.types import (
    BreakdownItem,
    CycleRollup,
    HistoryPoint,
    Interval,
    ItemKind,
    KeyResultProgress,
    KeyResultRollup,
    ObjectiveRollup,
    ScoreBand,
    Status,
    TeamRollup,
)

T = TypeVar("T")
MAX_HISTORY_BUCKETS = 1000


def _uuid_int(value: uuid.UUID) -> int:
    """Sort key ordering UUIDs like `UUID.__lt__` (and PostgreSQL), compared in C."""
    return value.int


def resolve_as_of(as_of: datetime | None, *, field: str = "asOf") -> datetime:
    """`as_of`, or now when None; Invalid (naming `field`) without a time zone."""
    if as_of is None:
        return datetime.now(UTC)
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise Invalid(f"{field} needs a time zone (e.g. 2027-01-15T00:00:00Z)", field=field)
    return as_of


# Buckets -------------------------------------------------------------------------------------


def bucket_start(instant: datetime, interval: Interval) -> datetime:
    """The UTC bucket holding `instant` (weeks start on ISO Monday)."""
    t = instant.astimezone(UTC)
    if interval is Interval.hour:
        return t.replace(minute=0, second=0, microsecond=0)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.day:
        return day
    if interval is Interval.week:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(start: datetime, interval: Interval) -> datetime:
    if interval is Interval.hour:
        return start + timedelta(hours=1)
    if interval is Interval.day:
        return start + timedelta(days=1)
    if interval is Interval.week:
        return start + timedelta(days=7)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def history_buckets(
    start: datetime, end: datetime, interval: Interval
) -> list[tuple[datetime, datetime]]:
    """(bucket start, bucket end) of every bucket meeting [start, end]."""
    start, end = resolve_as_of(start), resolve_as_of(end)
    if end < start:
        raise Invalid("the end of a history comes before its start", field="to")
    buckets = []
    current = bucket_start(start, interval)
    while current <= end:
        following = next_bucket(current, interval)
        buckets.append((current, following))
        if len(buckets) > MAX_HISTORY_BUCKETS:
            raise Invalid(
                f"a history holds at most {MAX_HISTORY_BUCKETS} buckets", field="interval"
            )
        current = following
    return buckets


# Loading ------------------------------------------------------------------------------------


async def _organization_thresholds(session: AsyncSession, org_id: uuid.UUID) -> Thresholds:
    settings = await repository.organization_settings(session, org_id)
    if settings is None:
        raise NotFound("organization not found")
    return Thresholds.from_settings(settings)


async def _snapshot(
    session: AsyncSession,
    org_id: uuid.UUID,
    thresholds: Thresholds,
    loaded: Sequence[LoadedObjective],
    instants: Sequence[datetime],
    *,
    key_results: Sequence[KeyResultRow] | None = None,
    confidence: bool = False,
    commitments: bool = True,
) -> GoalSnapshot:
    """Everything the instants need about the loaded objectives (children and active key
    results), or only about `key_results` when given. A fixed number of statements: one
    (`repository.subtree_scope`) below `WIDE_OBJECTIVE_SCOPE` objectives.
    `commitments=False` leaves commitments out (no delivery asked)."""
    objectives = {o.row.id: o.row for o in loaded}
    cycles: dict[uuid.UUID, tuple[datetime, datetime]] = {}
    for o in loaded:  # a handful of cycles for thousands of objectives
        if o.row.cycle_id not in cycles:
            cycles[o.row.cycle_id] = formulas.cycle_window(o.starts_on, o.ends_on)
    children: dict[uuid.UUID, list[tuple[uuid.UUID, float]]] = {}
    # Each cycle's non-empty metric windows at the instants, computed once per cycle and
    # looked up once per objective rather than per key result.
    spans = {
        cycle_id: [w for w in (metric_window(cycle, t) for t in instants) if w[1] > w[0]]
        for cycle_id, cycle in cycles.items()
    }
    scope: repository.SubtreeScope | None = None  # everything, in one statement
    if key_results is None:
        for o in loaded:
            for parent, weight in zip(o.parents, o.weights, strict=True):
                if parent in objectives:
                    children.setdefault(parent, []).append((o.row.id, weight))
        if len(objectives) < repository.WIDE_OBJECTIVE_SCOPE and commitments and not confidence:
            scope = await repository.subtree_scope(
                session,
                org_id,
                {o: row.cycle_id for o, row in objectives.items()},
                spans,
                max(instants),
                latest_only=len(instants) == 1,
            )
            key_results = scope.key_results
        else:
            key_results = await repository.active_key_results(session, org_id, list(objectives))
    # Items in id order: a stable breakdown, and sums in one reproducible order.
    # Sorting by `UUID.int` orders like the UUIDs (and PostgreSQL) but compares in C, not
    # through `UUID.__lt__` (decision record 0014).
    key_results = sorted(key_results, key=attrgetter("id.int"))
    for kids in children.values():
        kids.sort(key=lambda kid: kid[0].int)  # a child aligns once under a parent
    by_objective: dict[uuid.UUID, list[uuid.UUID]] = {}
    for kr in key_results:
        if kr.state == "active":
            by_objective.setdefault(kr.objective_id, []).append(kr.id)
    snapshot = GoalSnapshot(
        thresholds=thresholds,
        cycles=cycles,
        objectives=objectives,
        children=children,
        key_results={kr.id: kr for kr in key_results},
        key_results_by_objective=by_objective,
        metric_values={},
        commitments={},
        commitments_by_key_result={},
    )
    if scope is not None:
        snapshot.add_check_ins(scope.check_ins, confidence=False)
        snapshot.metric_values = scope.metric_values
        _add_commitments(snapshot, scope.commitments)
        return snapshot
    kr_ids = list(snapshot.key_results)
    if not kr_ids:
        return snapshot
    wanted = {"manual": "value", "milestone": "done"}
    check_ins = await repository.check_ins(
        session,
        org_id,
        [(kr.id, wanted.get(kr.measure, "none")) for kr in key_results],
        max(instants),
        latest_only=len(instants) == 1,
        confidence=confidence,
    )
    snapshot.add_check_ins(check_ins, confidence=confidence)
    spans_of = {o: spans[row.cycle_id] for o, row in objectives.items()}
    windows: list[MetricWindowKey] = [
        (kr.metric_id, start, end)
        for kr in key_results
        if kr.measure == "metric" and kr.metric_id is not None
        for start, end in spans_of[kr.objective_id]
    ]
    if windows:
        snapshot.metric_values = await repository.window_values(session, org_id, windows)
    if not commitments:
        return snapshot
    _add_commitments(snapshot, await repository.commitments_of_key_results(session, org_id, kr_ids))
    return snapshot


def _add_commitments(
    snapshot: GoalSnapshot, rows: Sequence[tuple[uuid.UUID, CommitmentRow]]
) -> None:
    for kr_id, commitment in rows:
        snapshot.commitments.setdefault(commitment.id, commitment)
        snapshot.commitments_by_key_result.setdefault(kr_id, []).append(commitment.id)


P = ParamSpec("P")


def _paused(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run a roll-up with the cyclic garbage collector paused (see `gc_pause`)."""

    @functools.wraps(function)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with collector_paused():
            return await function(*args, **kwargs)

    return wrapper


def _evaluate(
    snapshot: GoalSnapshot,
    instants: Sequence[datetime],
    build: Callable[[GoalEvaluator], T],
    *,
    objectives: bool = True,
) -> list[T]:
    return [build(GoalEvaluator(snapshot, t, objectives=objectives)) for t in instants]


def _history(
    buckets: Sequence[tuple[datetime, datetime]], values: Sequence[T]
) -> list[HistoryPoint[T]]:
    return [
        HistoryPoint(bucket_start=start, as_of=end, rollup=value)
        for (start, end), value in zip(buckets, values, strict=True)
    ]


# Key results ----------------------------------------------------------------------------------


async def _key_results_at_unpaused(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_ids: Sequence[uuid.UUID],
    instants: Sequence[datetime],
    detail: bool = True,
) -> list[dict[uuid.UUID, Any]]:
    """`KeyResultRollup`s, or with `detail=False` `KeyResultProgress`es (no confidence and
    no delivery: neither check-in confidences nor commitments are loaded)."""
    found, thresholds = await repository.key_results_with_objectives(
        session, org_id, list(key_result_ids)
    )
    loaded = {objective.row.id: objective for _, objective in found}
    snapshot = await _snapshot(
        session,
        org_id,
        thresholds or Thresholds(),  # none found: nothing to evaluate
        list(loaded.values()),
        instants,
        key_results=[kr for kr, _ in found],
        confidence=detail,
        commitments=detail,
    )

    def build(evaluator: GoalEvaluator) -> dict[uuid.UUID, Any]:
        one = evaluator.key_result if detail else evaluator.key_result_progress
        return {kr.id: one(kr.id) for kr, _ in found}

    return _evaluate(snapshot, instants, build, objectives=False)


_key_results_at = _paused(_key_results_at_unpaused)


async def key_result_rollups(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_ids: Sequence[uuid.UUID],
    *,
    as_of: datetime | None = None,
) -> dict[uuid.UUID, KeyResultRollup]:
    """Roll-ups of many key results at once (ids of other organizations are left out)."""
    return (await _key_results_at(session, org_id, key_result_ids, [resolve_as_of(as_of)]))[0]


async def key_result_progresses(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_ids: Sequence[uuid.UUID],
    *,
    as_of: datetime | None = None,
) -> dict[uuid.UUID, KeyResultProgress]:
    """Like `key_result_rollups` without confidence and delivery: the same value, attainment,
    progress, status and expected progress, with no commitments statement, a check-in
    statement without the confidence lookup (none when every key result is on a metric)
    and no delivery computed per key result."""
    return (
        await _key_results_at(session, org_id, key_result_ids, [resolve_as_of(as_of)], detail=False)
    )[0]


async def key_result_rollup(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_id: uuid.UUID,
    *,
    as_of: datetime | None = None,
) -> KeyResultRollup:
    rollups = await key_result_rollups(session, org_id, [key_result_id], as_of=as_of)
    if key_result_id not in rollups:
        raise NotFound("key result not found")
    return rollups[key_result_id]


async def key_result_history(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    interval: Interval,
) -> list[HistoryPoint[KeyResultRollup]]:
    buckets = history_buckets(start, end, interval)
    values = await _key_results_at(session, org_id, [key_result_id], [b[1] for b in buckets])
    if key_result_id not in values[0]:
        raise NotFound("key result not found")
    return _history(buckets, [v[key_result_id] for v in values])


# Objectives -------------------------------------------------------------------------------


async def _objectives_at_unpaused(
    session: AsyncSession,
    org_id: uuid.UUID,
    objective_ids: Sequence[uuid.UUID],
    instants: Sequence[datetime],
) -> list[dict[uuid.UUID, ObjectiveRollup]]:
    loaded, thresholds = await repository.objectives_with_thresholds(
        session, org_id, list(objective_ids)
    )
    # None found: nothing to evaluate.
    snapshot = await _snapshot(session, org_id, thresholds or Thresholds(), loaded, instants)
    wanted = [o for o in dict.fromkeys(objective_ids) if o in snapshot.objectives]
    return _evaluate(snapshot, instants, lambda ev: {o: ev.objective(o) for o in wanted})


_objectives_at = _paused(_objectives_at_unpaused)


async def objective_rollups(
    session: AsyncSession,
    org_id: uuid.UUID,
    objective_ids: Sequence[uuid.UUID],
    *,
    as_of: datetime | None = None,
) -> dict[uuid.UUID, ObjectiveRollup]:
    """Roll-ups of many objectives at once (ids of other organizations are left out)."""
    return (await _objectives_at(session, org_id, objective_ids, [resolve_as_of(as_of)]))[0]


async def objective_rollup(
    session: AsyncSession,
    org_id: uuid.UUID,
    objective_id: uuid.UUID,
    *,
    as_of: datetime | None = None,
) -> ObjectiveRollup:
    rollups = await objective_rollups(session, org_id, [objective_id], as_of=as_of)
    if objective_id not in rollups:
        raise NotFound("objective not found")
    return rollups[objective_id]


async def objective_history(
    session: AsyncSession,
    org_id: uuid.UUID,
    objective_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    interval: Interval,
) -> list[HistoryPoint[ObjectiveRollup]]:
    buckets = history_buckets(start, end, interval)
    values = await _objectives_at(session, org_id, [objective_id], [b[1] for b in buckets])
    if objective_id not in values[0]:
        raise NotFound("objective not found")
    return _history(buckets, [v[objective_id] for v in values])


# Teams and cycles ---------------------------------------------------------------------------


async def _cycle_window(
    session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID
) -> tuple[datetime, datetime]:
    result = await session.execute(
        text("SELECT starts_on, ends_on FROM cycles WHERE org_id = :org AND id = :id"),
        {"org": org_id, "id": cycle_id},
    )
    row = result.first()
    if row is None:
        raise NotFound("cycle not found", field="cycleId")
    return formulas.cycle_window(row.starts_on, row.ends_on)


def _group_breakdown(
    evaluator: GoalEvaluator, objective_ids: Sequence[uuid.UUID]
) -> tuple[float | None, tuple[BreakdownItem, ...]]:
    """Weighted mean (weight 1 each) over objectives, with its breakdown."""
    items = [(ItemKind.objective, o, 1.0) for o in objective_ids]
    progress = formulas.weighted_mean((1.0, evaluator.progress[o]) for o in objective_ids)
    return progress, evaluator.breakdown(items)


def _top_level(snapshot: GoalSnapshot, objective_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The objectives (in their order) not aligned under another of `objective_ids`."""
    members = set(objective_ids)
    aligned = {
        child
        for parent, kids in snapshot.children.items()
        if parent in members
        for child, _ in kids
    }
    return [o for o in objective_ids if o not in aligned]


@dataclass(frozen=True, slots=True)
class _TeamScope:
    team_id: uuid.UUID
    cycle_id: uuid.UUID
    include_subteams: bool
    window: tuple[datetime, datetime]
    owned: list[uuid.UUID]
    top: list[uuid.UUID]


async def _teams_at_unpaused(
    session: AsyncSession,
    org_id: uuid.UUID,
    team_id: uuid.UUID,
    cycle_id: uuid.UUID,
    include_subteams: bool,
    instants: Sequence[datetime],
) -> list[TeamRollup]:
    thresholds = await _organization_thresholds(session, org_id)
    window = await _cycle_window(session, org_id, cycle_id)
    teams = await repository.team_subtree(session, org_id, team_id)
    if not teams:
        raise NotFound("team not found", field="teamId")
    if not include_subteams:
        teams = [team_id]
    loaded = await repository.objective_subtree(
        session, org_id, repository.SEED_TEAMS, {"cycle": cycle_id, "teams": teams}
    )
    snapshot = await _snapshot(session, org_id, thresholds, loaded, instants)
    team_set = set(teams)
    owned = sorted(
        (
            o.row.id
            for o in loaded
            if o.row.cycle_id == cycle_id
            and o.row.state in COUNTING_OBJECTIVE_STATES
            and o.row.owner_team_id in team_set
        ),
        key=_uuid_int,
    )
    top = _top_level(snapshot, owned)

    def build(evaluator: GoalEvaluator) -> TeamRollup:
        progress, breakdown = _group_breakdown(evaluator, top)
        expected = formulas.expected_progress(window[0], window[1], evaluator.t)
        return TeamRollup(
            team_id=team_id,
            cycle_id=cycle_id,
            include_subteams=include_subteams,
            as_of=evaluator.t,
            progress=progress,
            status=formulas.objective_status(progress, expected, thresholds),
            expected_progress=expected,
            breakdown=breakdown,
            delivery=evaluator.delivery_of_objectives(owned),
        )

    return _evaluate(snapshot, instants, build)


_teams_at = _paused(_teams_at_unpaused)


async def team_rollup(
    session: AsyncSession,
    org_id: uuid.UUID,
    team_id: uuid.UUID,
    cycle_id: uuid.UUID,
    *,
    include_subteams: bool = False,
    as_of: datetime | None = None,
) -> TeamRollup:
    return (
        await _teams_at(
            session, org_id, team_id, cycle_id, include_subteams, [resolve_as_of(as_of)]
        )
    )[0]


async def team_history(
    session: AsyncSession,
    org_id: uuid.UUID,
    team_id: uuid.UUID,
    cycle_id: uuid.UUID,
    *,
    include_subteams: bool = False,
    start: datetime,
    end: datetime,
    interval: Interval,
) -> list[HistoryPoint[TeamRollup]]:
    buckets = history_buckets(start, end, interval)
    values = await _teams_at(
        session, org_id, team_id, cycle_id, include_subteams, [b[1] for b in buckets]
    )
    return _history(buckets, values)


async def _cycles_at_unpaused(
    session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID, instants: Sequence[datetime]
) -> list[CycleRollup]:
    thresholds = await _organization_thresholds(session, org_id)
    window = await _cycle_window(session, org_id, cycle_id)
    loaded = await repository.objective_subtree(
        session, org_id, repository.SEED_CYCLE, {"cycle": cycle_id}
    )
    snapshot = await _snapshot(session, org_id, thresholds, loaded, instants)
    in_cycle = sorted(
        (
            o.row.id
            for o in loaded
            if o.row.cycle_id == cycle_id and o.row.state in COUNTING_OBJECTIVE_STATES
        ),
        key=_uuid_int,
    )
    company = _top_level(snapshot, in_cycle)
    cycle_key_results = [
        kr for o in in_cycle for kr in snapshot.key_results_by_objective.get(o, ())
    ]

    score_band, no_data = formulas.score_band, Status.no_data

    def build(evaluator: GoalEvaluator) -> CycleRollup:
        progress, breakdown = _group_breakdown(evaluator, company)
        expected = formulas.expected_progress(window[0], window[1], evaluator.t)
        objective_status: Counter[Status] = Counter()
        objective_band: Counter[ScoreBand] = Counter()
        for o in in_cycle:
            objective_status[evaluator.objective_status(o)] += 1
            p = evaluator.progress[o]
            if p is not None:
                objective_band[score_band(p)] += 1
        scores = [evaluator.scores[kr] for kr in cycle_key_results]
        kr_status = Counter(status for _, _, _, status in scores)
        kr_band = Counter(
            score_band(progress) for _, _, progress, status in scores if status is not no_data
        )
        return CycleRollup(
            cycle_id=cycle_id,
            as_of=evaluator.t,
            progress=progress,
            status=formulas.objective_status(progress, expected, thresholds),
            expected_progress=expected,
            breakdown=breakdown,
            delivery=evaluator.delivery_of_objectives(in_cycle),
            objectives_by_status={s: objective_status[s] for s in Status},
            key_results_by_status={s: kr_status[s] for s in Status},
            objectives_by_band={b: objective_band[b] for b in ScoreBand},
            key_results_by_band={b: kr_band[b] for b in ScoreBand},
        )

    return _evaluate(snapshot, instants, build)


_cycles_at = _paused(_cycles_at_unpaused)


async def cycle_rollup(
    session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID, *, as_of: datetime | None = None
) -> CycleRollup:
    return (await _cycles_at(session, org_id, cycle_id, [resolve_as_of(as_of)]))[0]


async def cycle_history(
    session: AsyncSession,
    org_id: uuid.UUID,
    cycle_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    interval: Interval,
) -> list[HistoryPoint[CycleRollup]]:
    buckets = history_buckets(start, end, interval)
    values = await _cycles_at(session, org_id, cycle_id, [b[1] for b in buckets])
    return _history(buckets, values)
