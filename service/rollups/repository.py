"""All SQL of the roll-up engine.

Hot path: each function is one statement over the whole scope (arrays of ids, a recursive
CTE, LATERAL joins over windows), so a roll-up runs a fixed number of statements whatever
the size of the tree. Core `text()` keeps the SQL visible and skips ORM object overhead; the
hot statements are built once at import (building a `text()` parses its SQL, and a new one
computes its cache key again on every execution). Why, and the plan choices with their
measurements: docs/decisions/0014-rollups-computed-on-read.md, 0015-rollup-statement-plans.md.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Result, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, INTEGER, JSONB, TEXT, TIMESTAMP, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from service.rollups.formulas import Thresholds
from service.rollups.snapshot import (
    CheckInRow,
    CheckInValue,
    CommitmentRow,
    KeyResultRow,
    ObjectiveRow,
)

COUNTING = "('active', 'closed')"
UUIDS = ARRAY(UUID(as_uuid=True))
INSTANTS = ARRAY(TIMESTAMP(timezone=True))


def _driver_rows(result: Result[Any]) -> Sequence[Any]:
    """All rows of an executed `text()` statement as the driver returned them (asyncpg
    records: indexable and iterable like tuples, same values as SQLAlchemy's rows, since
    `text()` columns have no result processing), without building a SQLAlchemy `Row` per
    row: a cycle's scope is ~20,000 rows (decision record 0014).

    Records have no attributes: each statement's rows are decoded by unpacking them into
    named variables, in the order of its select list (also the fastest read; decision 0014)."""
    cursor = getattr(result, "cursor", None)
    if cursor is None:
        return result.all()
    try:
        rows: Sequence[Any] = cursor.fetchall()
        return rows
    finally:
        result.close()


_SETTINGS = text("SELECT settings FROM organizations WHERE id = :org")


async def organization_settings(session: AsyncSession, org_id: uuid.UUID) -> dict[str, Any] | None:
    result = await session.execute(_SETTINGS, {"org": org_id})
    row = result.first()
    return None if row is None else dict(row.settings)


# The organization's status thresholds as two more columns of a statement that loads a
# scope, rather than a statement (and a round trip) of their own: each as JSON text, a tiny
# string per row decoded once from the first row (not the settings object decoded per row).
_THRESHOLDS = (
    """, (org.settings -> 'on_track_ratio')::text, (org.settings -> 'at_risk_ratio')::text"""
)
_ORGANIZATION = "JOIN organizations org ON org.id = :org"


def _thresholds_of(row: Any) -> Thresholds:
    """The thresholds `_THRESHOLDS` reads, the last two columns of its statement's rows."""
    *_, on_track_ratio, at_risk_ratio = row
    return Thresholds.from_json_texts(on_track_ratio, at_risk_ratio)


@dataclass(slots=True)
class LoadedObjective:
    row: ObjectiveRow
    starts_on: date
    ends_on: date
    # Its alignments (parent, weight), any parent; empty when loaded without them.
    parents: Sequence[uuid.UUID] = ()
    weights: Sequence[float] = ()


_SCOPE = f"""
WITH RECURSIVE scope(id) AS (
    SELECT o.id FROM objectives o WHERE o.org_id = :org AND ({{seed}})
    UNION
    SELECT a.child_objective_id
    FROM scope s
    JOIN alignments a ON a.org_id = :org AND a.parent_objective_id = s.id
    JOIN objectives c ON c.org_id = :org AND c.id = a.child_objective_id
    WHERE c.state IN {COUNTING}
)
"""

# Each reached objective's own alignments, by the alignments' primary key (child first), in
# the same statement: the caller keeps those whose parent was reached.
_PARENTS = """
LEFT JOIN LATERAL (
    SELECT array_agg(a.parent_objective_id) AS parents, array_agg(a.weight) AS weights
    FROM alignments a WHERE a.child_objective_id = o.id AND a.org_id = :org
) up ON true
"""

# A whole cycle: hash joins over the organization's objectives are the cheapest plan.
_SUBTREE_WIDE = (
    _SCOPE
    + f"""
SELECT o.id, o.title, o.state, o.rollup_mode, o.cycle_id, o.owner_team_id,
       cy.starts_on, cy.ends_on, up.parents, up.weights
FROM scope JOIN objectives o ON o.org_id = :org AND o.id = scope.id
JOIN cycles cy ON cy.org_id = :org AND cy.id = o.cycle_id
{_PARENTS}
"""
)

# A subtree of some objectives: the planner cannot estimate a recursive CTE's size (it
# hashes every objective and alignment of the organization, even for a leaf), so fetch each
# reached objective by primary key (`OFFSET 0` keeps the lateral a per-row index lookup;
# decision record 0015).
_SUBTREE_NARROW = (
    _SCOPE
    + f"""
SELECT o.id, o.title, o.state, o.rollup_mode, o.cycle_id, o.owner_team_id,
       o.starts_on, o.ends_on, o.parents, o.weights{{thresholds}}
FROM scope CROSS JOIN LATERAL (
    SELECT o.id, o.title, o.state, o.rollup_mode, o.cycle_id, o.owner_team_id,
           cy.starts_on, cy.ends_on, up.parents, up.weights
    FROM objectives o JOIN cycles cy ON cy.org_id = :org AND cy.id = o.cycle_id
    {_PARENTS}
    WHERE o.org_id = :org AND o.id = scope.id
    OFFSET 0
) o {{organization}}
"""
)

