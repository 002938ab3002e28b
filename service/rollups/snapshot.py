"""The goal tree as loaded for a roll-up, and its evaluation at an instant, in plain Python.

A `GoalSnapshot` holds everything one or many instants need (structure, the check-ins and
metric aggregates that matter, commitments); `GoalEvaluator` computes every number at one
instant t without touching the database. History evaluates one snapshot at many instants.
"""

import bisect
import uuid
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Protocol

from service.rollups import formulas
from service.rollups.formulas import COUNTING_OBJECTIVE_STATES, Thresholds
from service.rollups.types import (
    STATUS_ORDER,
    BreakdownItem,
    Delivery,
    ItemKind,
    KeyResultProgress,
    KeyResultRollup,
    ObjectiveRollup,
    Status,
)

MetricWindowKey = tuple[uuid.UUID, datetime, datetime]
# Enum members as module constants: attribute lookups on an Enum class are slow in hot loops.
KEY_RESULT = ItemKind.key_result
OBJECTIVE = ItemKind.objective


@dataclass(slots=True)
class ObjectiveRow:
    id: uuid.UUID
    title: str
    state: str
    rollup_mode: str
    cycle_id: uuid.UUID
    owner_team_id: uuid.UUID | None


@dataclass(slots=True)
class KeyResultRow:
    id: uuid.UUID
    objective_id: uuid.UUID
    title: str
    measure: str
    direction: str
    start_value: float | None
    target_value: float | None
    weight: float
    state: str
    metric_id: uuid.UUID | None


@dataclass(slots=True)
class CheckInRow:
    id: uuid.UUID
    key_result_id: uuid.UUID
    observed_at: datetime
    recorded_at: datetime
    value: float | None
    done: bool | None
    confidence: float | None


class CheckInFacts(Protocol):
    """What evaluating a check-in reads (a `CheckInRow` or a `CheckInValue`)."""

    @property
    def key_result_id(self) -> uuid.UUID: ...
    @property
    def observed_at(self) -> datetime: ...
    @property
    def value(self) -> float | None: ...
    @property
    def done(self) -> bool | None: ...
    @property
    def confidence(self) -> float | None: ...


@dataclass(slots=True)
class CheckInValue:
    """The latest check-in carrying a key result's value as of one instant, as a roll-up at
    that instant reads it: without the id and recorded_at that only order check-ins (a
    timestamp is the costliest value to decode; decision record 0014) and without the
    confidence no objective roll-up reads."""

    key_result_id: uuid.UUID
    observed_at: datetime
    value: float | None
    done: bool | None
    confidence: float | None = None


@dataclass(slots=True)
class CommitmentRow:
    id: uuid.UUID
    state: str
    due_on: date
    done_at: datetime | None
    dropped_at: datetime | None


# A key result's (current value, attainment, progress, status) at one instant: a plain tuple,
# built ~10,000 times per cycle roll-up (much cheaper to create than a dataclass; 0014).
KeyResultScore = tuple[float | None, float | None, float, Status]


@dataclass(slots=True)
class _CheckInSeries:
    """Check-ins of one key result ordered by (observed_at, recorded_at, id)."""

    rows: list[CheckInFacts] = field(default_factory=list)
    observed: list[datetime] = field(default_factory=list)

    def latest(self, t: datetime) -> CheckInFacts | None:
        index = bisect.bisect_right(self.observed, t)
        return self.rows[index - 1] if index else None


