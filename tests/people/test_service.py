import asyncio
import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.errors import Conflict, DomainError, ErrorCode, Invalid, NotFound
from service.models import Event, Person, PersonKind
from service.people import service
from service.people.schemas import PersonCreate, PersonUpdate
from tests.factories import create_org, create_person
from tests.real_transactions import committed_org, wait_for_lock_waiters


async def row_counts(session: AsyncSession) -> tuple[int, int]:
    people = await session.scalar(select(func.count()).select_from(Person))
    events = await session.scalar(select(func.count()).select_from(Event))
    return int(people or 0), int(events or 0)


async def events_about(session: AsyncSession, subject_id: uuid.UUID) -> list[tuple[str, Any]]:
    result = await session.execute(
        select(Event.type, Event.payload).where(Event.subject_id == subject_id).order_by(Event.seq)
    )
    return [(type_, payload) for type_, payload in result.all()]


async def test_create_human_trims_the_name_and_emits_person_created(session: AsyncSession) -> None:
    # given
    org = await create_org(session)

    # when
    person = await service.create_person(
        session, org.id, PersonCreate(name="  Ada Lovelace ", email=" ada@example.com ")
    )

    # then
    assert person.name == "Ada Lovelace"
    assert person.email == "ada@example.com"
    assert person.kind == "human"
    assert await events_about(session, person.id) == [
        (
            "person.created",
            {
                "id": str(person.id),
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "kind": "human",
                "accountable_person_id": None,
                "archived_at": None,
            },
        )
    ]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
async def test_create_refuses_a_name_out_of_bounds(session: AsyncSession, name: str) -> None:
    # given
    org = await create_org(session)
    before = await row_counts(session)

    # when / then
    with pytest.raises(Invalid) as error:
        await service.create_person(session, org.id, PersonCreate(name=name))
    assert error.value.field == "name"
    assert await row_counts(session) == before


async def test_create_accepts_a_name_of_200_characters(session: AsyncSession) -> None:
    org = await create_org(session)

    person = await service.create_person(session, org.id, PersonCreate(name="x" * 200))

    assert len(person.name) == 200


async def test_create_refuses_an_email_taken_in_the_org_ignoring_case(
    session: AsyncSession,
) -> None:
    # given
    org = await create_org(session)
    await create_person(session, org, email="Grace@Example.com")
    before = await row_counts(session)

    # when / then
    with pytest.raises(DomainError) as error:
        await service.create_person(
            session, org.id, PersonCreate(name="Grace", email="grace@example.COM")
        )
    assert error.value.code is ErrorCode.DUPLICATE
    assert error.value.field == "email"
    assert await row_counts(session) == before


async def test_the_same_email_is_allowed_in_another_org(session: AsyncSession) -> None:
    org, other_org = await create_org(session), await create_org(session)
    await create_person(session, other_org, email="grace@example.com")

    person = await service.create_person(
        session, org.id, PersonCreate(name="Grace", email="grace@example.com")
    )

    assert person.org_id == org.id


async def test_a_blank_email_means_no_email(session: AsyncSession) -> None:
    org = await create_org(session)

    person = await service.create_person(session, org.id, PersonCreate(name="A", email="  "))

    assert person.email is None


@pytest.mark.parametrize("email", ["not-an-email", "a@b@c", "two words@example.com"])
async def test_create_refuses_a_malformed_email(session: AsyncSession, email: str) -> None:
    org = await create_org(session)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_person(session, org.id, PersonCreate(name="A", email=email))

    assert error.value.field == "email"
    assert await row_counts(session) == before


async def test_create_input_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        PersonCreate.model_validate({"name": "A", "org_id": str(uuid.uuid4())})


