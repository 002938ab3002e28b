from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.service import authenticate
from service.cli.demo import (
    DEMO_ORG_NAME,
    HISTORY_DAYS,
    ensure_demo,
    load_demo,
    quarter_of,
    start_demo,
)
from service.demo_key import read_demo_key, write_demo_key
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
)
from service.settings import Settings
from tests.factories import create_api_key, create_org

TODAY = date(2027, 2, 10)


async def rows(session: AsyncSession, model: Any, org: Organization) -> list[Any]:
    return list((await session.scalars(select(model).where(model.org_id == org.id))).all())


async def points(session: AsyncSession, org: Organization) -> list[Any]:
    # Columns, not entities: a JSONB dimensions map in the key cannot enter the identity map.
    result = await session.execute(
        select(Point.ts, Point.dimensions, Point.value).where(Point.org_id == org.id)
    )
    return list(result.all())


def test_quarter_of_handles_every_quarter_and_the_year_end() -> None:
    assert quarter_of(date(2027, 1, 1)) == (date(2027, 1, 1), date(2027, 3, 31))
    assert quarter_of(date(2027, 5, 31)) == (date(2027, 4, 1), date(2027, 6, 30))
    assert quarter_of(date(2027, 9, 30)) == (date(2027, 7, 1), date(2027, 9, 30))
    assert quarter_of(date(2026, 12, 31)) == (date(2026, 10, 1), date(2026, 12, 31))


async def test_demo_metric_tree_has_one_north_star_fed_by_every_input(
    session: AsyncSession,
) -> None:
    # when
    org = await load_demo(session, TODAY)

    # then
    metrics = {m.id: m for m in await rows(session, Metric, org)}
    edges = await rows(session, MetricEdge, org)
    north_stars = [m for m in metrics.values() if m.is_north_star]
    assert len(north_stars) == 1
    parents = defaultdict(set)
    for edge in edges:
        parents[edge.child_metric_id].add(edge.parent_metric_id)

    def reaches_north_star(metric_id: Any) -> bool:
        return metric_id == north_stars[0].id or any(
            reaches_north_star(parent) for parent in parents[metric_id]
        )

    assert len(metrics) >= 5
    assert all(reaches_north_star(metric_id) for metric_id in metrics)
    assert {edge.relation for edge in edges} == {"driver", "component"}
    assert {m.direction for m in metrics.values()} == {"increase", "decrease"}
    assert all(m.definition and m.unit for m in metrics.values())


async def test_demo_points_are_daily_for_120_days_ending_today(session: AsyncSession) -> None:
    # when
    org = await load_demo(session, TODAY)

    # then
    stored = await points(session, org)
    days = {p.ts.date() for p in stored}
    assert min(days) == TODAY - timedelta(days=HISTORY_DAYS - 1)
    assert max(days) == TODAY
    assert len(days) == HISTORY_DAYS
    regions = {p.dimensions.get("region") for p in stored}
    assert regions == {None, "eu", "us"}
    assert all(p.ts.time().hour == 0 for p in stored)


async def test_demo_is_the_same_for_the_same_day(session: AsyncSession) -> None:
    # when
    first = await load_demo(session, TODAY)
    second = await load_demo(session, TODAY)

    # then
    async def series(org: Organization) -> list[tuple[str, datetime, str, float]]:
        result = await session.execute(
            select(Metric.key, Point.ts, Point.dimensions, Point.value)
            .join(Metric, Metric.id == Point.metric_id)
            .where(Point.org_id == org.id)
        )
        return sorted((key, ts, str(dims), value) for key, ts, dims, value in result.all())

    assert await series(first) == await series(second)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 22), {"2026": None, "2027": None, "2026-Q4": "2026", "2027-Q1": "2027"}),
        (date(2027, 5, 5), {"2027": None, "2027-Q2": "2027", "2027-Q3": "2027"}),
    ],
)
async def test_demo_cycles_are_this_quarter_and_the_next_inside_their_years(
    session: AsyncSession, today: date, expected: dict[str, str | None]
) -> None:
    # when
    org = await load_demo(session, today)

    # then
    cycles = await rows(session, Cycle, org)
    names = {c.id: c.name for c in cycles}
    assert {c.name: names.get(c.parent_cycle_id) for c in cycles} == expected


async def test_demo_goals_reach_the_north_star(session: AsyncSession) -> None:
    # when
    org = await load_demo(session, TODAY)

    # then every active objective has a path objective → parents → driven metric → North Star
    objectives = {o.id: o for o in await rows(session, Objective, org)}
    alignments = await rows(session, Alignment, org)
    drives = await rows(session, ObjectiveMetric, org)
    metrics = {m.id: m for m in await rows(session, Metric, org)}
    edges = await rows(session, MetricEdge, org)
    parents = defaultdict(set)
    for a in alignments:
        parents[a.child_objective_id].add(a.parent_objective_id)
    for d in drives:
        parents[d.objective_id].add(d.metric_id)
    for e in edges:
        parents[e.child_metric_id].add(e.parent_metric_id)

    def aligned(node: Any) -> bool:
        metric = metrics.get(node)
        return (metric is not None and metric.is_north_star) or any(
            aligned(p) for p in parents[node]
        )

    active = [o for o in objectives.values() if o.state == "active"]
    assert len(active) >= 7
    assert all(aligned(o.id) for o in active)
    parent_counts = defaultdict(list)
    for a in alignments:
        parent_counts[a.child_objective_id].append(a.weight)
    assert any(len(weights) == 2 and len(set(weights)) == 2 for weights in parent_counts.values())
    assert {o.state for o in objectives.values()} == {"active", "draft"}
    assert sum(1 for o in active if o.owner_person_id and not parents_of(o, alignments)) == 3


