"""PostgreSQL itself refuses bad rows: every important constraint, hit with plain SQL.

Each bad statement runs in its own savepoint so the test's transaction stays usable, and
the assertion names the constraint, so a row refused for another reason fails the test.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.keys import hash_key
from service.models import (
    ApiKey,
    Commitment,
    Cycle,
    Delivery,
    Event,
    IdempotencyRecord,
    KeyResult,
    Metric,
    Objective,
    Organization,
    Person,
    Team,
    WebhookEndpoint,
)
from tests.factories import (
    create_alignment,
    create_check_in,
    create_commitment,
    create_cycle,
    create_key_result,
    create_metric,
    create_metric_edge,
    create_objective,
    create_org,
    create_person,
    create_team,
)

TS = datetime(2027, 1, 4, tzinfo=UTC)


@dataclass
class World:
    org: Organization
    other_org: Organization
    human: Person
    agent: Person
    stranger: Person
    team: Team
    cycle: Cycle
    objective: Objective
    child_objective: Objective
    their_objective: Objective
    metric: Metric
    other_metric: Metric
    key_result: KeyResult
    commitment: Commitment
    api_key: ApiKey


@pytest.fixture
async def world(session: AsyncSession) -> World:
    org, other_org = await create_org(session), await create_org(session)
    human = await create_person(session, org)
    agent = await create_person(session, org, kind="agent", accountable_person_id=human.id)
    stranger = await create_person(session, other_org)
    team = await create_team(session, org)
    cycle = await create_cycle(session, org)
    objective = await create_objective(session, org, cycle, owner_team_id=team.id)
    child_objective = await create_objective(session, org, cycle, owner_team_id=team.id)
    await create_alignment(session, child_objective, objective)
    their_objective = await create_objective(
        session, other_org, await create_cycle(session, other_org)
    )
    metric, other_metric = await create_metric(session, org), await create_metric(session, org)
    await create_metric_edge(session, other_metric, metric)
    key_result = await create_key_result(session, objective)
    await create_check_in(session, key_result, value=1.0)
    commitment = await create_commitment(session, human, [key_result])
    api_key = ApiKey(
        org_id=org.id,
        name="k",
        scopes=["read"],
        prefix=f"lsk_{uuid.uuid4().hex[:8]}",
        secret_hash=hash_key(uuid.uuid4().hex),
    )
    endpoint = WebhookEndpoint(
        org_id=org.id, url="https://hooks.example.com", secret="s", event_types=["x"]
    )
    event = Event(org_id=org.id, type="x", subject_id=None, payload={})
    session.add_all([api_key, endpoint, event])
    await session.flush()
    session.add_all(
        [
            Delivery(org_id=org.id, endpoint_id=endpoint.id, event_id=event.id),
            IdempotencyRecord(
                org_id=org.id,
                api_key_id=api_key.id,
                key="k1",
                request_hash=b"\0" * 32,
                expires_at=TS,
            ),
        ]
    )
    await session.flush()
    return World(
        org=org,
        other_org=other_org,
        human=human,
        agent=agent,
        stranger=stranger,
        team=team,
        cycle=cycle,
        objective=objective,
        child_objective=child_objective,
        their_objective=their_objective,
        metric=metric,
        other_metric=other_metric,
        key_result=key_result,
        commitment=commitment,
        api_key=api_key,
    )


async def accepted(session: AsyncSession, sql: str, **params: Any) -> None:
    async with session.begin_nested():
        await session.execute(text(sql), params)


async def refused(session: AsyncSession, constraint: str, sql: str, **params: Any) -> None:
    """The statement fails on `constraint` (a constraint name, or a NOT NULL column message)."""
    with pytest.raises(IntegrityError) as error:
        async with session.begin_nested():
            await session.execute(text(sql), params)
    assert constraint in str(error.value.orig), str(error.value.orig)


INSERT_METRIC = (
    "INSERT INTO metrics (id, org_id, key, name, direction, aggregation, kind, is_north_star)"
    " VALUES (gen_random_uuid(), :org, :key, 'M', 'increase', 'sum', 'lagging', :north_star)"
)


async def test_metric_key_is_unique_per_org(session: AsyncSession, world: World) -> None:
    await accepted(session, INSERT_METRIC, org=world.org.id, key="wau", north_star=False)
    await accepted(session, INSERT_METRIC, org=world.other_org.id, key="wau", north_star=False)

    await refused(
        session,
        "uq_metrics_org_id_key",
        INSERT_METRIC,
        org=world.org.id,
        key="wau",
        north_star=False,
    )


@pytest.mark.parametrize("key", ["Weekly", "1st", "with space", "", "a-b", "_lead"])
async def test_metric_key_must_be_a_slug(session: AsyncSession, world: World, key: str) -> None:
    await refused(
        session, "ck_metrics_key_slug", INSERT_METRIC, org=world.org.id, key=key, north_star=False
    )


async def test_one_north_star_per_org(session: AsyncSession, world: World) -> None:
    await accepted(session, INSERT_METRIC, org=world.org.id, key="north", north_star=True)
    await accepted(session, INSERT_METRIC, org=world.other_org.id, key="north", north_star=True)

    await refused(
        session,
        "uq_metrics_org_id_north_star",
        INSERT_METRIC,
        org=world.org.id,
        key="second_north",
        north_star=True,
    )
    # the partial index leaves ordinary metrics alone
    await accepted(session, INSERT_METRIC, org=world.org.id, key="plain", north_star=False)


INSERT_POINT = (
    "INSERT INTO points (org_id, metric_id, ts, dimensions, value)"
    " VALUES (:org, :metric, :ts, CAST(:dims AS jsonb), :value)"
)


async def test_point_identity_is_metric_ts_and_dimensions(
    session: AsyncSession, world: World
) -> None:
    point = {"org": world.org.id, "metric": world.metric.id, "ts": TS}
    await accepted(session, INSERT_POINT, **point, dims='{"region": "eu", "plan": "pro"}', value=1)
    await accepted(session, INSERT_POINT, **point, dims='{"region": "us", "plan": "pro"}', value=2)
    await accepted(session, INSERT_POINT, **point, dims="{}", value=3)

    # the same identity again, also with the keys in another order (jsonb equality)
    await refused(
        session, "pk_points", INSERT_POINT, **point, dims='{"plan": "pro", "region": "eu"}', value=4
    )
    await refused(session, "pk_points", INSERT_POINT, **point, dims="{}", value=5)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
async def test_point_values_must_be_finite(
    session: AsyncSession, world: World, value: float
) -> None:
    await refused(
        session,
        "ck_points_value_finite",
        INSERT_POINT,
        org=world.org.id,
        metric=world.metric.id,
        ts=TS,
        dims="{}",
        value=value,
    )


async def test_point_dimensions_must_be_an_object(session: AsyncSession, world: World) -> None:
    await refused(
        session,
        "ck_points_dimensions_object",
        INSERT_POINT,
        org=world.org.id,
        metric=world.metric.id,
        ts=TS,
        dims='["eu"]',
        value=1,
    )


async def test_a_point_cannot_use_another_orgs_metric(session: AsyncSession, world: World) -> None:
    await refused(
        session,
        "fk_points_org_id_metric_id_metrics",
        INSERT_POINT,
        org=world.other_org.id,
        metric=world.metric.id,
        ts=TS,
        dims="{}",
        value=1,
    )


async def test_a_point_needs_an_organization_and_goes_with_it(
    session: AsyncSession, world: World
) -> None:
    # points have no foreign key of their own to organizations (migration 0008): the one to
    # their metric refuses an organization that does not exist...
    await refused(
        session,
        "fk_points_org_id_metric_id_metrics",
        INSERT_POINT,
        org=uuid.uuid4(),
        metric=world.metric.id,
        ts=TS,
        dims="{}",
        value=1,
    )
    # ...and deleting the organization deletes its points, through its metrics
    await accepted(
        session, INSERT_POINT, org=world.org.id, metric=world.metric.id, ts=TS, dims="{}", value=1
    )
    await session.execute(text("DELETE FROM organizations WHERE id = :org"), {"org": world.org.id})
    left = await session.scalar(
        text("SELECT count(*) FROM points WHERE org_id = :org"), {"org": world.org.id}
    )
    assert left == 0


@pytest.mark.parametrize("weight", [-0.5, math.inf, math.nan])
async def test_weights_are_finite_and_not_negative(
    session: AsyncSession, world: World, weight: float
) -> None:
    await refused(
        session,
        "ck_alignments_weight_non_negative",
        "INSERT INTO alignments (org_id, child_objective_id, parent_objective_id, weight)"
        " VALUES (:org, :child, :parent, :weight)",
        org=world.org.id,
        child=world.objective.id,
        parent=world.child_objective.id,
        weight=weight,
    )
    await refused(
        session,
        "ck_metric_edges_weight_non_negative",
        "INSERT INTO metric_edges (id, org_id, child_metric_id, parent_metric_id, relation, weight)"
        " VALUES (gen_random_uuid(), :org, :child, :parent, 'driver', :weight)",
        org=world.org.id,
        child=world.metric.id,
        parent=world.other_metric.id,
        weight=weight,
    )
    await refused(
        session,
        "ck_key_results_weight_non_negative",
        INSERT_KEY_RESULT,
        **key_result_row(world, weight=weight),
    )


async def test_zero_weights_are_allowed(session: AsyncSession, world: World) -> None:
    await accepted(session, INSERT_KEY_RESULT, **key_result_row(world, weight=0.0))


async def test_alignments_and_edges_cannot_point_at_themselves(
    session: AsyncSession, world: World
) -> None:
    await refused(
        session,
        "ck_alignments_not_self",
        "INSERT INTO alignments (org_id, child_objective_id, parent_objective_id)"
        " VALUES (:org, :id, :id)",
        org=world.org.id,
        id=world.objective.id,
    )
    await refused(
        session,
        "ck_metric_edges_not_self",
        "INSERT INTO metric_edges (id, org_id, child_metric_id, parent_metric_id, relation, weight)"
        " VALUES (gen_random_uuid(), :org, :id, :id, 'driver', 1)",
        org=world.org.id,
        id=world.metric.id,
    )


INSERT_KEY_RESULT = (
    "INSERT INTO key_results (id, org_id, objective_id, title, measure, direction,"
    " start_value, target_value, weight, state, metric_id)"
    " VALUES (gen_random_uuid(), :org, :objective, 'KR', :measure, :direction,"
    " :start, :target, :weight, 'active', :metric)"
)


def key_result_row(world: World, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "org": world.org.id,
        "objective": world.objective.id,
        "measure": "manual",
        "direction": "increase",
        "start": 0.0,
        "target": 10.0,
        "weight": 1.0,
        "metric": None,
    }
    return row | overrides


@pytest.mark.parametrize(
    ("direction", "start", "target", "constraint"),
    [
        ("increase", 10.0, 10.0, "ck_key_results_increase_ordered"),
        ("increase", 10.0, 5.0, "ck_key_results_increase_ordered"),
        ("decrease", 10.0, 10.0, "ck_key_results_decrease_ordered"),
        ("decrease", 5.0, 10.0, "ck_key_results_decrease_ordered"),
        ("increase", None, 10.0, "ck_key_results_start_present"),
        ("at_least", None, None, "ck_key_results_target_present"),
    ],
)
async def test_key_result_start_and_target_must_fit_the_direction(
    session: AsyncSession,
    world: World,
    direction: str,
    start: float | None,
    target: float | None,
    constraint: str,
) -> None:
    await refused(
        session,
        constraint,
        INSERT_KEY_RESULT,
        **key_result_row(world, direction=direction, start=start, target=target),
    )


async def test_key_results_in_the_right_direction_are_accepted(
    session: AsyncSession, world: World
) -> None:
    await accepted(session, INSERT_KEY_RESULT, **key_result_row(world, start=0.0, target=1.0))
    await accepted(
        session,
        INSERT_KEY_RESULT,
        **key_result_row(world, direction="decrease", start=1.0, target=0.0),
    )
    await accepted(
        session,
        INSERT_KEY_RESULT,
        **key_result_row(world, direction="at_least", start=None, target=3.0),
    )
    await accepted(
        session,
        INSERT_KEY_RESULT,
        **key_result_row(world, measure="milestone", start=None, target=None),
    )


async def test_a_metric_key_result_needs_a_metric_and_only_it_has_one(
    session: AsyncSession, world: World
) -> None:
    await refused(
        session,
        "ck_key_results_metric_iff_measure",
        INSERT_KEY_RESULT,
        **key_result_row(world, measure="metric"),
    )
    await refused(
        session,
        "ck_key_results_metric_iff_measure",
        INSERT_KEY_RESULT,
        **key_result_row(world, metric=world.metric.id),
    )


async def test_a_key_result_cannot_point_to_another_orgs_objective(
    session: AsyncSession, world: World
) -> None:
    # the objective id exists, but in the other organization: the composite FK refuses it
    await refused(
        session,
        "fk_key_results_org_id_objective_id_objectives",
        INSERT_KEY_RESULT,
        **key_result_row(world, objective=world.their_objective.id),
    )


@pytest.mark.parametrize(
    ("constraint", "sql"),
    [
        (
            "fk_team_members_org_id_person_id_people",
            "INSERT INTO team_members (org_id, team_id, person_id) VALUES (:org, :team, :stranger)",
        ),
        (
            "fk_commitments_org_id_owner_person_id_people",
            "INSERT INTO commitments (id, org_id, title, success_criteria, owner_person_id,"
            " due_on, state) VALUES (gen_random_uuid(), :org, 'C', 'Done', :stranger,"
            " DATE '2027-02-01', 'open')",
        ),
        (
            "fk_alignments_org_id_parent_objective_id_objectives",
            "INSERT INTO alignments (org_id, child_objective_id, parent_objective_id)"
            " VALUES (:org, :objective, :their_objective)",
        ),
        (
            "fk_objectives_org_id_owner_person_id_people",
            "INSERT INTO objectives (id, org_id, title, owner_person_id, cycle_id, state,"
            " rollup_mode) VALUES (gen_random_uuid(), :org, 'O', :stranger, :cycle, 'active',"
            " 'auto')",
        ),
        (
            "fk_people_org_id_accountable_person_id_people",
            "INSERT INTO people (id, org_id, name, kind, accountable_person_id)"
            " VALUES (gen_random_uuid(), :org, 'Bot', 'agent', :stranger)",
        ),
    ],
)
async def test_rows_cannot_reference_another_orgs_rows(
    session: AsyncSession, world: World, constraint: str, sql: str
) -> None:
    params = {
        "org": world.org.id,
        "team": world.team.id,
        "stranger": world.stranger.id,
        "objective": world.objective.id,
        "their_objective": world.their_objective.id,
        "cycle": world.cycle.id,
    }
    await refused(session, constraint, sql, **{k: v for k, v in params.items() if f":{k}" in sql})


INSERT_COMMITMENT = (
    "INSERT INTO commitments (id, org_id, title, success_criteria, owner_person_id, due_on,"
    " state, done_at) VALUES (gen_random_uuid(), :org, 'Ship it', :criteria, :owner, :due_on,"
    " :state, :done_at)"
)


def commitment_row(world: World, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "org": world.org.id,
        "criteria": "In production",
        "owner": world.human.id,
        "due_on": TS.date(),
        "state": "open",
        "done_at": None,
    }
    return row | overrides


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("due_on", 'null value in column "due_on"'),
        ("owner", 'null value in column "owner_person_id"'),
        ("criteria", 'null value in column "success_criteria"'),
    ],
)
async def test_a_commitment_needs_due_date_owner_and_success_criteria(
    session: AsyncSession, world: World, missing: str, message: str
) -> None:
    await accepted(session, INSERT_COMMITMENT, **commitment_row(world))

    await refused(session, message, INSERT_COMMITMENT, **commitment_row(world, **{missing: None}))


async def test_blank_success_criteria_are_refused(session: AsyncSession, world: World) -> None:
    await refused(
        session,
        "ck_commitments_success_criteria_length",
        INSERT_COMMITMENT,
        **commitment_row(world, criteria="   "),
    )


@pytest.mark.parametrize(("state", "done_at"), [("done", None), ("open", TS), ("dropped", TS)])
async def test_done_at_is_set_exactly_when_done(
    session: AsyncSession, world: World, state: str, done_at: datetime | None
) -> None:
    await accepted(session, INSERT_COMMITMENT, **commitment_row(world, state="done", done_at=TS))

    await refused(
        session,
        "ck_commitments_done_at_iff_done",
        INSERT_COMMITMENT,
        **commitment_row(world, state=state, done_at=done_at),
    )


INSERT_PERSON = (
    "INSERT INTO people (id, org_id, name, kind, accountable_person_id)"
    " VALUES (:id, :org, 'P', :kind, :accountable)"
)


async def test_an_agent_needs_an_accountable_person(session: AsyncSession, world: World) -> None:
    await refused(
        session,
        "ck_people_agent_accountable",
        INSERT_PERSON,
        id=uuid.uuid4(),
        org=world.org.id,
        kind="agent",
        accountable=None,
    )
    await accepted(
        session,
        INSERT_PERSON,
        id=uuid.uuid4(),
        org=world.org.id,
        kind="agent",
        accountable=world.human.id,
    )


async def test_nobody_is_accountable_for_themself(session: AsyncSession, world: World) -> None:
    await refused(
        session,
        "ck_people_not_self_accountable",
        "UPDATE people SET accountable_person_id = id WHERE id = :id",
        id=world.human.id,
    )


async def test_emails_are_unique_per_org_ignoring_case(session: AsyncSession, world: World) -> None:
    sql = "INSERT INTO people (id, org_id, name, kind, email) VALUES (gen_random_uuid(), :org, 'P', 'human', :email)"
    await accepted(session, sql, org=world.org.id, email="Ann@Example.com")
    await accepted(session, sql, org=world.other_org.id, email="ann@example.com")

    await refused(session, "uq_people_org_id_email", sql, org=world.org.id, email="ANN@example.com")


async def test_trees_refuse_self_parents_and_cycles_backwards_dates(
    session: AsyncSession, world: World
) -> None:
    await refused(
        session,
        "ck_teams_not_own_parent",
        "UPDATE teams SET parent_team_id = id WHERE id = :id",
        id=world.team.id,
    )
    await refused(
        session,
        "ck_cycles_not_own_parent",
        "UPDATE cycles SET parent_cycle_id = id WHERE id = :id",
        id=world.cycle.id,
    )
    await refused(
        session,
        "ck_cycles_dates_ordered",
        "UPDATE cycles SET ends_on = starts_on - 1 WHERE id = :id",
        id=world.cycle.id,
    )
    await refused(
        session,
        "uq_cycles_org_id_name",
        "INSERT INTO cycles (id, org_id, name, starts_on, ends_on)"
        " SELECT gen_random_uuid(), org_id, name, starts_on, ends_on FROM cycles WHERE id = :id",
        id=world.cycle.id,
    )


async def test_an_objective_has_exactly_one_owner(session: AsyncSession, world: World) -> None:
    await refused(
        session,
        "ck_objectives_one_owner",
        "UPDATE objectives SET owner_person_id = :person WHERE id = :id",
        person=world.human.id,
        id=world.objective.id,
    )
    await refused(
        session,
        "ck_objectives_one_owner",
        "UPDATE objectives SET owner_team_id = NULL WHERE id = :id",
        id=world.objective.id,
    )


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        ("UPDATE check_ins SET value = 'NaN' WHERE org_id = :org", "ck_check_ins_value_finite"),
        ("UPDATE check_ins SET done = true WHERE org_id = :org", "ck_check_ins_value_or_done"),
        (
            "UPDATE check_ins SET confidence = 1.5 WHERE org_id = :org",
            "ck_check_ins_confidence_range",
        ),
        (
            "UPDATE api_keys SET scopes = ARRAY['read', 'root']::varchar[] WHERE org_id = :org",
            "ck_api_keys_scopes_valid",
        ),
        (
            "UPDATE api_keys SET scopes = ARRAY[]::varchar[] WHERE org_id = :org",
            "ck_api_keys_scopes_valid",
        ),
        (
            "UPDATE webhook_endpoints SET url = 'ftp://x' WHERE org_id = :org",
            "ck_webhook_endpoints_url_http",
        ),
        (
            "UPDATE metrics SET observation_window_days = 0 WHERE org_id = :org",
            "ck_metrics_observation_window_positive",
        ),
        (
            "UPDATE organizations SET settings = '[]' WHERE id = :org",
            "ck_organizations_settings_object",
        ),
    ],
)
async def test_other_row_rules(
    session: AsyncSession, world: World, sql: str, constraint: str
) -> None:
    await refused(session, constraint, sql, org=world.org.id)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("people", "kind"),
        ("metrics", "direction"),
        ("metrics", "aggregation"),
        ("metrics", "kind"),
        ("metric_edges", "relation"),
        ("objectives", "state"),
        ("objectives", "rollup_mode"),
        ("key_results", "measure"),
        ("key_results", "direction"),
        ("key_results", "state"),
        ("check_ins", "source"),
        ("commitments", "state"),
        ("deliveries", "status"),
        ("idempotency_records", "status"),
    ],
)
async def test_enum_columns_refuse_unknown_values(
    session: AsyncSession, world: World, table: str, column: str
) -> None:
    # people: use the agent, so the "agent needs an accountable person" check stays satisfied
    only = "AND id = :agent" if table == "people" else ""
    params: dict[str, Any] = {"org": world.org.id}
    if only:
        params["agent"] = world.agent.id
    await refused(
        session,
        f"ck_{table}_{column}_valid",
        f"UPDATE {table} SET {column} = 'bogus' WHERE org_id = :org {only}",
        **params,
    )


async def test_the_world_has_a_row_in_every_enum_table(session: AsyncSession, world: World) -> None:
    """Guards the enum sweep above: an UPDATE that touches no row would refuse nothing."""
    for table in [
        "people",
        "metrics",
        "metric_edges",
        "objectives",
        "key_results",
        "check_ins",
        "commitments",
        "deliveries",
        "idempotency_records",
    ]:
        count = await session.scalar(
            text(f"SELECT count(*) FROM {table} WHERE org_id = :org"), {"org": world.org.id}
        )
        assert count, table
