"""Commitments through GraphQL."""

from tests.graphql import steps
from tests.graphql.conftest import Gql


async def test_a_commitment_is_created_completed_reopened_and_dropped(gql: Gql) -> None:
    # given a commitment of a person supporting a key result
    cycle = await steps.cycle(gql)
    team = await steps.team(gql)
    ada = await steps.person(gql, name="Ada")
    objective = await steps.objective(gql, cycle, team)
    kr = await steps.key_result(gql, objective)
    commitment = await steps.commitment(gql, ada, keyResultIds=[kr])

    # when read back through node and from the key result
    found = await steps.node(
        gql, commitment, "... on Commitment { title state dueOn owner { id } keyResults { id } }"
    )
    from_kr = await steps.node(gql, kr, "... on KeyResult { commitments { id } }")

    # then
    assert found == {
        "id": commitment,
        "title": "Ship onboarding v2",
        "state": "OPEN",
        "dueOn": "2027-02-15",
        "owner": {"id": ada},
        "keyResults": [{"id": kr}],
    }
    assert from_kr == {"id": kr, "commitments": [{"id": commitment}]}

    # when updated, completed, reopened and dropped
    updated = await steps.mutate(
        gql,
        "commitmentUpdate",
        {"id": commitment, "dueOn": "2027-03-01", "keyResultIds": []},
        "commitment { dueOn keyResults { id } }",
    )
    assert updated["commitment"] == {"dueOn": "2027-03-01", "keyResults": []}
    done = await steps.mutate(
        gql,
        "commitmentComplete",
        {"id": commitment, "evidenceUrl": "https://example.com/release"},
        "commitment { state doneAt evidenceUrl }",
    )
    assert done["commitment"]["state"] == "DONE" and done["commitment"]["doneAt"] is not None
    reopened = await steps.mutate(
        gql,
        "commitmentReopen",
        {"id": commitment},
        "commitment { state doneAt }",
        type_name="CommitmentStateInput",
    )
    assert reopened["commitment"] == {"state": "OPEN", "doneAt": None}
    dropped = await steps.mutate(
        gql,
        "commitmentDrop",
        {"id": commitment},
        "commitment { state }",
        type_name="CommitmentStateInput",
    )

    # then
    assert dropped["commitment"] == {"state": "DROPPED"}
    assert await steps.page_through(gql, "commitments", ", filter: {state: [OPEN]}") == []


async def test_commitments_page_through_a_connection_by_due_date(gql: Gql) -> None:
    ada = await steps.person(gql)
    ids = [await steps.commitment(gql, ada, dueOn=f"2027-02-0{day}") for day in range(1, 6)]

    assert await steps.page_through(gql, "commitments", size=2) == ids
