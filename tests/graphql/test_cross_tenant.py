"""Another organization's IDs behave exactly like missing ones, everywhere.

One object of every type is made in another organization; each query, mutation and node
lookup is run once with that object's ID and once with a never-used ID of the same type,
and the two responses must be identical (and the other organization unchanged).
"""

import base64
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event, Organization
from tests.graphql import steps
from tests.graphql.conftest import Gql


def missing_like(global_id: str) -> str:
    """A never-used ID of the same type as `global_id`."""
    type_name = base64.urlsafe_b64decode(global_id).decode().split(":")[0]
    return base64.urlsafe_b64encode(f"{type_name}:{uuid.uuid4()}".encode()).decode()


async def build_world(gql: Gql) -> dict[str, str]:
    """One object of every type, in the organization of `gql`."""
    ids: dict[str, str] = {}
    ids["person"] = await steps.person(gql, name="Owner")
    ids["team"] = await steps.team(gql)
    ids["cycle"] = await steps.cycle(gql)
    ids["metric"] = await steps.metric(gql, key="north", isNorthStar=True)
    ids["metric2"] = await steps.metric(gql, key="driver", name="Driver")
    edge = await steps.mutate(
        gql,
        "metricEdgeCreate",
        {"childMetricId": ids["metric2"], "parentMetricId": ids["metric"]},
        "metricEdge { id }",
    )
    ids["edge"] = edge["metricEdge"]["id"]
    ids["objective"] = await steps.objective(
        gql, ids["cycle"], ids["team"], metricIds=[ids["metric"]]
    )
    ids["objective2"] = await steps.objective(
        gql, ids["cycle"], ids["person"], title="Child", parentIds=[ids["objective"]]
    )
    ids["key_result"] = await steps.key_result(gql, ids["objective2"])
    ids["check_in"] = await steps.check_in(gql, ids["key_result"])
    ids["commitment"] = await steps.commitment(gql, ids["person"], keyResultIds=[ids["key_result"]])
    key = await steps.mutate(
        gql, "apiKeyCreate", {"name": "other", "scopes": ["READ"]}, "apiKey { id }"
    )
    ids["api_key"] = key["apiKey"]["id"]
    return ids


