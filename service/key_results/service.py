"""Key results: measurable outcomes of an objective.

Rules (checked on the whole key result after a create or an update):
- `metric` measures need `metric_id` (a metric of the organization, not archived); no
  other measure takes one.
- `manual` and `metric` need a target. `increase`/`decrease` also need a start, different
  from the target and on the right side of it (increase: target > start; decrease:
  target < start). `at_least`/`at_most` need only the target (a start is kept as a
  baseline if given).
- `milestone` key results are done or not: a start or a target is refused (not silently
  dropped), and the direction is not used.
- weight is a finite number ≥ 0; the owner is optional and, when given, a person (human
  or agent) of the organization: a team is WRONG_OWNER.
- Archived key results are read-only (archiving twice is INVALID_STATE) until
  `unarchive_key_result`; key results cannot be added or moved to an archived objective.
  Moving to the objective it is already on changes nothing and emits nothing.
"""

import math
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.outbox import emit
from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.events.catalog import EventType
from service.key_results.schemas import (
    KeyResultCreate,
    KeyResultRead,
    KeyResultUpdate,
)
from service.kit import rows
from service.kit.checks import (
    check_person_owner,
    check_reference,
    check_weight,
    clean_title,
)
from service.models import (
    KeyResult,
    KeyResultDirection,
    KeyResultState,
    Measure,
    Metric,
    Objective,
    ObjectiveState,
)
from service.objectives.service import get_objective
from service.statuses import tracker

UNIT_MAX = 50
ORDERED = frozenset({KeyResultDirection.increase, KeyResultDirection.decrease})


def key_result_payload(key_result: KeyResult) -> dict[str, Any]:
    return KeyResultRead.model_validate(key_result).model_dump(mode="json")


def check_finite(value: float | None, field: str) -> None:
    if value is not None and not math.isfinite(value):
        raise Invalid(f"{field} must be a finite number", field=field, code=ErrorCode.OUT_OF_RANGE)


def check_measure(
    measure: Measure,
    metric_id: uuid.UUID | None,
    direction: KeyResultDirection,
    start: float | None,
    target: float | None,
) -> None:
    """The measure, metric, direction, start and target of a key result fit together."""
    if measure is Measure.metric and metric_id is None:
        raise Invalid(
            "a key result measured on a metric needs metric_id",
            field="metric_id",
            code=ErrorCode.REQUIRED,
        )
    if measure is not Measure.metric and metric_id is not None:
        raise Invalid(
            f"only key results measured on a metric take metric_id (measure is {measure.value})",
            field="metric_id",
        )
    check_finite(start, "start_value")
    check_finite(target, "target_value")
    if measure is Measure.milestone:
        for value, field in ((start, "start_value"), (target, "target_value")):
            if value is not None:
                raise Invalid(
                    "a milestone key result is done or not: it has no start or target",
                    field=field,
                )
        return
    if target is None:
        raise Invalid(
            f"a {measure.value} key result needs target_value",
            field="target_value",
            code=ErrorCode.REQUIRED,
        )
    if direction not in ORDERED:
        return
    if start is None:
        raise Invalid(
            f"an {direction.value} key result needs start_value",
            field="start_value",
            code=ErrorCode.REQUIRED,
        )
    if start == target:
        raise Invalid(
            f"target_value must differ from start_value (both are {target:g})",
            field="target_value",
        )
    if direction is KeyResultDirection.increase and target < start:
        raise Invalid(
            f"an increase key result needs target_value above start_value"
            f" (start {start:g}, target {target:g}); use direction decrease for a falling target",
            field="target_value",
        )
    if direction is KeyResultDirection.decrease and target > start:
        raise Invalid(
            f"a decrease key result needs target_value below start_value"
            f" (start {start:g}, target {target:g}); use direction increase for a rising target",
            field="target_value",
        )


def clean_unit(unit: str) -> str:
    unit = unit.strip()
    if len(unit) > UNIT_MAX:
        raise Invalid(f"unit must be at most {UNIT_MAX} characters", field="unit")
    return unit


def refuse_archived_objective(objective: Objective) -> None:
    if objective.state == ObjectiveState.archived:
        raise DomainError(
            "the objective is archived", field="objective_id", code=ErrorCode.INVALID_STATE
        )


def refuse_if_archived(key_result: KeyResult) -> None:
    if key_result.state == KeyResultState.archived:
        raise DomainError("the key result is archived", code=ErrorCode.INVALID_STATE)


async def get_key_result(
    session: AsyncSession,
    org_id: uuid.UUID,
    key_result_id: uuid.UUID,
    *,
    for_update: bool = False,
    for_share: bool = False,
    field: str = "id",
) -> KeyResult:
    """One key result; `for_share` blocks a concurrent archive until the transaction ends.

    `for_update` takes FOR NO KEY UPDATE (key results' keys never change): it still excludes
    other writers and `for_share`, but not the key-share lock of a foreign-key check, so a
    row pointing at this key result (e.g. its stored status, written by the worker's recheck)
    can be inserted meanwhile without a lock cycle."""
    lock: rows.Lock | None = "no key update" if for_update else "share" if for_share else None
    return await rows.get_one(
        session, KeyResult, org_id, key_result_id, what="key result", field=field, lock=lock
    )