def parents_of(objective: Objective, alignments: list[Alignment]) -> list[Alignment]:
    return [a for a in alignments if a.child_objective_id == objective.id]


async def test_demo_key_results_cover_every_measure_and_direction(session: AsyncSession) -> None:
    # when
    org = await load_demo(session, TODAY)

    # then
    key_results = await rows(session, KeyResult, org)
    kinds = {(kr.measure, kr.direction) for kr in key_results}
    assert {
        ("metric", "increase"),
        ("metric", "at_most"),
        ("manual", "increase"),
        ("manual", "decrease"),
        ("manual", "at_least"),
        ("manual", "at_most"),
    } <= kinds
    assert any(kr.measure == "milestone" for kr in key_results)
    assert {kr.weight for kr in key_results} == {1.0, 2.0}


async def test_demo_check_ins_include_a_retraction_and_its_correction(
    session: AsyncSession,
) -> None:
    # when
    org = await load_demo(session, TODAY)

    # then
    check_ins = await rows(session, CheckIn, org)
    retracted = [c for c in check_ins if c.retracted_at is not None]
    assert len(retracted) == 1
    later = [
        c
        for c in check_ins
        if c.key_result_id == retracted[0].key_result_id
        and c.observed_at > retracted[0].observed_at
    ]
    assert later
    assert any(c.done is True for c in check_ins)
    assert any(c.done is False for c in check_ins)
    assert {c.source for c in check_ins} == {"graphql", "api"}
    assert all(c.confidence is None or 0 <= c.confidence <= 1 for c in check_ins)


async def test_demo_commitments_cover_every_delivery_outcome(session: AsyncSession) -> None:
    # when
    org = await load_demo(session, TODAY)

    # then
    commitments = await rows(session, Commitment, org)
    people = {p.id: p for p in await rows(session, Person, org)}
    links = await rows(session, CommitmentKeyResult, org)
    done = [c for c in commitments if c.state == "done"]
    assert any(c.done_at.date() <= c.due_on for c in done)  # on time
    assert any(c.done_at.date() > c.due_on for c in done)  # late
    assert any(c.state == "dropped" for c in commitments)
    assert any(c.state == "open" and c.due_on < TODAY for c in commitments)  # overdue
    assert any(c.state == "open" and c.due_on >= TODAY for c in commitments)
    assert {c.id for c in commitments} == {link.commitment_id for link in links}
    agents = [
        people[c.owner_person_id] for c in commitments if people[c.owner_person_id].kind == "agent"
    ]
    assert len({a.id for a in agents}) == 2
    assert all(people[a.accountable_person_id].kind == "human" for a in agents)


async def test_nothing_in_the_demo_lies_in_the_future(session: AsyncSession) -> None:
    # given
    now = datetime.now(UTC)

    # when
    org = await load_demo(session, now.date())

    # then
    assert max(p.ts for p in await points(session, org)) <= now
    assert max(c.observed_at for c in await rows(session, CheckIn, org)) <= now
    assert all(c.done_at is None or c.done_at <= now for c in await rows(session, Commitment, org))


async def test_ensure_demo_loads_once_and_returns_a_working_admin_key(
    session: AsyncSession,
) -> None:
    # when
    key = await ensure_demo(session)
    again = await ensure_demo(session)

    # then
    assert key is not None
    principal = await authenticate(session, key)
    assert principal is not None
    org = await session.get(Organization, principal.org_id)
    assert org is not None and org.name == DEMO_ORG_NAME
    assert again is None


async def test_start_demo_keeps_a_stored_key_only_if_it_opens_the_demo(
    session: AsyncSession,
) -> None:
    # given
    loaded = await start_demo(session, stored_key=None, want_key=True)
    assert loaded.loaded and loaded.new_key is not None
    other_org_key = await create_api_key(session, await create_org(session))

    # when
    kept = await start_demo(session, stored_key=loaded.new_key, want_key=True)
    replaced = await start_demo(session, stored_key=other_org_key, want_key=True)
    not_wanted = await start_demo(session, stored_key=None, want_key=False)

    # then
    assert kept.new_key is None and not kept.loaded
    assert replaced.new_key is not None and not replaced.loaded
    principal = await authenticate(session, replaced.new_key)
    assert principal is not None
    assert principal.org_id == (await authenticate(session, loaded.new_key)).org_id  # type: ignore[union-attr]
    assert not_wanted.new_key is None


def test_demo_key_file_is_private_and_read_only_in_development(tmp_path: Path) -> None:
    # given
    development = Settings(data_dir=tmp_path / "data", environment="development")
    production = Settings(data_dir=tmp_path / "data", environment="production")

    # when
    path = write_demo_key(development, "lsk_example")

    # then
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_demo_key(development) == "lsk_example"
    assert read_demo_key(production) is None
    assert read_demo_key(Settings(data_dir=tmp_path / "elsewhere")) is None
