"""The demo organization "Acme Analytics", loaded by `lodestar demo` and `lodestar serve --demo`.

A SaaS analytics company whose North Star is weekly active teams: a metric tree with
drivers and components, 120 days of daily points ending today, a year with this quarter
and the next, company and team objectives aligned to each other and to the metrics they
drive, key results of every measure and direction, people and agents with commitments in
every state, and check-ins over time.

Rows go in through the ORM models, not the domain services: it is one bulk load of a
known-good fixture whose history (check-ins recorded weeks ago, commitments dropped last
week) is written as it happened, the database constraints still check every row, and it
emits no events (a new organization has no subscribers). The content is deterministic for a
given day: dates are relative to today and the noise comes from a seeded generator; only
the ids are random.
"""

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import service as auth_service
from service.models import (
    Alignment,
    CheckIn,
    Commitment,
    CommitmentKeyResult,
    Cycle,
    KeyResult,
    Metric,
    MetricEdge,
    Objective,
    ObjectiveMetric,
    Organization,
    Person,
    Point,
    Team,
    TeamMember,
)
from service.models.base import new_id

DEMO_ORG_NAME = "Acme Analytics"
DEMO_KEY_NAME = "demo admin"
HISTORY_DAYS = 120
SEED = 1729
# pg_advisory_xact_lock key, so that two processes loading the demo at once load it once.
_LOCK_KEY = 0x4C6F6465  # "Lode"
_EMAIL_DOMAIN = "acme-analytics.example"


