import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.check_ins import service
from service.check_ins.schemas import CheckInCreate
from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.models import CheckIn, Event, KeyResult, Organization
from tests import factories

NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)


async def check_in_count(session: AsyncSession, org: Organization) -> int:
    total = await session.scalar(
        select(func.count()).select_from(CheckIn).where(CheckIn.org_id == org.id)
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


async def refused(
    session: AsyncSession,
    org: Organization,
    key_result_id: uuid.UUID,
    data: CheckInCreate,
    error: type[DomainError],
) -> DomainError:
    with pytest.raises(error) as raised:
        await service.create_check_in(session, org.id, key_result_id, data, now=NOW)
    assert await check_in_count(session, org) == 0
    assert await event_types(session, org) == []
    return raised.value


# --- create ---------------------------------------------------------------------------------


async def test_create_check_in_on_a_manual_key_result(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    author = await factories.create_person(session, org)
    observed = NOW - timedelta(days=1)

    # when
    check_in = await service.create_check_in(
        session,
        org.id,
        key_result.id,
        CheckInCreate(
            value=42.5,
            confidence=0.8,
            note="on the way",
            author_person_id=author.id,
            source="api",
            observed_at=observed,
        ),
        now=NOW,
    )

    # then
    assert check_in.value == 42.5 and check_in.done is None
    assert check_in.observed_at == observed and check_in.source == "api"
    assert check_in.recorded_at is not None and check_in.retracted_at is None
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "check_in.created"
    assert event.subject_id == check_in.id
    assert event.payload["value"] == 42.5 and event.payload["key_result_id"] == str(key_result.id)


async def test_create_check_in_defaults_observed_at_to_now(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    check_in = await service.create_check_in(
        session, org.id, key_result.id, CheckInCreate(value=1), now=NOW
    )

    assert check_in.observed_at == NOW and check_in.source == "graphql"


async def test_create_check_in_on_a_metric_key_result_takes_a_value(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    metric = await factories.create_metric(session, org)
    key_result = await new_key_result(session, org, measure="metric", metric_id=metric.id)

    error = await refused(session, org, key_result.id, CheckInCreate(done=True), Invalid)
    assert error.field == "value" and error.code == ErrorCode.REQUIRED

    check_in = await service.create_check_in(
        session, org.id, key_result.id, CheckInCreate(value=3), now=NOW
    )
    assert check_in.value == 3.0


async def test_create_check_in_on_a_milestone_takes_done(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org, measure="milestone")

    missing = await refused(session, org, key_result.id, CheckInCreate(), Invalid)
    assert missing.field == "done" and missing.code == ErrorCode.REQUIRED
    with_value = await refused(
        session, org, key_result.id, CheckInCreate(done=True, value=1), Invalid
    )
    assert with_value.field == "value"

    check_in = await service.create_check_in(
        session, org.id, key_result.id, CheckInCreate(done=False), now=NOW
    )
    assert check_in.done is False and check_in.value is None


async def test_create_check_in_refuses_done_on_a_manual_key_result(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    error = await refused(session, org, key_result.id, CheckInCreate(value=1, done=True), Invalid)

    assert error.field == "done"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value": math.nan}, "value"),
        ({"value": math.inf}, "value"),
        ({"value": 1, "confidence": 1.01}, "confidence"),
        ({"value": 1, "confidence": -0.01}, "confidence"),
        ({"value": 1, "confidence": math.nan}, "confidence"),
    ],
)
async def test_create_check_in_refuses_numbers_out_of_range(
    session: AsyncSession, fields: dict[str, Any], field: str
) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    error = await refused(session, org, key_result.id, CheckInCreate(**fields), Invalid)

    assert error.field == field and error.code == ErrorCode.OUT_OF_RANGE


@pytest.mark.parametrize("confidence", [0.0, 1.0])
async def test_create_check_in_confidence_bounds_are_inclusive(
    session: AsyncSession, confidence: float
) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    check_in = await service.create_check_in(
        session, org.id, key_result.id, CheckInCreate(value=1, confidence=confidence), now=NOW
    )

    assert check_in.confidence == confidence


async def test_create_check_in_refuses_a_naive_observed_at(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    error = await refused(
        session,
        org,
        key_result.id,
        CheckInCreate(value=1, observed_at=datetime(2027, 1, 15, 9, 0)),
        Invalid,
    )

    assert error.field == "observed_at"


async def test_create_check_in_allows_ten_minutes_of_future_but_no_more(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)

    error = await refused(
        session,
        org,
        key_result.id,
        CheckInCreate(value=1, observed_at=NOW + timedelta(minutes=10, seconds=1)),
        Invalid,
    )
    assert error.field == "observed_at" and error.code == ErrorCode.OUT_OF_RANGE

    check_in = await service.create_check_in(
        session,
        org.id,
        key_result.id,
        CheckInCreate(value=1, observed_at=NOW + timedelta(minutes=10)),
        now=NOW,
    )
    assert check_in.observed_at == NOW + timedelta(minutes=10)


async def test_create_check_in_stores_observed_at_in_utc(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    paris = timezone(timedelta(hours=1))

    check_in = await service.create_check_in(
        session,
        org.id,
        key_result.id,
        CheckInCreate(value=1, observed_at=datetime(2027, 1, 31, 13, 0, tzinfo=paris)),
        now=NOW,
    )

    assert check_in.observed_at == datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    assert check_in.observed_at.utcoffset() == timedelta(0)


async def test_create_check_in_refuses_an_archived_key_result(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org, state="archived")

    error = await refused(session, org, key_result.id, CheckInCreate(value=1), DomainError)

    assert error.code == ErrorCode.INVALID_STATE


async def test_create_check_in_on_key_result_of_another_org_is_not_found(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await new_key_result(session, other)

    error = await refused(session, org, foreign.id, CheckInCreate(value=1), NotFound)
    assert error.field == "key_result_id"
    await refused(session, org, uuid.uuid4(), CheckInCreate(value=1), NotFound)

    assert await check_in_count(session, other) == 0
    assert await event_types(session, other) == []


async def test_create_check_in_author_must_be_a_person_of_the_org(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    foreign_person = await factories.create_person(session, other)

    error = await refused(
        session,
        org,
        key_result.id,
        CheckInCreate(value=1, author_person_id=foreign_person.id),
        Invalid,
    )

    # a bad reference in the input (REST: 422), not a missing key result (404)
    assert (error.field, error.code) == ("author_person_id", ErrorCode.NOT_FOUND)


# --- retract --------------------------------------------------------------------------------


async def test_retract_check_in_marks_it_and_keeps_the_row(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    check_in = await factories.create_check_in(session, key_result, value=5.0)

    # when
    await service.retract_check_in(session, org.id, check_in.id, now=NOW)

    # then
    assert check_in.retracted_at == NOW and check_in.value == 5.0
    assert await check_in_count(session, org) == 1
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "check_in.retracted"
    assert event.payload["retracted_at"] is not None


async def test_retract_check_in_twice_is_invalid_state(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org)
    check_in = await factories.create_check_in(session, key_result)
    await service.retract_check_in(session, org.id, check_in.id, now=NOW)

    with pytest.raises(DomainError) as error:
        await service.retract_check_in(session, org.id, check_in.id)

    assert error.value.code == ErrorCode.INVALID_STATE
    assert check_in.retracted_at == NOW
    # the first retraction's events only (its check-in was the key result's only data)
    assert await event_types(session, org) == ["check_in.retracted", "key_result.status_changed"]


async def test_retract_check_in_of_another_org_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_check_in(session, await new_key_result(session, other))

    with pytest.raises(NotFound):
        await service.retract_check_in(session, org.id, foreign.id)

    await session.refresh(foreign)
    assert foreign.retracted_at is None
    assert await event_types(session, other) == []


async def test_retract_check_in_on_an_archived_key_result_is_refused(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    key_result = await new_key_result(session, org, state="archived")
    check_in = await factories.create_check_in(session, key_result)

    with pytest.raises(DomainError) as error:
        await service.retract_check_in(session, org.id, check_in.id)

    assert error.value.code == ErrorCode.INVALID_STATE
    assert check_in.retracted_at is None