# The statements of `objective_subtree`, by seed: `:cycle` (a whole cycle) or `:cycle` and
# `:teams` (a team's objectives in a cycle); `objectives_with_thresholds` seeds `:ids`.
SEED_CYCLE = text(_SUBTREE_WIDE.format(seed=f"o.cycle_id = :cycle AND o.state IN {COUNTING}"))
SEED_TEAMS = text(
    _SUBTREE_NARROW.format(
        seed=f"o.cycle_id = :cycle AND o.state IN {COUNTING} AND o.owner_team_id = ANY(:teams)",
        thresholds="",
        organization="",
    )
).bindparams(bindparam("teams", type_=UUIDS))
_SEED_IDS = text(
    _SUBTREE_NARROW.format(
        seed="o.id = ANY(:ids)", thresholds=_THRESHOLDS, organization=_ORGANIZATION
    )
).bindparams(bindparam("ids", type_=UUIDS))
# One objective (its own roll-up, the common case) by `= :id`. With an array PostgreSQL
# plans every execution anew: the generic plan assumes ten seeds, expects a big subtree
# and hashes every alignment of the organization, so it is never chosen and each roll-up
# paid for planning; with one id the generic plan is the custom one, reused from the sixth
# execution on (decision record 0015).
_SEED_ID = text(
    _SUBTREE_NARROW.format(seed="o.id = :id", thresholds=_THRESHOLDS, organization=_ORGANIZATION)
)


async def objective_subtree(
    session: AsyncSession, org_id: uuid.UUID, seed: TextClause, params: dict[str, Any]
) -> list[LoadedObjective]:
    """Seed objectives (`seed`: one of the SEED_ statements, with its parameters) and every
    counting objective aligned under them, at any depth, each with its alignments (one
    statement: no separate read of the alignments)."""
    result = await session.execute(seed, {"org": org_id, **params})
    return _loaded_objectives(_driver_rows(result))


def _loaded_objectives(rows: Sequence[Any]) -> list[LoadedObjective]:
    """The rows of a `_SUBTREE_*` statement, columns as selected (the thresholds, when a
    statement selects them last, are read by `_thresholds_of`). Unpacked in the
    comprehension, not by a decoder called per row (decision 0014)."""
    return [
        LoadedObjective(
            ObjectiveRow(objective_id, title, state, rollup_mode, cycle_id, owner_team_id),
            starts_on,
            ends_on,
            parents or (),
            weights or (),
        )
        for (
            objective_id,
            title,
            state,
            rollup_mode,
            cycle_id,
            owner_team_id,
            starts_on,
            ends_on,
            parents,
            weights,
            *_,
        ) in rows
    ]


