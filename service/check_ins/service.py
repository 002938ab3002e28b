"""Check-ins: append-only observations of a key result.

A correction is a new check-in; `retract_check_in` marks one retracted (never deletes,
never edits anything else), and retracting twice is INVALID_STATE. Archived key results
are read-only: no new check-ins and no retractions. `observed_at` must carry a time zone
(stored in UTC) and may be at most FUTURE_TOLERANCE ahead of now (clock skew of callers).
"""

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.check_ins.schemas import CheckInCreate, CheckInRead
from service.db.outbox import emit
from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.events.catalog import EventType
from service.key_results.service import get_key_result, refuse_if_archived
from service.kit import rows
from service.kit.checks import check_reference
from service.models import CheckIn, KeyResult, Measure, Person
from service.statuses import tracker

FUTURE_TOLERANCE = timedelta(minutes=10)
NOTE_MAX = 10_000


def check_in_payload(check_in: CheckIn) -> dict[str, Any]:
    return CheckInRead.model_validate(check_in).model_dump(mode="json")


def check_observed_at(observed_at: datetime | None, now: datetime) -> datetime:
    if observed_at is None:
        return now
    if observed_at.tzinfo is None or observed_at.utcoffset() is None:
        raise Invalid(
            "observed_at must carry a time zone (e.g. 2027-01-15T09:00:00Z)", field="observed_at"
        )
    if observed_at > now + FUTURE_TOLERANCE:
        raise Invalid(
            "observed_at must not be more than 10 minutes in the future",
            field="observed_at",
            code=ErrorCode.OUT_OF_RANGE,
        )
    return observed_at.astimezone(UTC)


def check_reading(key_result: KeyResult, data: CheckInCreate) -> None:
    """A milestone takes `done`; every other measure takes a finite `value`."""
    if key_result.measure == Measure.milestone:
        if data.done is None:
            raise Invalid(
                "a check-in on a milestone key result needs done",
                field="done",
                code=ErrorCode.REQUIRED,
            )
        if data.value is not None:
            raise Invalid(
                "a check-in on a milestone key result takes done, not value", field="value"
            )
        return
    if data.value is None:
        raise Invalid(
            f"a check-in on a {key_result.measure} key result needs value",
            field="value",
            code=ErrorCode.REQUIRED,
        )
    if not math.isfinite(data.value):
        raise Invalid("value must be a finite number", field="value", code=ErrorCode.OUT_OF_RANGE)
    if data.done is not None:
        raise Invalid("done is only for milestone key results; send value", field="done")


async def create_check_in(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_id: uuid.UUID,
    data: CheckInCreate,
    *,
    now: datetime | None = None,
) -> CheckIn:
    now = now or datetime.now(UTC)
    observed_at = check_observed_at(data.observed_at, now)
    if data.confidence is not None and not (
        math.isfinite(data.confidence) and 0 <= data.confidence <= 1
    ):
        raise Invalid(
            "confidence must be between 0 and 1", field="confidence", code=ErrorCode.OUT_OF_RANGE
        )
    if len(data.note) > NOTE_MAX:
        raise Invalid(f"note must be at most {NOTE_MAX} characters", field="note")
    # FOR SHARE: a concurrent archive waits for this check-in, or this waits for it.
    key_result = await get_key_result(
        session, org_id, key_result_id, for_share=True, field="key_result_id"
    )
    refuse_if_archived(key_result)
    check_reading(key_result, data)
    if data.author_person_id is not None:
        try:
            await check_reference(
                session,
                Person,
                org_id,
                data.author_person_id,
                field="author_person_id",
                noun="person",
            )
        except NotFound as error:  # a bad reference in the input, not a missing target (422)
            raise Invalid(error.message, field=error.field, code=ErrorCode.NOT_FOUND) from None
    before = await tracker.snapshot(session, org_id, [key_result.id])
    check_in = CheckIn(
        org_id=org_id,
        key_result_id=key_result.id,
        value=data.value,
        done=data.done,
        confidence=data.confidence,
        note=data.note,
        author_person_id=data.author_person_id,
        source=data.source.value,
        observed_at=observed_at,
    )
    session.add(check_in)
    await session.flush()
    await emit(session, org_id, EventType.CHECK_IN_CREATED, check_in.id, check_in_payload(check_in))
    await tracker.announce_changes(session, org_id, before)
    return check_in


async def retract_check_in(
    session: AsyncSession,
    org_id: uuid.UUID,
    check_in_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> CheckIn:
    check_in = await rows.get_one(
        session, CheckIn, org_id, check_in_id, what="check-in", lock="update"
    )
    if check_in.retracted_at is not None:
        raise DomainError("the check-in is already retracted", code=ErrorCode.INVALID_STATE)
    key_result = await get_key_result(session, org_id, check_in.key_result_id, for_share=True)
    refuse_if_archived(key_result)
    before = await tracker.snapshot(session, org_id, [key_result.id])
    check_in.retracted_at = now or datetime.now(UTC)
    await session.flush()
    await emit(
        session, org_id, EventType.CHECK_IN_RETRACTED, check_in.id, check_in_payload(check_in)
    )
    await tracker.announce_changes(session, org_id, before)
    return check_in