async def find_demo_org(session: AsyncSession) -> Organization | None:
    result = await session.execute(
        select(Organization)
        .where(Organization.name == DEMO_ORG_NAME)
        .order_by(Organization.created_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def ensure_demo(session: AsyncSession) -> str | None:
    """Load the demo organization unless it exists; return a new admin key, or None if it did."""
    await session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
    if await find_demo_org(session) is not None:
        return None
    org = await load_demo(session, datetime.now(UTC).date())
    return await create_demo_key(session, org.id)


async def create_demo_key(session: AsyncSession, org_id: uuid.UUID) -> str:
    _, secret = await auth_service.create_key(session, org_id, name=DEMO_KEY_NAME, scopes=["admin"])
    return secret


async def demo_key_works(session: AsyncSession, key: str) -> bool:
    """Whether `key` is a live key of this database's demo organization."""
    org = await find_demo_org(session)
    principal = await auth_service.authenticate(session, key)
    return org is not None and principal is not None and principal.org_id == org.id


@dataclass(frozen=True)
class DemoStart:
    loaded: bool  # the demo organization was created just now
    new_key: str | None  # an admin key created just now (shown once)


async def start_demo(session: AsyncSession, *, stored_key: str | None, want_key: bool) -> DemoStart:
    """Load the demo if missing. With `want_key`, make sure a working demo key exists:
    keep `stored_key` if it still opens the demo here, else create a fresh key (the stored
    one may come from another database, or have been revoked)."""
    key = await ensure_demo(session)
    if key is not None:
        return DemoStart(loaded=True, new_key=key)
    if not want_key or (stored_key is not None and await demo_key_works(session, stored_key)):
        return DemoStart(loaded=False, new_key=None)
    org = await find_demo_org(session)
    assert org is not None  # ensure_demo found it under the lock
    return DemoStart(loaded=False, new_key=await create_demo_key(session, org.id))


# --- the content -------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[date, date]:
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    next_start = date(day.year + first_month // 10, (first_month + 2) % 12 + 1, 1)
    return start, next_start - timedelta(days=1)


def quarter_name(start: date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


class DemoBuilder:
    """Adds the demo rows for one organization; dates are relative to `today`."""

    def __init__(self, session: AsyncSession, org: Organization, today: date) -> None:
        self.session = session
        self.org_id = org.id
        self.today = today
        self.rng = random.Random(SEED)
        self.people: dict[str, Person] = {}
        self.teams: dict[str, Team] = {}
        self.metrics: dict[str, Metric] = {}
        self.key_results: dict[str, KeyResult] = {}
        self.series: dict[str, dict[date, float]] = {}

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    async def flush(self, rows: list[Any]) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # people and teams

    def person(self, handle: str, name: str, **fields: Any) -> Person:
        if fields.get("kind", "human") == "human":
            fields.setdefault("email", f"{handle}@{_EMAIL_DOMAIN}")
        row = Person(id=new_id(), org_id=self.org_id, name=name, **fields)
        self.people[handle] = row
        return row

    async def add_people(self) -> None:
        humans = [
            self.person("maya", "Maya Chen"),  # CEO
            self.person("jonas", "Jonas Weber"),  # head of growth
            self.person("priya", "Priya Raman"),
            self.person("luis", "Luis Ortega"),
            self.person("aiko", "Aiko Tanaka"),  # head of engineering
            self.person("sam", "Sam Okafor"),
            self.person("elena", "Elena Petrova"),
            self.person("grace", "Grace Liu"),  # head of customer success
            self.person("tom", "Tom Becker"),
        ]
        agents = [
            self.person(
                "onboarding_bot",
                "Onboarding Bot",
                kind="agent",
                accountable_person_id=self.people["priya"].id,
            ),
            self.person(
                "perf_sentinel",
                "Perf Sentinel",
                kind="agent",
                accountable_person_id=self.people["sam"].id,
            ),
        ]
        await self.flush(humans)
        await self.flush(agents)

    async def add_teams(self) -> None:
        def team(handle: str, name: str, parent: str | None = None) -> Team:
            parent_id = self.teams[parent].id if parent else None
            row = Team(id=new_id(), org_id=self.org_id, name=name, parent_team_id=parent_id)
            self.teams[handle] = row
            return row

        await self.flush(
            [
                team("growth", "Growth"),
                team("engineering", "Product Engineering"),
                team("success", "Customer Success"),
            ]
        )
        await self.flush([team("query_engine", "Query Engine", parent="engineering")])
        members = {
            "growth": ["jonas", "priya", "luis", "onboarding_bot"],
            "engineering": ["aiko", "sam", "elena"],
            "query_engine": ["sam", "elena", "perf_sentinel"],
            "success": ["grace", "tom"],
        }
        await self.flush(
            [
                TeamMember(
                    org_id=self.org_id,
                    team_id=self.teams[team_handle].id,
                    person_id=self.people[person].id,
                )
                for team_handle, people in members.items()
                for person in people
            ]
        )

    # cycles

    async def add_cycles(self) -> tuple[Cycle, Cycle]:
        start, end = quarter_of(self.today)
        next_start, next_end = quarter_of(end + timedelta(days=1))
        years: dict[int, Cycle] = {
            year: Cycle(
                id=new_id(),
                org_id=self.org_id,
                name=str(year),
                starts_on=date(year, 1, 1),
                ends_on=date(year, 12, 31),
            )
            for year in sorted({start.year, next_start.year})
        }
        current = Cycle(
            id=new_id(),
            org_id=self.org_id,
            name=quarter_name(start),
            starts_on=start,
            ends_on=end,
            parent_cycle_id=years[start.year].id,
        )
        upcoming = Cycle(
            id=new_id(),
            org_id=self.org_id,
            name=quarter_name(next_start),
            starts_on=next_start,
            ends_on=next_end,
            parent_cycle_id=years[next_start.year].id,
        )
        await self.flush(list(years.values()))
        await self.flush([current, upcoming])
        return current, upcoming

    # metrics and points

    def metric(self, key: str, name: str, owner: str, **fields: Any) -> Metric:
        row = Metric(
            id=new_id(),
            org_id=self.org_id,
            key=key,
            name=name,
            owner_person_id=self.people[owner].id,
            **fields,
        )
        self.metrics[key] = row
        return row

    async def add_metrics(self) -> None:
        rows = [
            self.metric(
                "weekly_active_teams",
                "Weekly active teams",
                "maya",
                description="Teams that get value from Acme every week: our North Star.",
                definition=(
                    "Distinct workspaces with at least three members where someone ran a query"
                    " or opened a shared dashboard in the trailing 7 days; measured daily at"
                    " 00:00 UTC per billing region."
                ),
                unit="teams",
                direction="increase",
                aggregation="last",
                kind="lagging",
                observation_window_days=7,
                is_north_star=True,
            ),
            self.metric(
                "new_team_activations",
                "New team activations",
                "jonas",
                description="New workspaces reaching activation each day.",
                definition=(
                    "Workspaces whose first shared dashboard was viewed by a second member,"
                    " counted on the day it happens, per billing region."
                ),
                unit="teams",
                direction="increase",
                aggregation="sum",
                kind="leading",
            ),
            self.metric(
                "self_serve_activations",
                "Self-serve activations",
                "priya",
                description="Activations that came through the product without sales help.",
                definition="New team activations whose workspace has no sales opportunity.",
                unit="teams",
                direction="increase",
                aggregation="sum",
                kind="leading",
            ),
            self.metric(
                "sales_assisted_activations",
                "Sales-assisted activations",
                "jonas",
                description="Activations of workspaces a salesperson worked with.",
                definition="New team activations whose workspace has an open or won opportunity.",
                unit="teams",
                direction="increase",
                aggregation="sum",
                kind="leading",
            ),
            self.metric(
                "week1_team_retention",
                "Week-1 team retention",
                "priya",
                description="Share of newly activated teams still active a week later.",
                definition=(
                    "Of the teams activated 8 to 14 days ago, the percentage with weekly"
                    " activity in their second week; computed daily."
                ),
                unit="%",
                direction="increase",
                aggregation="avg",
                kind="leading",
                observation_window_days=7,
            ),
            self.metric(
                "p95_dashboard_load_ms",
                "p95 dashboard load time",
                "aiko",
                description="How long the slowest 5% of dashboard loads take.",
                definition=(
                    "95th percentile of time from request to last tile rendered, over all"
                    " dashboard loads of the day, from browser timings."
                ),
                unit="ms",
                direction="decrease",
                aggregation="avg",
                kind="leading",
            ),
        ]
        await self.flush(rows)

        def edge(child: str, parent: str, relation: str, weight: float = 1.0) -> MetricEdge:
            return MetricEdge(
                id=new_id(),
                org_id=self.org_id,
                child_metric_id=self.metrics[child].id,
                parent_metric_id=self.metrics[parent].id,
                relation=relation,
                weight=weight,
            )

        await self.flush(
            [
                edge("new_team_activations", "weekly_active_teams", "driver", 0.6),
                edge("week1_team_retention", "weekly_active_teams", "driver", 0.4),
                edge("self_serve_activations", "new_team_activations", "component"),
                edge("sales_assisted_activations", "new_team_activations", "component"),
                edge("p95_dashboard_load_ms", "week1_team_retention", "driver"),
            ]
        )

    async def add_points(self) -> None:
        """Daily points at 00:00 UTC for the last HISTORY_DAYS days, inserted in one statement."""
        rng = self.rng
        rows: list[dict[str, Any]] = []
        last = HISTORY_DAYS - 1

        def point(key: str, day: date, value: float, **dimensions: str) -> None:
            rows.append(
                {
                    "org_id": self.org_id,
                    "metric_id": self.metrics[key].id,
                    "ts": at(day),
                    "dimensions": dimensions,
                    "value": value,
                    "source": "warehouse-sync",
                }
            )
            series = self.series.setdefault(key, {})
            series[day] = series.get(day, 0.0) + value

        for i in range(HISTORY_DAYS):
            day = self.day(i - last)
            x = i / last  # 0 → 1 over the history
            weekend = 0.55 if day.weekday() >= 5 else 1.0
            # North Star by region: steady growth with a little noise.
            point("weekly_active_teams", day, round(1640 + 420 * x + rng.gauss(0, 9)), region="us")
            point("weekly_active_teams", day, round(1080 + 330 * x + rng.gauss(0, 7)), region="eu")
            # Activations by region, with weekend dips; components split the total.
            us = max(0, round((7.5 + 4.0 * x) * weekend + rng.gauss(0, 1.3)))
            eu = max(0, round((5.0 + 3.5 * x) * weekend + rng.gauss(0, 1.1)))
            point("new_team_activations", day, us, region="us")
            point("new_team_activations", day, eu, region="eu")
            total = us + eu
            partner = 1 if rng.random() < 0.15 and total > 0 else 0  # not tracked by either
            sales = min(total - partner, round(total * (0.22 + rng.uniform(-0.06, 0.06))))
            point("sales_assisted_activations", day, sales)
            point("self_serve_activations", day, total - partner - sales)
            # Retention climbs slowly; latency falls, with a step when the query cache
            # reached the EU five weeks ago.
            point("week1_team_retention", day, round(36.0 + 7.0 * x + rng.gauss(0, 1.1), 1))
            cache = 110 if i > last - 35 else 0
            latency = 1480 - 260 * x - cache + 45 * math.sin(i / 3) + rng.gauss(0, 30)
            point("p95_dashboard_load_ms", day, round(latency))
        await self.session.execute(insert(Point).values(rows))

    def window_mean(self, key: str, start: date, end: date) -> float:
        values = [v for d, v in self.series[key].items() if start <= d < end]
        return sum(values) / len(values)

    # goals

    def objective(self, cycle: Cycle, title: str, **fields: Any) -> Objective:
        fields.setdefault("state", "active")
        fields.setdefault("rollup_mode", "auto")
        return Objective(id=new_id(), org_id=self.org_id, cycle_id=cycle.id, title=title, **fields)

    def key_result(
        self, handle: str, objective: Objective, title: str, owner: str, **fields: Any
    ) -> KeyResult:
        metric = fields.pop("metric", None)
        if metric is not None:
            fields["metric_id"] = self.metrics[metric].id
        row = KeyResult(
            id=new_id(),
            org_id=self.org_id,
            objective_id=objective.id,
            title=title,
            owner_person_id=self.people[owner].id,
            **fields,
        )
        self.key_results[handle] = row
        return row

    async def add_goals(self, current: Cycle, upcoming: Cycle) -> None:
        maya = self.people["maya"].id
        team = {handle: row.id for handle, row in self.teams.items()}

        company_weekly = self.objective(
            current,
            "Make Acme the place growing teams look at every week",
            description="Weekly habit is the best predictor of expansion and renewal.",
            owner_person_id=maya,
            rollup_mode="both",
        )
        company_new = self.objective(
            current,
            "Win new teams faster than ever",
            description="More teams reaching their first shared dashboard, sooner.",
            owner_person_id=maya,
        )
        company_fast = self.objective(
            current,
            "Be the fastest analytics tool our customers use",
            description="Speed is the feature customers mention first in interviews.",
            owner_person_id=maya,
        )
        growth_activation = self.objective(
            current,
            "Turn more sign-ups into activated teams",
            owner_team_id=team["growth"],
        )
        growth_retention = self.objective(
            current,
            "Make the first week of every new team a success",
            owner_team_id=team["growth"],
        )
        engineering_speed = self.objective(
            current,
            "Make dashboards feel instant",
            owner_team_id=team["engineering"],
        )
        query_cache = self.objective(
            current,
            "Ship the query cache to every region",
            description="Cached results for repeated dashboard queries, invalidated on change.",
            owner_team_id=team["query_engine"],
        )
        success_onboarding = self.objective(
            current,
            "Every strategic account succeeds in its first month",
            owner_team_id=team["success"],
        )
        planned = [
            self.objective(
                upcoming,
                "Launch the EU data residency tier",
                owner_team_id=team["engineering"],
                state="draft",
            ),
            self.objective(
                upcoming,
                "Self-serve annual plans",
                owner_team_id=team["growth"],
                state="draft",
            ),
        ]
        await self.flush(
            [
                company_weekly,
                company_new,
                company_fast,
                growth_activation,
                growth_retention,
                engineering_speed,
                query_cache,
                success_onboarding,
                *planned,
            ]
        )

        def align(child: Objective, parent: Objective, weight: float = 1.0) -> Alignment:
            return Alignment(
                org_id=self.org_id,
                child_objective_id=child.id,
                parent_objective_id=parent.id,
                weight=weight,
            )

        def drives(objective: Objective, metric: str) -> ObjectiveMetric:
            return ObjectiveMetric(
                org_id=self.org_id, objective_id=objective.id, metric_id=self.metrics[metric].id
            )

        await self.flush(
            [
                align(growth_activation, company_new),
                # Retention serves both company objectives, mostly the weekly habit.
                align(growth_retention, company_weekly, 2.0),
                align(growth_retention, company_new, 1.0),
                align(success_onboarding, company_weekly),
                align(engineering_speed, company_fast),
                align(query_cache, engineering_speed),
                drives(company_weekly, "weekly_active_teams"),
                drives(company_new, "new_team_activations"),
                drives(growth_activation, "new_team_activations"),
                drives(growth_retention, "week1_team_retention"),
                drives(company_fast, "p95_dashboard_load_ms"),
                drives(engineering_speed, "p95_dashboard_load_ms"),
            ]
        )

        quarter_start = current.starts_on
        wat_start = self.series["weekly_active_teams"][quarter_start]
        wat_start = float(round(wat_start, -1))
        retention_start = round(
            self.window_mean(
                "week1_team_retention", quarter_start - timedelta(days=28), quarter_start
            )
        )
        await self.flush(
            [
                self.key_result(
                    "wat",
                    company_weekly,
                    f"Grow weekly active teams from {wat_start:,.0f} to {wat_start + 600:,.0f}",
                    "maya",
                    measure="metric",
                    metric="weekly_active_teams",
                    direction="increase",
                    start_value=wat_start,
                    target_value=wat_start + 600,
                    unit="teams",
                ),
                self.key_result(
                    "sev1",
                    company_fast,
                    "No more than 2 Sev-1 incidents this quarter",
                    "aiko",
                    measure="manual",
                    direction="at_most",
                    target_value=2,
                    unit="incidents",
                ),
                self.key_result(
                    "activations",
                    growth_activation,
                    "Activate 1,500 new teams this quarter",
                    "jonas",
                    measure="metric",
                    metric="new_team_activations",
                    direction="increase",
                    start_value=0,
                    target_value=1500,
                    unit="teams",
                    weight=2.0,
                ),
                self.key_result(
                    "conversion",
                    growth_activation,
                    "Raise trial-to-paid conversion from 14% to 18%",
                    "luis",
                    measure="manual",
                    direction="increase",
                    start_value=14,
                    target_value=18,
                    unit="%",
                ),
                self.key_result(
                    "checklist",
                    growth_activation,
                    "Launch the guided onboarding checklist",
                    "priya",
                    measure="milestone",
                ),
                self.key_result(
                    "retention",
                    growth_retention,
                    f"Lift week-1 team retention from {retention_start}% to {retention_start + 6}%",
                    "priya",
                    measure="metric",
                    metric="week1_team_retention",
                    direction="increase",
                    start_value=retention_start,
                    target_value=retention_start + 6,
                    unit="%",
                ),
                self.key_result(
                    "tickets",
                    growth_retention,
                    "Cut onboarding tickets per new team from 1.8 to 1.0",
                    "priya",
                    measure="manual",
                    direction="decrease",
                    start_value=1.8,
                    target_value=1.0,
                    unit="tickets",
                ),
                self.key_result(
                    "p95",
                    engineering_speed,
                    "Keep p95 dashboard load at or under 1,250 ms",
                    "aiko",
                    measure="metric",
                    metric="p95_dashboard_load_ms",
                    direction="at_most",
                    target_value=1250,
                    unit="ms",
                ),
                self.key_result(
                    "p1_bugs",
                    engineering_speed,
                    "Reduce open P1 performance bugs from 12 to 2",
                    "aiko",
                    measure="manual",
                    direction="decrease",
                    start_value=12,
                    target_value=2,
                    unit="bugs",
                ),
                self.key_result(
                    "cache_ga",
                    query_cache,
                    "Query cache generally available in EU and US",
                    "sam",
                    measure="milestone",
                ),
                self.key_result(
                    "hit_rate",
                    query_cache,
                    "Raise the dashboard cache hit rate from 0% to 60%",
                    "elena",
                    measure="manual",
                    direction="increase",
                    start_value=0,
                    target_value=60,
                    unit="%",
                ),
                self.key_result(
                    "csat",
                    success_onboarding,
                    "Keep onboarding CSAT at 4.5 or above",
                    "grace",
                    measure="manual",
                    direction="at_least",
                    target_value=4.5,
                    unit="/5",
                ),
                self.key_result(
                    "reviews",
                    success_onboarding,
                    "Hold success reviews with 60 strategic accounts",
                    "tom",
                    measure="manual",
                    direction="increase",
                    start_value=0,
                    target_value=60,
                    unit="accounts",
                ),
                self.key_result(
                    "time_to_value",
                    success_onboarding,
                    "Strategic accounts see their first dashboard within 2 days",
                    "grace",
                    measure="manual",
                    direction="at_most",
                    target_value=2,
                    unit="days",
                ),
                self.key_result(
                    "annual_plans",
                    planned[1],
                    "Annual plans are 25% of new self-serve revenue",
                    "jonas",
                    measure="manual",
                    direction="increase",
                    start_value=0,
                    target_value=25,
                    unit="%",
                ),
            ]
        )

    async def add_check_ins(self) -> None:
        # (key result, days ago, value or done, confidence, author, note)
        history: list[tuple[str, int, float | bool, float | None, str, str]] = [
            ("sev1", 40, 0, 0.9, "aiko", "Quiet start of the quarter."),
            ("sev1", 12, 1, 0.7, "aiko", "Sev-1 on the EU cluster: 38 minutes, postmortem done."),
            ("conversion", 49, 14.2, 0.6, "luis", "Baseline after the pricing page refresh."),
            ("conversion", 35, 15.1, 0.7, "luis", "Pricing copy test winner rolled out."),
            ("conversion", 21, 15.9, 0.7, "luis", "Trial emails rewritten."),
            ("conversion", 14, 19.0, 0.9, "luis", "Big jump this week!"),
            ("conversion", 13, 16.1, 0.7, "luis", "Correction: last week counted test accounts."),
            ("conversion", 6, 16.4, 0.8, "luis", "Steady; annual plan experiment next."),
            ("checklist", 40, False, 0.6, "priya", "Design done, build starting."),
            ("checklist", 18, True, None, "priya", "Checklist live for all new workspaces."),
            ("tickets", 45, 1.75, 0.5, "priya", "Most tickets are about connecting a warehouse."),
            ("tickets", 24, 1.6, 0.6, "priya", "Warehouse wizard shipped; tickets move to SSO."),
            ("tickets", 5, 1.65, 0.4, "onboarding_bot", "Weekly count from the help desk."),
            ("p1_bugs", 42, 11, 0.6, "aiko", ""),
            ("p1_bugs", 20, 8, 0.7, "aiko", "Bug bash closed three."),
            ("p1_bugs", 4, 6, 0.7, "perf_sentinel", "Nightly triage: two regressions fixed."),
            ("cache_ga", 30, False, 0.8, "sam", "EU rollout complete behind a flag."),
            ("cache_ga", 9, False, 0.5, "sam", "US rollout blocked on invalidation bug."),
            ("hit_rate", 33, 12, 0.7, "elena", "EU only."),
            ("hit_rate", 16, 19, 0.6, "elena", "Invalidation bug forces short TTLs."),
            ("hit_rate", 3, 22, 0.5, "perf_sentinel", "From the cache metrics endpoint."),
            ("csat", 38, 4.6, 0.8, "grace", ""),
            ("csat", 17, 4.4, 0.6, "grace", "Two unhappy enterprise pilots."),
            ("csat", 2, 4.55, 0.7, "grace", "Recovered after pilot fixes."),
            ("reviews", 44, 8, 0.6, "tom", ""),
            ("reviews", 23, 13, 0.6, "tom", ""),
            ("reviews", 8, 18, 0.5, "tom", "Holiday season will slow scheduling."),
        ]
        # The 19% reading counted test accounts: retracted the next day, then corrected.
        retracted = ("conversion", 14)
        rows = []
        for kr, days_ago, value, confidence, author, note in history:
            observed = at(self.day(-days_ago), 9 + days_ago % 7, 5 * (days_ago % 12))
            rows.append(
                CheckIn(
                    id=new_id(),
                    org_id=self.org_id,
                    key_result_id=self.key_results[kr].id,
                    value=None if isinstance(value, bool) else float(value),
                    done=value if isinstance(value, bool) else None,
                    confidence=confidence,
                    note=note,
                    author_person_id=self.people[author].id,
                    source="api" if self.people[author].kind == "agent" else "graphql",
                    observed_at=observed,
                    recorded_at=observed + timedelta(minutes=3),
                    retracted_at=(
                        at(self.day(-retracted[1] + 1), 10) if (kr, days_ago) == retracted else None
                    ),
                )
            )
        await self.flush(rows)

    async def add_commitments(self) -> None:
        # (owner, title, success criteria, due in days, state, done/dropped days ago, KRs)
        plan: list[tuple[str, str, str, int, str, int | None, list[str]]] = [
            (
                "priya",
                "Ship the onboarding checklist v1",
                "Checklist shown to every new workspace; completion tracked in the warehouse.",
                -16,
                "done",
                18,
                ["checklist", "activations"],
            ),
            (
                "luis",
                "A/B test the pricing page copy",
                "Test reached 95% significance and the winner is live for all visitors.",
                -40,
                "done",
                34,
                ["conversion"],
            ),
            (
                "perf_sentinel",
                "Nightly load benchmark of the 100 most viewed dashboards",
                "Benchmark runs every night and posts p95 per dashboard to #perf.",
                -30,
                "done",
                31,
                ["p95"],
            ),
            (
                "aiko",
                "Performance budget check in CI for dashboard queries",
                "CI fails a change that slows any benchmark dashboard by more than 10%.",
                -28,
                "done",
                21,
                ["p95", "p1_bugs"],
            ),
            (
                "sam",
                "Query cache behind a flag in the US region",
                "Flag on for 10% of US workspaces with no increase in error rate for 3 days.",
                -5,
                "open",
                None,
                ["cache_ga", "hit_rate"],
            ),
            (
                "elena",
                "Invalidate cached results on schema change",
                "A column rename in the warehouse is reflected in dashboards within a minute.",
                14,
                "open",
                None,
                ["cache_ga"],
            ),
            (
                "onboarding_bot",
                "Send a day-3 nudge to every new team without a shared dashboard",
                "Every eligible team gets the nudge; the send log is linked in the evidence.",
                10,
                "open",
                None,
                ["retention", "tickets"],
            ),
            (
                "jonas",
                "Win-back campaign for teams dormant 30+ days",
                "Campaign sent to all dormant teams with a tracked re-activation link.",
                -2,
                "open",
                None,
                ["retention"],
            ),
            (
                "tom",
                "Success reviews with the first 20 strategic accounts",
                "Review notes for 20 accounts in the CRM, each with an agreed success plan.",
                20,
                "open",
                None,
                ["reviews"],
            ),
            (
                "grace",
                "Publish a new onboarding CSAT survey",
                "Survey live in the product and answers flowing to the warehouse.",
                5,
                "dropped",
                7,
                ["csat"],
            ),
        ]
        commitments = []
        links = []
        for owner, title, criteria, due_in, state, ended_ago, krs in plan:
            ended = at(self.day(-ended_ago), 16, 30) if ended_ago is not None else None
            row = Commitment(
                id=new_id(),
                org_id=self.org_id,
                owner_person_id=self.people[owner].id,
                title=title,
                success_criteria=criteria,
                due_on=self.day(due_in),
                state=state,
                done_at=ended if state == "done" else None,
                dropped_at=ended if state == "dropped" else None,
                evidence_url=(
                    f"https://wiki.{_EMAIL_DOMAIN}/evidence/{title.lower().replace(' ', '-')[:40]}"
                    if state == "done"
                    else None
                ),
            )
            commitments.append(row)
            links += [
                CommitmentKeyResult(
                    org_id=self.org_id, commitment_id=row.id, key_result_id=self.key_results[kr].id
                )
                for kr in krs
            ]
        await self.flush(commitments)
        await self.flush(links)


async def load_demo(session: AsyncSession, today: date) -> Organization:
    """Insert the whole demo organization; `today` is the last day with points."""
    org = Organization(name=DEMO_ORG_NAME, settings={"on_track_ratio": 0.7, "at_risk_ratio": 0.4})
    session.add(org)
    await session.flush()
    builder = DemoBuilder(session, org, today)
    await builder.add_people()
    await builder.add_teams()
    current, upcoming = await builder.add_cycles()
    await builder.add_metrics()
    await builder.add_points()
    await builder.add_goals(current, upcoming)
    await builder.add_check_ins()
    await builder.add_commitments()
    return org


async def demo_row_counts(session: AsyncSession) -> dict[str, int]:
    """Rows of the demo organization per table (for `lodestar demo` and its tests)."""
    org = await find_demo_org(session)
    if org is None:
        return {}
    tables = ["people", "teams", "cycles", "metrics", "points", "objectives", "key_results"]
    tables += ["check_ins", "commitments"]
    counts: dict[str, int] = {}
    for table in tables:
        result = await session.execute(
            text(f"SELECT count(*) FROM {table} WHERE org_id = :org"), {"org": org.id}
        )
        counts[table] = int(result.scalar_one())
    return counts
