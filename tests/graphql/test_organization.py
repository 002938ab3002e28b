"""`organization` and `organizationUpdate`: name and the status thresholds of SPEC §3."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schema.core.relay import decode_id
from service.models import Event, Organization
from tests import factories
from tests.graphql import steps
from tests.graphql.conftest import Gql, post

UPDATE = (
    "mutation($input: OrganizationUpdateInput!) { organizationUpdate(input: $input) {"
    " organization { name statusThresholds { onTrackRatio atRiskRatio } }"
    " userErrors { field code message } } }"
)
READ = "{ organization { name statusThresholds { onTrackRatio atRiskRatio } } }"


async def events_of(
    session: AsyncSession, org: Organization, type: str = "organization.updated"
) -> list[Event]:
    result = await session.execute(
        select(Event).where(Event.org_id == org.id, Event.type == type).order_by(Event.seq)
    )
    return list(result.scalars())


async def update(gql: Gql, **input: Any) -> dict[str, Any]:
    body = await gql(UPDATE, {"input": input})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["organizationUpdate"]
    return payload


async def test_the_organization_shows_its_default_thresholds(gql: Gql, org: Organization) -> None:
    body = await gql(READ)

    assert body == {
        "data": {
            "organization": {
                "name": org.name,
                "statusThresholds": {"onTrackRatio": 0.7, "atRiskRatio": 0.4},
            }
        }
    }


async def test_an_update_changes_only_the_fields_given_and_emits_an_event(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # when the name and the at-risk ratio change
    payload = await update(gql, name="  Acme Rockets ", atRiskRatio=0.25)

    # then the organization shows them, the on-track ratio as it was
    expected = {
        "name": "Acme Rockets",
        "statusThresholds": {"onTrackRatio": 0.7, "atRiskRatio": 0.25},
    }
    assert payload == {"organization": expected, "userErrors": []}
    assert (await gql(READ))["data"]["organization"] == expected
    # and one organization.updated event carries the state after the change
    [event] = await events_of(session, org)
    assert event.subject_id == org.id
    assert event.payload == {
        "id": str(org.id),
        "name": "Acme Rockets",
        "on_track_ratio": 0.7,
        "at_risk_ratio": 0.25,
    }


async def test_bad_thresholds_and_names_give_user_errors_and_change_nothing(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"onTrackRatio": 0}, ["input", "onTrackRatio"], "OUT_OF_RANGE"),
        ({"onTrackRatio": 1.5}, ["input", "onTrackRatio"], "OUT_OF_RANGE"),
        ({"atRiskRatio": -0.1}, ["input", "atRiskRatio"], "OUT_OF_RANGE"),
        # at risk above on track: given alone, or together (at_risk is then the one at fault)
        ({"atRiskRatio": 0.8}, ["input", "atRiskRatio"], "OUT_OF_RANGE"),
        ({"onTrackRatio": 0.3}, ["input", "onTrackRatio"], "OUT_OF_RANGE"),
        ({"onTrackRatio": 0.5, "atRiskRatio": 0.6}, ["input", "atRiskRatio"], "OUT_OF_RANGE"),
        ({"onTrackRatio": None}, ["input", "onTrackRatio"], "REQUIRED"),
        ({"name": "   "}, ["input", "name"], "INVALID"),
        ({"name": "x" * 201, "atRiskRatio": 0.1}, ["input", "name"], "INVALID"),
        ({"name": None}, ["input", "name"], "REQUIRED"),
    ]
    for input, field, code in cases:
        # when
        payload = await update(gql, **input)

        # then the input is refused with the field at fault and a code
        assert payload["organization"] is None, input
        assert [(error["field"], error["code"]) for error in payload["userErrors"]] == [
            (field, code)
        ], input

    # and nothing changed, nothing was emitted
    assert (await gql(READ))["data"]["organization"] == {
        "name": org.name,
        "statusThresholds": {"onTrackRatio": 0.7, "atRiskRatio": 0.4},
    }
    assert await events_of(session, org) == []


async def test_the_boundaries_of_the_thresholds_are_accepted(gql: Gql) -> None:
    # on track at 1, at risk equal to on track, then at risk at 0
    for input in ({"onTrackRatio": 1, "atRiskRatio": 1}, {"atRiskRatio": 0}):
        assert (await update(gql, **input))["userErrors"] == [], input

    assert (await gql(READ))["data"]["organization"]["statusThresholds"] == {
        "onTrackRatio": 1.0,
        "atRiskRatio": 0.0,
    }


async def test_new_thresholds_change_a_key_results_computed_status(gql: Gql) -> None:
    # given a 2026 cycle and a key result at 30% when about half of the cycle has passed
    cycle = await steps.cycle(gql, name="2026", startsOn="2026-01-01", endsOn="2026-12-31")
    team = await steps.team(gql)
    objective = await steps.objective(gql, cycle, team)
    kr = await steps.key_result(gql, objective)
    await steps.check_in(gql, kr, value=30, observedAt="2026-06-01T00:00:00Z")
    query = (
        'query($k: ID!) { node(id: $k) { ... on KeyResult { status(asOf: "2026-07-02T00:00:00Z")'
        ' progress(asOf: "2026-07-02T00:00:00Z") } } }'
    )

    async def status() -> str:
        body = await gql(query, {"k": kr})
        assert "errors" not in body, body
        assert body["data"]["node"]["progress"] == 0.3
        value: str = body["data"]["node"]["status"]
        return value

    # then with the defaults (0.7 / 0.4) a ratio of about 0.6 is at risk
    assert await status() == "AT_RISK"
    # when the on-track ratio drops to 0.5, it is on track
    await update(gql, onTrackRatio=0.5)
    assert await status() == "ON_TRACK"
    # when both rise above 0.6, it is off track
    await update(gql, onTrackRatio=0.9, atRiskRatio=0.65)
    assert await status() == "OFF_TRACK"


async def test_an_update_needs_the_admin_scope(
    client: httpx.AsyncClient, session: AsyncSession, org: Organization
) -> None:
    # given a key with read and write but not admin
    writer = post(client, await factories.create_api_key(session, org, ("read", "write")))

    # when it changes the thresholds
    body = await writer(UPDATE, {"input": {"onTrackRatio": 0.5}})

    # then it is forbidden and nothing changed
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await writer(READ))["data"]["organization"]["statusThresholds"]["onTrackRatio"] == 0.7
    assert await events_of(session, org) == []


async def test_an_update_changes_only_the_callers_organization(
    gql: Gql, other_gql: Gql, other_org: Organization
) -> None:
    await update(gql, name="Mine", onTrackRatio=0.5)

    assert (await other_gql(READ))["data"]["organization"] == {
        "name": other_org.name,
        "statusThresholds": {"onTrackRatio": 0.7, "atRiskRatio": 0.4},
    }


async def test_a_change_of_thresholds_announces_the_key_results_whose_status_moves(
    gql: Gql, session: AsyncSession, org: Organization
) -> None:
    # given a cycle half-way through today and two key results, at 30% and at 100%
    today = datetime.now(UTC).date()
    cycle = await steps.cycle(
        gql,
        startsOn=(today - timedelta(days=100)).isoformat(),
        endsOn=(today + timedelta(days=99)).isoformat(),
    )
    objective = await steps.objective(gql, cycle, await steps.team(gql))
    behind = await steps.key_result(gql, objective)
    done = await steps.key_result(gql, objective, title="Already there")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    await steps.check_in(gql, behind, value=30, observedAt=yesterday)
    await steps.check_in(gql, done, value=100, observedAt=yesterday)
    announced_before = len(await events_of(session, org, "key_result.status_changed"))

    # when a rename changes no status, then the on-track ratio drops to 0.5
    await update(gql, name="Renamed")
    await update(gql, name="Renamed", onTrackRatio=0.7)  # no change at all
    after_rename = await events_of(session, org, "key_result.status_changed")
    await update(gql, onTrackRatio=0.5)

    # then only the key result at about 0.6 of its pace is announced, at risk to on track
    assert len(after_rename) == announced_before
    [event] = (await events_of(session, org, "key_result.status_changed"))[announced_before:]
    assert event.subject_id == decode_id(behind, "KeyResult")
    assert (event.payload["before"], event.payload["after"]) == ("at_risk", "on_track")
    assert event.payload["cause"] == "write"
    # and the two updates that changed something were each announced once
    assert len(await events_of(session, org)) == 2
