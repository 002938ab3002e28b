"""Hand-written SQL for the goal numbers of SPEC §3: the floors of scenarios 3 and 4.

Each floor is ONE statement that returns the whole answer as JSON, written the way a
PostgreSQL expert would for this data: key-result current values with correlated
`LIMIT 1` / aggregate subqueries on the indexes, progress and status in SQL, and the
objective tree evaluated bottom-up by unrolling the weighted mean over the alignment
edges a fixed number of times (`LEVELS`). Unrolling is exact for trees no higher than
`LEVELS` — the generated organization's trees have height 2 (company → team →
sub-team, plus cross alignments between trees of one cycle), so 3 levels is exact with a
level to spare. A hand-written query may know the shape of the data; that is what makes
it a floor.

Semantics follow SPEC §3 and the engine's written decisions
(docs/decisions/0017-rollup-rules-where-the-spec-is-silent.md):
objectives count when active or closed, check-ins count when observed at or before t and
before their cycle's end, metric key results take the metric's aggregate over
[cycle start, min(t, cycle end)), `auto` = key results if it has any, else children.
Parameters: $1 org id, $2 the instant t, $3 the scope (a cycle id, an objective id, or an
array of objective ids, by statement).
"""

from __future__ import annotations

LEVELS = 3


def _typed(sql: str) -> str:
    """Explicit parameter types, so that PostgreSQL never has to guess them."""
    return sql.replace("$1", "$1::uuid").replace("$2", "$2::timestamptz")


_THRESHOLDS = """
th AS (
    SELECT coalesce((settings->>'on_track_ratio')::float8, 0.7) AS on_track,
           coalesce((settings->>'at_risk_ratio')::float8, 0.4) AS at_risk
    FROM organizations WHERE id = $1
)"""

