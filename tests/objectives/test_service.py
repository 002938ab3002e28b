import asyncio
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.errors import CycleDetected, DomainError, ErrorCode, Invalid, NotFound
from service.models import Alignment, Event, Objective, ObjectiveMetric, Organization
from service.objectives import service
from service.objectives.schemas import ObjectiveCreate, ObjectiveUpdate
from tests import factories


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


async def parents_of(
    session: AsyncSession, org: Organization, child: Objective
) -> list[tuple[uuid.UUID, float]]:
    """(parent id, weight) of each alignment of `child`, oldest first."""
    result = await session.execute(
        select(Alignment.parent_objective_id, Alignment.weight)
        .where(Alignment.org_id == org.id, Alignment.child_objective_id == child.id)
        .order_by(Alignment.created_at)
    )
    return [(parent_id, weight) for parent_id, weight in result]


async def children_of(
    session: AsyncSession, org: Organization, parent: Objective
) -> list[tuple[uuid.UUID, float]]:
    """(child id, weight) of each alignment under `parent`, oldest first."""
    result = await session.execute(
        select(Alignment.child_objective_id, Alignment.weight)
        .where(Alignment.org_id == org.id, Alignment.parent_objective_id == parent.id)
        .order_by(Alignment.created_at)
    )
    return [(child_id, weight) for child_id, weight in result]


async def new_objective(session: AsyncSession, org: Organization, **fields: object) -> Objective:
    cycle = await factories.create_cycle(session, org)
    return await factories.create_objective(session, org, cycle, **fields)


# --- create ---------------------------------------------------------------------------------


async def test_create_objective_owned_by_a_team_writes_row_and_event(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)

    # when
    objective = await service.create_objective(
        session,
        org.id,
        ObjectiveCreate(title="  Grow revenue  ", cycle_id=cycle.id, owner_team_id=team.id),
    )

    # then
    assert objective.title == "Grow revenue"
    assert objective.owner_team_id == team.id and objective.owner_person_id is None
    assert objective.state == "active" and objective.rollup_mode == "auto"
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "objective.created"
    assert event.subject_id == objective.id
    assert event.payload["title"] == "Grow revenue"
    assert event.payload["owner_team_id"] == str(team.id)
    assert event.payload["metric_ids"] == []


async def test_create_objective_owned_by_a_person_in_draft(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    person = await factories.create_person(session, org)

    objective = await service.create_objective(
        session,
        org.id,
        ObjectiveCreate(title="Ship", cycle_id=cycle.id, owner_person_id=person.id, state="draft"),
    )

    assert objective.owner_person_id == person.id and objective.owner_team_id is None
    assert objective.state == "draft"


@pytest.mark.parametrize("owners", ["both", "neither"])
async def test_create_objective_needs_exactly_one_owner(session: AsyncSession, owners: str) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)
    person = await factories.create_person(session, org)
    fields = {"owner_team_id": team.id, "owner_person_id": person.id} if owners == "both" else {}

    with pytest.raises(Invalid) as error:
        await service.create_objective(
            session, org.id, ObjectiveCreate(title="X", cycle_id=cycle.id, **fields)
        )

    assert error.value.field == "owner"
    assert await count(session, Objective, org) == 0
    assert await event_types(session, org) == []


async def test_create_objective_refuses_references_of_another_organization(
    session: AsyncSession,
) -> None:
    # given
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)
    foreign_cycle = await factories.create_cycle(session, other)
    foreign_team = await factories.create_team(session, other)
    foreign_person = await factories.create_person(session, other)
    attempts = [
        (ObjectiveCreate(title="X", cycle_id=foreign_cycle.id, owner_team_id=team.id), "cycle_id"),
        (
            ObjectiveCreate(title="X", cycle_id=cycle.id, owner_team_id=foreign_team.id),
            "owner_team_id",
        ),
        (
            ObjectiveCreate(title="X", cycle_id=cycle.id, owner_person_id=foreign_person.id),
            "owner_person_id",
        ),
        (ObjectiveCreate(title="X", cycle_id=uuid.uuid4(), owner_team_id=team.id), "cycle_id"),
    ]

    for data, field in attempts:
        # when / then
        with pytest.raises(NotFound) as error:
            await service.create_objective(session, org.id, data)
        assert error.value.field == field

    assert await count(session, Objective, org) == 0
    assert await event_types(session, org) == []