@dataclass
class GoalSnapshot:
    thresholds: Thresholds
    cycles: dict[uuid.UUID, tuple[datetime, datetime]]
    objectives: dict[uuid.UUID, ObjectiveRow]
    # parent → [(child, alignment weight)], counting (active or closed) children only.
    children: dict[uuid.UUID, list[tuple[uuid.UUID, float]]]
    key_results: dict[uuid.UUID, KeyResultRow]
    # objective → its active key results.
    key_results_by_objective: dict[uuid.UUID, list[uuid.UUID]]
    metric_values: dict[MetricWindowKey, float | None]
    commitments: dict[uuid.UUID, CommitmentRow]
    commitments_by_key_result: dict[uuid.UUID, list[uuid.UUID]]
    value_check_ins: dict[uuid.UUID, _CheckInSeries] = field(default_factory=dict)
    confidence_check_ins: dict[uuid.UUID, _CheckInSeries] = field(default_factory=dict)
    _order: list[uuid.UUID] | None = None
    _items: dict[uuid.UUID, list[tuple[ItemKind, uuid.UUID, float]]] | None = None

    def add_check_ins(self, rows: Iterable[CheckInFacts], *, confidence: bool = True) -> None:
        """Index check-ins; rows must come ordered by (observed_at, recorded_at, id).
        `confidence=False` leaves confidences out (no key-result confidence asked)."""
        for row in rows:
            kr = self.key_results.get(row.key_result_id)
            if kr is None:
                continue
            wanted = row.done is not None if kr.measure == "milestone" else row.value is not None
            if wanted and kr.measure != "metric":
                _append(self.value_check_ins, row)
            if confidence and row.confidence is not None:
                _append(self.confidence_check_ins, row)

    def key_result_cycle(self, kr: KeyResultRow) -> tuple[datetime, datetime]:
        return self.cycles[self.objectives[kr.objective_id].cycle_id]

    def topological_order(self) -> list[uuid.UUID]:
        """Computed once per snapshot: the structure is the same at every instant."""
        if self._order is None:
            self._order = topological_order(self)
        return self._order

    def items_by_objective(self) -> dict[uuid.UUID, list[tuple[ItemKind, uuid.UUID, float]]]:
        """Each objective's items by its rollup_mode, with weights; computed once."""
        if self._items is None:
            self._items = {o: self._objective_items(o) for o in self.objectives}
        return self._items

    def _objective_items(self, objective_id: uuid.UUID) -> list[tuple[ItemKind, uuid.UUID, float]]:
        objective = self.objectives[objective_id]
        key_results = [
            (KEY_RESULT, kr_id, self.key_results[kr_id].weight)
            for kr_id in self.key_results_by_objective.get(objective_id, ())
        ]
        children = [
            (OBJECTIVE, child_id, weight)
            for child_id, weight in self.children.get(objective_id, ())
            if child_id in self.objectives
            and self.objectives[child_id].state in COUNTING_OBJECTIVE_STATES
        ]
        mode = objective.rollup_mode
        if mode == "key_results":
            return key_results
        if mode == "children":
            return children
        if mode == "both":
            return key_results + children
        return key_results if key_results else children


def _append(series_of: dict[uuid.UUID, _CheckInSeries], row: CheckInFacts) -> None:
    series = series_of.get(row.key_result_id)
    if series is None:  # not `setdefault`: it would build a series for every row
        series_of[row.key_result_id] = _CheckInSeries([row], [row.observed_at])
    else:
        series.rows.append(row)
        series.observed.append(row.observed_at)


def metric_window(cycle: tuple[datetime, datetime], t: datetime) -> tuple[datetime, datetime]:
    """[cycle start, min(t, cycle end)) — the window of a metric key result at t."""
    return cycle[0], min(t, cycle[1])


def topological_order(snapshot: GoalSnapshot) -> list[uuid.UUID]:
    """Objectives of the snapshot, every child before each of its parents."""
    order: list[uuid.UUID] = []
    seen: set[uuid.UUID] = set()
    for root in snapshot.objectives:
        if root in seen:
            continue
        seen.add(root)
        stack: list[tuple[uuid.UUID, int]] = [(root, 0)]
        while stack:
            node, index = stack.pop()
            kids = snapshot.children.get(node, ())
            if index < len(kids):
                stack.append((node, index + 1))
                child = kids[index][0]
                if child not in seen and child in snapshot.objectives:
                    seen.add(child)
                    stack.append((child, 0))
            else:
                order.append(node)
    return order