def mutation_cases(mine: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(mutation, input type, foreign slot, input with the slot to fill) for every ID input."""
    cycle_dates = {"startsOn": "2027-01-01", "endsOn": "2027-01-31"}
    return [
        (
            "personCreate",
            "PersonCreateInput",
            "accountablePersonId",
            {"name": "Bot", "kind": "AGENT"},
        ),
        ("personUpdate", "PersonUpdateInput", "id:person", {"name": "X"}),
        ("personArchive", "PersonArchiveInput", "id:person", {}),
        ("teamCreate", "TeamCreateInput", "parentTeamId:team", {"name": "Sub"}),
        ("teamUpdate", "TeamUpdateInput", "id:team", {"name": "X"}),
        ("teamUpdate", "TeamUpdateInput", "parentTeamId:team", {"id": mine["team"]}),
        ("teamArchive", "TeamArchiveInput", "id:team", {}),
        ("teamMemberAdd", "TeamMemberInput", "teamId:team", {"personId": mine["person"]}),
        ("teamMemberAdd", "TeamMemberInput", "personId:person", {"teamId": mine["team"]}),
        ("teamMemberRemove", "TeamMemberInput", "teamId:team", {"personId": mine["person"]}),
        ("teamMemberRemove", "TeamMemberInput", "personId:person", {"teamId": mine["team"]}),
        ("cycleCreate", "CycleCreateInput", "parentCycleId:cycle", {"name": "Sub", **cycle_dates}),
        ("cycleUpdate", "CycleUpdateInput", "id:cycle", {"name": "X"}),
        ("cycleArchive", "CycleArchiveInput", "id:cycle", {}),
        ("metricCreate", "MetricCreateInput", "ownerPersonId:person", {"key": "k", "name": "K"}),
        ("metricUpdate", "MetricUpdateInput", "id:metric", {"name": "X"}),
        ("metricUpdate", "MetricUpdateInput", "ownerPersonId:person", {"id": mine["metric"]}),
        ("metricArchive", "MetricArchiveInput", "id:metric", {}),
        (
            "metricEdgeCreate",
            "MetricEdgeCreateInput",
            "childMetricId:metric",
            {"parentMetricId": mine["metric"]},
        ),
        (
            "metricEdgeCreate",
            "MetricEdgeCreateInput",
            "parentMetricId:metric",
            {"childMetricId": mine["metric2"]},
        ),
        ("metricEdgeUpdate", "MetricEdgeUpdateInput", "id:edge", {"weight": 2}),
        ("metricEdgeDelete", "MetricEdgeDeleteInput", "id:edge", {}),
        (
            "objectiveCreate",
            "ObjectiveCreateInput",
            "cycleId:cycle",
            {"title": "T", "ownerId": mine["team"]},
        ),
        (
            "objectiveCreate",
            "ObjectiveCreateInput",
            "ownerId:team",
            {"title": "T", "cycleId": mine["cycle"]},
        ),
        (
            "objectiveCreate",
            "ObjectiveCreateInput",
            "ownerId:person",
            {"title": "T", "cycleId": mine["cycle"]},
        ),
        (
            "objectiveCreate",
            "ObjectiveCreateInput",
            "parentIds:objective",
            {"title": "T", "cycleId": mine["cycle"], "ownerId": mine["team"]},
        ),
        (
            "objectiveCreate",
            "ObjectiveCreateInput",
            "metricIds:metric",
            {"title": "T", "cycleId": mine["cycle"], "ownerId": mine["team"]},
        ),
        ("objectiveUpdate", "ObjectiveUpdateInput", "id:objective", {"title": "X"}),
        ("objectiveUpdate", "ObjectiveUpdateInput", "cycleId:cycle", {"id": mine["objective"]}),
        ("objectiveUpdate", "ObjectiveUpdateInput", "ownerId:team", {"id": mine["objective"]}),
        ("objectiveArchive", "ObjectiveArchiveInput", "id:objective", {}),
        (
            "alignmentCreate",
            "AlignmentCreateInput",
            "childId:objective",
            {"parentId": mine["objective"]},
        ),
        (
            "alignmentCreate",
            "AlignmentCreateInput",
            "parentId:objective",
            {"childId": mine["objective"]},
        ),
        (
            "alignmentDelete",
            "AlignmentDeleteInput",
            "childId:objective2",
            {"parentId": mine["objective"]},
        ),
        (
            "alignmentDelete",
            "AlignmentDeleteInput",
            "parentId:objective",
            {"childId": mine["objective2"]},
        ),
        (
            "objectiveMetricAdd",
            "ObjectiveMetricInput",
            "objectiveId:objective",
            {"metricId": mine["metric"]},
        ),
        (
            "objectiveMetricAdd",
            "ObjectiveMetricInput",
            "metricId:metric",
            {"objectiveId": mine["objective"]},
        ),
        (
            "objectiveMetricRemove",
            "ObjectiveMetricInput",
            "objectiveId:objective",
            {"metricId": mine["metric"]},
        ),
        (
            "objectiveMetricRemove",
            "ObjectiveMetricInput",
            "metricId:metric",
            {"objectiveId": mine["objective"]},
        ),
        (
            "keyResultCreate",
            "KeyResultCreateInput",
            "objectiveId:objective",
            {"title": "T", "measure": "MANUAL", "startValue": 0, "targetValue": 1},
        ),
        (
            "keyResultCreate",
            "KeyResultCreateInput",
            "ownerPersonId:person",
            {
                "objectiveId": mine["objective"],
                "title": "T",
                "measure": "MANUAL",
                "startValue": 0,
                "targetValue": 1,
            },
        ),
        (
            "keyResultCreate",
            "KeyResultCreateInput",
            "metricId:metric",
            {
                "objectiveId": mine["objective"],
                "title": "T",
                "measure": "METRIC",
                "startValue": 0,
                "targetValue": 1,
            },
        ),
        ("keyResultUpdate", "KeyResultUpdateInput", "id:key_result", {"title": "X"}),
        (
            "keyResultUpdate",
            "KeyResultUpdateInput",
            "ownerPersonId:person",
            {"id": mine["key_result"]},
        ),
        ("keyResultArchive", "KeyResultArchiveInput", "id:key_result", {}),
        (
            "keyResultMove",
            "KeyResultMoveInput",
            "id:key_result",
            {"objectiveId": mine["objective"]},
        ),
        (
            "keyResultMove",
            "KeyResultMoveInput",
            "objectiveId:objective",
            {"id": mine["key_result"]},
        ),
        ("checkInCreate", "CheckInCreateInput", "keyResultId:key_result", {"value": 1}),
        (
            "checkInCreate",
            "CheckInCreateInput",
            "authorPersonId:person",
            {"keyResultId": mine["key_result"], "value": 1},
        ),
        ("checkInRetract", "CheckInRetractInput", "id:check_in", {}),
        (
            "commitmentCreate",
            "CommitmentCreateInput",
            "ownerPersonId:person",
            {"title": "T", "successCriteria": "S", "dueOn": "2027-01-10"},
        ),
        (
            "commitmentCreate",
            "CommitmentCreateInput",
            "keyResultIds:key_result",
            {
                "title": "T",
                "successCriteria": "S",
                "dueOn": "2027-01-10",
                "ownerPersonId": mine["person"],
            },
        ),
        ("commitmentUpdate", "CommitmentUpdateInput", "id:commitment", {"title": "X"}),
        (
            "commitmentUpdate",
            "CommitmentUpdateInput",
            "ownerPersonId:person",
            {"id": mine["commitment"]},
        ),
        ("commitmentComplete", "CommitmentCompleteInput", "id:commitment", {}),
        ("commitmentDrop", "CommitmentStateInput", "id:commitment", {}),
        ("commitmentReopen", "CommitmentStateInput", "id:commitment", {}),
        ("objectiveUnarchive", "ObjectiveUnarchiveInput", "id:objective", {}),
        ("keyResultUnarchive", "KeyResultUnarchiveInput", "id:key_result", {}),
        ("metricRestore", "MetricRestoreInput", "id:metric", {}),
        (
            "apiKeyCreate",
            "ApiKeyCreateInput",
            "createdByPersonId:person",
            {"name": "k", "scopes": ["READ"]},
        ),
        ("apiKeyRevoke", "ApiKeyRevokeInput", "id:api_key", {}),
    ]


def without(body: dict[str, Any], global_id: str) -> str:
    """The response with the ID it was asked about (global or raw) blanked out."""
    raw = base64.urlsafe_b64decode(global_id).decode().split(":")[1]
    return str(body).replace(global_id, "<id>").replace(raw, "<id>")


def fill(slot: str, input: dict[str, Any], value: str) -> dict[str, Any]:
    field = slot.split(":")[0]
    is_list = field in ("parentIds", "metricIds", "keyResultIds")
    return {**input, field: [value] if is_list else value}


def slot_kind(slot: str) -> str:
    _, _, kind = slot.partition(":")
    return kind or "person"


QUERIES = [
    ("people", "team", "{ people(filter: {team: $id}) { totalCount nodes { id } } }"),
    ("teams", "team", "{ teams(filter: {parent: $id}) { totalCount nodes { id } } }"),
    ("cycles", "cycle", "{ cycles(filter: {parent: $id}) { totalCount nodes { id } } }"),
    ("metrics", "person", "{ metrics(filter: {owner: $id}) { totalCount nodes { id } } }"),
    (
        "objectives.cycle",
        "cycle",
        "{ objectives(filter: {cycle: $id}) { totalCount nodes { id } } }",
    ),
    (
        "objectives.owner",
        "team",
        "{ objectives(filter: {owner: $id}) { totalCount nodes { id } } }",
    ),
    ("objectives.team", "team", "{ objectives(filter: {team: $id}) { totalCount nodes { id } } }"),
    (
        "objectives.parent",
        "objective",
        "{ objectives(filter: {parent: $id}) { totalCount nodes { id } } }",
    ),
    (
        "keyResults.objective",
        "objective2",
        "{ keyResults(filter: {objective: $id}) { totalCount nodes { id } } }",
    ),
    (
        "keyResults.cycle",
        "cycle",
        "{ keyResults(filter: {cycle: $id}) { totalCount nodes { id } } }",
    ),
    (
        "keyResults.owner",
        "person",
        "{ keyResults(filter: {owner: $id}) { totalCount nodes { id } } }",
    ),
    ("keyResults.team", "team", "{ keyResults(filter: {team: $id}) { totalCount nodes { id } } }"),
    (
        "keyResults.metric",
        "metric",
        "{ keyResults(filter: {metric: $id}) { totalCount nodes { id } } }",
    ),
    (
        "commitments.owner",
        "person",
        "{ commitments(filter: {owner: $id}) { totalCount nodes { id } } }",
    ),
    (
        "commitments.team",
        "team",
        "{ commitments(filter: {team: $id}) { totalCount nodes { id } } }",
    ),
    (
        "commitments.keyResult",
        "key_result",
        "{ commitments(filter: {keyResult: $id}) { totalCount nodes { id } } }",
    ),
    ("rollup.objective", "objective", "{ rollup(id: $id) { progress status } }"),
    ("rollup.keyResult", "key_result", "{ rollup(id: $id) { progress status } }"),
    ("rollup.cycle", "cycle", "{ rollup(id: $id) { progress status } }"),
    ("alignmentPaths", "key_result", "{ alignmentPaths(id: $id) { nodeIds } }"),
    (
        "rollupHistory",
        "objective",
        '{ rollupHistory(id: $id, start: "2027-01-01T00:00:00Z", end: "2027-01-03T00:00:00Z")'
        " { bucketStart } }",
    ),
]


async def events_of(session: AsyncSession, org: Organization) -> int:
    return int(
        (await session.execute(select(func.count()).where(Event.org_id == org.id))).scalar_one()
    )


async def test_another_organizations_ids_behave_like_missing_ids_everywhere(
    gql: Gql, other_gql: Gql, session: AsyncSession, other_org: Organization
) -> None:
    # given the same world in both organizations
    theirs = await build_world(other_gql)
    mine = await build_world(gql)
    events_before = await events_of(session, other_org)
    snapshot_query = (
        "{ people { nodes { id name archivedAt } } teams { nodes { id name } }"
        " objectives { nodes { id title state } } keyResults { nodes { id title state } }"
        " commitments { nodes { id state } } metrics { nodes { id name archivedAt } } }"
    )
    their_view_before = await other_gql(snapshot_query)

    # when every node lookup is made with their ID and with a missing one
    for name, their_id in theirs.items():
        missing = missing_like(their_id)
        for query in (
            "query($id: ID!) { node(id: $id) { id } }",
            "query($id: ID!) { nodes(ids: [$id]) { id } }",
        ):
            foreign = await gql(query, {"id": their_id})
            absent = await gql(query, {"id": missing})
            # then both are null, without errors
            assert foreign == absent, (name, foreign, absent)
            assert "errors" not in foreign
    assert (await gql('{ metric(key: "north") { id } }'))["data"]["metric"]["id"] == mine["metric"]

    # when every query with an ID argument is made with their ID and a missing one
    for label, kind, selection in QUERIES:
        query = "query($id: ID!) " + selection
        foreign = await gql(query, {"id": theirs[kind]})
        absent = await gql(query, {"id": missing_like(theirs[kind])})
        assert foreign == absent, (label, foreign, absent)
        assert "errors" not in foreign, (label, foreign)

    # when every mutation is given their ID in each ID input, and a missing one
    for mutation, input_type, slot, input in mutation_cases(mine):
        their_id = theirs[slot_kind(slot)]
        query = (
            f"mutation($input: {input_type}!) {{ {mutation}(input: $input) "
            "{ userErrors { field code message } } }"
        )
        missing = missing_like(their_id)
        foreign = await gql(query, {"input": fill(slot, input, their_id)})
        absent = await gql(query, {"input": fill(slot, input, missing)})
        # then both refuse identically
        assert without(foreign, their_id) == without(absent, missing), (mutation, slot)
        assert foreign["data"][mutation]["userErrors"], (mutation, slot, foreign)

    # and nothing of theirs changed
    assert await events_of(session, other_org) == events_before
    assert await other_gql(snapshot_query) == their_view_before