async def test_agent_with_an_accountable_human_is_created(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    owner = await create_person(session, org)

    # when
    agent = await service.create_person(
        session,
        org.id,
        PersonCreate(name="Release bot", kind=PersonKind.agent, accountable_person_id=owner.id),
    )

    # then
    assert agent.kind == "agent"
    assert agent.accountable_person_id == owner.id
    assert (await events_about(session, agent.id))[0][1]["accountable_person_id"] == str(owner.id)


async def test_agent_without_an_accountable_person_is_refused(session: AsyncSession) -> None:
    org = await create_org(session)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_person(session, org.id, PersonCreate(name="Bot", kind="agent"))

    assert error.value.code is ErrorCode.REQUIRED
    assert error.value.field == "accountable_person_id"
    assert await row_counts(session) == before


async def test_agent_accountable_to_another_agent_is_refused(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    human = await create_person(session, org)
    agent = await create_person(session, org, kind="agent", accountable_person_id=human.id)
    before = await row_counts(session)

    # when / then
    with pytest.raises(Invalid) as error:
        await service.create_person(
            session,
            org.id,
            PersonCreate(name="Bot 2", kind="agent", accountable_person_id=agent.id),
        )
    assert error.value.code is ErrorCode.WRONG_OWNER
    assert error.value.field == "accountable_person_id"
    assert await row_counts(session) == before


async def test_agent_accountable_to_an_archived_human_is_refused(session: AsyncSession) -> None:
    org = await create_org(session)
    gone = await create_person(session, org)
    await service.archive_person(session, org.id, gone.id)
    before = await row_counts(session)

    with pytest.raises(Invalid) as error:
        await service.create_person(
            session, org.id, PersonCreate(name="Bot", kind="agent", accountable_person_id=gone.id)
        )

    assert error.value.code is ErrorCode.INVALID_STATE
    assert await row_counts(session) == before


async def test_accountable_person_of_another_org_is_not_found(session: AsyncSession) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    stranger = await create_person(session, other_org)
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound) as error:
        await service.create_person(
            session,
            org.id,
            PersonCreate(name="Bot", kind="agent", accountable_person_id=stranger.id),
        )
    assert error.value.field == "accountable_person_id"
    assert await row_counts(session) == before


async def test_unknown_accountable_person_is_not_found(session: AsyncSession) -> None:
    org = await create_org(session)
    before = await row_counts(session)

    with pytest.raises(NotFound):
        await service.create_person(
            session,
            org.id,
            PersonCreate(name="Bot", kind="agent", accountable_person_id=uuid.uuid4()),
        )

    assert await row_counts(session) == before


async def test_a_human_may_name_an_accountable_human(session: AsyncSession) -> None:
    org = await create_org(session)
    manager = await create_person(session, org)

    person = await service.create_person(
        session, org.id, PersonCreate(name="Report", accountable_person_id=manager.id)
    )

    assert person.accountable_person_id == manager.id


async def test_a_human_cannot_be_accountable_for_itself(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    person = await create_person(session, org)
    before = await row_counts(session)

    # when / then
    with pytest.raises(Invalid) as error:
        await service.update_person(
            session, org.id, person.id, PersonUpdate(accountable_person_id=person.id)
        )
    assert error.value.field == "accountable_person_id"
    await session.refresh(person)
    assert person.accountable_person_id is None
    assert await row_counts(session) == before


async def test_update_cannot_take_the_accountable_human_from_an_agent(
    session: AsyncSession,
) -> None:
    # given
    org = await create_org(session)
    human = await create_person(session, org)
    agent = await create_person(session, org, kind="agent", accountable_person_id=human.id)
    before = await row_counts(session)

    # when / then
    with pytest.raises(Invalid) as error:
        await service.update_person(
            session, org.id, agent.id, PersonUpdate(accountable_person_id=None)
        )
    assert error.value.field == "accountable_person_id"
    await session.refresh(agent)
    assert agent.accountable_person_id == human.id
    assert await row_counts(session) == before


async def test_update_hands_an_agent_to_another_human(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    first, second = await create_person(session, org), await create_person(session, org)
    agent = await create_person(session, org, kind="agent", accountable_person_id=first.id)

    # when
    await service.update_person(
        session, org.id, agent.id, PersonUpdate(accountable_person_id=second.id)
    )

    # then
    await session.refresh(agent)
    assert agent.accountable_person_id == second.id
    events = await events_about(session, agent.id)
    assert events[-1][0] == "person.updated"
    assert events[-1][1]["accountable_person_id"] == str(second.id)


async def test_turning_a_human_into_an_agent_needs_an_accountable_human(
    session: AsyncSession,
) -> None:
    org = await create_org(session)
    person = await create_person(session, org)

    with pytest.raises(Invalid) as error:
        await service.update_person(session, org.id, person.id, PersonUpdate(kind="agent"))

    assert error.value.code is ErrorCode.REQUIRED
    await session.refresh(person)
    assert person.kind == "human"


async def test_turning_a_human_into_an_agent_with_an_accountable_human_works(
    session: AsyncSession,
) -> None:
    org = await create_org(session)
    manager, person = await create_person(session, org), await create_person(session, org)

    updated = await service.update_person(
        session, org.id, person.id, PersonUpdate(kind="agent", accountable_person_id=manager.id)
    )

    assert (updated.kind, updated.accountable_person_id) == ("agent", manager.id)


async def test_the_accountable_human_of_an_agent_cannot_become_an_agent(
    session: AsyncSession,
) -> None:
    # given
    org = await create_org(session)
    manager, human = await create_person(session, org), await create_person(session, org)
    await create_person(session, org, kind="agent", accountable_person_id=human.id)

    # when / then
    with pytest.raises(Conflict) as error:
        await service.update_person(
            session, org.id, human.id, PersonUpdate(kind="agent", accountable_person_id=manager.id)
        )
    assert error.value.field == "kind"
    await session.refresh(human)
    assert human.kind == "human"


async def test_update_refuses_an_email_of_another_person(session: AsyncSession) -> None:
    org = await create_org(session)
    await create_person(session, org, email="taken@example.com")
    person = await create_person(session, org, email="mine@example.com")
    before = await row_counts(session)

    with pytest.raises(DomainError) as error:
        await service.update_person(
            session, org.id, person.id, PersonUpdate(email="TAKEN@example.com")
        )

    assert error.value.code is ErrorCode.DUPLICATE
    await session.refresh(person)
    assert person.email == "mine@example.com"
    assert await row_counts(session) == before


async def test_update_may_change_the_case_of_its_own_email(session: AsyncSession) -> None:
    org = await create_org(session)
    person = await create_person(session, org, email="mine@example.com")

    updated = await service.update_person(
        session, org.id, person.id, PersonUpdate(email="Mine@Example.com")
    )

    assert updated.email == "Mine@Example.com"


async def test_update_with_an_explicit_null_name_is_refused(session: AsyncSession) -> None:
    org = await create_org(session)
    person = await create_person(session, org, name="Kept")

    with pytest.raises(Invalid) as error:
        await service.update_person(session, org.id, person.id, PersonUpdate(name=None))

    assert error.value.field == "name"


async def test_update_of_another_orgs_person_is_not_found_and_changes_nothing(
    session: AsyncSession,
) -> None:
    # given
    org, other_org = await create_org(session), await create_org(session)
    stranger = await create_person(session, other_org, name="Theirs")
    before = await row_counts(session)

    # when / then
    with pytest.raises(NotFound):
        await service.update_person(session, org.id, stranger.id, PersonUpdate(name="Mine"))
    await session.refresh(stranger)
    assert stranger.name == "Theirs"
    assert await row_counts(session) == before


async def test_get_and_archive_of_another_orgs_person_are_not_found(
    session: AsyncSession,
) -> None:
    org, other_org = await create_org(session), await create_org(session)
    stranger = await create_person(session, other_org)
    before = await row_counts(session)

    with pytest.raises(NotFound):
        await service.get_person(session, org.id, stranger.id)
    with pytest.raises(NotFound):
        await service.archive_person(session, org.id, stranger.id)

    await session.refresh(stranger)
    assert stranger.archived_at is None
    assert await row_counts(session) == before


async def test_archive_marks_the_person_once_and_emits_once(session: AsyncSession) -> None:
    # given
    org = await create_org(session)
    person = await create_person(session, org)

    # when
    first = await service.archive_person(session, org.id, person.id)
    archived_at = first.archived_at
    second = await service.archive_person(session, org.id, person.id)

    # then
    assert archived_at is not None
    assert second.archived_at == archived_at
    assert [type_ for type_, _ in await events_about(session, person.id)] == ["person.archived"]


async def test_archive_is_refused_while_accountable_for_an_active_agent(
    session: AsyncSession,
) -> None:
    org = await create_org(session)
    human = await create_person(session, org)
    await create_person(session, org, kind="agent", accountable_person_id=human.id)

    with pytest.raises(Conflict):
        await service.archive_person(session, org.id, human.id)

    await session.refresh(human)
    assert human.archived_at is None


async def test_a_lost_race_on_the_email_is_reported_as_duplicate(engine: AsyncEngine) -> None:
    """Two transactions both pass the pre-check; the unique index decides, with the same error."""
    async with committed_org(engine) as (sessions, org), sessions() as first, sessions() as second:
        # given: the first transaction has written the email but not committed
        await service.create_person(
            first, org.id, PersonCreate(name="One", email="race@example.com")
        )

        # when: the second writes the same email (its pre-check cannot see the first) and
        # waits on the unique index until the first commits
        attempt = asyncio.create_task(
            service.create_person(
                second, org.id, PersonCreate(name="Two", email="RACE@example.com")
            )
        )
        await wait_for_lock_waiters(engine, attempt)
        await first.commit()

        # then
        with pytest.raises(DomainError) as error:
            await attempt
        assert error.value.code is ErrorCode.DUPLICATE
        assert error.value.field == "email"
        await second.rollback()
