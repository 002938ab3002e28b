import math
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import DomainError, ErrorCode, Invalid, NotFound
from service.key_results import service
from service.key_results.schemas import KeyResultCreate, KeyResultUpdate
from service.models import Event, KeyResult, Objective, Organization
from tests import factories


async def kr_count(session: AsyncSession, org: Organization) -> int:
    total = await session.scalar(
        select(func.count()).select_from(KeyResult).where(KeyResult.org_id == org.id)
    )
    return int(total or 0)


async def event_types(session: AsyncSession, org: Organization) -> list[str]:
    result = await session.scalars(
        select(Event.type).where(Event.org_id == org.id).order_by(Event.seq)
    )
    return list(result)


async def new_objective(session: AsyncSession, org: Organization, **fields: Any) -> Objective:
    cycle = await factories.create_cycle(session, org)
    return await factories.create_objective(session, org, cycle, **fields)


def manual(objective: Objective, **fields: Any) -> KeyResultCreate:
    values: dict[str, Any] = {
        "objective_id": objective.id,
        "title": "Weekly active users",
        "measure": "manual",
        "direction": "increase",
        "start_value": 100.0,
        "target_value": 200.0,
    }
    values.update(fields)
    return KeyResultCreate(**values)


async def refused(
    session: AsyncSession, org: Organization, data: KeyResultCreate, error: type[DomainError]
) -> DomainError:
    with pytest.raises(error) as raised:
        await service.create_key_result(session, org.id, data)
    assert await kr_count(session, org) == 0
    assert await event_types(session, org) == []
    return raised.value


# --- create ---------------------------------------------------------------------------------