async def objectives_with_thresholds(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> tuple[list[LoadedObjective], Thresholds | None]:
    """`objective_subtree` seeded by the objectives' ids, and the organization's thresholds
    read by the same statement (None when no objective is found)."""
    if len(objective_ids) == 1:
        result = await session.execute(_SEED_ID, {"org": org_id, "id": objective_ids[0]})
    else:
        result = await session.execute(_SEED_IDS, {"org": org_id, "ids": list(objective_ids)})
    rows = _driver_rows(result)
    objectives = _loaded_objectives(rows)
    return objectives, _thresholds_of(rows[0]) if rows else None


async def team_subtree(
    session: AsyncSession, org_id: uuid.UUID, team_id: uuid.UUID
) -> list[uuid.UUID]:
    result = await session.execute(
        text(
            """
            WITH RECURSIVE sub(id) AS (
                SELECT id FROM teams WHERE org_id = :org AND id = :team
                UNION
                SELECT t.id FROM teams t JOIN sub ON t.parent_team_id = sub.id
                WHERE t.org_id = :org
            )
            SELECT id FROM sub
            """
        ),
        {"org": org_id, "team": team_id},
    )
    return [r.id for r in result.all()]


# `KeyResultRow`'s fields, in order: a row of these columns is `KeyResultRow(*row)`.
_KR_COLUMNS = (
    "id, objective_id, title, measure, direction, start_value, target_value, weight, state,"
    " metric_id"
)


_ACTIVE_KEY_RESULTS = text(
    f"SELECT {_KR_COLUMNS} FROM unnest(:ids) AS k(objective_id)"
    " JOIN key_results kr USING (objective_id)"
    " WHERE kr.org_id = :org AND kr.state = 'active'"
).bindparams(bindparam("ids", type_=UUIDS))


async def active_key_results(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> list[KeyResultRow]:
    result = await session.execute(_ACTIVE_KEY_RESULTS, {"org": org_id, "ids": list(objective_ids)})
    return [KeyResultRow(*row) for row in _driver_rows(result)]


# LATERAL ... LIMIT 1 per id walks the primary key: for `kr.id = ANY(:ids)` the planner
# prefers a sequential scan of every key result once the list holds a few hundred ids
# (decision record 0015).
_KEY_RESULTS_WITH_OBJECTIVES = text(
    f"""
    SELECT kr.id, kr.objective_id, kr.title, kr.measure, kr.direction, kr.start_value,
           kr.target_value, kr.weight, kr.state, kr.metric_id,
           o.title AS o_title, o.state AS o_state, o.rollup_mode, o.cycle_id,
           o.owner_team_id, cy.starts_on, cy.ends_on{_THRESHOLDS}
    FROM unnest(:ids) AS k(id)
    JOIN LATERAL (
        SELECT * FROM key_results WHERE org_id = :org AND id = k.id LIMIT 1
    ) kr ON true
    JOIN objectives o ON o.org_id = :org AND o.id = kr.objective_id
    JOIN cycles cy ON cy.org_id = :org AND cy.id = o.cycle_id
    {_ORGANIZATION}
    """
).bindparams(bindparam("ids", type_=UUIDS))


async def key_results_with_objectives(
    session: AsyncSession, org_id: uuid.UUID, key_result_ids: Sequence[uuid.UUID]
) -> tuple[list[tuple[KeyResultRow, LoadedObjective]], Thresholds | None]:
    """Key results by id (any state) with their objective and its cycle, and the
    organization's thresholds read by the same statement (None when none is found)."""
    result = await session.execute(
        _KEY_RESULTS_WITH_OBJECTIVES, {"org": org_id, "ids": list(dict.fromkeys(key_result_ids))}
    )
    rows = _driver_rows(result)
    # One LoadedObjective per objective (not per key result).
    objectives: dict[uuid.UUID, LoadedObjective] = {}
    found: list[tuple[KeyResultRow, LoadedObjective]] = []
    for (
        kr_id,
        objective_id,
        title,
        measure,
        direction,
        start_value,
        target_value,
        weight,
        state,
        metric_id,
        objective_title,
        objective_state,
        rollup_mode,
        cycle_id,
        owner_team_id,
        starts_on,
        ends_on,
        _,
        _,  # the thresholds: `_thresholds_of`
    ) in rows:
        objective = objectives.get(objective_id)
        if objective is None:
            objective = objectives[objective_id] = LoadedObjective(
                row=ObjectiveRow(
                    objective_id,
                    objective_title,
                    objective_state,
                    rollup_mode,
                    cycle_id,
                    owner_team_id,
                ),
                starts_on=starts_on,
                ends_on=ends_on,
            )
        key_result = KeyResultRow(
            kr_id,
            objective_id,
            title,
            measure,
            direction,
            start_value,
            target_value,
            weight,
            state,
            metric_id,
        )
        found.append((key_result, objective))
    return found, _thresholds_of(rows[0]) if rows else None


_CHECK_IN_COLUMNS = "id, observed_at, recorded_at, value, done, confidence"

# Per key result: k.kind says which check-ins carry its value.
_ELIGIBLE = """
    ci.org_id = :org AND ci.key_result_id = k.id AND ci.retracted_at IS NULL
    AND ci.observed_at <= :t
"""

# LATERAL ... LIMIT 1 per key result walks the (key_result_id, observed_at, recorded_at)
# index whatever the planner's statistics say.
_LATEST_VALUE = f"""
LEFT JOIN LATERAL (
    SELECT {_CHECK_IN_COLUMNS} FROM check_ins ci
    WHERE {_ELIGIBLE}
      AND CASE k.kind WHEN 'value' THEN ci.value IS NOT NULL
                      WHEN 'done' THEN ci.done IS NOT NULL ELSE false END
    ORDER BY ci.observed_at DESC, ci.recorded_at DESC, ci.id DESC LIMIT 1
) v ON true
"""

_LATEST_CONFIDENCE = f"""
LEFT JOIN LATERAL (
    SELECT {_CHECK_IN_COLUMNS} FROM check_ins ci
    WHERE {_ELIGIBLE} AND ci.confidence IS NOT NULL
    ORDER BY ci.observed_at DESC, ci.recorded_at DESC, ci.id DESC LIMIT 1
) c ON true
"""


def _check_in_statement(sql: str) -> TextClause:
    return text(sql).bindparams(
        bindparam("ids", type_=UUIDS), bindparam("kinds", type_=ARRAY(TEXT))
    )


_LATEST_CHECK_INS = _check_in_statement(f"""
SELECT k.id, v.id, v.observed_at, v.recorded_at, v.value, v.done, v.confidence,
       c.id, c.observed_at, c.recorded_at, c.value, c.done, c.confidence
FROM unnest(:ids, :kinds) AS k(id, kind)
{_LATEST_VALUE}
{_LATEST_CONFIDENCE}
WHERE v.id IS NOT NULL OR c.id IS NOT NULL
""")

_LATEST_VALUE_CHECK_INS = _check_in_statement(f"""
SELECT k.id, v.id, v.observed_at, v.recorded_at, v.value, v.done, v.confidence
FROM unnest(:ids, :kinds) AS k(id, kind)
{_LATEST_VALUE}
WHERE v.id IS NOT NULL
""")

# The same rows for a large scope (a cycle: ~30,000 key results): one hash join over the
# organization's check-ins and a sort beats one index probe per key result (decision record
# 0015).
_LATEST_VALUE_CHECK_INS_WIDE = _check_in_statement(f"""
SELECT DISTINCT ON (ci.key_result_id)
       ci.key_result_id, ci.id, ci.observed_at, ci.recorded_at, ci.value, ci.done, ci.confidence
FROM unnest(:ids, :kinds) AS k(id, kind)
JOIN check_ins ci ON {_ELIGIBLE}
    AND CASE k.kind WHEN 'value' THEN ci.value IS NOT NULL
                    WHEN 'done' THEN ci.done IS NOT NULL ELSE false END
ORDER BY ci.key_result_id, ci.observed_at DESC, ci.recorded_at DESC, ci.id DESC
""")
# From this many key results on, `_LATEST_VALUE_CHECK_INS_WIDE`.
WIDE_CHECK_IN_SCOPE = 5000

_ALL_CHECK_INS = _check_in_statement(f"""
SELECT ci.key_result_id, {_CHECK_IN_COLUMNS.replace("id,", "ci.id,", 1)}
FROM unnest(:ids, :kinds) AS k(id, kind)
JOIN check_ins ci ON {_ELIGIBLE}
""")


# From this many objectives (about `WIDE_CHECK_IN_SCOPE` key results at four each), a
# roll-up reads its key results, their check-ins, metric windows and commitments in separate
# statements that hash-join what they need (below it, `subtree_scope`: one statement).
WIDE_OBJECTIVE_SCOPE = 1250


async def check_ins(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_results: Sequence[tuple[uuid.UUID, str]],
    until: datetime,
    *,
    latest_only: bool,
    confidence: bool,
) -> list[CheckInRow]:
    """Non-retracted check-ins observed by `until`.

    `key_results` are (id, 'value' | 'done' | 'none'). With `latest_only`, only
    what one instant needs: per key result the latest check-in carrying its value and, with
    `confidence`, the latest carrying a confidence. Rows come ordered by
    (observed_at, recorded_at, id).
    """
    if latest_only:
        sql = _LATEST_CHECK_INS if confidence else _LATEST_VALUE_CHECK_INS
        if not confidence:
            key_results = [k for k in key_results if k[1] != "none"]
            if len(key_results) >= WIDE_CHECK_IN_SCOPE:
                sql = _LATEST_VALUE_CHECK_INS_WIDE
    else:
        sql = _ALL_CHECK_INS
    if not key_results:
        return []
    result = await session.execute(
        sql,
        {
            "org": org_id,
            "ids": [k[0] for k in key_results],
            "kinds": [k[1] for k in key_results],
            "t": until,
        },
    )
    rows: dict[uuid.UUID, CheckInRow] = {}
    if sql is _LATEST_CHECK_INS:  # a key result, its latest check-ins: value `v`, confidence `c`
        for (
            kr_id,
            v_id,
            v_observed_at,
            v_recorded_at,
            v_value,
            v_done,
            v_confidence,
            c_id,
            c_observed_at,
            c_recorded_at,
            c_value,
            c_done,
            c_confidence,
        ) in _driver_rows(result):
            if v_id is not None:
                rows[v_id] = CheckInRow(
                    v_id, kr_id, v_observed_at, v_recorded_at, v_value, v_done, v_confidence
                )
            if c_id is not None:
                rows[c_id] = CheckInRow(
                    c_id, kr_id, c_observed_at, c_recorded_at, c_value, c_done, c_confidence
                )
    else:  # a key result and one of its check-ins (never null: WHERE or an inner join)
        for kr_id, check_in_id, observed_at, recorded_at, value, done, confidence in _driver_rows(
            result
        ):
            rows[check_in_id] = CheckInRow(
                check_in_id, kr_id, observed_at, recorded_at, value, done, confidence
            )
    return sorted(rows.values(), key=lambda c: (c.observed_at, c.recorded_at, c.id))


# Each aggregation's value over the points of window `w` (columns w.metric_id, w.a, w.b), as
# a scalar subquery: a statement runs only the one its metric's aggregation names.
_WINDOW_RANGE = """p.org_id = :org AND p.metric_id = w.metric_id AND p.ts >= w.a AND p.ts < w.b
          {dimension_filter}"""
_WINDOW_AGGREGATES = {
    name: f"(SELECT {aggregate} FROM points p WHERE {_WINDOW_RANGE})"
    for name, aggregate in (
        ("sum", "sum(p.value)"),
        ("avg", "avg(p.value)"),
        ("min", "min(p.value)"),
        ("max", "max(p.value)"),
        ("count", "count(*)::float8"),
    )
}
# `last`: the latest point of each dimension set, summed. The latest instant per set by a hash
# aggregate, then that point by primary key: sorting the window's points by (dimensions, ts)
# for DISTINCT ON costs more (jsonb comparisons; decision record 0015).
_WINDOW_AGGREGATES["last"] = f"""(
    SELECT sum(q.value) FROM (
        SELECT p.dimensions, max(p.ts) AS ts
        FROM points p WHERE {_WINDOW_RANGE}
        GROUP BY p.dimensions
    ) latest
    JOIN points q ON q.org_id = :org AND q.metric_id = w.metric_id AND q.ts = latest.ts
        AND q.dimensions = latest.dimensions
)"""


# For statements of other modules reading windows (`service.statuses.window_cache`): window
# `w` has columns w.metric_id, w.a, w.b; the organization is `:org`; every dimension set.


def window_points() -> str:
    """The condition on `points p` that selects window `w`'s points."""
    return _WINDOW_RANGE.format(dimension_filter="")


def last_of_window() -> str:
    """The SQL of window `w`'s `last` aggregate."""
    return _WINDOW_AGGREGATES["last"].format(dimension_filter="")


# Only the aggregate each window's metric needs: one UNION ALL branch per aggregation, each
# running its index range scan for the windows of that aggregation alone (decision record
# 0015).
_WINDOW_VALUES = """
WITH w AS MATERIALIZED (
    SELECT w.i, w.metric_id, (:starts)[w.span] AS a, (:ends)[w.span] AS b, m.aggregation
    FROM unnest(:metric_ids, :spans) WITH ORDINALITY AS w(metric_id, span, i)
    JOIN metrics m ON m.org_id = :org AND m.id = w.metric_id
)
""" + "UNION ALL".join(
    f"""
SELECT w.i, {aggregate} AS value
FROM w WHERE w.aggregation = '{name}'
"""
    for name, aggregate in _WINDOW_AGGREGATES.items()
)


def _window_statement(dimension_filter: str) -> TextClause:
    return text(_WINDOW_VALUES.format(dimension_filter=dimension_filter)).bindparams(
        bindparam("metric_ids", type_=UUIDS),
        bindparam("spans", type_=ARRAY(INTEGER)),
        bindparam("starts", type_=INSTANTS),
        bindparam("ends", type_=INSTANTS),
    )


_WINDOW_VALUES_ALL = _window_statement("")
_WINDOW_VALUES_OF_DIMENSIONS = _window_statement("AND p.dimensions @> :dims").bindparams(
    bindparam("dims", type_=JSONB)
)


async def window_values(
    session: AsyncSession,
    org_id: uuid.UUID,
    windows: Sequence[tuple[uuid.UUID, datetime, datetime]],
    dimensions: dict[str, str] | None = None,
) -> dict[tuple[uuid.UUID, datetime, datetime], float | None]:
    """Each metric's aggregate over each window [a, b), in one statement.

    `count` over a window without points is 0; the other aggregations are null.
    """
    unique = list(dict.fromkeys(windows))
    if not unique:
        return {}
    statement = _WINDOW_VALUES_OF_DIMENSIONS if dimensions else _WINDOW_VALUES_ALL
    # Each distinct [a, b) once, windows by its number (1-based): the windows of a roll-up
    # share a few spans, and timestamps are costly to encode (decision record 0015).
    spans = {span: number for number, span in enumerate(dict.fromkeys(w[1:] for w in unique), 1)}
    params: dict[str, Any] = {
        "org": org_id,
        "metric_ids": [w[0] for w in unique],
        "spans": [spans[w[1:]] for w in unique],
        "starts": [span[0] for span in spans],
        "ends": [span[1] for span in spans],
    }
    if dimensions:
        params["dims"] = dimensions
    result = await session.execute(statement, params)
    values: dict[tuple[uuid.UUID, datetime, datetime], float | None] = dict.fromkeys(unique)
    for index, value in _driver_rows(result):
        values[unique[index - 1]] = None if value is None else float(value)
    return values


# Key result `k`'s commitments by index (`OFFSET 0` keeps the lateral a per-row lookup):
# for a subtree's few hundred key results, cheaper than hashing every commitment of the
# organization (decision record 0015).
_COMMITMENTS_OF_K = """LATERAL (
    SELECT c.id, c.state, c.due_on, c.done_at, c.dropped_at
    FROM commitment_key_results ckr
    JOIN commitments c ON c.org_id = :org AND c.id = ckr.commitment_id
    WHERE ckr.key_result_id = k.id AND ckr.org_id = :org
    OFFSET 0
) c"""
_COMMITMENTS = text(f"""
SELECT k.id, c.id, c.state, c.due_on, c.done_at, c.dropped_at
FROM unnest(:ids) AS k(id) CROSS JOIN {_COMMITMENTS_OF_K}
""").bindparams(bindparam("ids", type_=UUIDS))

# The same rows for a large scope (a cycle), where one hash join is cheaper (0015).
_COMMITMENTS_WIDE = text("""
SELECT ckr.key_result_id, c.id, c.state, c.due_on, c.done_at, c.dropped_at
FROM unnest(:ids) AS k(id)
JOIN commitment_key_results ckr ON ckr.org_id = :org AND ckr.key_result_id = k.id
JOIN commitments c ON c.org_id = :org AND c.id = ckr.commitment_id
""").bindparams(bindparam("ids", type_=UUIDS))
# From this many key results on, `_COMMITMENTS_WIDE`.
WIDE_COMMITMENT_SCOPE = 2000


async def commitments_of_key_results(
    session: AsyncSession, org_id: uuid.UUID, key_result_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, CommitmentRow]]:
    """(key result, commitment) for every commitment supporting one of the key results."""
    wide = len(key_result_ids) >= WIDE_COMMITMENT_SCOPE
    result = await session.execute(
        _COMMITMENTS_WIDE if wide else _COMMITMENTS, {"org": org_id, "ids": list(key_result_ids)}
    )
    return [
        (kr_id, CommitmentRow(commitment_id, state, due_on, done_at, dropped_at))
        for kr_id, commitment_id, state, due_on, done_at, dropped_at in _driver_rows(result)
    ]


# A subtree in one statement -------------------------------------------------------------------

# A window's aggregate by its metric's aggregation: PostgreSQL runs only the subquery of the
# branch taken.
_AGGREGATE_OF_WINDOW = " ".join(
    f"WHEN '{name}' THEN {aggregate.format(dimension_filter='')}"
    for name, aggregate in _WINDOW_AGGREGATES.items()
)

# The rows of `_SUBTREE_SCOPE_AT` and `_UNTIL`: up to four kinds sharing sixteen columns by
# type (the driver pays for every cell, null or not, and more for every row; for one
# instant the latest check-in rides on its key result's row instead of its own). A key
# result is numbered (`k.number`), and the other kinds name it, and their objective, by
# number rather than by id: each UUID the driver decodes is a new object that computes its
# hash again on first use (decision record 0015). By kind, what each column holds:
#
#   column  type          0 key result   1 check-in     2 metric window   3 commitment
#   1       int           number         key result     a key result *    key result
#   2       int           objective **   .              window number     .
#   3       uuid          id             id             .                 id
#   4       uuid          metric_id      .              .                 .
#   5       text          title          .              .                 state
#   6, 7    text          measure, direction
#   8       float8        start_value    value          value             .
#   9, 10   float8        target_value, weight
#   11      timestamptz   observed_at*** observed_at    .                 done_at
#   12      timestamptz   .              recorded_at    .                 dropped_at
#   13      bool          done ***       done           .                 .
#   14      date          .              .              .                 due_on
#   15      float8        value ***      .              .                 .
#
#   * on the window's metric   ** 1-based into `:ids`
#   *** for one instant (`_SUBTREE_SCOPE_AT`): its latest check-in carrying its value, whose
#       id and recorded_at (which only order check-ins) are not read
_SCOPE_TYPES = (
    *("int", "int", "int", "uuid", "uuid", "text", "text", "text"),
    *("float8", "float8", "float8", "timestamptz", "timestamptz", "bool", "date", "float8"),
)
# The kinds of rows (column 0).
_KEY_RESULT_ROW, _CHECK_IN_ROW, _WINDOW_ROW, _COMMITMENT_ROW = 0, 1, 2, 3
_scope_kind = itemgetter(0)


def _scope_row(kind: int, columns: dict[int, str]) -> str:
    """The select list of one kind of `_SUBTREE_SCOPE_*` row (`columns` by position)."""
    values = {0: str(kind), **columns}
    return ", ".join(values.get(i, f"NULL::{type_}") for i, type_ in enumerate(_SCOPE_TYPES))


# A check-in carrying the value of a manual (value) or milestone (done) key result.
_CARRIES_VALUE = """ci.org_id = :org AND ci.key_result_id = k.id AND ci.retracted_at IS NULL
        AND ci.observed_at <= :t
        AND CASE k.measure WHEN 'manual' THEN ci.value IS NOT NULL ELSE ci.done IS NOT NULL END"""

_SCOPE_KEY_RESULTS = """
WITH k AS MATERIALIZED (
    SELECT row_number() OVER () AS number, o.number AS objective_number, kr.id, kr.title,
           kr.measure, kr.direction, kr.start_value, kr.target_value, kr.weight, kr.metric_id,
           o.window_group
    FROM unnest(:ids, :groups) WITH ORDINALITY AS o(objective_id, window_group, number)
    JOIN key_results kr USING (objective_id)
    WHERE kr.org_id = :org AND kr.state = 'active'
)
"""
_KEY_RESULT_COLUMNS = {
    1: "k.number",
    2: "k.objective_number",
    3: "k.id",
    4: "k.metric_id",
    5: "k.title",
    6: "k.measure",
    7: "k.direction",
    8: "k.start_value",
    9: "k.target_value",
    10: "k.weight",
}
# Key results, each with its latest check-in carrying its value (LATERAL ... LIMIT 1: one
# probe of the (key_result_id, observed_at, recorded_at) index per key result, none for a
# metric key result).
_KEY_RESULTS_WITH_LATEST = f"""
SELECT {
    _scope_row(
        _KEY_RESULT_ROW,
        {**_KEY_RESULT_COLUMNS, 11: "ci.observed_at", 13: "ci.done", 15: "ci.value"},
    )
}
FROM k LEFT JOIN LATERAL (
    SELECT ci.observed_at, ci.value, ci.done
    FROM check_ins ci
    WHERE k.measure IN ('manual', 'milestone') AND {_CARRIES_VALUE}
    ORDER BY ci.observed_at DESC, ci.recorded_at DESC, ci.id DESC LIMIT 1
) ci ON true
"""
_KEY_RESULTS = f"SELECT {_scope_row(_KEY_RESULT_ROW, _KEY_RESULT_COLUMNS)} FROM k"
# Every check-in carrying a key result's value observed by :t.
_CHECK_INS = f"""
SELECT {
    _scope_row(
        _CHECK_IN_ROW,
        {
            1: "k.number",
            3: "ci.id",
            8: "ci.value",
            11: "ci.observed_at",
            12: "ci.recorded_at",
            13: "ci.done",
        },
    )
}
FROM k JOIN check_ins ci ON {_CARRIES_VALUE}
WHERE k.measure IN ('manual', 'milestone')
"""
# Each distinct (metric, window) of the metric key results: objectives come with their
# window group (`:groups`), the windows of a group are the pairs (`:pair_groups`,
# `:pair_windows`), 1-based into `:starts` and `:ends`, so that the objectives of a cycle
# share their windows.
_WINDOWS = f"""
SELECT {
    _scope_row(
        _WINDOW_ROW,
        {1: "w.number", 2: "w.window_number", 8: f"CASE m.aggregation {_AGGREGATE_OF_WINDOW} END"},
    )
}
FROM (
    SELECT min(k.number) AS number, k.metric_id, g.window_number,
           (:starts)[g.window_number] AS a, (:ends)[g.window_number] AS b
    FROM k JOIN unnest(:pair_groups, :pair_windows) AS g(window_group, window_number)
        USING (window_group)
    WHERE k.measure = 'metric'
    GROUP BY k.metric_id, g.window_number
) w
JOIN metrics m ON m.org_id = :org AND m.id = w.metric_id
"""
# One lookup per key result, as `_COMMITMENTS`.
_SCOPE_COMMITMENTS = f"""
SELECT {
    _scope_row(
        _COMMITMENT_ROW,
        {
            1: "k.number",
            3: "c.id",
            5: "c.state",
            11: "c.done_at",
            12: "c.dropped_at",
            14: "c.due_on",
        },
    )
}
FROM k CROSS JOIN {_COMMITMENTS_OF_K}
"""


def _subtree_scope_statement(*parts: str) -> TextClause:
    return text(_SCOPE_KEY_RESULTS + "\nUNION ALL\n".join(parts)).bindparams(
        bindparam("ids", type_=UUIDS),
        bindparam("groups", type_=ARRAY(INTEGER)),
        bindparam("pair_groups", type_=ARRAY(INTEGER)),
        bindparam("pair_windows", type_=ARRAY(INTEGER)),
        bindparam("starts", type_=INSTANTS),
        bindparam("ends", type_=INSTANTS),
    )


# Everything a roll-up reads below its objectives, in one statement rather than three (key
# results with their check-ins, metric windows, commitments): the same index probes without
# two more round trips and their statement overhead (decision record 0015). For one instant
# each key result's latest check-in carrying its value, on its row; for a history every
# check-in observed by :t.
_SUBTREE_SCOPE_AT = _subtree_scope_statement(_KEY_RESULTS_WITH_LATEST, _WINDOWS, _SCOPE_COMMITMENTS)
_SUBTREE_SCOPE_UNTIL = _subtree_scope_statement(
    _KEY_RESULTS, _CHECK_INS, _WINDOWS, _SCOPE_COMMITMENTS
)


@dataclass(slots=True)
class SubtreeScope:
    """What `subtree_scope` read, as `active_key_results`, `check_ins(..., confidence=False)`,
    `window_values` and `commitments_of_key_results` return it; check-ins without their
    confidence, for one instant as `CheckInValue`s (one per key result), else ordered by
    (observed_at, recorded_at, id)."""

    key_results: list[KeyResultRow]
    check_ins: list[CheckInRow] | list[CheckInValue]
    metric_values: dict[tuple[uuid.UUID, datetime, datetime], float | None]
    commitments: list[tuple[uuid.UUID, CommitmentRow]]


async def subtree_scope(
    session: AsyncSession,
    org_id: uuid.UUID,
    cycle_of: dict[uuid.UUID, uuid.UUID],
    windows: Mapping[uuid.UUID, Sequence[tuple[datetime, datetime]]],
    until: datetime,
    *,
    latest_only: bool,
) -> SubtreeScope:
    """In one statement: the active key results of the objectives (`cycle_of`: objective →
    its cycle), the check-ins carrying their values observed by `until` (with `latest_only`
    only the latest of each), the aggregate of each metric key result's metric over every
    metric window [a, b) of its objective's cycle (`windows`: cycle → windows), and their
    commitments."""
    # Objectives by their cycle's number (a window group), each window once.
    groups: dict[uuid.UUID, int] = {}
    numbers: dict[tuple[datetime, datetime], int] = {}
    pairs: list[tuple[int, int]] = []
    for cycle_id in cycle_of.values():
        if cycle_id not in groups:
            group = groups[cycle_id] = len(groups) + 1
            pairs += [(group, numbers.setdefault(w, len(numbers) + 1)) for w in windows[cycle_id]]
    result = await session.execute(
        _SUBTREE_SCOPE_AT if latest_only else _SUBTREE_SCOPE_UNTIL,
        {
            "org": org_id,
            "ids": list(cycle_of),
            "groups": [groups[cycle_id] for cycle_id in cycle_of.values()],
            "pair_groups": [group for group, _ in pairs],
            "pair_windows": [number for _, number in pairs],
            "starts": [w[0] for w in numbers],
            "ends": [w[1] for w in numbers],
            "t": until,
        },
    )
    objective_ids = list(cycle_of)
    by_number = list(numbers)
    # Key results by number first: the other kinds of rows name theirs by number. Each kind
    # of row is decoded by unpacking its sixteen columns into its own names, eight a line as
    # in `_SCOPE_TYPES` (`_` for those it leaves null).
    numbered: dict[int, KeyResultRow] = {}
    others = []
    latest: list[CheckInValue] = []
    for row in _driver_rows(result):
        if _scope_kind(row) != _KEY_RESULT_ROW:
            others.append(row)
            continue
        # fmt: off
        (_, number, objective_number, kr_id, metric_id, title, measure, direction,
         start_value, target_value, weight, observed_at, _, done, _, value) = row
        # fmt: on
        numbered[number] = KeyResultRow(
            kr_id,
            objective_ids[objective_number - 1],
            title,
            measure,
            direction,
            start_value,
            target_value,
            weight,
            "active",  # as selected
            metric_id,
        )
        if observed_at is not None:  # its latest check-in carrying its value, for one instant
            latest.append(CheckInValue(kr_id, observed_at, value, done))
    ordered: list[CheckInRow] = []
    metric_values: dict[tuple[uuid.UUID, datetime, datetime], float | None] = {}
    commitments: list[tuple[uuid.UUID, CommitmentRow]] = []
    for row in others:
        kind = _scope_kind(row)
        if kind == _CHECK_IN_ROW:
            # fmt: off
            (_, number, _, check_in_id, _, _, _, _,
             value, _, _, observed_at, recorded_at, done, _, _) = row
            # fmt: on
            # Confidence left out: no roll-up of objectives reads it.
            key_result_id = numbered[number].id
            ordered.append(
                CheckInRow(check_in_id, key_result_id, observed_at, recorded_at, value, done, None)
            )
        elif kind == _WINDOW_ROW:
            # fmt: off
            (_, number, window_number, _, _, _, _, _,
             value, _, _, _, _, _, _, _) = row
            # fmt: on
            metric_id = numbered[number].metric_id
            assert metric_id is not None
            a, b = by_number[window_number - 1]
            metric_values[(metric_id, a, b)] = None if value is None else float(value)
        else:
            # fmt: off
            (_, number, _, commitment_id, _, state, _, _,
             _, _, _, done_at, dropped_at, _, due_on, _) = row
            # fmt: on
            commitment = CommitmentRow(commitment_id, state, due_on, done_at, dropped_at)
            commitments.append((numbered[number].id, commitment))
    key_results = list(numbered.values())
    if latest_only:  # one per key result: any order will do
        return SubtreeScope(key_results, latest, metric_values, commitments)
    ordered.sort(key=lambda c: (c.observed_at, c.recorded_at, c.id))
    return SubtreeScope(key_results, ordered, metric_values, commitments)


# Metrics ----------------------------------------------------------------------------------


@dataclass(slots=True)
class MetricRow:
    id: uuid.UUID
    direction: str
    aggregation: str
    observation_window_days: int | None


async def metric(
    session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID
) -> MetricRow | None:
    result = await session.execute(
        text(
            "SELECT id, direction, aggregation, observation_window_days FROM metrics"
            " WHERE org_id = :org AND id = :id"
        ),
        {"org": org_id, "id": metric_id},
    )
    r = result.first()
    return (
        None
        if r is None
        else MetricRow(r.id, r.direction, r.aggregation, r.observation_window_days)
    )


_SERIES = """
SELECT date_trunc(:unit, p.ts AT TIME ZONE 'UTC') AS bucket, {aggregate}(p.value) AS value
FROM points p
WHERE p.org_id = :org AND p.metric_id = :metric AND p.ts >= :a AND p.ts < :b {dimension_filter}
GROUP BY 1 ORDER BY 1
"""

_SERIES_LAST = """
SELECT bucket, sum(value) AS value FROM (
    SELECT DISTINCT ON (1, p.dimensions) date_trunc(:unit, p.ts AT TIME ZONE 'UTC') AS bucket,
           p.value
    FROM points p
    WHERE p.org_id = :org AND p.metric_id = :metric AND p.ts >= :a AND p.ts < :b
          {dimension_filter}
    ORDER BY 1, p.dimensions, p.ts DESC
) latest
GROUP BY bucket ORDER BY bucket
"""

_AGGREGATES = {"sum": "sum", "avg": "avg", "min": "min", "max": "max", "count": "count"}


async def series(
    session: AsyncSession,
    org_id: uuid.UUID,
    metric_row: MetricRow,
    start: datetime,
    end: datetime,
    unit: str,
    dimensions: dict[str, str] | None = None,
) -> list[tuple[datetime, float | None]]:
    """(bucket start as naive UTC, value) for buckets that hold points."""
    dimension_filter = "AND p.dimensions @> :dims" if dimensions else ""
    if metric_row.aggregation == "last":
        sql = _SERIES_LAST.format(dimension_filter=dimension_filter)
    else:
        aggregate = _AGGREGATES[metric_row.aggregation]
        sql = _SERIES.format(dimension_filter=dimension_filter, aggregate=aggregate)
    statement = text(sql)
    params: dict[str, Any] = {
        "org": org_id,
        "metric": metric_row.id,
        "unit": unit,
        "a": start,
        "b": end,
    }
    if dimensions:
        statement = statement.bindparams(bindparam("dims", type_=JSONB))
        params["dims"] = dimensions
    result = await session.execute(statement, params)
    return [(r.bucket, None if r.value is None else float(r.value)) for r in result.all()]


async def component_children(
    session: AsyncSession, org_id: uuid.UUID, metric_id: uuid.UUID
) -> list[tuple[uuid.UUID, float]]:
    result = await session.execute(
        text(
            "SELECT child_metric_id, weight FROM metric_edges WHERE org_id = :org"
            " AND parent_metric_id = :id AND relation = 'component' ORDER BY child_metric_id"
        ),
        {"org": org_id, "id": metric_id},
    )
    return [(r.child_metric_id, r.weight) for r in result.all()]


# Alignment paths ----------------------------------------------------------------------------


async def commitment_key_results(
    session: AsyncSession, org_id: uuid.UUID, commitment_id: uuid.UUID
) -> tuple[bool, list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]]]:
    """(commitment exists, [(key result, objective, metric)] of its active key results)."""
    result = await session.execute(
        text(
            """
            SELECT c.id AS commitment_id, kr.id, kr.objective_id, kr.metric_id
            FROM commitments c
            LEFT JOIN commitment_key_results ckr
              ON ckr.org_id = :org AND ckr.commitment_id = c.id
            LEFT JOIN key_results kr
              ON kr.org_id = :org AND kr.id = ckr.key_result_id AND kr.state = 'active'
            WHERE c.org_id = :org AND c.id = :id
            """
        ),
        {"org": org_id, "id": commitment_id},
    )
    rows = result.all()
    return bool(rows), [(r.id, r.objective_id, r.metric_id) for r in rows if r.id is not None]


