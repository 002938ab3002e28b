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

How it performs: a roll-up runs a fixed number of statements whatever the tree size, then
evaluates the whole subtree in plain Python (`snapshot.GoalEvaluator`); nothing derived is
stored (docs/decisions/0014-rollups-computed-on-read.md; the statements' plans: 0015).

Decisions where SPEC §3 is silent (closed and draft objectives, weight-0 items, null child
progress, check-ins after the cycle, the cycle's company level, score bands, history
buckets): docs/decisions/0017-rollup-rules-where-the-spec-is-silent.md.
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