class GoalEvaluator:
    """Every goal number of a snapshot at instant t."""

    def __init__(self, snapshot: GoalSnapshot, t: datetime, *, objectives: bool = True) -> None:
        """Every key result's score is computed at once; with `objectives=False`, objective
        numbers are not (key-result roll-ups only read key-result scores)."""
        self.snapshot = snapshot
        self.t = t
        self._expected = {
            cycle_id: formulas.expected_progress(start, end, t)
            for cycle_id, (start, end) in snapshot.cycles.items()
        }
        self.scores = self._score_all()
        self.progress: dict[uuid.UUID, float | None] = {}
        self.worst: dict[uuid.UUID, Status | None] = {}
        if objectives:
            self._evaluate_all()

    def _evaluate_all(self) -> None:
        """Progress and worst key-result status of every objective, children first.

        The hot loop of every roll-up: written for speed, same sums in the same order as
        `formulas.weighted_mean` (Σw over counted items, then Σw·p, in item order).
        """
        scores = self.scores
        progress = self.progress
        worst = self.worst
        rank = STATUS_ORDER
        key_result = KEY_RESULT
        items_of = self.snapshot.items_by_objective()
        for objective_id in self.snapshot.topological_order():
            total_weight = 0.0
            total = 0.0
            worst_status: Status | None = None
            for kind, item_id, weight in items_of[objective_id]:
                item_progress: float | None
                item_status: Status | None
                if kind is key_result:
                    _, _, item_progress, item_status = scores[item_id]
                else:
                    item_progress = progress[item_id]
                    item_status = worst[item_id]
                if weight > 0:
                    if item_progress is not None:
                        total_weight += weight
                        total += weight * item_progress
                    if item_status is not None and (
                        worst_status is None or rank[item_status] < rank[worst_status]
                    ):
                        worst_status = item_status
            progress[objective_id] = total / total_weight if total_weight != 0 else None
            worst[objective_id] = worst_status

    # Key results -------------------------------------------------------------------------

    def _score_all(self) -> dict[uuid.UUID, KeyResultScore]:
        """The score of every key result of the snapshot at t, in one loop.

        The other hot loop (~10,000 key results in a cycle): what depends only on the cycle
        (its metric window at t, expected progress) is looked up once per objective, and
        `formulas.key_result_score` / `key_result_status` are inlined.
        """
        snapshot = self.snapshot
        t = self.t
        thresholds = snapshot.thresholds
        pace_status = formulas.pace_status
        metric_values = snapshot.metric_values
        value_check_ins = snapshot.value_check_ins
        no_data, on_track, off_track = Status.no_data, Status.on_track, Status.off_track
        # Per cycle: its start, its metric windows' end at t (None: empty window), e(t).
        at_t: dict[uuid.UUID, tuple[datetime, datetime | None, float]] = {}
        for cycle_id, cycle in snapshot.cycles.items():
            start, until = metric_window(cycle, t)
            at_t[cycle_id] = (
                start,
                until if until > start else None,
                self._expected[cycle_id],
            )
        of_objective = {o: at_t[row.cycle_id] for o, row in snapshot.objectives.items()}
        scores: dict[uuid.UUID, KeyResultScore] = {}
        for kr in snapshot.key_results.values():
            start, window_end, expected = of_objective[kr.objective_id]
            measure = kr.measure
            current: float | None
            if measure == "metric":
                current = (
                    None
                    if window_end is None
                    else metric_values.get((kr.metric_id, start, window_end))  # type: ignore[arg-type]
                )
            else:
                series = value_check_ins.get(kr.id)
                row = None if series is None else series.latest(t)
                if row is None:
                    current = None
                elif measure == "milestone":
                    current = 1.0 if row.done else 0.0
                else:
                    current = row.value
            direction = kr.direction
            attainment: float | None
            if current is None:
                attainment, progress, status = None, 0.0, no_data
            elif measure == "milestone":
                attainment = progress = current
                status = pace_status(progress, expected, thresholds)
            elif direction == "at_least" or direction == "at_most":
                target = kr.target_value
                assert target is not None
                held = current >= target if direction == "at_least" else current <= target
                attainment = progress = 1.0 if held else 0.0
                status = on_track if held else off_track
            else:
                start_value = kr.start_value
                assert start_value is not None and kr.target_value is not None
                attainment = (current - start_value) / (kr.target_value - start_value)
                progress = 0.0 if attainment < 0 else 1.0 if attainment > 1 else attainment
                status = pace_status(progress, expected, thresholds)
            scores[kr.id] = (current, attainment, progress, status)
        return scores

    def _latest(self, series: "_CheckInSeries | None") -> CheckInFacts | None:
        return None if series is None else series.latest(self.t)

    def confidence(self, key_result_id: uuid.UUID) -> float | None:
        snapshot = self.snapshot
        row = self._latest(snapshot.confidence_check_ins.get(key_result_id))
        return None if row is None else row.confidence

    def key_result_progress(self, key_result_id: uuid.UUID) -> KeyResultProgress:
        current, attainment, progress, status = self.scores[key_result_id]
        snapshot = self.snapshot
        cycle_id = snapshot.objectives[snapshot.key_results[key_result_id].objective_id].cycle_id
        return KeyResultProgress(
            id=key_result_id,
            as_of=self.t,
            current_value=current,
            attainment=attainment,
            progress=progress,
            status=status,
            expected_progress=self._expected[cycle_id],
        )

    def key_result(self, key_result_id: uuid.UUID) -> KeyResultRollup:
        numbers = self.key_result_progress(key_result_id)
        return KeyResultRollup(
            **{field.name: getattr(numbers, field.name) for field in fields(numbers)},
            confidence=self.confidence(key_result_id),
            delivery=self.delivery_of_key_results({key_result_id}),
        )

    # Objectives --------------------------------------------------------------------------

    def items(self, objective_id: uuid.UUID) -> list[tuple[ItemKind, uuid.UUID, float]]:
        return self.snapshot.items_by_objective()[objective_id]

    def _item_progress(self, kind: ItemKind, item_id: uuid.UUID) -> float | None:
        if kind is ItemKind.key_result:
            return self.scores[item_id][2]
        return self.progress[item_id]

    def expected_progress(self, objective_id: uuid.UUID) -> float:
        return self._expected[self.snapshot.objectives[objective_id].cycle_id]

    def objective_status(self, objective_id: uuid.UUID) -> Status:
        return formulas.objective_status(
            self.progress[objective_id],
            self.expected_progress(objective_id),
            self.snapshot.thresholds,
        )

    def breakdown(
        self, items: list[tuple[ItemKind, uuid.UUID, float]]
    ) -> tuple[BreakdownItem, ...]:
        snapshot = self.snapshot
        progresses = [self._item_progress(kind, item_id) for kind, item_id, _ in items]
        total = sum(
            weight
            for (_, _, weight), progress in zip(items, progresses, strict=True)
            if weight > 0 and progress is not None
        )
        result = []
        for (kind, item_id, weight), progress in zip(items, progresses, strict=True):
            counted = weight > 0 and progress is not None
            share = weight / total if counted else 0.0
            if kind is ItemKind.key_result:
                title = snapshot.key_results[item_id].title
                status = self.scores[item_id][3]
            else:
                title = snapshot.objectives[item_id].title
                status = self.objective_status(item_id)
            result.append(
                BreakdownItem(
                    kind=kind,
                    id=item_id,
                    title=title,
                    weight=weight,
                    progress=progress,
                    status=status,
                    counted=counted,
                    share=share,
                    contribution=share * progress if counted and progress is not None else None,
                )
            )
        return tuple(result)

    def objective(self, objective_id: uuid.UUID) -> ObjectiveRollup:
        return ObjectiveRollup(
            id=objective_id,
            as_of=self.t,
            progress=self.progress[objective_id],
            status=self.objective_status(objective_id),
            expected_progress=self.expected_progress(objective_id),
            worst_key_result_status=self.worst[objective_id],
            breakdown=self.breakdown(self.items(objective_id)),
            delivery=self.delivery_of_objectives([objective_id]),
        )

    # Delivery ----------------------------------------------------------------------------

    def item_key_results(self, objective_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Key results reachable through counted items (weight > 0) of the given objectives."""
        found: set[uuid.UUID] = set()
        seen: set[uuid.UUID] = set()
        stack = [o for o in objective_ids if o in self.snapshot.objectives]
        while stack:
            objective_id = stack.pop()
            if objective_id in seen:
                continue
            seen.add(objective_id)
            for kind, item_id, weight in self.items(objective_id):
                if weight <= 0:
                    continue
                if kind is KEY_RESULT:
                    found.add(item_id)
                else:
                    stack.append(item_id)
        return found

    def delivery_of_key_results(self, key_result_ids: AbstractSet[uuid.UUID]) -> Delivery:
        snapshot = self.snapshot
        by_key_result = snapshot.commitments_by_key_result
        commitment_ids: set[uuid.UUID] = set()
        if len(key_result_ids) > len(by_key_result):
            # A cycle's ~10,000 key results, a few thousand with commitments: walk those.
            for kr_id, ids in by_key_result.items():
                if kr_id in key_result_ids:
                    commitment_ids.update(ids)
        else:
            for kr_id in key_result_ids:
                commitment_ids.update(by_key_result.get(kr_id, ()))
        return formulas.delivery((snapshot.commitments[c] for c in commitment_ids), self.t)

    def delivery_of_objectives(self, objective_ids: Iterable[uuid.UUID]) -> Delivery:
        return self.delivery_of_key_results(self.item_key_results(objective_ids))