_KEY_RESULTS = """
win AS (
    SELECT s.id, s.rollup_mode, s.title,
           (cy.starts_on::timestamp AT TIME ZONE 'UTC') AS c_start,
           ((cy.ends_on + 1)::timestamp AT TIME ZONE 'UTC') AS c_end
    FROM scope s JOIN cycles cy ON cy.org_id = $1 AND cy.id = s.cycle_id
),
kr0 AS (
    SELECT kr.id, kr.objective_id, kr.title, kr.measure, kr.direction, kr.start_value AS s,
           kr.target_value AS g, kr.weight, kr.created_at, kr.metric_id, w.c_start, w.c_end,
           least(1.0, greatest(0.0, extract(epoch FROM $2 - w.c_start)::float8
                                    / extract(epoch FROM w.c_end - w.c_start)::float8)) AS e
    FROM key_results kr JOIN win w ON w.id = kr.objective_id
    WHERE kr.org_id = $1 AND kr.state = 'active'
),
-- One aggregate per distinct (metric, cycle window), shared by the key results on it.
mval AS MATERIALIZED (
    SELECT mw.metric_id, mw.c_start, mw.c_end,
           CASE WHEN m.aggregation = 'last' THEN (
               SELECT sum(l.value) FROM (
                   SELECT DISTINCT ON (p.dimensions) p.value FROM points p
                   WHERE p.org_id = $1 AND p.metric_id = m.id AND p.ts >= mw.c_start
                     AND p.ts < least($2, mw.c_end)
                   ORDER BY p.dimensions, p.ts DESC) l)
           ELSE (
               SELECT CASE m.aggregation
                      WHEN 'sum' THEN sum(p.value) WHEN 'avg' THEN avg(p.value)
                      WHEN 'min' THEN min(p.value) WHEN 'max' THEN max(p.value)
                      WHEN 'count' THEN count(*)::float8 END
               FROM points p
               WHERE p.org_id = $1 AND p.metric_id = m.id AND p.ts >= mw.c_start
                 AND p.ts < least($2, mw.c_end)) END AS v
    FROM (SELECT DISTINCT metric_id, c_start, c_end FROM kr0 WHERE metric_id IS NOT NULL) mw
    JOIN metrics m ON m.org_id = $1 AND m.id = mw.metric_id
    WHERE least($2, mw.c_end) > mw.c_start
),
kr AS MATERIALIZED (
    SELECT kr0.*,
           CASE kr0.measure
           WHEN 'manual' THEN (
               SELECT ci.value FROM check_ins ci
               WHERE ci.org_id = $1 AND ci.key_result_id = kr0.id AND ci.retracted_at IS NULL
                 AND ci.value IS NOT NULL AND ci.observed_at <= $2
                 AND ci.observed_at < kr0.c_end
               ORDER BY ci.observed_at DESC, ci.recorded_at DESC, ci.id DESC LIMIT 1)
           WHEN 'milestone' THEN (
               SELECT CASE WHEN ci.done THEN 1.0::float8 ELSE 0.0::float8 END FROM check_ins ci
               WHERE ci.org_id = $1 AND ci.key_result_id = kr0.id AND ci.retracted_at IS NULL
                 AND ci.done IS NOT NULL AND ci.observed_at <= $2
                 AND ci.observed_at < kr0.c_end
               ORDER BY ci.observed_at DESC, ci.recorded_at DESC, ci.id DESC LIMIT 1)
           ELSE mval.v
           END AS c
    FROM kr0
    LEFT JOIN mval ON mval.metric_id = kr0.metric_id AND mval.c_start = kr0.c_start
                  AND mval.c_end = kr0.c_end
),
krp AS (
    SELECT kr.*,
           CASE WHEN c IS NULL THEN 0.0::float8
                WHEN measure = 'milestone' THEN c
                WHEN direction = 'at_least' THEN CASE WHEN c >= g THEN 1.0 ELSE 0.0 END
                WHEN direction = 'at_most' THEN CASE WHEN c <= g THEN 1.0 ELSE 0.0 END
                ELSE least(1.0, greatest(0.0, (c - s) / (g - s))) END AS p
    FROM kr
),
krs AS (
    SELECT krp.*,
           CASE WHEN c IS NULL THEN 'NO_DATA'
                WHEN measure <> 'milestone' AND direction IN ('at_least', 'at_most')
                     THEN CASE WHEN p >= 1 THEN 'ON_TRACK' ELSE 'OFF_TRACK' END
                WHEN p >= 1 THEN 'DONE'
                WHEN e = 0 THEN 'ON_TRACK'
                WHEN p / e >= th.on_track THEN 'ON_TRACK'
                WHEN p / e >= th.at_risk THEN 'AT_RISK'
                ELSE 'OFF_TRACK' END AS status
    FROM krp CROSS JOIN th
)"""

_OBJECTIVES = """
obj AS (
    SELECT w.id, w.title,
           least(1.0, greatest(0.0, extract(epoch FROM $2 - w.c_start)::float8
                                    / extract(epoch FROM w.c_end - w.c_start)::float8)) AS e,
           (w.rollup_mode IN ('key_results', 'both')
            OR (w.rollup_mode = 'auto' AND k.n IS NOT NULL)) AS kr_on,
           (w.rollup_mode IN ('children', 'both')
            OR (w.rollup_mode = 'auto' AND k.n IS NULL)) AS ch_on,
           coalesce(k.wp, 0) AS wp, coalesce(k.w, 0) AS w
    FROM win w
    LEFT JOIN (
        SELECT objective_id, count(*) AS n,
               sum(weight * p) FILTER (WHERE weight > 0) AS wp,
               sum(weight) FILTER (WHERE weight > 0) AS w
        FROM krs GROUP BY objective_id
    ) k ON k.objective_id = w.id
),
edges AS (
    SELECT a.child_objective_id AS child, a.parent_objective_id AS parent, a.weight
    FROM alignments a
    JOIN obj c ON c.id = a.child_objective_id
    JOIN obj p ON p.id = a.parent_objective_id AND p.ch_on
    WHERE a.org_id = $1 AND a.weight > 0
),
p0 AS MATERIALIZED (
    SELECT o.id, CASE WHEN o.kr_on AND o.w > 0 THEN o.wp / o.w END AS p FROM obj o
),
{levels},
ostat AS (
    SELECT o.id, o.title, o.e, pl.p,
           CASE WHEN pl.p IS NULL THEN 'NO_DATA'
                WHEN pl.p >= 1 THEN 'DONE'
                WHEN o.e = 0 THEN 'ON_TRACK'
                WHEN pl.p / o.e >= th.on_track THEN 'ON_TRACK'
                WHEN pl.p / o.e >= th.at_risk THEN 'AT_RISK'
                ELSE 'OFF_TRACK' END AS status
    FROM obj o JOIN p{last} pl ON pl.id = o.id CROSS JOIN th
)"""

