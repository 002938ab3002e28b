"""A deterministic, realistic organization of a given size, loaded with COPY.

    python bench/generate.py --database-url postgresql://postgres@127.0.0.1:5432/DB [--scale 1]

The database must already be migrated (`lodestar migrate`). Prints the organization id and
an API key with every scope. At scale 1 (the default) the organization holds:

- 2,000 people in 200 teams (20 departments of 9 sub-teams under one company team);
- 4 quarterly cycles of the current year (under the year), the last one current;
- 10,000 objectives in trees of 57 (a company objective → 8 team objectives → 6 sub-team
  objectives each), ~44 trees per quarter; ~10 % of sub-team and ~5 % of team objectives
  are aligned under a second parent (weight 0.5), a few weights are 0 or 2, ~3 % are
  drafts and ~2 % archived; half the team objectives carry 2 key results (`both`), the
  other half roll up their children (`auto`);
- 40,000 key results: 40 % on a metric, 45 % manual, 15 % milestones, every direction;
- 2,000 metrics in a North Star DAG (North Star → 10 → 100 → the rest; ~5 % of metrics
  have a second parent; the North Star's children are `component`s), every aggregation;
  objectives drive metrics;
- 1,000,000 points over the past year (ten hourly "hot" metrics, the rest every ~18 h;
  a fifth of the metrics split by a `region` dimension);
- check-ins on manual and milestone key results (~3 each, ~1 % retracted);
- 5,000 commitments (60 % open, 30 % done, 10 % dropped), each supporting 1–2 key results.

`--scale` multiplies every count (0.1 and 10 are the documented sizes). The same seed
and scale always give the same rows (UUIDs included); only the API key secret is random.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from service.auth import keys

YEAR_SECONDS = 365 * 24 * 3600
TREE_TEAM_FANOUT = 8  # team objectives per company objective
TREE_SUBTEAM_FANOUT = 6  # sub-team objectives per team objective
TREE_SIZE = 1 + TREE_TEAM_FANOUT + TREE_TEAM_FANOUT * TREE_SUBTEAM_FANOUT  # 57
POINT_CHUNK = 200_000
REGIONS = ("eu", "us", "apac")
AGGREGATIONS = ("sum",) * 8 + ("avg",) * 4 + ("last",) * 4 + ("max", "min") + ("count",) * 2


def plain_url(url: str) -> str:
    """asyncpg wants postgresql:// without a SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class GeneratedOrg:
    """What the scenarios need to know about the loaded organization."""

    org_id: uuid.UUID
    api_key: str
    scale: float
    seed: int
    now: datetime
    current_cycle_id: uuid.UUID
    current_cycle_start: date
    current_cycle_end: date
    company_objective_ids: list[uuid.UUID]  # of the current cycle, in creation order
    north_star_key: str
    hot_metric_key: str
    metric_ids: dict[str, uuid.UUID]  # key → id, every metric
    ingest_metric_keys: list[str]  # plain (no dimensions) metrics, for the ingestion scenario
    counts: dict[str, int] = field(default_factory=dict)
    load_seconds: float = 0.0


class _Ids:
    """Deterministic UUIDs from the seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)


def _quarters(year: int) -> list[tuple[str, date, date]]:
    quarters = []
    for q in range(4):
        first_month = 3 * q + 1
        last_month = first_month + 2
        last_day = calendar.monthrange(year, last_month)[1]
        quarters.append(
            (f"{year}-Q{q + 1}", date(year, first_month, 1), date(year, last_month, last_day))
        )
    return quarters


def _scaled(base: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(base * scale))


@dataclass
class _Tables:
    """Rows per table, in dependency order, with their column names."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    columns: dict[str, Sequence[str]] = field(default_factory=dict)

    def add(self, table: str, columns: Sequence[str], row: tuple[Any, ...]) -> None:
        if table not in self.columns:
            self.columns[table] = columns
            self.rows[table] = []
        self.rows[table].append(row)


