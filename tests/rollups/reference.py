"""A plain-Python reference of SPEC §3 (and of the roll-up rules in decision record 0017).

Readable first: recursion, no SQL, no caching. It works on plain dataclasses describing
one organization; the property test writes the same organization to the database and
checks the engine against these functions.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

COUNTING = ("active", "closed")
STATUS_ORDER = ["off_track", "at_risk", "no_data", "on_track", "done"]


@dataclass
class Cycle:
    id: uuid.UUID
    starts_on: date
    ends_on: date


@dataclass
class Team:
    id: uuid.UUID
    parent_id: uuid.UUID | None


@dataclass
class Metric:
    id: uuid.UUID
    aggregation: str
    direction: str


@dataclass
class Point:
    metric_id: uuid.UUID
    ts: datetime
    value: float
    dimensions: dict[str, str]


@dataclass
class Objective:
    id: uuid.UUID
    cycle_id: uuid.UUID
    team_id: uuid.UUID
    state: str
    rollup_mode: str


@dataclass
class Alignment:
    child_id: uuid.UUID
    parent_id: uuid.UUID
    weight: float


@dataclass
class KeyResult:
    id: uuid.UUID
    objective_id: uuid.UUID
    measure: str
    direction: str
    start: float | None
    target: float | None
    weight: float
    state: str
    metric_id: uuid.UUID | None


@dataclass
class CheckIn:
    id: uuid.UUID
    key_result_id: uuid.UUID
    observed_at: datetime
    recorded_at: datetime
    value: float | None
    done: bool | None
    confidence: float | None
    retracted: bool


@dataclass
class Commitment:
    id: uuid.UUID
    state: str
    due_on: date
    done_at: datetime | None
    dropped_at: datetime | None
    key_result_ids: list[uuid.UUID]


@dataclass
class Org:
    id: uuid.UUID
    settings: dict[str, float]
    cycles: list[Cycle] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    alignments: list[Alignment] = field(default_factory=list)
    key_results: list[KeyResult] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)

    def cycle(self, cycle_id: uuid.UUID) -> Cycle:
        return next(c for c in self.cycles if c.id == cycle_id)

    def objective(self, objective_id: uuid.UUID) -> Objective:
        return next(o for o in self.objectives if o.id == objective_id)

    def key_result(self, key_result_id: uuid.UUID) -> KeyResult:
        return next(k for k in self.key_results if k.id == key_result_id)

    def metric(self, metric_id: uuid.UUID) -> Metric:
        return next(m for m in self.metrics if m.id == metric_id)


# Pace ------------------------------------------------------------------------------------


def cycle_bounds(cycle: Cycle) -> tuple[datetime, datetime]:
    start = datetime.combine(cycle.starts_on, time(0), tzinfo=UTC)
    end = datetime.combine(cycle.ends_on + timedelta(days=1), time(0), tzinfo=UTC)
    return start, end


def expected(cycle: Cycle, t: datetime) -> float:
    start, end = cycle_bounds(cycle)
    return min(1.0, max(0.0, (t - start) / (end - start)))


def pace_status(org: Org, p: float, e: float) -> str:
    on_track = org.settings.get("on_track_ratio", 0.7)
    at_risk = org.settings.get("at_risk_ratio", 0.4)
    # SPEC numbers compared at 9 decimals, so float noise (0.39999999999999997) is 0.4.
    if round(p, 9) >= 1:
        return "done"
    if e == 0:
        return "on_track"
    r = round(p / e, 9)
    if r >= on_track:
        return "on_track"
    if r >= at_risk:
        return "at_risk"
    return "off_track"


# Metrics ------------------------------------------------------------------------------------


def metric_value(
    org: Org, metric: Metric, a: datetime, b: datetime, dims: dict[str, str] | None = None
) -> float | None:
    points = [
        p
        for p in org.points
        if p.metric_id == metric.id
        and a <= p.ts < b
        and all(p.dimensions.get(k) == v for k, v in (dims or {}).items())
    ]
    values = [p.value for p in points]
    if metric.aggregation == "count":
        return float(len(values))
    if not values:
        return None
    if metric.aggregation == "sum":
        return sum(values)
    if metric.aggregation == "avg":
        return sum(values) / len(values)
    if metric.aggregation == "min":
        return min(values)
    if metric.aggregation == "max":
        return max(values)
    latest: dict[tuple[tuple[str, str], ...], Point] = {}
    for p in sorted(points, key=lambda p: p.ts):
        latest[tuple(sorted(p.dimensions.items()))] = p
    return sum(p.value for p in latest.values())


# Key results -------------------------------------------------------------------------------


def latest_check_in(org: Org, kr: KeyResult, t: datetime, wanted: str) -> CheckIn | None:
    """Latest non-retracted check-in observed at or before t."""
    candidates = [
        c
        for c in org.check_ins
        if c.key_result_id == kr.id
        and not c.retracted
        and c.observed_at <= t
        and getattr(c, wanted) is not None
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.observed_at, c.recorded_at, c.id))


def current_value(org: Org, kr: KeyResult, t: datetime) -> float | None:
    if kr.measure == "metric":
        assert kr.metric_id is not None
        start, end = cycle_bounds(org.cycle(org.objective(kr.objective_id).cycle_id))
        b = min(t, end)
        if b <= start:
            return None
        return metric_value(org, org.metric(kr.metric_id), start, b)
    if kr.measure == "milestone":
        check_in = latest_check_in(org, kr, t, "done")
        return None if check_in is None else (1.0 if check_in.done else 0.0)
    check_in = latest_check_in(org, kr, t, "value")
    return None if check_in is None else check_in.value


@dataclass
class KeyResultNumbers:
    current: float | None
    attainment: float | None
    progress: float
    status: str
    expected: float
    confidence: float | None


def key_result_numbers(org: Org, kr: KeyResult, t: datetime) -> KeyResultNumbers:
    c = current_value(org, kr, t)
    e = expected(org.cycle(org.objective(kr.objective_id).cycle_id), t)
    confidence_check_in = latest_check_in(org, kr, t, "confidence")
    confidence = None if confidence_check_in is None else confidence_check_in.confidence
    if c is None:
        return KeyResultNumbers(None, None, 0.0, "no_data", e, confidence)
    if kr.measure == "milestone":
        return KeyResultNumbers(c, c, c, pace_status(org, c, e), e, confidence)
    assert kr.target is not None
    if kr.direction in ("at_least", "at_most"):
        holds = c >= kr.target if kr.direction == "at_least" else c <= kr.target
        p = 1.0 if holds else 0.0
        return KeyResultNumbers(c, p, p, "on_track" if holds else "off_track", e, confidence)
    assert kr.start is not None
    a = (c - kr.start) / (kr.target - kr.start)
    p = min(1.0, max(0.0, a))
    return KeyResultNumbers(c, a, p, pace_status(org, p, e), e, confidence)


# Objectives -------------------------------------------------------------------------------


def items(org: Org, objective: Objective) -> list[tuple[str, uuid.UUID, float]]:
    krs = sorted(
        ("key_result", k.id, k.weight)
        for k in org.key_results
        if k.objective_id == objective.id and k.state == "active"
    )
    children = sorted(
        ("objective", a.child_id, a.weight)
        for a in org.alignments
        if a.parent_id == objective.id and org.objective(a.child_id).state in COUNTING
    )
    if objective.rollup_mode == "key_results":
        return krs
    if objective.rollup_mode == "children":
        return children
    if objective.rollup_mode == "both":
        return krs + children
    return krs if krs else children


def item_progress(org: Org, kind: str, item_id: uuid.UUID, t: datetime) -> float | None:
    if kind == "key_result":
        return key_result_numbers(org, org.key_result(item_id), t).progress
    return objective_progress(org, org.objective(item_id), t)


def weighted_mean(pairs: list[tuple[float, float | None]]) -> float | None:
    counted = [(w, p) for w, p in pairs if w > 0 and p is not None]
    total = sum(w for w, _ in counted)
    if total == 0:
        return None
    weighted = 0.0
    for w, p in counted:
        assert p is not None
        weighted += w * p
    return weighted / total


def objective_progress(org: Org, objective: Objective, t: datetime) -> float | None:
    return weighted_mean(
        [(w, item_progress(org, kind, i, t)) for kind, i, w in items(org, objective)]
    )


def objective_status(org: Org, objective: Objective, t: datetime) -> str:
    p = objective_progress(org, objective, t)
    if p is None:
        return "no_data"
    return pace_status(org, p, expected(org.cycle(objective.cycle_id), t))


def worst_key_result_status(org: Org, objective: Objective, t: datetime) -> str | None:
    statuses: list[str] = []
    for kind, item_id, weight in items(org, objective):
        if weight <= 0:
            continue
        if kind == "key_result":
            statuses.append(key_result_numbers(org, org.key_result(item_id), t).status)
        else:
            worst = worst_key_result_status(org, org.objective(item_id), t)
            if worst is not None:
                statuses.append(worst)
    return min(statuses, key=STATUS_ORDER.index) if statuses else None


def breakdown(
    org: Org, entries: list[tuple[str, uuid.UUID, float]], t: datetime
) -> list[tuple[uuid.UUID, float, float | None, bool, float, float | None]]:
    """(id, weight, progress, counted, share, contribution) per item."""
    progresses = [item_progress(org, kind, i, t) for kind, i, _ in entries]
    total = sum(
        w for (_, _, w), p in zip(entries, progresses, strict=True) if w > 0 and p is not None
    )
    rows = []
    for (_, item_id, w), p in zip(entries, progresses, strict=True):
        counted = w > 0 and p is not None
        share = w / total if counted else 0.0
        rows.append(
            (item_id, w, p, counted, share, share * p if counted and p is not None else None)
        )
    return rows


# Delivery ---------------------------------------------------------------------------------


def supported_key_results(org: Org, objective: Objective) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for kind, item_id, weight in items(org, objective):
        if weight <= 0:
            continue
        if kind == "key_result":
            found.add(item_id)
        else:
            found |= supported_key_results(org, org.objective(item_id))
    return found


def delivery(
    org: Org, key_result_ids: set[uuid.UUID], t: datetime
) -> tuple[int, int, int, int, float | None]:
    """(committed, delivered, open, overdue, on-time rate) of commitments on the key results.

    Dates ("t's date", "done on or before due_on") are UTC dates, whatever t's offset.
    """
    committed = delivered = open_ = overdue = on_time = 0
    for c in org.commitments:
        if not key_result_ids & set(c.key_result_ids):
            continue
        done = c.state == "done" and c.done_at is not None and c.done_at <= t
        dropped = c.state == "dropped" and (c.dropped_at is None or c.dropped_at <= t)
        if dropped and not done:
            continue
        committed += 1
        if done:
            assert c.done_at is not None
            delivered += 1
            on_time += c.done_at.astimezone(UTC).date() <= c.due_on
        else:
            open_ += 1
            overdue += c.due_on < t.astimezone(UTC).date()
    return committed, delivered, open_, overdue, (on_time / delivered if delivered else None)


def objective_delivery(
    org: Org, objectives: list[Objective], t: datetime
) -> tuple[int, int, int, int, float | None]:
    key_results: set[uuid.UUID] = set()
    for objective in objectives:
        key_results |= supported_key_results(org, objective)
    return delivery(org, key_results, t)


# Teams and cycles ---------------------------------------------------------------------------


def team_and_subteams(org: Org, team_id: uuid.UUID) -> set[uuid.UUID]:
    found = {team_id}
    for team in org.teams:
        if team.parent_id == team_id:
            found |= team_and_subteams(org, team.id)
    return found


def team_objectives(
    org: Org, team_id: uuid.UUID, cycle_id: uuid.UUID, include_subteams: bool
) -> tuple[list[Objective], list[Objective]]:
    """(owned, top level) objectives of a team in a cycle."""
    teams = team_and_subteams(org, team_id) if include_subteams else {team_id}
    owned = [
        o
        for o in org.objectives
        if o.cycle_id == cycle_id and o.state in COUNTING and o.team_id in teams
    ]
    owned_ids = {o.id for o in owned}
    top = [
        o
        for o in owned
        if not any(a.child_id == o.id and a.parent_id in owned_ids for a in org.alignments)
    ]
    return owned, top


def company_objectives(org: Org, cycle_id: uuid.UUID) -> tuple[list[Objective], list[Objective]]:
    """(counting objectives of the cycle, those without a counting parent in the cycle)."""
    in_cycle = [o for o in org.objectives if o.cycle_id == cycle_id and o.state in COUNTING]
    in_cycle_ids = {o.id for o in in_cycle}
    top = [
        o
        for o in in_cycle
        if not any(a.child_id == o.id and a.parent_id in in_cycle_ids for a in org.alignments)
    ]
    return in_cycle, top


def group_progress(org: Org, objectives: list[Objective], t: datetime) -> float | None:
    ordered = sorted(objectives, key=lambda o: o.id)
    return weighted_mean([(1.0, objective_progress(org, o, t)) for o in ordered])


def band(p: float) -> str:
    p = round(p, 9)
    if p >= 0.7:
        return "0.7-1.0"
    if p >= 0.4:
        return "0.4-0.6"
    return "0.0-0.3"