async def test_create_objective_refuses_owner_ids_of_the_wrong_kind(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)
    person = await factories.create_person(session, org)

    with pytest.raises(DomainError) as person_as_team:
        await service.create_objective(
            session, org.id, ObjectiveCreate(title="X", cycle_id=cycle.id, owner_team_id=person.id)
        )
    with pytest.raises(DomainError) as team_as_person:
        await service.create_objective(
            session, org.id, ObjectiveCreate(title="X", cycle_id=cycle.id, owner_person_id=team.id)
        )

    assert person_as_team.value.code == ErrorCode.WRONG_OWNER
    assert person_as_team.value.field == "owner_team_id"
    assert team_as_person.value.code == ErrorCode.WRONG_OWNER
    assert team_as_person.value.field == "owner_person_id"
    assert await count(session, Objective, org) == 0
    assert await event_types(session, org) == []


async def test_create_objective_refuses_an_archived_team(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org, archived_at=datetime.now(UTC))

    with pytest.raises(DomainError) as error:
        await service.create_objective(
            session, org.id, ObjectiveCreate(title="X", cycle_id=cycle.id, owner_team_id=team.id)
        )

    assert error.value.code == ErrorCode.INVALID_STATE and error.value.field == "owner_team_id"
    assert await count(session, Objective, org) == 0


@pytest.mark.parametrize(
    ("title", "code"), [("   ", ErrorCode.REQUIRED), ("x" * 301, ErrorCode.INVALID)]
)
async def test_create_objective_refuses_a_bad_title(
    session: AsyncSession, title: str, code: ErrorCode
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)

    with pytest.raises(Invalid) as error:
        await service.create_objective(
            session, org.id, ObjectiveCreate(title=title, cycle_id=cycle.id, owner_team_id=team.id)
        )

    assert error.value.field == "title" and error.value.code == code
    assert await count(session, Objective, org) == 0


@pytest.mark.parametrize("state", ["closed", "archived"])
async def test_create_objective_starts_draft_or_active_only(
    session: AsyncSession, state: str
) -> None:
    org = await factories.create_org(session)
    cycle = await factories.create_cycle(session, org)
    team = await factories.create_team(session, org)

    with pytest.raises(Invalid) as error:
        await service.create_objective(
            session,
            org.id,
            ObjectiveCreate(title="X", cycle_id=cycle.id, owner_team_id=team.id, state=state),
        )

    assert error.value.field == "state"
    assert await count(session, Objective, org) == 0


# --- get / list -----------------------------------------------------------------------------


async def test_get_objective_of_another_organization_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await new_objective(session, other)

    with pytest.raises(NotFound):
        await service.get_objective(session, org.id, foreign.id)
    with pytest.raises(NotFound):
        await service.get_objective(session, org.id, uuid.uuid4())
    assert (await service.get_objective(session, other.id, foreign.id)).id == foreign.id


# --- update / archive -----------------------------------------------------------------------


async def test_update_objective_changes_only_given_fields_and_emits(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org, title="Old", description="keep me")

    updated = await service.update_objective(
        session, org.id, objective.id, ObjectiveUpdate(title="New", rollup_mode="children")
    )

    assert updated.title == "New" and updated.rollup_mode == "children"
    assert updated.description == "keep me"
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "objective.updated"
    assert event.payload["title"] == "New" and event.payload["rollup_mode"] == "children"


async def test_update_objective_without_changes_emits_nothing(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org, title="Same")

    await service.update_objective(session, org.id, objective.id, ObjectiveUpdate(title="Same"))

    assert await event_types(session, org) == []