async def create_key_result(
    session: AsyncSession, org_id: uuid.UUID, data: KeyResultCreate
) -> KeyResult:
    title = clean_title(data.title)
    unit = clean_unit(data.unit)
    weight = check_weight(data.weight)
    check_measure(data.measure, data.metric_id, data.direction, data.start_value, data.target_value)
    objective = await get_objective(session, org_id, data.objective_id)
    refuse_archived_objective(objective)
    if data.metric_id is not None:
        await check_reference(
            session, Metric, org_id, data.metric_id, field="metric_id", noun="metric"
        )
    if data.owner_person_id is not None:
        await check_person_owner(session, org_id, data.owner_person_id, owned="a key result")
    key_result = KeyResult(
        org_id=org_id,
        objective_id=objective.id,
        title=title,
        owner_person_id=data.owner_person_id,
        measure=data.measure.value,
        metric_id=data.metric_id,
        direction=data.direction.value,
        start_value=data.start_value,
        target_value=data.target_value,
        unit=unit,
        weight=weight,
        state=KeyResultState.active.value,
    )
    session.add(key_result)
    await session.flush()
    await emit(
        session, org_id, EventType.KEY_RESULT_CREATED, key_result.id, key_result_payload(key_result)
    )
    # Its first status, stored: the `before` of the first change points cause (the worker's
    # recheck stores a key result it sees for the first time without announcing it).
    await tracker.observe(session, org_id, [key_result.id])
    return key_result


async def update_key_result(
    session: AsyncSession, org_id: uuid.UUID, key_result_id: uuid.UUID, data: KeyResultUpdate
) -> KeyResult:
    key_result = await get_key_result(session, org_id, key_result_id, for_update=True)
    refuse_if_archived(key_result)
    fields = data.model_fields_set
    changes: dict[str, Any] = {}
    if "title" in fields:
        if data.title is None:
            raise Invalid("title must not be empty", field="title", code=ErrorCode.REQUIRED)
        changes["title"] = clean_title(data.title)
    if "unit" in fields:
        changes["unit"] = clean_unit(data.unit or "")
    if "weight" in fields:
        if data.weight is None:
            raise Invalid("weight must not be null", field="weight", code=ErrorCode.REQUIRED)
        changes["weight"] = check_weight(data.weight)
    for name in ("measure", "direction"):
        if name in fields:
            value = getattr(data, name)
            if value is None:
                raise Invalid(f"{name} must not be null", field=name, code=ErrorCode.REQUIRED)
            changes[name] = value.value
    for name in ("metric_id", "start_value", "target_value", "owner_person_id"):
        if name in fields:
            changes[name] = getattr(data, name)

    def merged(name: str) -> Any:
        return changes[name] if name in changes else getattr(key_result, name)

    check_measure(
        Measure(merged("measure")),
        merged("metric_id"),
        KeyResultDirection(merged("direction")),
        merged("start_value"),
        merged("target_value"),
    )
    metric_id = changes.get("metric_id")
    if metric_id is not None and metric_id != key_result.metric_id:
        await check_reference(session, Metric, org_id, metric_id, field="metric_id", noun="metric")
    owner_id = changes.get("owner_person_id")
    if owner_id is not None and owner_id != key_result.owner_person_id:
        await check_person_owner(session, org_id, owner_id, owned="a key result")

    changed = {name: value for name, value in changes.items() if getattr(key_result, name) != value}
    if not changed:
        return key_result
    before = await tracker.snapshot(session, org_id, [key_result.id])
    for name, value in changed.items():
        setattr(key_result, name, value)
    await session.flush()
    await emit(
        session, org_id, EventType.KEY_RESULT_UPDATED, key_result.id, key_result_payload(key_result)
    )
    await tracker.announce_changes(session, org_id, before)
    return key_result


async def archive_key_result(
    session: AsyncSession, org_id: uuid.UUID, key_result_id: uuid.UUID
) -> KeyResult:
    key_result = await get_key_result(session, org_id, key_result_id, for_update=True)
    if key_result.state == KeyResultState.archived:
        raise DomainError("the key result is already archived", code=ErrorCode.INVALID_STATE)
    before = await tracker.snapshot(session, org_id, [key_result.id])
    key_result.state = KeyResultState.archived.value
    await session.flush()
    await emit(
        session,
        org_id,
        EventType.KEY_RESULT_ARCHIVED,
        key_result.id,
        key_result_payload(key_result),
    )
    await tracker.announce_changes(session, org_id, before)
    return key_result


async def unarchive_key_result(
    session: AsyncSession, org_id: uuid.UUID, key_result_id: uuid.UUID
) -> KeyResult:
    key_result = await get_key_result(session, org_id, key_result_id, for_update=True)
    if key_result.state != KeyResultState.archived:
        raise DomainError("the key result is not archived", code=ErrorCode.INVALID_STATE)
    refuse_archived_objective(await get_objective(session, org_id, key_result.objective_id))
    before = await tracker.snapshot(session, org_id, [key_result.id])
    key_result.state = KeyResultState.active.value
    await session.flush()
    await emit(
        session, org_id, EventType.KEY_RESULT_UPDATED, key_result.id, key_result_payload(key_result)
    )
    await tracker.announce_changes(session, org_id, before)
    return key_result


async def move_key_result(
    session: AsyncSession, org_id: uuid.UUID, key_result_id: uuid.UUID, to_objective_id: uuid.UUID
) -> KeyResult:
    """Move a key result (with its check-ins and commitments) to another objective."""
    key_result = await get_key_result(session, org_id, key_result_id, for_update=True)
    refuse_if_archived(key_result)
    target = await rows.find(session, Objective, org_id, to_objective_id)
    if target is None:
        raise NotFound("objective not found", field="objective_id")
    refuse_archived_objective(target)
    if target.id == key_result.objective_id:
        return key_result
    from_objective_id = key_result.objective_id
    before = await tracker.snapshot(session, org_id, [key_result.id])
    key_result.objective_id = target.id
    await session.flush()
    payload = key_result_payload(key_result)
    payload["from_objective_id"] = str(from_objective_id)
    await emit(session, org_id, EventType.KEY_RESULT_MOVED, key_result.id, payload)
    await tracker.announce_changes(session, org_id, before)
    return key_result