_LEVEL = """
p{k} AS MATERIALIZED (
    SELECT o.id,
           (CASE WHEN o.kr_on THEN o.wp ELSE 0 END + coalesce(ch.sp, 0))
           / nullif(CASE WHEN o.kr_on THEN o.w ELSE 0 END + coalesce(ch.sw, 0), 0) AS p
    FROM obj o
    LEFT JOIN (
        SELECT e.parent, sum(e.weight * c.p) AS sp, sum(e.weight) AS sw
        FROM edges e JOIN p{prev} c ON c.id = e.child
        WHERE c.p IS NOT NULL GROUP BY e.parent
    ) ch ON ch.parent = o.id
)"""


def _objectives(levels: int = LEVELS) -> str:
    unrolled = ",".join(_LEVEL.format(k=k, prev=k - 1) for k in range(1, levels + 1))
    return _OBJECTIVES.format(levels=unrolled.strip(), last=levels)


def _delivery(reachable: str) -> str:
    """Delivery over the commitments of counted key results of the `reachable` objectives."""
    return f"""
dk AS (
    SELECT krs.id FROM krs JOIN obj o ON o.id = krs.objective_id
    WHERE o.kr_on AND krs.weight > 0 AND krs.objective_id IN (SELECT id FROM {reachable})
),
cm AS (
    SELECT DISTINCT c.id, c.due_on, c.done_at,
           CASE WHEN c.state = 'done' AND c.done_at <= $2 THEN 'done'
                WHEN c.state = 'dropped' AND (c.dropped_at IS NULL OR c.dropped_at <= $2)
                     THEN 'dropped'
                ELSE 'open' END AS st
    FROM commitment_key_results ck
    JOIN dk ON dk.id = ck.key_result_id
    JOIN commitments c ON c.org_id = $1 AND c.id = ck.commitment_id
    WHERE ck.org_id = $1
),
delivery AS (
    SELECT json_build_object(
        'committed', count(*) FILTER (WHERE st <> 'dropped'),
        'delivered', count(*) FILTER (WHERE st = 'done'),
        'open', count(*) FILTER (WHERE st = 'open'),
        'overdue', count(*) FILTER (WHERE st = 'open' AND due_on < ($2 AT TIME ZONE 'UTC')::date),
        'onTimeRate', (count(*) FILTER (WHERE st = 'done'
                                        AND (done_at AT TIME ZONE 'UTC')::date <= due_on))::float8
                      / nullif(count(*) FILTER (WHERE st = 'done'), 0)
    ) AS j FROM cm
)"""


_COUNTING = "('active', 'closed')"
_STATUSES = "('OFF_TRACK'), ('AT_RISK'), ('NO_DATA'), ('ON_TRACK'), ('DONE')"
_BANDS = "('LOW'), ('MID'), ('HIGH')"
_BAND = "CASE WHEN {p} >= 0.7 THEN 'HIGH' WHEN {p} >= 0.4 THEN 'MID' ELSE 'LOW' END"