def build(
    scale: float, seed: int, now: datetime
) -> tuple[GeneratedOrg, _Tables, list[tuple[uuid.UUID, int, bool, float]]]:
    """Every row but the points; the points are described per metric (id, count, has
    dimensions, base value) and streamed by `_points`."""
    rng = random.Random(seed)
    new_id = _Ids(rng)
    t = _Tables()
    org_id = new_id()
    api_key = keys.generate_key()
    t.add("organizations", ("id", "name", "settings"), (org_id, f"Bench org {seed}", "{}"))

    # People and teams.
    n_people = _scaled(2_000, scale, 10)
    people = [new_id() for _ in range(n_people)]
    for i, person in enumerate(people):
        t.add(
            "people",
            ("id", "org_id", "name", "email", "kind"),
            (person, org_id, f"Person {i}", f"person{i}@bench.example", "human"),
        )
    t.add(
        "api_keys",
        ("id", "org_id", "name", "scopes", "prefix", "secret_hash"),
        (
            new_id(),
            org_id,
            "bench (all scopes)",
            ["admin", "ingest", "read", "write"],
            keys.display_prefix(api_key),
            keys.hash_key(api_key),
        ),
    )
    n_departments = _scaled(20, scale, 2)
    subteams_per_department = 9
    company_team = new_id()
    t.add(
        "teams", ("id", "org_id", "name", "parent_team_id"), (company_team, org_id, "Company", None)
    )
    departments: list[uuid.UUID] = []
    subteams: list[uuid.UUID] = []
    subteams_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    for d in range(n_departments):
        dept = new_id()
        departments.append(dept)
        t.add(
            "teams",
            ("id", "org_id", "name", "parent_team_id"),
            (dept, org_id, f"Department {d}", company_team),
        )
        subteams_of[dept] = []
        for s in range(subteams_per_department):
            sub = new_id()
            subteams.append(sub)
            subteams_of[dept].append(sub)
            t.add(
                "teams",
                ("id", "org_id", "name", "parent_team_id"),
                (sub, org_id, f"Team {d}.{s}", dept),
            )
    all_teams = [company_team, *departments, *subteams]
    for i, person in enumerate(people):
        t.add(
            "team_members",
            ("team_id", "person_id", "org_id"),
            (all_teams[1 + i % (len(all_teams) - 1)], person, org_id),
        )

    # Cycles: the year and its quarters; the quarter holding `now` is current.
    year = now.year
    year_cycle = new_id()
    t.add(
        "cycles",
        ("id", "org_id", "name", "starts_on", "ends_on", "parent_cycle_id"),
        (year_cycle, org_id, str(year), date(year, 1, 1), date(year, 12, 31), None),
    )
    cycles: list[tuple[uuid.UUID, date, date]] = []
    for name, starts, ends in _quarters(year):
        cycle = new_id()
        cycles.append((cycle, starts, ends))
        t.add(
            "cycles",
            ("id", "org_id", "name", "starts_on", "ends_on", "parent_cycle_id"),
            (cycle, org_id, name, starts, ends, year_cycle),
        )
    current = next(c for c in cycles if c[1] <= now.date() <= c[2])

    # Metrics: a North Star DAG.
    n_metrics = _scaled(2_000, scale, 20)
    metric_ids = [new_id() for _ in range(n_metrics)]
    level1 = metric_ids[1 : 1 + min(10, n_metrics - 1)]
    level2 = metric_ids[1 + len(level1) : 1 + len(level1) + _scaled(100, scale, 5)]
    rest = metric_ids[1 + len(level1) + len(level2) :]
    keys_by_id: dict[uuid.UUID, str] = {}
    plain_metrics: list[str] = []
    point_plan: list[tuple[uuid.UUID, int, bool, float]] = []
    n_points = _scaled(1_000_000, scale, 1_000)
    n_hot = min(_scaled(10, scale), n_metrics - 1)
    hot_points = 365 * 24
    cold_total = max(0, n_points - n_hot * hot_points)
    cold_each, cold_extra = divmod(cold_total, n_metrics - n_hot)
    hot_ids = set(rest[:n_hot]) if len(rest) >= n_hot else set(metric_ids[1 : 1 + n_hot])
    expected_by_metric: dict[uuid.UUID, float] = {}
    cold_index = 0
    for i, metric in enumerate(metric_ids):
        is_ns = i == 0
        key = "north_star" if is_ns else f"metric_{i:05d}"
        keys_by_id[metric] = key
        aggregation = "last" if is_ns else AGGREGATIONS[i % len(AGGREGATIONS)]
        direction = "decrease" if i % 7 == 3 else "increase"
        has_dims = metric not in hot_ids and i % 5 == 4
        if not has_dims and not is_ns:
            plain_metrics.append(key)
        t.add(
            "metrics",
            (
                "id",
                "org_id",
                "key",
                "name",
                "description",
                "definition",
                "unit",
                "direction",
                "aggregation",
                "kind",
                "observation_window_days",
                "owner_person_id",
                "is_north_star",
            ),
            (
                metric,
                org_id,
                key,
                "North Star" if is_ns else f"Metric {i}",
                "",
                f"How metric {i} is measured.",
                "count",
                direction,
                aggregation,
                "lagging" if is_ns or i % 3 == 0 else "leading",
                (7, 28, 30, None)[i % 4],
                people[i % n_people],
                is_ns,
            ),
        )
        if metric in hot_ids:
            count = hot_points
        else:
            count = cold_each + (1 if cold_index < cold_extra else 0)
            cold_index += 1
        base = 100.0 + (i % 97) * 10.0
        point_plan.append((metric, count, has_dims, base))
        # Roughly the metric's value over a quarter, so that metric key results get spread
        # progress: sums and counts grow with the points in the window.
        per_quarter = count / 4
        expected_by_metric[metric] = {
            "sum": base * 1.25 * per_quarter,
            "count": per_quarter,
            "last": base * 1.25 * (3 if has_dims else 1),
        }.get(aggregation, base * 1.25)

    def add_edge(child: uuid.UUID, parent: uuid.UUID, relation: str, weight: float) -> None:
        t.add(
            "metric_edges",
            ("id", "org_id", "child_metric_id", "parent_metric_id", "relation", "weight"),
            (new_id(), org_id, child, parent, relation, weight),
        )

    for m in level1:
        add_edge(m, metric_ids[0], "component", 1.0)
    for j, m in enumerate(level2):
        add_edge(m, level1[j % len(level1)], "driver", 1.0)
        if j % 20 == 7 and len(level1) > 1:
            add_edge(m, level1[(j + 1) % len(level1)], "driver", 0.5)
    for j, m in enumerate(rest):
        add_edge(m, level2[j % len(level2)], "driver", 1.0)
        if j % 20 == 11 and len(level2) > 1:
            add_edge(m, level2[(j + 3) % len(level2)], "driver", 0.5)

    # Objectives in trees, key results, check-ins.
    n_objectives = _scaled(10_000, scale, TREE_SIZE)
    n_trees = max(len(cycles), round(n_objectives / TREE_SIZE))
    n_key_results = _scaled(40_000, scale, 100)
    company_objectives: list[uuid.UUID] = []
    leaf_objectives: list[tuple[uuid.UUID, tuple[uuid.UUID, date, date], str]] = []
    both_team_objectives: list[tuple[uuid.UUID, tuple[uuid.UUID, date, date], str]] = []
    objective_cols = (
        "id",
        "org_id",
        "title",
        "description",
        "owner_team_id",
        "owner_person_id",
        "cycle_id",
        "state",
        "rollup_mode",
    )
    align_cols = ("child_objective_id", "parent_objective_id", "org_id", "weight")

    def objective_state(cycle: tuple[uuid.UUID, date, date]) -> str:
        roll = rng.random()
        if roll < 0.03:
            return "draft"
        if roll < 0.05:
            return "archived"
        return "closed" if cycle[2] < now.date() and roll > 0.5 else "active"

    def alignment_weight() -> float:
        roll = rng.random()
        return 0.0 if roll < 0.01 else 2.0 if roll < 0.06 else 1.0

    for tree in range(n_trees):
        cycle = cycles[tree % len(cycles)]
        dept = departments[tree % len(departments)]
        root = new_id()
        if cycle is current:
            company_objectives.append(root)
        t.add(
            "objectives",
            objective_cols,
            (root, org_id, f"Company objective {tree}", "", company_team, None, cycle[0],
             "active" if cycle is current else objective_state(cycle), "auto"),
        )  # fmt: skip
        t.add(
            "objective_metrics",
            ("objective_id", "metric_id", "org_id"),
            (root, level1[tree % len(level1)], org_id),
        )
        team_objectives: list[uuid.UUID] = []
        for a in range(TREE_TEAM_FANOUT):
            team_objective = new_id()
            team_objectives.append(team_objective)
            mode = "both" if a % 2 == 0 else "auto"
            t.add(
                "objectives",
                objective_cols,
                (team_objective, org_id, f"Team objective {tree}.{a}", "", dept, None, cycle[0],
                 objective_state(cycle), mode),
            )  # fmt: skip
            t.add("alignments", align_cols, (team_objective, root, org_id, alignment_weight()))
            if mode == "both":
                both_team_objectives.append((team_objective, cycle, "team"))
            t.add(
                "objective_metrics",
                ("objective_id", "metric_id", "org_id"),
                (team_objective, level2[(tree * 8 + a) % len(level2)], org_id),
            )
            for b in range(TREE_SUBTEAM_FANOUT):
                leaf = new_id()
                owner_team = subteams_of[dept][(a + b) % subteams_per_department]
                t.add(
                    "objectives",
                    objective_cols,
                    (leaf, org_id, f"Sub-team objective {tree}.{a}.{b}", "", owner_team, None,
                     cycle[0], objective_state(cycle), "auto"),
                )  # fmt: skip
                t.add("alignments", align_cols, (leaf, team_objective, org_id, alignment_weight()))
                leaf_objectives.append((leaf, cycle, "leaf"))
        # Second parents: ~10 % of sub-team objectives under a sibling team objective.
        for a in range(len(team_objectives)):
            if rng.random() < 0.6:
                second = team_objectives[(a + 1) % len(team_objectives)]
                leaf = leaf_objectives[-TREE_TEAM_FANOUT * TREE_SUBTEAM_FANOUT + a * 6][0]
                t.add("alignments", align_cols, (leaf, second, org_id, 0.5))
        if tree >= len(cycles) and rng.random() < 0.4:
            # ~5 % of team objectives also under the previous tree's root of the same cycle.
            other_root = t.rows["objectives"][-(TREE_SIZE * (len(cycles) + 1))][0]
            t.add("alignments", align_cols, (team_objectives[0], other_root, org_id, 0.5))

    kr_cols = (
        "id",
        "org_id",
        "objective_id",
        "title",
        "owner_person_id",
        "measure",
        "metric_id",
        "direction",
        "start_value",
        "target_value",
        "unit",
        "weight",
        "state",
    )
    checkin_cols = (
        "id",
        "org_id",
        "key_result_id",
        "value",
        "done",
        "confidence",
        "note",
        "author_person_id",
        "source",
        "observed_at",
        "recorded_at",
        "retracted_at",
    )
    owners_of_kr: list[tuple[uuid.UUID, tuple[uuid.UUID, date, date]]] = []
    holders = [(o, c) for o, c, _ in both_team_objectives for _ in range(2)]
    remaining = max(0, n_key_results - len(holders))
    for k in range(remaining):
        leaf, cycle, _ = leaf_objectives[k % len(leaf_objectives)]
        holders.append((leaf, cycle))
    for k, (objective, cycle) in enumerate(holders[:n_key_results]):
        kr = new_id()
        owner = people[rng.randrange(n_people)]
        roll = rng.random()
        weight = 0.0 if rng.random() < 0.01 else float(rng.choice((1, 1, 1, 2, 3)))
        state = "archived" if rng.random() < 0.03 else "active"
        cycle_start = datetime.combine(cycle[1], datetime.min.time(), UTC)
        cycle_end = datetime.combine(cycle[2] + timedelta(days=1), datetime.min.time(), UTC)
        if roll < 0.40:
            metric = metric_ids[1 + rng.randrange(n_metrics - 1)]
            direction = ("increase", "increase", "decrease", "at_least", "at_most")[k % 5]
            expected = expected_by_metric[metric] * rng.uniform(0.6, 1.4)
            start, target = {
                "increase": (expected * 0.3, expected * 1.3),
                "decrease": (expected * 2.0, expected * 0.8),
                "at_least": (None, expected),
                "at_most": (None, expected),
            }[direction]
            t.add(
                "key_results",
                kr_cols,
                (kr, org_id, objective, f"Key result {k}", owner, "metric", metric, direction,
                 start, target, "", weight, state),
            )  # fmt: skip
        elif roll < 0.85:
            direction = ("increase", "increase", "decrease", "at_least", "at_most")[k % 5]
            start, target = {
                "increase": (0.0, 100.0),
                "decrease": (100.0, 10.0),
                "at_least": (None, 50.0),
                "at_most": (None, 50.0),
            }[direction]
            t.add(
                "key_results",
                kr_cols,
                (kr, org_id, objective, f"Key result {k}", owner, "manual", None, direction,
                 start, target, "%", weight, state),
            )  # fmt: skip
            span = (min(cycle_end, now) - cycle_start).total_seconds()
            for c in range(rng.randint(0, 5) if span > 0 else 0):
                observed = cycle_start + timedelta(seconds=span * (c + rng.random()) / 5)
                value = (
                    100.0 * (c + 1) / 5 * rng.uniform(0.3, 1.3)
                    if direction != "decrease"
                    else 100.0 - 90.0 * (c + 1) / 5 * rng.uniform(0.3, 1.3)
                )
                t.add(
                    "check_ins",
                    checkin_cols,
                    (new_id(), org_id, kr, value, None, round(rng.random(), 2), "", owner, "api",
                     observed, observed + timedelta(minutes=5),
                     observed + timedelta(hours=1) if rng.random() < 0.01 else None),
                )  # fmt: skip
        else:
            t.add(
                "key_results",
                kr_cols,
                (kr, org_id, objective, f"Milestone {k}", owner, "milestone", None, "increase",
                 None, None, "", weight, state),
            )  # fmt: skip
            span = (min(cycle_end, now) - cycle_start).total_seconds()
            for c in range(rng.randint(0, 2) if span > 0 else 0):
                observed = cycle_start + timedelta(seconds=span * (c + rng.random()) / 2)
                t.add(
                    "check_ins",
                    checkin_cols,
                    (new_id(), org_id, kr, None, c == 1 or rng.random() < 0.3, None, "", owner,
                     "graphql", observed, observed + timedelta(minutes=1), None),
                )  # fmt: skip
        owners_of_kr.append((kr, cycle))

    # Commitments.
    n_commitments = _scaled(5_000, scale, 10)
    for c in range(n_commitments):
        commitment = new_id()
        kr, cycle = owners_of_kr[rng.randrange(len(owners_of_kr))]
        due = cycle[1] + timedelta(days=rng.randrange((cycle[2] - cycle[1]).days + 1))
        roll = rng.random()
        state, done_at, dropped_at = "open", None, None
        if roll < 0.30:
            state = "done"
            done_at = datetime.combine(due, datetime.min.time(), UTC) + timedelta(
                days=rng.randint(-10, 5), hours=12
            )
            done_at = min(done_at, now - timedelta(hours=1))
        elif roll < 0.40:
            state = "dropped"
            dropped_at = min(datetime.combine(due, datetime.min.time(), UTC), now)
        t.add(
            "commitments",
            ("id", "org_id", "title", "success_criteria", "owner_person_id", "due_on", "state",
             "done_at", "dropped_at", "evidence_url"),
            (commitment, org_id, f"Commitment {c}", "Shipped and announced.",
             people[rng.randrange(n_people)], due, state, done_at, dropped_at, None),
        )  # fmt: skip
        supported = {kr}
        if rng.random() < 0.3:
            supported.add(owners_of_kr[rng.randrange(len(owners_of_kr))][0])
        for s in sorted(supported):
            t.add(
                "commitment_key_results",
                ("commitment_id", "key_result_id", "org_id"),
                (commitment, s, org_id),
            )

    org = GeneratedOrg(
        org_id=org_id,
        api_key=api_key,
        scale=scale,
        seed=seed,
        now=now,
        current_cycle_id=current[0],
        current_cycle_start=current[1],
        current_cycle_end=current[2],
        company_objective_ids=company_objectives,
        north_star_key="north_star",
        hot_metric_key=keys_by_id[next(m for m in metric_ids if m in hot_ids)],
        metric_ids={key: id for id, key in keys_by_id.items()},
        ingest_metric_keys=plain_metrics,
    )
    return org, t, point_plan