async def test_update_objective_replaces_the_owner_as_a_whole(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    person = await factories.create_person(session, org)

    updated = await service.update_objective(
        session, org.id, objective.id, ObjectiveUpdate(owner_person_id=person.id)
    )

    assert updated.owner_person_id == person.id and updated.owner_team_id is None
    with pytest.raises(Invalid) as error:
        await service.update_objective(
            session, org.id, objective.id, ObjectiveUpdate(owner_person_id=None)
        )
    assert error.value.field == "owner"
    assert updated.owner_person_id == person.id


async def test_update_objective_moves_to_another_cycle_of_the_org_only(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    objective = await new_objective(session, org)
    cycle = await factories.create_cycle(session, org)
    foreign_cycle = await factories.create_cycle(session, other)
    original_cycle = objective.cycle_id

    with pytest.raises(NotFound) as error:
        await service.update_objective(
            session, org.id, objective.id, ObjectiveUpdate(cycle_id=foreign_cycle.id)
        )
    assert error.value.field == "cycle_id"
    assert objective.cycle_id == original_cycle

    await service.update_objective(
        session, org.id, objective.id, ObjectiveUpdate(cycle_id=cycle.id)
    )
    assert objective.cycle_id == cycle.id


@pytest.mark.parametrize(
    ("start", "target"),
    [("draft", "active"), ("active", "draft"), ("active", "closed"), ("closed", "active")],
)
async def test_update_objective_allowed_state_transitions(
    session: AsyncSession, start: str, target: str
) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org, state=start)

    await service.update_objective(session, org.id, objective.id, ObjectiveUpdate(state=target))

    assert objective.state == target
    assert await event_types(session, org) == ["objective.updated"]


@pytest.mark.parametrize(
    ("start", "target"), [("draft", "closed"), ("closed", "draft"), ("active", "archived")]
)
async def test_update_objective_refused_state_transitions(
    session: AsyncSession, start: str, target: str
) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org, state=start)

    with pytest.raises(DomainError) as error:
        await service.update_objective(session, org.id, objective.id, ObjectiveUpdate(state=target))

    assert error.value.code == ErrorCode.INVALID_STATE and error.value.field == "state"
    assert objective.state == start
    assert await event_types(session, org) == []