CYCLE_ROLLUP = f"""
WITH RECURSIVE
scope AS (
    SELECT o.id, o.cycle_id, o.rollup_mode, o.title FROM objectives o
    WHERE o.org_id = $1 AND o.cycle_id = $3 AND o.state IN {_COUNTING}
),
{_THRESHOLDS},
{_KEY_RESULTS},
{_objectives()},
company AS (
    SELECT s.id FROM scope s
    WHERE NOT EXISTS (
        SELECT 1 FROM alignments a
        JOIN objectives p ON p.org_id = $1 AND p.id = a.parent_objective_id
        WHERE a.org_id = $1 AND a.child_objective_id = s.id AND p.state IN {_COUNTING}
          AND p.cycle_id = $3)
),
{_delivery("scope")},
cyc AS (
    SELECT least(1.0, greatest(0.0,
               extract(epoch FROM $2 - (cy.starts_on::timestamp AT TIME ZONE 'UTC'))::float8
               / extract(epoch FROM ((cy.ends_on + 1)::timestamp AT TIME ZONE 'UTC')
                                    - (cy.starts_on::timestamp AT TIME ZONE 'UTC'))::float8)) AS e
    FROM cycles cy WHERE cy.org_id = $1 AND cy.id = $3
),
top AS (
    SELECT avg(os.p) AS p,
           json_agg(json_build_object('itemId', os.id, 'weight', 1.0, 'progress', os.p,
                                      'status', os.status) ORDER BY os.id) AS breakdown
    FROM company JOIN ostat os ON os.id = company.id
)
SELECT json_build_object(
    'progress', top.p,
    'status', CASE WHEN top.p IS NULL THEN 'NO_DATA' WHEN top.p >= 1 THEN 'DONE'
                   WHEN cyc.e = 0 THEN 'ON_TRACK' WHEN top.p / cyc.e >= th.on_track THEN 'ON_TRACK'
                   WHEN top.p / cyc.e >= th.at_risk THEN 'AT_RISK' ELSE 'OFF_TRACK' END,
    'expectedProgress', cyc.e,
    'breakdown', top.breakdown,
    'delivery', (SELECT j FROM delivery),
    'objectivesByStatus', (
        SELECT json_agg(json_build_object('status', s.status, 'count',
                        (SELECT count(*) FROM ostat WHERE ostat.status = s.status)))
        FROM (VALUES {_STATUSES}) s(status)),
    'keyResultsByStatus', (
        SELECT json_agg(json_build_object('status', s.status, 'count',
                        (SELECT count(*) FROM krs WHERE krs.status = s.status)))
        FROM (VALUES {_STATUSES}) s(status)),
    'objectivesByBand', (
        SELECT json_agg(json_build_object('band', b.band, 'count',
                        (SELECT count(*) FROM ostat
                         WHERE ostat.p IS NOT NULL AND {_BAND.format(p="ostat.p")} = b.band)))
        FROM (VALUES {_BANDS}) b(band)),
    'keyResultsByBand', (
        SELECT json_agg(json_build_object('band', b.band, 'count',
                        (SELECT count(*) FROM krs
                         WHERE krs.status <> 'NO_DATA' AND {_BAND.format(p="krs.p")} = b.band)))
        FROM (VALUES {_BANDS}) b(band))
)
FROM top CROSS JOIN cyc CROSS JOIN th
"""
CYCLE_ROLLUP = _typed(CYCLE_ROLLUP)

OBJECTIVE_ROLLUP = f"""
WITH RECURSIVE
tree(id) AS (
    SELECT $3::uuid
    UNION
    SELECT a.child_objective_id FROM tree t
    JOIN alignments a ON a.org_id = $1 AND a.parent_objective_id = t.id
    JOIN objectives c ON c.org_id = $1 AND c.id = a.child_objective_id
    WHERE c.state IN {_COUNTING}
),
scope AS (
    SELECT o.id, o.cycle_id, o.rollup_mode, o.title
    FROM tree JOIN objectives o ON o.org_id = $1 AND o.id = tree.id
),
{_THRESHOLDS},
{_KEY_RESULTS},
{_objectives()},
reach(id) AS (
    SELECT $3::uuid
    UNION
    SELECT e.child FROM reach r JOIN edges e ON e.parent = r.id
),
{_delivery("reach")},
items AS (
    SELECT krs.id AS item_id, krs.weight, krs.p AS progress, krs.status, krs.created_at AS k
    FROM krs JOIN obj o ON o.id = krs.objective_id AND o.kr_on WHERE krs.objective_id = $3
    UNION ALL
    SELECT a.child_objective_id, a.weight, os.p, os.status, NULL
    FROM alignments a JOIN obj p ON p.id = a.parent_objective_id AND p.ch_on
    JOIN ostat os ON os.id = a.child_objective_id
    WHERE a.org_id = $1 AND a.parent_objective_id = $3
),
counted AS (
    SELECT sum(weight) AS total FROM items WHERE weight > 0 AND progress IS NOT NULL
)
SELECT json_build_object(
    'progress', os.p,
    'status', os.status,
    'expectedProgress', os.e,
    'delivery', (SELECT j FROM delivery),
    'breakdown', (
        SELECT json_agg(json_build_object(
            'itemId', i.item_id, 'weight', i.weight, 'progress', i.progress, 'status', i.status,
            'share', CASE WHEN i.weight > 0 AND i.progress IS NOT NULL
                          THEN i.weight / counted.total ELSE 0 END))
        FROM items i CROSS JOIN counted)
)
FROM ostat os WHERE os.id = $3
"""
OBJECTIVE_ROLLUP = _typed(OBJECTIVE_ROLLUP)


