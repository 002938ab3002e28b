"""Key results and check-ins through GraphQL."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from schema.core.relay import to_global_id
from service.models import Organization
from tests import factories
from tests.graphql import steps
from tests.graphql.conftest import Gql


async def test_a_key_result_is_created_checked_in_moved_and_archived(gql: Gql) -> None:
    # given an objective with a manual key result and two check-ins
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    ada = await steps.person(gql, name="Ada")
    first = await steps.objective(gql, cycle, team, title="First")
    second = await steps.objective(gql, cycle, team, title="Second")
    kr = await steps.key_result(gql, first, ownerPersonId=ada, unit="teams")
    older = await steps.check_in(
        gql, kr, value=20, observedAt="2026-11-01T00:00:00Z", authorPersonId=ada
    )
    newer = await steps.check_in(gql, kr, value=40, observedAt="2026-11-02T00:00:00Z")

    # when read back through node
    found = await steps.node(
        gql,
        kr,
        "... on KeyResult { title measure startValue targetValue unit owner { id }"
        " objective { id } checkIns { id value author { name } } }",
    )

    # then check-ins come newest first
    assert found == {
        "id": kr,
        "title": "Reach 100 teams",
        "measure": "MANUAL",
        "startValue": 0.0,
        "targetValue": 100.0,
        "unit": "teams",
        "owner": {"id": ada},
        "objective": {"id": first},
        "checkIns": [
            {"id": newer, "value": 40.0, "author": None},
            {"id": older, "value": 20.0, "author": {"name": "Ada"}},
        ],
    }

    # when the newest is retracted, the key result updated, moved and archived
    retracted = await steps.mutate(gql, "checkInRetract", {"id": newer}, "checkIn { retractedAt }")
    assert retracted["checkIn"]["retractedAt"] is not None
    updated = await steps.mutate(
        gql, "keyResultUpdate", {"id": kr, "targetValue": 200}, "keyResult { targetValue }"
    )
    assert updated["keyResult"] == {"targetValue": 200.0}
    moved = await steps.mutate(
        gql, "keyResultMove", {"id": kr, "objectiveId": second}, "keyResult { objective { id } }"
    )
    assert moved["keyResult"] == {"objective": {"id": second}}
    archived = await steps.mutate(gql, "keyResultArchive", {"id": kr}, "keyResult { state }")

    # then
    assert archived["keyResult"] == {"state": "ARCHIVED"}
    assert await steps.page_through(gql, "keyResults") == []
    assert await steps.page_through(gql, "keyResults", ", filter: {state: ARCHIVED}") == [kr]
    back = await steps.mutate(gql, "keyResultUnarchive", {"id": kr}, "keyResult { state }")
    assert back["keyResult"] == {"state": "ACTIVE"}


async def test_key_results_page_through_a_connection(gql: Gql) -> None:
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    objective = await steps.objective(gql, cycle, team)
    ids = [await steps.key_result(gql, objective, title=f"KR {index}") for index in range(5)]

    by_title = ", orderBy: {field: TITLE}"
    assert await steps.page_through(gql, "keyResults", by_title, size=2) == ids
    assert (
        await steps.page_through(
            gql, "keyResults", f', filter: {{objective: "{objective}"}}' + by_title
        )
        == ids
    )


async def test_roll_up_fields_resolve_through_the_engine(gql: Gql) -> None:
    # given a key result half-way to its target in a cycle that has just started
    cycle = await steps.cycle(gql, startsOn="2026-01-01", endsOn="2026-12-31")
    team = await steps.team(gql)
    objective = await steps.objective(gql, cycle, team)
    kr = await steps.key_result(gql, objective)
    await steps.check_in(gql, kr, value=50, observedAt="2026-01-02T00:00:00Z")

    # when asked as of a moment early in the cycle
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Objective {"
        ' progress(asOf: "2026-01-03T00:00:00Z") status(asOf: "2026-01-03T00:00:00Z")'
        ' breakdown(asOf: "2026-01-03T00:00:00Z") { itemId weight progress share }'
        ' keyResults { currentValue(asOf: "2026-01-03T00:00:00Z")'
        ' attainment(asOf: "2026-01-03T00:00:00Z") } } } }',
        {"id": objective},
    )

    # then the numbers are the engine's
    node = body["data"]["node"]
    assert node["progress"] == 0.5
    assert node["status"] == "ON_TRACK"
    assert node["breakdown"] == [{"itemId": kr, "weight": 1.0, "progress": 0.5, "share": 1.0}]
    assert node["keyResults"] == [{"currentValue": 50.0, "attainment": 0.5}]


async def test_check_ins_come_newest_first_ties_by_recording_retracted_ones_too(
    session: AsyncSession, org: Organization, gql: Gql
) -> None:
    # given two check-ins observed at the same instant (recorded later wins), older ones,
    # a retracted one and a check-in of another key result
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    key_result = await factories.create_key_result(session, objective)
    other = await factories.create_key_result(session, objective)
    now = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
    oldest = await factories.create_check_in(session, key_result, now - timedelta(days=2))
    tie_first = await factories.create_check_in(session, key_result, now - timedelta(days=1))
    tie_second = await factories.create_check_in(session, key_result, now - timedelta(days=1))
    newest = await factories.create_check_in(session, key_result, now)
    await factories.create_check_in(session, other, now)
    retracted = await factories.create_check_in(
        session, key_result, now - timedelta(days=3), retracted_at=now
    )

    # when
    found = await steps.node(
        gql, to_global_id("KeyResult", key_result.id), "... on KeyResult { checkIns { id } }"
    )

    # then
    assert tie_second.recorded_at > tie_first.recorded_at
    assert found is not None
    assert [check_in["id"] for check_in in found["checkIns"]] == [
        to_global_id("CheckIn", check_in.id)
        for check_in in (newest, tie_second, tie_first, oldest, retracted)
    ]
