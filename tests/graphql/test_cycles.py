"""Cycles through GraphQL: create, read back, page, update, archive."""

from tests.graphql import steps
from tests.graphql.conftest import Gql


async def test_a_cycle_is_created_read_back_updated_and_archived(gql: Gql) -> None:
    # given a year and a quarter inside it
    year = await steps.cycle(gql, name="2027", startsOn="2027-01-01", endsOn="2027-12-31")
    quarter = await steps.cycle(gql, name="2027-Q1", parentCycleId=year)

    # when the quarter is read back
    found = await steps.node(
        gql, quarter, "... on Cycle { name startsOn endsOn parent { id name } }"
    )

    # then
    assert found == {
        "id": quarter,
        "name": "2027-Q1",
        "startsOn": "2027-01-01",
        "endsOn": "2027-03-31",
        "parent": {"id": year, "name": "2027"},
    }

    # when updated and archived
    updated = await steps.mutate(
        gql, "cycleUpdate", {"id": quarter, "endsOn": "2027-03-30"}, "cycle { endsOn }"
    )
    assert updated["cycle"] == {"endsOn": "2027-03-30"}
    archived = await steps.mutate(gql, "cycleArchive", {"id": quarter}, "cycle { archivedAt }")

    # then
    assert archived["cycle"]["archivedAt"] is not None
    assert await steps.page_through(gql, "cycles") == [year]


async def test_cycles_page_through_a_connection_by_start_date(gql: Gql) -> None:
    ids = [
        await steps.cycle(
            gql, name=f"M{month}", startsOn=f"2027-{month:02}-01", endsOn=f"2027-{month:02}-28"
        )
        for month in (1, 2, 3, 4, 5)
    ]

    assert await steps.page_through(gql, "cycles", size=2) == ids


async def test_a_cycle_ending_before_it_starts_is_refused(gql: Gql) -> None:
    errors = await steps.refused(
        gql, "cycleCreate", {"name": "Bad", "startsOn": "2027-02-01", "endsOn": "2027-01-01"}
    )

    assert errors[0]["code"] in {"INVALID", "OUT_OF_RANGE"}
    assert await steps.page_through(gql, "cycles") == []
