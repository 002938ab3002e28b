"""Roll-up engine: every number of SPEC §3 for any node at any instant, and its history.

API (all functions are `async`, take `session: AsyncSession, org_id: uuid.UUID` first, read
only, raise `service.errors.NotFound` for a missing id or one of another organization and
`Invalid(field=...)` for bad input such as a naive datetime; `as_of=None` means now):

    key_result_rollup(session, org_id, key_result_id, *, as_of) -> KeyResultRollup
    key_result_rollups(session, org_id, ids, *, as_of) -> dict[id, KeyResultRollup]   # batch
    key_result_progresses(session, org_id, ids, *, as_of) -> dict[id, KeyResultProgress]
        (the same numbers without confidence and delivery; fewer, lighter statements)
    objective_rollup(session, org_id, objective_id, *, as_of) -> ObjectiveRollup
    objective_rollups(session, org_id, ids, *, as_of) -> dict[id, ObjectiveRollup]    # batch
    team_rollup(session, org_id, team_id, cycle_id, *, include_subteams, as_of) -> TeamRollup
    cycle_rollup(session, org_id, cycle_id, *, as_of) -> CycleRollup
    metric_rollup(session, org_id, metric_id, *, as_of) -> MetricRollup
    *_history(..., *, start, end, interval: Interval) -> list[HistoryPoint[<Rollup>]]
        (key_result_history, objective_history, team_history, cycle_history, metric_history)
    metric_value(session, org_id, metric_id, Window(a, b), *, dimensions) -> MetricValue
    metric_series(session, org_id, metric_id, Window(a, b), Interval, *, dimensions)
        -> list[SeriesPoint]
    metric_components(session, org_id, metric_id, Window(a, b)) -> MetricComponents
    alignment_paths(session, org_id, node_id, *, limit=100) -> list[AlignmentPath]
    aligned_to_north_star(session, org_id, node_id) -> bool

Results are frozen dataclasses (`service.rollups.types`); statuses are `Status`, bands
`ScoreBand`. Batch functions leave out unknown ids so a dataloader can map them to null.

How it performs: a roll-up runs a fixed number of statements whatever the tree size —
organization settings (read with the first statement for objectives and key results by
id), one recursive CTE for the objective subtree (each objective with its alignments; one
objective's own by `= :id`, whose plan PostgreSQL keeps), then one statement for
everything below the objectives (`repository.subtree_scope`: active key results, the
check-ins carrying their values — for one instant only each one's latest —, the aggregate
of every (metric, window), each window computing only its metric's aggregation, and
commitments; four statements from `WIDE_OBJECTIVE_SCOPE` objectives on, where hash joins
win) — then evaluates the whole subtree in Python (`snapshot.GoalEvaluator`, children
before parents). A history loads the same scope once (all check-ins up to the last bucket,
one aggregate per metric key result and bucket in the same single statement) and evaluates
it once per bucket.
Large id lists join through `unnest(:ids)` (hash or index joins, never a linear `= ANY`
per row); the cyclic GC is paused while a roll-up allocates its scope (`gc_pause`);
nothing derived is stored, so nothing must be kept current on write. `bench/rollup.py`
measures it against hand-written SQL.

Decisions where SPEC §3 is silent:
- Objectives count when `active` or `closed` (closed work keeps its numbers); `draft` and
  `archived` objectives and `archived` key results are ignored everywhere (items,
  alignment paths, team and cycle sets). A roll-up asked directly for a draft, archived
  or closed node is still computed.
- A child objective whose progress is null is left out of its parents' mean, like a
  weight-0 item; both are listed in `breakdown` with `counted=False` and share 0.
- Items of weight 0 are left out of progress, `worstKeyResultStatus` and delivery.
- `worstKeyResultStatus` and objective delivery recurse through counted child objectives
  (so a `children`-mode objective reports the commitments and statuses under its children).
- Check-ins (manual, milestone and confidence) count when observed at or before t, as
  SPEC §3 says, also after the cycle ended: a final check-in made after the quarter closed
  sets the key result's value (only metric windows stop at the cycle's end).
  Retracted check-ins are ignored at every instant. Manual key results read the latest
  check-in carrying a value, milestones the latest carrying `done`; with none, no data.
  `confidence` is that of the latest check-in carrying one.
- Attainment of milestones and `at_least`/`at_most` equals their progress (0 or 1).
- Metric windows: `count` of an empty window is 0, every other aggregation is null; an
  empty cycle window (t before the cycle start) is no data.
- Commitment state at t: done if done_at ≤ t, dropped if dropped (at dropped_at ≤ t,
  or with no dropped_at), else open; "on time" compares done_at's UTC date with due_on.
- Team: its counting objectives in the cycle (or its sub-teams' with include_subteams),
  at top level those not aligned under another objective of that set. Cycle: "the same
  over the company-level objectives", so company level = counting objectives of the cycle
  not aligned under another counting objective *of that cycle*: a quarter's objectives
  aligned under the year's objectives are the top of the quarter's roll-up (a parent in
  another cycle does not hide them, as it does not for a team). Counts by status and band
  cover every counting objective of the cycle and their active key results.
- Score bands: p < 0.4 → "0.0-0.3", 0.4 ≤ p < 0.7 → "0.4-0.6", p ≥ 0.7 → "0.7-1.0"; null
  progress and no-data key results are in no band.
- History: buckets are UTC (ISO weeks from Monday) meeting [start, end]; each point is the
  roll-up as of the bucket's end (the next bucket's start instant). At most 1000 buckets.
- Metric roll-up as of t: its value over the trailing [t − observation_window_days (7 if
  unset), t) and the previous window of equal length.
"""

from service.rollups.metrics import (
    metric_components,
    metric_history,
    metric_rollup,
    metric_series,
    metric_value,
)
from service.rollups.paths import aligned_to_north_star, alignment_paths
from service.rollups.service import (
    cycle_history,
    cycle_rollup,
    key_result_history,
    key_result_progresses,
    key_result_rollup,
    key_result_rollups,
    objective_history,
    objective_rollup,
    objective_rollups,
    team_history,
    team_rollup,
)
from service.rollups.types import (
    AlignmentPath,
    BreakdownItem,
    ComponentValue,
    CycleRollup,
    Delivery,
    HistoryPoint,
    Interval,
    ItemKind,
    KeyResultProgress,
    KeyResultRollup,
    MetricComponents,
    MetricRollup,
    MetricValue,
    NodeKind,
    ObjectiveRollup,
    PathNode,
    ScoreBand,
    SeriesPoint,
    Status,
    TeamRollup,
    Window,
)

__all__ = [
    "AlignmentPath",
    "BreakdownItem",
    "ComponentValue",
    "CycleRollup",
    "Delivery",
    "HistoryPoint",
    "Interval",
    "ItemKind",
    "KeyResultProgress",
    "KeyResultRollup",
    "MetricComponents",
    "MetricRollup",
    "MetricValue",
    "NodeKind",
    "ObjectiveRollup",
    "PathNode",
    "ScoreBand",
    "SeriesPoint",
    "Status",
    "TeamRollup",
    "Window",
    "aligned_to_north_star",
    "alignment_paths",
    "cycle_history",
    "cycle_rollup",
    "key_result_history",
    "key_result_progresses",
    "key_result_rollup",
    "key_result_rollups",
    "metric_components",
    "metric_history",
    "metric_rollup",
    "metric_series",
    "metric_value",
    "objective_history",
    "objective_rollup",
    "objective_rollups",
    "team_history",
    "team_rollup",
]
