import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.commitments import service
from service.commitments.schemas import CommitmentCreate, CommitmentUpdate
from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.models import Commitment, CommitmentKeyResult, Event, KeyResult, Organization
from tests import factories

NOW = datetime(2027, 2, 20, 12, 0, tzinfo=UTC)


async def count(session: AsyncSession, model: type[Any], org: Organization) -> int:
    total = await session.scalar(
        select(func.count()).select_from(model).where(model.org_id == org.id)
    )
    return int(total or 0)


async def event_types(session: AsyncSession, org: Organization) -> list[str]:
    result = await session.scalars(
        select(Event.type).where(Event.org_id == org.id).order_by(Event.seq)
    )
    return list(result)


async def new_key_result(session: AsyncSession, org: Organization, **fields: Any) -> KeyResult:
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    return await factories.create_key_result(session, objective, **fields)


async def supported(
    session: AsyncSession, org: Organization, commitment: Commitment
) -> list[uuid.UUID]:
    """Ids of the key results the commitment supports, oldest link first."""
    result = await session.scalars(
        select(CommitmentKeyResult.key_result_id)
        .where(
            CommitmentKeyResult.org_id == org.id,
            CommitmentKeyResult.commitment_id == commitment.id,
        )
        .order_by(CommitmentKeyResult.created_at, CommitmentKeyResult.key_result_id)
    )
    return list(result)


def draft(owner_id: uuid.UUID, **fields: Any) -> CommitmentCreate:
    values: dict[str, Any] = {
        "title": "Launch the onboarding checklist",
        "success_criteria": "Live for all new sign-ups, announced in the changelog.",
        "owner_person_id": owner_id,
        "due_on": date(2027, 3, 1),
    }
    values.update(fields)
    return CommitmentCreate(**values)


async def refused(
    session: AsyncSession, org: Organization, data: CommitmentCreate, error: type[DomainError]
) -> DomainError:
    with pytest.raises(error) as raised:
        await service.create_commitment(session, org.id, data)
    assert await count(session, Commitment, org) == 0
    assert await count(session, CommitmentKeyResult, org) == 0
    assert await event_types(session, org) == []
    return raised.value


# --- create ---------------------------------------------------------------------------------


async def test_create_commitment_with_key_results_writes_rows_and_event(
    session: AsyncSession,
) -> None:
    # given
    org = await factories.create_org(session)
    owner = await factories.create_person(session, org)
    first = await new_key_result(session, org)
    second = await new_key_result(session, org)

    # when
    commitment = await service.create_commitment(
        session, org.id, draft(owner.id, key_result_ids=[first.id, second.id, first.id])
    )

    # then
    assert commitment.state == "open" and commitment.done_at is None
    assert set(await supported(session, org, commitment)) == {
        first.id,
        second.id,
    }
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "commitment.created"
    assert event.subject_id == commitment.id
    assert set(event.payload["key_result_ids"]) == {str(first.id), str(second.id)}
    assert event.payload["due_on"] == "2027-03-01"
    assert event.payload["owner_person_id"] == str(owner.id)