async def objective_ancestry(
    session: AsyncSession, org_id: uuid.UUID, objective_ids: Sequence[uuid.UUID]
) -> tuple[list[tuple[uuid.UUID, uuid.UUID]], list[tuple[uuid.UUID, uuid.UUID]]]:
    """Alignment edges (child, parent) up from the objectives through counting parents, and
    (objective, metric) it drives for every objective reached."""
    result = await session.execute(
        text(
            f"""
            WITH RECURSIVE up(id) AS (
                SELECT id FROM objectives WHERE org_id = :org AND id = ANY(:ids)
                UNION
                SELECT a.parent_objective_id FROM up
                JOIN alignments a ON a.org_id = :org AND a.child_objective_id = up.id
                JOIN objectives p ON p.org_id = :org AND p.id = a.parent_objective_id
                WHERE p.state IN {COUNTING}
            )
            SELECT 'edge' AS kind, a.child_objective_id AS a, a.parent_objective_id AS b
            FROM up JOIN alignments a ON a.org_id = :org AND a.child_objective_id = up.id
            JOIN objectives p ON p.org_id = :org AND p.id = a.parent_objective_id
            WHERE p.state IN {COUNTING}
            UNION ALL
            SELECT 'drives', om.objective_id, om.metric_id
            FROM up JOIN objective_metrics om ON om.org_id = :org AND om.objective_id = up.id
            JOIN metrics m ON m.org_id = :org AND m.id = om.metric_id
            WHERE m.archived_at IS NULL
            """
        ).bindparams(bindparam("ids", type_=UUIDS)),
        {"org": org_id, "ids": list(objective_ids)},
    )
    edges: list[tuple[uuid.UUID, uuid.UUID]] = []
    drives: list[tuple[uuid.UUID, uuid.UUID]] = []
    for kind, a, b in result:
        (edges if kind == "edge" else drives).append((a, b))
    return edges, drives