async def test_update_objective_of_another_organization_is_not_found(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await new_objective(session, other, title="Theirs")

    with pytest.raises(NotFound):
        await service.update_objective(session, org.id, foreign.id, ObjectiveUpdate(title="Mine"))

    await session.refresh(foreign)
    assert foreign.title == "Theirs"
    assert await event_types(session, org) == [] and await event_types(session, other) == []


async def test_archive_objective_is_terminal_until_unarchived(session: AsyncSession) -> None:
    # given
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    # when
    await service.archive_objective(session, org.id, objective.id)

    # then
    assert objective.state == "archived"
    with pytest.raises(DomainError) as twice:
        await service.archive_objective(session, org.id, objective.id)
    assert twice.value.code == ErrorCode.INVALID_STATE
    with pytest.raises(DomainError) as edit:
        await service.update_objective(session, org.id, objective.id, ObjectiveUpdate(title="Y"))
    assert edit.value.code == ErrorCode.INVALID_STATE
    assert await event_types(session, org) == ["objective.archived"]

    await service.unarchive_objective(session, org.id, objective.id)
    assert objective.state == "draft"
    assert await event_types(session, org) == ["objective.archived", "objective.updated"]
    with pytest.raises(DomainError) as again:
        await service.unarchive_objective(session, org.id, objective.id)
    assert again.value.code == ErrorCode.INVALID_STATE


async def test_archive_objective_of_another_organization_is_not_found(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    foreign = await new_objective(session, other)

    with pytest.raises(NotFound):
        await service.archive_objective(session, org.id, foreign.id)

    await session.refresh(foreign)
    assert foreign.state == "active"


# --- alignment ------------------------------------------------------------------------------


async def test_align_records_weighted_alignment_and_event(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    child = await new_objective(session, org)
    parent = await new_objective(session, org)

    alignment = await service.align(session, org.id, child.id, parent.id, weight=2.5)

    assert alignment.weight == 2.5
    assert await parents_of(session, org, child) == [(parent.id, 2.5)]
    assert await children_of(session, org, parent) == [(child.id, 2.5)]
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "objective.aligned"
    assert event.payload == {
        "child_objective_id": str(child.id),
        "parent_objective_id": str(parent.id),
        "weight": 2.5,
    }


async def test_align_allows_many_parents_and_diamonds(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    top = await new_objective(session, org)
    left = await new_objective(session, org)
    right = await new_objective(session, org)
    bottom = await new_objective(session, org)

    await service.align(session, org.id, left.id, top.id)
    await service.align(session, org.id, right.id, top.id)
    await service.align(session, org.id, bottom.id, left.id)
    await service.align(session, org.id, bottom.id, right.id, weight=0)

    assert set(await parents_of(session, org, bottom)) == {(left.id, 1.0), (right.id, 0.0)}
    assert await count(session, Alignment, org) == 4


async def test_align_again_updates_the_weight(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    child = await new_objective(session, org)
    parent = await new_objective(session, org)
    await service.align(session, org.id, child.id, parent.id, weight=1)

    await service.align(session, org.id, child.id, parent.id, weight=3)
    await service.align(session, org.id, child.id, parent.id, weight=3)

    assert [weight for _, weight in await parents_of(session, org, child)] == [3.0]
    assert await count(session, Alignment, org) == 1
    assert await event_types(session, org) == ["objective.aligned", "objective.aligned"]


@pytest.mark.parametrize("weight", [-0.1, math.inf, -math.inf, math.nan])
async def test_align_refuses_a_weight_out_of_range(session: AsyncSession, weight: float) -> None:
    org = await factories.create_org(session)
    child = await new_objective(session, org)
    parent = await new_objective(session, org)

    with pytest.raises(Invalid) as error:
        await service.align(session, org.id, child.id, parent.id, weight=weight)

    assert error.value.code == ErrorCode.OUT_OF_RANGE and error.value.field == "weight"
    assert await count(session, Alignment, org) == 0
    assert await event_types(session, org) == []


async def test_align_under_itself_is_a_cycle(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)

    with pytest.raises(CycleDetected):
        await service.align(session, org.id, objective.id, objective.id)

    assert await count(session, Alignment, org) == 0


async def test_align_refuses_a_direct_cycle(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    a = await new_objective(session, org)
    b = await new_objective(session, org)
    await service.align(session, org.id, a.id, b.id)

    with pytest.raises(CycleDetected) as error:
        await service.align(session, org.id, b.id, a.id)

    assert error.value.code == ErrorCode.CYCLE
    assert await count(session, Alignment, org) == 1
    assert await event_types(session, org) == ["objective.aligned"]


async def test_align_refuses_a_longer_cycle(session: AsyncSession) -> None:
    # given A → B → C (A aligned under B, B under C)
    org = await factories.create_org(session)
    a = await new_objective(session, org)
    b = await new_objective(session, org)
    c = await new_objective(session, org)
    await service.align(session, org.id, a.id, b.id)
    await service.align(session, org.id, b.id, c.id)

    # when C → A would close A → B → C → A
    with pytest.raises(CycleDetected):
        await service.align(session, org.id, c.id, a.id)

    # then
    assert await count(session, Alignment, org) == 2
    assert await event_types(session, org) == ["objective.aligned", "objective.aligned"]
    # and the same graph accepts a shortcut that is not a cycle
    await service.align(session, org.id, a.id, c.id)
    assert await count(session, Alignment, org) == 3


async def test_align_with_an_objective_of_another_organization_is_not_found(
    session: AsyncSession,
) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    mine = await new_objective(session, org)
    foreign = await new_objective(session, other)

    with pytest.raises(NotFound) as as_parent:
        await service.align(session, org.id, mine.id, foreign.id)
    with pytest.raises(NotFound) as as_child:
        await service.align(session, org.id, foreign.id, mine.id)
    with pytest.raises(NotFound):
        await service.align(session, org.id, mine.id, uuid.uuid4())

    assert as_parent.value.field == "parent_id" and as_child.value.field == "child_id"
    assert await count(session, Alignment, org) == 0
    assert await count(session, Alignment, other) == 0
    assert await event_types(session, org) == []


async def test_align_refuses_archived_objectives(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    child = await new_objective(session, org)
    parent = await new_objective(session, org, state="archived")

    with pytest.raises(DomainError) as error:
        await service.align(session, org.id, child.id, parent.id)

    assert error.value.code == ErrorCode.INVALID_STATE and error.value.field == "parent_id"
    assert await count(session, Alignment, org) == 0


async def test_unalign_removes_the_alignment_and_emits(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    child = await new_objective(session, org)
    parent = await new_objective(session, org)
    await factories.create_alignment(session, child, parent, weight=2)

    await service.unalign(session, org.id, child.id, parent.id)

    assert await count(session, Alignment, org) == 0
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "objective.unaligned"
    assert event.payload["weight"] == 2.0
    with pytest.raises(NotFound):
        await service.unalign(session, org.id, child.id, parent.id)


async def test_unalign_of_another_organization_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    child = await new_objective(session, other)
    parent = await new_objective(session, other)
    await factories.create_alignment(session, child, parent)

    with pytest.raises(NotFound):
        await service.unalign(session, org.id, child.id, parent.id)

    assert await count(session, Alignment, other) == 1
    assert await event_types(session, org) == []


# --- metrics an objective drives ------------------------------------------------------------


async def test_link_metric_records_it_once_and_emits(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    metric = await factories.create_metric(session, org)

    linked = await service.link_metric(session, org.id, objective.id, metric.id)
    again = await service.link_metric(session, org.id, objective.id, metric.id)

    assert linked == again == [metric.id]
    assert await count(session, ObjectiveMetric, org) == 1
    event = await session.scalar(select(Event).where(Event.org_id == org.id))
    assert event is not None and event.type == "objective.updated"
    assert event.payload["metric_ids"] == [str(metric.id)]
    assert await event_types(session, org) == ["objective.updated"]


async def test_link_metric_of_another_organization_is_not_found(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    other = await factories.create_org(session)
    objective = await new_objective(session, org)
    foreign_metric = await factories.create_metric(session, other)

    with pytest.raises(NotFound) as error:
        await service.link_metric(session, org.id, objective.id, foreign_metric.id)

    assert error.value.field == "metric_id"
    assert await count(session, ObjectiveMetric, org) == 0
    assert await event_types(session, org) == []


async def test_unlink_metric_removes_it_and_refuses_unknown_links(session: AsyncSession) -> None:
    org = await factories.create_org(session)
    objective = await new_objective(session, org)
    kept = await factories.create_metric(session, org)
    dropped = await factories.create_metric(session, org)
    await service.link_metric(session, org.id, objective.id, kept.id)
    await service.link_metric(session, org.id, objective.id, dropped.id)

    remaining = await service.unlink_metric(session, org.id, objective.id, dropped.id)

    assert remaining == [kept.id]
    assert await service.linked_metric_ids(session, org.id, objective.id) == [kept.id]
    with pytest.raises(NotFound):
        await service.unlink_metric(session, org.id, objective.id, dropped.id)
    assert await event_types(session, org) == ["objective.updated"] * 3


# --- concurrency (real commits) -------------------------------------------------------------


async def test_concurrent_alignments_cannot_close_a_cycle(engine: AsyncEngine) -> None:
    """B → A waits for the open transaction that added A → B, then sees it and refuses."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as setup:
        org = await factories.create_org(setup)
        a = await new_objective(setup, org)
        b = await new_objective(setup, org)
        await setup.commit()
    try:
        async with sessions() as first, sessions() as second:
            # given a transaction that aligned A under B and has not committed
            await service.align(first, org.id, a.id, b.id)

            # when another transaction aligns B under A
            second_pid = await second.scalar(text("SELECT pg_backend_pid()"))
            contender = asyncio.create_task(service.align(second, org.id, b.id, a.id))
            async with sessions() as observer:
                while not contender.done():
                    waiting = await observer.scalar(
                        text(
                            "SELECT count(*) FROM pg_locks"
                            " WHERE pid = :pid AND locktype = 'advisory' AND NOT granted"
                        ),
                        {"pid": second_pid},
                    )
                    if waiting:
                        break
                    await asyncio.sleep(0.01)
            assert not contender.done(), "the second alignment did not wait for the first"
            await first.commit()

            # then it sees the committed alignment and refuses
            with pytest.raises(CycleDetected):
                await contender
            await second.rollback()
        async with sessions() as check:
            assert await count(check, Alignment, org) == 1
    finally:
        async with sessions() as cleanup:
            await cleanup.execute(delete(Organization).where(Organization.id == org.id))
            await cleanup.commit()