def _points(
    org_id: uuid.UUID, plan: list[tuple[uuid.UUID, int, bool, float]], now: datetime, seed: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Points in chunks, at whole minutes over the year before `now` (so that pushed points
    with fractional seconds never collide with them)."""
    rng = random.Random(seed + 1)
    start = now.replace(second=0, microsecond=0) - timedelta(seconds=YEAR_SECONDS)
    chunk: list[tuple[Any, ...]] = []
    for metric, count, has_dims, base in plan:
        if count == 0:
            continue
        step = YEAR_SECONDS // count
        value = base
        growth = base * 0.5 / count
        for k in range(count):
            ts = start + timedelta(seconds=(k * step) // 60 * 60)
            value = value + growth + rng.gauss(0, base * 0.01)
            dims = f'{{"region": "{REGIONS[k % 3]}"}}' if has_dims else "{}"
            chunk.append((org_id, metric, ts, dims, round(value, 3), "generator"))
            if len(chunk) >= POINT_CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


async def _skip_foreign_key_checks(conn: asyncpg.Connection) -> None:
    """Foreign-key checks run per row and dominate a COPY of a million points; the rows are
    consistent by construction, so skip them (`session_replication_role = replica`) when
    allowed (superuser) and when no user-defined trigger would be skipped with them."""
    user_triggers = await conn.fetchval(
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT t.tgisinternal AND n.nspname = 'public'"
    )
    if user_triggers:
        return
    try:
        async with conn.transaction():  # a savepoint: a refusal leaves the load going
            await conn.execute("SET LOCAL session_replication_role = replica")
    except asyncpg.PostgresError:
        return


async def load(
    database_url: str, *, scale: float = 1.0, seed: int = 42, now: datetime | None = None
) -> GeneratedOrg:
    """Generate and COPY an organization into a migrated database; VACUUM ANALYZE afterwards.

    VACUUM, not only ANALYZE: it is what autovacuum does to a freshly loaded table in
    production. Without it the visibility map stays empty, so every index-only scan (window
    aggregates on the points key, migration 0007) still visits the table for each row: a
    status recheck of 1,000 metrics took 340-470 ms of PostgreSQL against 60 ms after the
    VACUUM (measured; floors and Lodestar read the same table, so both were slowed).
    Points written during the run are not all-visible until the next vacuum, as in
    production between autovacuum passes."""
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    org, tables, plan = build(scale, seed, now)
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        async with conn.transaction():
            await _skip_foreign_key_checks(conn)
            for table, rows in tables.rows.items():
                await conn.copy_records_to_table(table, records=rows, columns=tables.columns[table])
                org.counts[table] = len(rows)
            n_points = 0
            for chunk in _points(org.org_id, plan, now, seed):
                await conn.copy_records_to_table(
                    "points",
                    records=chunk,
                    columns=("org_id", "metric_id", "ts", "dimensions", "value", "source"),
                )
                n_points += len(chunk)
            org.counts["points"] = n_points
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    org.load_seconds = time.perf_counter() - started
    return org


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a migrated database")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    org = asyncio.run(load(args.database_url, scale=args.scale, seed=args.seed))
    print(
        f"loaded in {org.load_seconds:.1f} s: "
        + ", ".join(f"{n} {t}" for t, n in org.counts.items())
    )
    print(f"organization {org.org_id}")
    print(f"API key (all scopes): {org.api_key}")


if __name__ == "__main__":
    main()
