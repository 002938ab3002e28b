"""People through GraphQL: create, read back, page, update, archive."""

from tests.graphql import steps
from tests.graphql.conftest import Gql


async def test_a_person_is_created_read_back_updated_and_archived(gql: Gql) -> None:
    # given a human and an agent accountable to her
    ada = await steps.person(gql, name="Ada", email="ada@example.com")
    bot = await steps.person(gql, name="Bot", kind="AGENT", accountablePersonId=ada)

    # when the agent is read back through node
    found = await steps.node(
        gql, bot, "... on Person { name kind accountablePerson { id name } archivedAt }"
    )

    # then it carries what was written
    assert found == {
        "id": bot,
        "name": "Bot",
        "kind": "AGENT",
        "accountablePerson": {"id": ada, "name": "Ada"},
        "archivedAt": None,
    }

    # when updated and archived
    updated = await steps.mutate(
        gql, "personUpdate", {"id": ada, "name": "Ada L.", "email": None}, "person { name email }"
    )
    assert updated["person"] == {"name": "Ada L.", "email": None}
    archived = await steps.mutate(gql, "personArchive", {"id": bot}, "person { archivedAt }")

    # then the archive is recorded and the default list leaves it out
    assert archived["person"]["archivedAt"] is not None
    assert await steps.page_through(gql, "people") == [ada]
    assert set(await steps.page_through(gql, "people", ", filter: {includeArchived: true}")) == {
        ada,
        bot,
    }


async def test_people_page_through_a_connection_in_name_order(gql: Gql) -> None:
    # given five people
    ids = [await steps.person(gql, name=f"Person {index}") for index in range(5)]

    # when paged two at a time
    paged = await steps.page_through(gql, "people", size=2)

    # then every person comes once, in name order
    assert paged == ids


async def test_an_agent_without_an_accountable_human_is_refused(gql: Gql) -> None:
    errors = await steps.refused(gql, "personCreate", {"name": "Bot", "kind": "AGENT"})

    assert errors[0]["code"] == "REQUIRED"
    assert await steps.page_through(gql, "people") == []