async def test_create_commitment_owned_by_an_agent(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    human = await factories.create_person(session, org)
    agent = await factories.create_person(
        session, org, kind="agent", accountable_person_id=human.id
    )

    commitment = await service.create_commitment(session, org.id, draft(agent.id))

    assert commitment.owner_person_id == agent.id


async def test_create_commitment_refuses_a_team_owner(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    team = await factories.create_team(session, org)

    error = await refused(session, org, draft(team.id), DomainError)

    assert error.code == ErrorCode.WRONG_OWNER and error.field == "owner_person_id"


async def test_create_commitment_refuses_owner_of_another_org_or_unknown(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign_person = await factories.create_person(session, other)
    foreign_team = await factories.create_team(session, other)

    for owner_id in (foreign_person.id, foreign_team.id, uuid.uuid4()):
        error = await refused(session, org, draft(owner_id), NotFound)
        assert error.field == "owner_person_id"


async def test_create_commitment_refuses_an_archived_owner(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    owner = await factories.create_person(session, org, archived_at=NOW)

    error = await refused(session, org, draft(owner.id), DomainError)

    assert error.code == ErrorCode.INVALID_STATE


@pytest.mark.parametrize("criteria", ["", "   \n"])
async def test_create_commitment_needs_success_criteria(
    session: AsyncSession, criteria: str
) -> None:
    org = await factories.create_org(session)
    owner = await factories.create_person(session, org)

    error = await refused(session, org, draft(owner.id, success_criteria=criteria), Invalid)

    assert error.field == "success_criteria" and error.code == ErrorCode.REQUIRED


async def test_create_commitment_needs_a_title(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    owner = await factories.create_person(session, org)

    error = await refused(session, org, draft(owner.id, title=""), Invalid)

    assert error.field == "title"


async def test_create_commitment_refuses_key_results_of_another_org(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    owner = await factories.create_person(session, org)
    mine = await new_key_result(session, org)
    foreign = await new_key_result(session, other)

    error = await refused(
        session, org, draft(owner.id, key_result_ids=[mine.id, foreign.id]), NotFound
    )

    assert error.field == "key_result_ids" and str(foreign.id) in error.message
    assert await count(session, CommitmentKeyResult, other) == 0


# --- get -----------------------------------------------------------------------------


async def test_get_commitment_of_another_org_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_commitment(
        session, await factories.create_person(session, other)
    )

    with pytest.raises(NotFound):
        await service.get_commitment(session, org.id, foreign.id)


# --- update ---------------------------------------------------------------------------------


async def test_update_commitment_changes_given_fields_and_emits(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    owner = await factories.create_person(session, org)
    new_owner = await factories.create_person(session, org)
    commitment = await factories.create_commitment(session, owner)

    await service.update_commitment(
        session,
        org.id,
        commitment.id,
        CommitmentUpdate(due_on=date(2027, 4, 1), owner_person_id=new_owner.id),
    )

    assert commitment.due_on == date(2027, 4, 1) and commitment.owner_person_id == new_owner.id
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "commitment.updated"
    assert event.payload["due_on"] == "2027-04-01"


async def test_update_commitment_refuses_a_team_owner_or_no_owner(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    owner = await factories.create_person(session, org)
    team = await factories.create_team(session, org)
    commitment = await factories.create_commitment(session, owner)

    with pytest.raises(DomainError) as team_error:
        await service.update_commitment(
            session, org.id, commitment.id, CommitmentUpdate(owner_person_id=team.id)
        )
    with pytest.raises(Invalid) as none_error:
        await service.update_commitment(
            session, org.id, commitment.id, CommitmentUpdate(owner_person_id=None)
        )
    with pytest.raises(Invalid) as criteria_error:
        await service.update_commitment(
            session, org.id, commitment.id, CommitmentUpdate(success_criteria=" ")
        )

    assert team_error.value.code == ErrorCode.WRONG_OWNER
    assert none_error.value.field == "owner_person_id"
    assert criteria_error.value.field == "success_criteria"
    assert commitment.owner_person_id == owner.id
    assert await event_types(session, org) == []


async def test_update_commitment_of_another_org_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_commitment(
        session, await factories.create_person(session, other), title="Theirs"
    )

    with pytest.raises(NotFound):
        await service.update_commitment(session, org.id, foreign.id, CommitmentUpdate(title="X"))

    await session.refresh(foreign)
    assert foreign.title == "Theirs"
    assert await event_types(session, other) == []


async def test_update_of_a_done_commitment_is_refused(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org), state="done", done_at=NOW
    )

    with pytest.raises(DomainError) as error:
        await service.update_commitment(session, org.id, commitment.id, CommitmentUpdate(title="X"))

    assert error.value.code == ErrorCode.INVALID_STATE


# --- state machine --------------------------------------------------------------------------


async def test_complete_commitment_with_evidence(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org)
    )
    done_at = NOW - timedelta(hours=3)

    await service.complete_commitment(
        session,
        org.id,
        commitment.id,
        done_at=done_at,
        evidence_url="https://example.com/pr/1",
        now=NOW,
    )

    assert commitment.state == "done" and commitment.done_at == done_at
    assert commitment.evidence_url == "https://example.com/pr/1"
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "commitment.completed"
    assert event.payload["state"] == "done"
    assert event.payload["evidence_url"] == "https://example.com/pr/1"


async def test_complete_commitment_defaults_done_at_to_now(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org)
    )

    await service.complete_commitment(session, org.id, commitment.id, now=NOW)

    assert commitment.done_at == NOW and commitment.evidence_url is None


@pytest.mark.parametrize(
    "url", ["ftp://example.com/file", "javascript:alert(1)", "example.com/pr/1", "https://"]
)
async def test_complete_commitment_refuses_non_http_evidence(
    session: AsyncSession, url: str
) -> None:
    org = await factories.create_org(session)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org)
    )

    with pytest.raises(Invalid) as error:
        await service.complete_commitment(session, org.id, commitment.id, evidence_url=url)

    assert error.value.field == "evidence_url"
    assert commitment.state == "open" and commitment.done_at is None
    assert await event_types(session, org) == []


@pytest.mark.parametrize(
    ("done_at", "code"),
    [
        (datetime(2027, 2, 20, 11, 0), ErrorCode.INVALID),
        (NOW + timedelta(hours=1), ErrorCode.OUT_OF_RANGE),
    ],
)
async def test_complete_commitment_refuses_bad_done_at(
    session: AsyncSession, done_at: datetime, code: ErrorCode
) -> None:
    org = await factories.create_org(session)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org)
    )

    with pytest.raises(Invalid) as error:
        await service.complete_commitment(session, org.id, commitment.id, done_at=done_at, now=NOW)

    assert error.value.field == "done_at" and error.value.code == code
    assert commitment.state == "open"


async def test_drop_and_reopen_commitment(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org)
    )

    await service.drop_commitment(session, org.id, commitment.id, now=NOW)
    assert commitment.state == "dropped" and commitment.dropped_at == NOW

    await service.reopen_commitment(session, org.id, commitment.id)
    assert commitment.state == "open" and commitment.dropped_at is None

    assert await event_types(session, org) == ["commitment.dropped", "commitment.reopened"]