async def test_create_manual_key_result_writes_row_and_event(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    owner = await factories.create_person(session, org)

    # when
    key_result = await service.create_key_result(
        session, org.id, manual(objective, owner_person_id=owner.id, unit=" users ", weight=2)
    )

    # then
    assert key_result.objective_id == objective.id and key_result.owner_person_id == owner.id
    assert key_result.unit == "users" and key_result.weight == 2.0
    assert key_result.state == "active"
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "key_result.created"
    assert event.subject_id == key_result.id
    assert event.payload["start_value"] == 100.0 and event.payload["target_value"] == 200.0
    assert event.payload["owner_person_id"] == str(owner.id)


async def test_create_metric_key_result_needs_a_metric_of_the_org(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    objective = await new_objective(session, org)
    metric = await factories.create_metric(session, org)
    foreign_metric = await factories.create_metric(session, other)

    missing = await refused(session, org, manual(objective, measure="metric"), Invalid)
    assert missing.field == "metric_id" and missing.code == ErrorCode.REQUIRED
    foreign = await refused(
        session, org, manual(objective, measure="metric", metric_id=foreign_metric.id), NotFound
    )
    assert foreign.field == "metric_id"

    key_result = await service.create_key_result(
        session, org.id, manual(objective, measure="metric", metric_id=metric.id)
    )
    assert key_result.metric_id == metric.id


@pytest.mark.parametrize("measure", ["manual", "milestone"])
async def test_create_refuses_a_metric_on_other_measures(
    session: AsyncSession, measure: str
) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    metric = await factories.create_metric(session, org)
    fields: dict[str, Any] = {"measure": measure, "metric_id": metric.id}
    if measure == "milestone":
        fields |= {"start_value": None, "target_value": None}

    error = await refused(session, org, manual(objective, **fields), Invalid)

    assert error.field == "metric_id"


@pytest.mark.parametrize("measure", ["manual", "metric"])
async def test_create_needs_a_target(session: AsyncSession, measure: str) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    metric = await factories.create_metric(session, org)
    metric_id = metric.id if measure == "metric" else None

    error = await refused(
        session,
        org,
        manual(objective, measure=measure, metric_id=metric_id, target_value=None),
        Invalid,
    )

    assert error.field == "target_value" and error.code == ErrorCode.REQUIRED


@pytest.mark.parametrize("direction", ["increase", "decrease"])
async def test_create_ordered_directions_need_a_start(
    session: AsyncSession, direction: str
) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    error = await refused(
        session, org, manual(objective, direction=direction, start_value=None), Invalid
    )

    assert error.field == "start_value" and error.code == ErrorCode.REQUIRED


@pytest.mark.parametrize("direction", ["increase", "decrease"])
async def test_create_refuses_equal_start_and_target(session: AsyncSession, direction: str) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    error = await refused(
        session,
        org,
        manual(objective, direction=direction, start_value=50, target_value=50),
        Invalid,
    )

    assert error.field == "target_value"
    assert "differ" in error.message


@pytest.mark.parametrize(
    ("direction", "start", "target", "hint"),
    [("increase", 200.0, 100.0, "above"), ("decrease", 100.0, 200.0, "below")],
)
async def test_create_refuses_start_and_target_in_the_wrong_order(
    session: AsyncSession, direction: str, start: float, target: float, hint: str
) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    error = await refused(
        session,
        org,
        manual(objective, direction=direction, start_value=start, target_value=target),
        Invalid,
    )

    assert error.field == "target_value"
    assert hint in error.message
    assert f"start {start:g}, target {target:g}" in error.message


async def test_create_decrease_with_falling_target(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    key_result = await service.create_key_result(
        session, org.id, manual(objective, direction="decrease", start_value=9, target_value=3)
    )

    assert (key_result.start_value, key_result.target_value) == (9.0, 3.0)


@pytest.mark.parametrize("direction", ["at_least", "at_most"])
async def test_create_threshold_directions_need_only_a_target(
    session: AsyncSession, direction: str
) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    error = await refused(
        session,
        org,
        manual(objective, direction=direction, start_value=None, target_value=None),
        Invalid,
    )
    assert error.field == "target_value"

    key_result = await service.create_key_result(
        session, org.id, manual(objective, direction=direction, start_value=None, target_value=99.9)
    )
    assert key_result.start_value is None and key_result.target_value == 99.9


async def test_create_milestone_has_no_start_or_target(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    key_result = await service.create_key_result(
        session,
        org.id,
        manual(objective, measure="milestone", start_value=None, target_value=None),
    )
    assert key_result.measure == "milestone" and key_result.target_value is None

    other = await factories.create_org(session)
    other_objective = await new_objective(session, other)
    with_target = await refused(
        session,
        other,
        manual(other_objective, measure="milestone", start_value=None, target_value=1),
        Invalid,
    )
    assert with_target.field == "target_value"
    with_start = await refused(
        session,
        other,
        manual(other_objective, measure="milestone", start_value=0, target_value=None),
        Invalid,
    )
    assert with_start.field == "start_value"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight", -1.0),
        ("weight", math.inf),
        ("weight", math.nan),
        ("start_value", math.nan),
        ("target_value", math.inf),
    ],
)
async def test_create_refuses_numbers_out_of_range(
    session: AsyncSession, field: str, value: float
) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    error = await refused(session, org, manual(objective, **{field: value}), Invalid)

    assert error.field == field and error.code == ErrorCode.OUT_OF_RANGE


async def test_create_weight_zero_is_allowed(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    key_result = await service.create_key_result(session, org.id, manual(objective, weight=0))

    assert key_result.weight == 0.0


async def test_create_owner_must_be_a_person_of_the_org(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    objective = await new_objective(session, org)
    team = await factories.create_team(session, org)
    foreign_person = await factories.create_person(session, other)
    human = await factories.create_person(session, org)
    agent = await factories.create_person(
        session, org, kind="agent", accountable_person_id=human.id
    )

    # when / then
    wrong_kind = await refused(
        session, org, manual(objective, owner_person_id=team.id), DomainError
    )
    assert wrong_kind.code == ErrorCode.WRONG_OWNER and wrong_kind.field == "owner_person_id"
    foreign = await refused(
        session, org, manual(objective, owner_person_id=foreign_person.id), NotFound
    )
    assert foreign.field == "owner_person_id"
    unknown = await refused(session, org, manual(objective, owner_person_id=uuid.uuid4()), NotFound)
    assert unknown.field == "owner_person_id"
    by_agent = await service.create_key_result(
        session, org.id, manual(objective, owner_person_id=agent.id)
    )
    assert by_agent.owner_person_id == agent.id


async def test_create_on_objective_of_another_org_or_archived_is_refused(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign_objective = await new_objective(session, other)
    archived = await new_objective(session, org, state="archived")

    foreign = await refused(session, org, manual(foreign_objective), NotFound)
    assert await kr_count(session, other) == 0
    assert foreign.code == ErrorCode.NOT_FOUND
    archived_error = await refused(session, org, manual(archived), DomainError)
    assert archived_error.code == ErrorCode.INVALID_STATE


async def test_create_refuses_an_empty_title(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    error = await refused(session, org, manual(objective, title=" "), Invalid)

    assert error.field == "title" and error.code == ErrorCode.REQUIRED


# --- get -----------------------------------------------------------------------------


async def test_get_key_result_of_another_org_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_key_result(session, await new_objective(session, other))

    with pytest.raises(NotFound):
        await service.get_key_result(session, org.id, foreign.id)


# --- update ---------------------------------------------------------------------------------


async def test_update_key_result_changes_given_fields_and_emits(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await factories.create_key_result(session, await new_objective(session, org))

    await service.update_key_result(
        session, org.id, key_result.id, KeyResultUpdate(title="Renamed", target_value=150)
    )

    assert key_result.title == "Renamed" and key_result.target_value == 150.0
    assert key_result.start_value == 0.0
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "key_result.updated"
    assert event.payload["target_value"] == 150.0 and event.payload["title"] == "Renamed"


async def test_update_key_result_checks_the_merged_result(session: AsyncSession) -> None:
    # given an increase from 0 to 100
    org = await factories.create_org(session)
    key_result = await factories.create_key_result(session, await new_objective(session, org))

    # when the new target falls below the kept start
    with pytest.raises(Invalid) as below:
        await service.update_key_result(
            session, org.id, key_result.id, KeyResultUpdate(target_value=-5)
        )
    # or equals it
    with pytest.raises(Invalid) as equal:
        await service.update_key_result(
            session, org.id, key_result.id, KeyResultUpdate(start_value=100)
        )
    # or it turns into a milestone that keeps its start and target
    with pytest.raises(Invalid) as milestone:
        await service.update_key_result(
            session, org.id, key_result.id, KeyResultUpdate(measure="milestone")
        )

    # then nothing changed
    assert below.value.field == "target_value" and equal.value.field == "target_value"
    assert milestone.value.field in ("start_value", "target_value")
    assert (key_result.start_value, key_result.target_value) == (0.0, 100.0)
    assert key_result.measure == "manual"
    assert await event_types(session, org) == []

    # and a consistent switch is accepted
    await service.update_key_result(
        session,
        org.id,
        key_result.id,
        KeyResultUpdate(measure="milestone", start_value=None, target_value=None),
    )
    assert key_result.measure == "milestone"


async def test_update_key_result_owner_must_be_a_person(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await factories.create_key_result(session, await new_objective(session, org))
    team = await factories.create_team(session, org)

    with pytest.raises(DomainError) as error:
        await service.update_key_result(
            session, org.id, key_result.id, KeyResultUpdate(owner_person_id=team.id)
        )

    assert error.value.code == ErrorCode.WRONG_OWNER
    assert key_result.owner_person_id is None


async def test_update_key_result_of_another_org_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_key_result(
        session, await new_objective(session, other), title="Theirs"
    )

    with pytest.raises(NotFound):
        await service.update_key_result(session, org.id, foreign.id, KeyResultUpdate(title="X"))

    await session.refresh(foreign)
    assert foreign.title == "Theirs"
    assert await event_types(session, other) == []


async def test_archive_key_result_makes_it_read_only(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    key_result = await factories.create_key_result(session, await new_objective(session, org))

    await service.archive_key_result(session, org.id, key_result.id)

    assert key_result.state == "archived"
    with pytest.raises(DomainError) as twice:
        await service.archive_key_result(session, org.id, key_result.id)
    assert twice.value.code == ErrorCode.INVALID_STATE
    with pytest.raises(DomainError) as edit:
        await service.update_key_result(session, org.id, key_result.id, KeyResultUpdate(title="Y"))
    assert edit.value.code == ErrorCode.INVALID_STATE
    assert await event_types(session, org) == ["key_result.archived"]
    await service.unarchive_key_result(session, org.id, key_result.id)
    assert key_result.state == "active"
    assert await event_types(session, org) == ["key_result.archived", "key_result.updated"]


async def test_archive_key_result_of_another_org_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await factories.create_key_result(session, await new_objective(session, other))

    with pytest.raises(NotFound):
        await service.archive_key_result(session, org.id, foreign.id)

    await session.refresh(foreign)
    assert foreign.state == "active"


# --- move -----------------------------------------------------------------------------------


async def test_move_key_result_to_another_objective_emits_moved(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    source = await new_objective(session, org)
    target = await new_objective(session, org)
    key_result = await factories.create_key_result(session, source)

    await service.move_key_result(session, org.id, key_result.id, target.id)

    assert key_result.objective_id == target.id
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "key_result.moved"
    assert event.payload["objective_id"] == str(target.id)
    assert event.payload["from_objective_id"] == str(source.id)


async def test_move_key_result_to_its_own_objective_changes_nothing(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    key_result = await factories.create_key_result(session, objective)

    await service.move_key_result(session, org.id, key_result.id, objective.id)

    assert key_result.objective_id == objective.id
    assert await event_types(session, org) == []


async def test_move_key_result_refuses_foreign_unknown_or_archived_objectives(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    objective = await new_objective(session, org)
    key_result = await factories.create_key_result(session, objective)
    foreign_objective = await new_objective(session, other)
    archived = await new_objective(session, org, state="archived")
    foreign_kr = await factories.create_key_result(session, foreign_objective)

    for target_id in (foreign_objective.id, uuid.uuid4()):
        with pytest.raises(NotFound) as error:
            await service.move_key_result(session, org.id, key_result.id, target_id)
        assert error.value.field == "objective_id"
    with pytest.raises(DomainError) as archived_error:
        await service.move_key_result(session, org.id, key_result.id, archived.id)
    assert archived_error.value.code == ErrorCode.INVALID_STATE
    with pytest.raises(NotFound):
        await service.move_key_result(session, org.id, foreign_kr.id, objective.id)

    assert key_result.objective_id == objective.id
    await session.refresh(foreign_kr)
    assert foreign_kr.objective_id == foreign_objective.id
    assert await event_types(session, org) == [] and await event_types(session, other) == []


async def test_key_result_updated_at_is_loaded_after_an_update(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    key_result = await service.create_key_result(session, org.id, manual(objective))

    await service.update_key_result(session, org.id, key_result.id, KeyResultUpdate(unit="%"))

    # read without a lazy load (which an async session cannot do)
    assert "updated_at" in key_result.__dict__
    assert key_result.updated_at >= key_result.created_at