async def metric_ancestry(
    session: AsyncSession, org_id: uuid.UUID, metric_ids: Sequence[uuid.UUID]
) -> tuple[list[tuple[uuid.UUID, uuid.UUID]], uuid.UUID | None]:
    """Metric edges (child, parent) up from the metrics, and the North Star's id."""
    result = await session.execute(
        text(
            """
            WITH RECURSIVE up(id) AS (
                SELECT id FROM metrics WHERE org_id = :org AND id = ANY(:ids)
                UNION
                SELECT e.parent_metric_id FROM up
                JOIN metric_edges e ON e.org_id = :org AND e.child_metric_id = up.id
                JOIN metrics p ON p.org_id = :org AND p.id = e.parent_metric_id
                WHERE p.archived_at IS NULL
            )
            SELECT e.child_metric_id AS a, e.parent_metric_id AS b
            FROM up JOIN metric_edges e ON e.org_id = :org AND e.child_metric_id = up.id
            JOIN metrics p ON p.org_id = :org AND p.id = e.parent_metric_id
            WHERE p.archived_at IS NULL
            UNION ALL
            SELECT NULL, id FROM metrics
            WHERE org_id = :org AND is_north_star AND archived_at IS NULL
            """
        ).bindparams(bindparam("ids", type_=UUIDS)),
        {"org": org_id, "ids": list(metric_ids)},
    )
    edges: list[tuple[uuid.UUID, uuid.UUID]] = []
    north_star: uuid.UUID | None = None
    for a, b in result:
        if a is None:
            north_star = b
        else:
            edges.append((a, b))
    return edges, north_star


async def node_kind(
    session: AsyncSession, org_id: uuid.UUID, node_id: uuid.UUID
) -> list[tuple[str, uuid.UUID | None, uuid.UUID | None]]:
    """What an id is: ('objective'|'key_result'|'metric', objective, metric) rows."""
    result = await session.execute(
        text(
            """
            SELECT 'objective' AS kind, id AS objective_id, NULL::uuid AS metric_id
            FROM objectives WHERE org_id = :org AND id = :id
            UNION ALL
            SELECT 'key_result', objective_id, metric_id
            FROM key_results WHERE org_id = :org AND id = :id
            UNION ALL
            SELECT 'metric', NULL, id FROM metrics WHERE org_id = :org AND id = :id
            """
        ),
        {"org": org_id, "id": node_id},
    )
    return [(r.kind, r.objective_id, r.metric_id) for r in result.all()]