async def test_reopen_a_done_commitment_clears_done_at(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org)
    )
    await service.complete_commitment(
        session, org.id, commitment.id, evidence_url="http://ci.example/run/9", now=NOW
    )

    await service.reopen_commitment(session, org.id, commitment.id)

    assert commitment.state == "open"
    assert commitment.done_at is None and commitment.evidence_url is None
    assert await event_types(session, org) == ["commitment.completed", "commitment.reopened"]


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("done", "complete"),
        ("done", "drop"),
        ("dropped", "complete"),
        ("dropped", "drop"),
        ("open", "reopen"),
    ],
)
async def test_refused_state_transitions(session: AsyncSession, state: str, action: str) -> None:
    org = await factories.create_org(session)
    fields: dict[str, Any] = {"state": state}
    if state == "done":
        fields["done_at"] = NOW
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org), **fields
    )
    actions = {
        "complete": service.complete_commitment,
        "drop": service.drop_commitment,
        "reopen": service.reopen_commitment,
    }

    with pytest.raises(DomainError) as error:
        await actions[action](session, org.id, commitment.id)

    assert error.value.code == ErrorCode.INVALID_STATE
    assert commitment.state == state
    assert await event_types(session, org) == []


@pytest.mark.parametrize("action", ["complete", "drop", "reopen"])
async def test_transitions_on_commitment_of_another_org_are_not_found(
    session: AsyncSession, action: str
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_commitment(
        session, await factories.create_person(session, other)
    )
    actions = {
        "complete": service.complete_commitment,
        "drop": service.drop_commitment,
        "reopen": service.reopen_commitment,
    }

    with pytest.raises(NotFound):
        await actions[action](session, org.id, foreign.id)

    await session.refresh(foreign)
    assert foreign.state == "open"
    assert await event_types(session, other) == []


# --- supported key results ------------------------------------------------------------------


async def test_set_add_and_remove_supported_key_results(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    a = await new_key_result(session, org)
    b = await new_key_result(session, org)
    c = await new_key_result(session, org)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org), [a]
    )

    # when / then
    assert set(await service.set_key_results(session, org.id, commitment.id, [b.id, c.id])) == {
        b.id,
        c.id,
    }
    assert set(await service.add_key_results(session, org.id, commitment.id, [a.id, b.id])) == {
        a.id,
        b.id,
        c.id,
    }
    assert set(await service.remove_key_results(session, org.id, commitment.id, [c.id])) == {
        a.id,
        b.id,
    }
    assert set(await service.add_key_results(session, org.id, commitment.id, [a.id])) == {
        a.id,
        b.id,
    }
    assert await count(session, CommitmentKeyResult, org) == 2
    assert await event_types(session, org) == ["commitment.updated"] * 3
    event = await session.scalar(
        select(Event).where(Event.org_id == org.id).order_by(Event.seq.desc()).limit(1)
    )
    assert event is not None and set(event.payload["key_result_ids"]) == {str(a.id), str(b.id)}


async def test_supported_key_results_must_be_of_the_org(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    mine = await new_key_result(session, org)
    foreign = await new_key_result(session, other)
    commitment = await factories.create_commitment(
        session, await factories.create_person(session, org), [mine]
    )

    with pytest.raises(NotFound):
        await service.set_key_results(session, org.id, commitment.id, [foreign.id])
    with pytest.raises(NotFound):
        await service.add_key_results(session, org.id, commitment.id, [uuid.uuid4()])
    with pytest.raises(NotFound):
        await service.remove_key_results(session, org.id, commitment.id, [foreign.id])

    assert await supported(session, org, commitment) == [mine.id]
    assert await event_types(session, org) == []


async def test_supported_key_results_of_a_foreign_commitment_are_not_found(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    mine = await new_key_result(session, org)
    foreign = await factories.create_commitment(
        session, await factories.create_person(session, other)
    )

    with pytest.raises(NotFound):
        await service.add_key_results(session, org.id, foreign.id, [mine.id])

    assert await count(session, CommitmentKeyResult, other) == 0
    assert await count(session, CommitmentKeyResult, org) == 0