def _gid(type_name: str, column: str) -> str:
    """The service's opaque global ID, built in SQL: urlsafe base64 of `Type:uuid`."""
    return (
        f"translate(encode(convert_to('{type_name}:' || {column}::text, 'UTF8'), 'base64'),"
        " '+/', '-_')"
    )


# Scenario 4: root objectives → children → children → key results with progress, as the
# GraphQL response's JSON. $3 is the array of root ids (taken from the GraphQL answer, so
# both sides read the same roots).
NESTED_READ = f"""
WITH RECURSIVE
roots AS (SELECT r.id, r.i FROM unnest($3::uuid[]) WITH ORDINALITY AS r(id, i)),
level1 AS (
    SELECT a.parent_objective_id AS parent, a.child_objective_id AS id, a.weight
    FROM alignments a JOIN roots ON roots.id = a.parent_objective_id WHERE a.org_id = $1
),
level2 AS (
    SELECT a.parent_objective_id AS parent, a.child_objective_id AS id, a.weight
    FROM alignments a JOIN (SELECT DISTINCT id FROM level1) l ON l.id = a.parent_objective_id
    WHERE a.org_id = $1
),
scope AS (
    SELECT o.id, o.cycle_id, o.rollup_mode, o.title FROM objectives o
    WHERE o.org_id = $1 AND o.id IN (SELECT id FROM level2)
),
{_THRESHOLDS},
{_KEY_RESULTS},
kr_json AS (
    SELECT objective_id,
           json_agg(json_build_object('id', {_gid("KeyResult", "id")}, 'title', title,
                                      'progress', p) ORDER BY created_at, id) AS j
    FROM krp GROUP BY objective_id
),
l2_json AS (
    SELECT l.parent,
           json_agg(json_build_object(
               'weight', l.weight,
               'child', json_build_object('id', {_gid("Objective", "o.id")}, 'title', o.title,
                                          'keyResults', coalesce(k.j, '[]'::json)))
           ORDER BY o.created_at, o.id) AS j
    FROM level2 l JOIN objectives o ON o.org_id = $1 AND o.id = l.id
    LEFT JOIN kr_json k ON k.objective_id = o.id
    GROUP BY l.parent
),
l1_json AS (
    SELECT l.parent,
           json_agg(json_build_object(
               'weight', l.weight,
               'child', json_build_object('id', {_gid("Objective", "o.id")}, 'title', o.title,
                                          'children', coalesce(c.j, '[]'::json)))
           ORDER BY o.created_at, o.id) AS j
    FROM level1 l JOIN objectives o ON o.org_id = $1 AND o.id = l.id
    LEFT JOIN l2_json c ON c.parent = o.id
    GROUP BY l.parent
)
SELECT json_build_object('objectives', json_build_object('nodes', json_agg(
    json_build_object('id', {_gid("Objective", "o.id")}, 'title', o.title,
                      'children', coalesce(c.j, '[]'::json)) ORDER BY roots.i)))
FROM roots JOIN objectives o ON o.org_id = $1 AND o.id = roots.id
LEFT JOIN l1_json c ON c.parent = o.id
"""
NESTED_READ = _typed(NESTED_READ)
