"""The formulas of SPEC §3 as small pure functions (no I/O)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from service.rollups.types import STATUS_ORDER, Delivery, ScoreBand, Status

DEFAULT_ON_TRACK_RATIO = 0.7
DEFAULT_AT_RISK_RATIO = 0.4
COUNTING_OBJECTIVE_STATES = frozenset({"active", "closed"})
# Progress and pace ratios are compared with band edges and thresholds after rounding to
# this many decimals, so 0.39999999999999997 (float noise of an exact 0.4) lands in the
# band and status a person computing by hand expects.
COMPARISON_DECIMALS = 9


def comparable(value: float) -> float:
    """`value` rounded for comparison with a band edge, threshold or 1 (the one place)."""
    return round(value, COMPARISON_DECIMALS)


# Rounding moves a value by at most half of this (plus float error): farther from an edge,
# the side is known without rounding (`round` with decimals is slow, and runs once per key
# result and objective in every roll-up; decision record 0014).
_ROUNDING_REACH = 10.0**-COMPARISON_DECIMALS


def reaches(value: float, edge: float) -> bool:
    """`comparable(value) >= edge`, rounding only when `value` is close to `edge`."""
    if value >= edge + _ROUNDING_REACH:
        return True
    if value < edge - _ROUNDING_REACH:
        return False
    return comparable(value) >= edge


@dataclass(frozen=True, slots=True)
class Thresholds:
    on_track_ratio: float = DEFAULT_ON_TRACK_RATIO
    at_risk_ratio: float = DEFAULT_AT_RISK_RATIO

    @classmethod
    def from_settings(cls, settings: dict[str, object] | None) -> "Thresholds":
        settings = settings or {}
        on_track = settings.get("on_track_ratio", DEFAULT_ON_TRACK_RATIO)
        at_risk = settings.get("at_risk_ratio", DEFAULT_AT_RISK_RATIO)
        return cls(
            float(on_track) if isinstance(on_track, int | float) else DEFAULT_ON_TRACK_RATIO,
            float(at_risk) if isinstance(at_risk, int | float) else DEFAULT_AT_RISK_RATIO,
        )

    @classmethod
    def from_json_texts(cls, on_track: str | None, at_risk: str | None) -> "Thresholds":
        """From the two settings as read by SQL (`(settings -> 'on_track_ratio')::text`)."""
        return cls.from_settings(
            {
                name: json.loads(value)
                for name, value in (("on_track_ratio", on_track), ("at_risk_ratio", at_risk))
                if value is not None
            }
        )


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def cycle_window(starts_on: date, ends_on: date) -> tuple[datetime, datetime]:
    """[starts_on 00:00Z, (ends_on + 1 day) 00:00Z)."""
    return midnight(starts_on), midnight(ends_on + timedelta(days=1))


def expected_progress(start: datetime, end: datetime, t: datetime) -> float:
    """e(t) = clamp((t − start) / (end − start), 0, 1)."""
    return min(1.0, max(0.0, (t - start) / (end - start)))


def clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def key_result_score(
    measure: str,
    direction: str,
    start_value: float | None,
    target_value: float | None,
    current: float | None,
) -> tuple[float | None, float]:
    """(attainment, progress) of a key result; progress is 0 without a current value.

    Attainment is unclamped for `increase`/`decrease`; for milestones and the
    `at_least`/`at_most` conditions it equals progress.
    """
    if current is None:
        return None, 0.0
    if measure == "milestone":
        return current, current
    assert target_value is not None
    if direction == "at_least":
        held = 1.0 if current >= target_value else 0.0
        return held, held
    if direction == "at_most":
        held = 1.0 if current <= target_value else 0.0
        return held, held
    assert start_value is not None
    attainment = (current - start_value) / (target_value - start_value)
    return attainment, clamp01(attainment)


def pace_status(progress: float, expected: float, thresholds: Thresholds) -> Status:
    if reaches(progress, 1):
        return Status.done
    if expected == 0:
        return Status.on_track
    ratio = progress / expected
    if reaches(ratio, thresholds.on_track_ratio):
        return Status.on_track
    if reaches(ratio, thresholds.at_risk_ratio):
        return Status.at_risk
    return Status.off_track


def key_result_status(
    measure: str,
    direction: str,
    current: float | None,
    progress: float,
    expected: float,
    thresholds: Thresholds,
) -> Status:
    if current is None:
        return Status.no_data
    if measure != "milestone" and direction in ("at_least", "at_most"):
        return Status.on_track if progress >= 1 else Status.off_track
    return pace_status(progress, expected, thresholds)


def objective_status(progress: float | None, expected: float, thresholds: Thresholds) -> Status:
    if progress is None:
        return Status.no_data
    return pace_status(progress, expected, thresholds)


def weighted_mean(items: Iterable[tuple[float, float | None]]) -> float | None:
    """Σ wᵢ·pᵢ / Σ wᵢ over items with w > 0 and a progress; null when nothing counts."""
    total_weight = 0.0
    total = 0.0
    for weight, progress in items:
        if weight > 0 and progress is not None:
            total_weight += weight
            total += weight * progress
    if total_weight == 0:
        return None
    return total / total_weight


def score_band(progress: float) -> ScoreBand:
    """0 ≤ p < 0.4 → 0.0-0.3; 0.4 ≤ p < 0.7 → 0.4-0.6; p ≥ 0.7 → 0.7-1.0."""
    if reaches(progress, 0.7):
        return ScoreBand.high
    if reaches(progress, 0.4):
        return ScoreBand.mid
    return ScoreBand.low


def worst_status(statuses: Iterable[Status | None]) -> Status | None:
    worst: Status | None = None
    for status in statuses:
        if status is not None and (worst is None or STATUS_ORDER[status] < STATUS_ORDER[worst]):
            worst = status
    return worst


class CommitmentFacts(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def due_on(self) -> date: ...
    @property
    def done_at(self) -> datetime | None: ...
    @property
    def dropped_at(self) -> datetime | None: ...


def commitment_state_at(commitment: CommitmentFacts, t: datetime) -> str:
    """`done` if done at or before t, `dropped` if dropped at or before t, else `open`."""
    if commitment.state == "done" and commitment.done_at is not None and commitment.done_at <= t:
        return "done"
    if commitment.state == "dropped" and (
        commitment.dropped_at is None or commitment.dropped_at <= t
    ):
        return "dropped"
    return "open"


def delivery(commitments: Iterable[CommitmentFacts], t: datetime) -> Delivery:
    today = t.astimezone(UTC).date()
    committed = delivered = open_ = overdue = on_time = 0
    for commitment in commitments:
        state = commitment_state_at(commitment, t)
        if state == "dropped":
            continue
        committed += 1
        if state == "done":
            delivered += 1
            assert commitment.done_at is not None
            if commitment.done_at.astimezone(UTC).date() <= commitment.due_on:
                on_time += 1
        else:
            open_ += 1
            if commitment.due_on < today:
                overdue += 1
    return Delivery(
        committed=committed,
        delivered=delivered,
        open=open_,
        overdue=overdue,
        on_time_rate=on_time / delivered if delivered else None,
    )
