"""Cycles: planning periods nested in a tree (2027-Q1 inside 2027).

Rules: name trimmed, 1–100 characters, unique per organization (DUPLICATE); `starts_on ≤
ends_on` (both inclusive); a parent cycle contains its children's dates, checked both when a
child is placed and when a parent's dates change; the parent chain has no cycles.

Writes that change dates or the parent take a transaction-scoped advisory lock on the
organization's cycles first, so concurrent moves and date changes cannot together break
containment or close a loop.
"""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.cycles import repository
from service.cycles.schemas import CycleCreate, CycleUpdate
from service.db import outbox
from service.errors import CycleDetected, DomainError, ErrorCode, Invalid
from service.events.catalog import EventType
from service.kit import rows
from service.models import Cycle
from service.statuses import tracker


def cycle_payload(cycle: Cycle) -> dict[str, Any]:
    return {
        "id": str(cycle.id),
        "name": cycle.name,
        "starts_on": cycle.starts_on.isoformat(),
        "ends_on": cycle.ends_on.isoformat(),
        "parent_cycle_id": str(cycle.parent_cycle_id) if cycle.parent_cycle_id else None,
        "archived_at": cycle.archived_at.isoformat() if cycle.archived_at else None,
    }


def clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise Invalid("name must be 1 to 100 characters", field="name")
    return name


def check_dates(starts_on: date, ends_on: date) -> None:
    if starts_on > ends_on:
        raise Invalid("ends_on must not be before starts_on", field="ends_on")


def _duplicate_name() -> DomainError:
    return DomainError(
        "another cycle of this organization has this name", field="name", code=ErrorCode.DUPLICATE
    )


async def _check_name_free(
    session: AsyncSession, org_id: uuid.UUID, name: str, except_id: uuid.UUID | None
) -> None:
    if await repository.name_taken(session, org_id, name, except_id=except_id):
        raise _duplicate_name()


async def _check_parent(
    session: AsyncSession,
    org_id: uuid.UUID,
    *,
    cycle_id: uuid.UUID | None,
    parent_cycle_id: uuid.UUID,
    starts_on: date,
    ends_on: date,
    moved: bool,
) -> None:
    """The parent exists, is usable, contains the dates and (when `moved`) closes no loop."""
    field = "parent_cycle_id"
    if parent_cycle_id == cycle_id:
        raise CycleDetected("a cycle cannot be its own parent", field=field)
    parent = await rows.get_one(
        session, Cycle, org_id, parent_cycle_id, what="parent cycle", field=field
    )
    if moved and parent.archived_at is not None:
        raise Invalid("the parent cycle is archived", field=field, code=ErrorCode.INVALID_STATE)
    if starts_on < parent.starts_on:
        raise Invalid(
            f"starts_on is before its parent cycle starts ({parent.starts_on.isoformat()})",
            field="starts_on",
            code=ErrorCode.OUT_OF_RANGE,
        )
    if ends_on > parent.ends_on:
        raise Invalid(
            f"ends_on is after its parent cycle ends ({parent.ends_on.isoformat()})",
            field="ends_on",
            code=ErrorCode.OUT_OF_RANGE,
        )
    if (
        moved
        and cycle_id is not None
        and await repository.is_ancestor_or_self(session, org_id, cycle_id, parent_cycle_id)
    ):
        raise CycleDetected("the new parent is inside this cycle's own tree", field=field)


async def _flush(session: AsyncSession) -> None:
    """Flush, turning a lost race on the name constraint into the same DUPLICATE error."""
    try:
        await session.flush()
    except IntegrityError as error:
        if repository.violated_constraint(error) == repository.NAME_UNIQUE_CONSTRAINT:
            raise _duplicate_name() from error
        raise


async def create_cycle(session: AsyncSession, org_id: uuid.UUID, data: CycleCreate) -> Cycle:
    name = clean_name(data.name)
    check_dates(data.starts_on, data.ends_on)
    if data.parent_cycle_id is not None:
        await repository.lock_tree(session, org_id)
        await _check_parent(
            session,
            org_id,
            cycle_id=None,
            parent_cycle_id=data.parent_cycle_id,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            moved=True,
        )
    await _check_name_free(session, org_id, name, None)
    cycle = Cycle(
        org_id=org_id,
        name=name,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        parent_cycle_id=data.parent_cycle_id,
    )
    session.add(cycle)
    await _flush(session)
    await outbox.emit(session, org_id, EventType.CYCLE_CREATED, cycle.id, cycle_payload(cycle))
    return cycle


async def get_cycle(session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID) -> Cycle:
    return await rows.get_one(session, Cycle, org_id, cycle_id, what="cycle")


async def update_cycle(
    session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID, data: CycleUpdate
) -> Cycle:
    cycle = await get_cycle(session, org_id, cycle_id)
    changes = data.model_fields_set
    for required in ("name", "starts_on", "ends_on"):
        if required in changes and getattr(data, required) is None:
            raise Invalid(f"{required} cannot be empty", field=required, code=ErrorCode.REQUIRED)

    name = clean_name(data.name) if data.name is not None else cycle.name
    starts_on = data.starts_on or cycle.starts_on
    ends_on = data.ends_on or cycle.ends_on
    parent_cycle_id = (
        data.parent_cycle_id if "parent_cycle_id" in changes else cycle.parent_cycle_id
    )
    check_dates(starts_on, ends_on)

    moved = parent_cycle_id != cycle.parent_cycle_id
    dates_changed = (starts_on, ends_on) != (cycle.starts_on, cycle.ends_on)
    if moved or dates_changed:
        await repository.lock_tree(session, org_id)
        if parent_cycle_id is not None:
            await _check_parent(
                session,
                org_id,
                cycle_id=cycle.id,
                parent_cycle_id=parent_cycle_id,
                starts_on=starts_on,
                ends_on=ends_on,
                moved=moved,
            )
        if dates_changed and await repository.has_child_outside(
            session, org_id, cycle.id, starts_on, ends_on
        ):
            field = "starts_on" if starts_on != cycle.starts_on else "ends_on"
            raise Invalid(
                "a child cycle would no longer fit inside these dates",
                field=field,
                code=ErrorCode.OUT_OF_RANGE,
            )
    if name != cycle.name:
        await _check_name_free(session, org_id, name, cycle.id)

    # New dates move the pace of the cycle's key results, and so maybe their status.
    paced = (
        await tracker.key_results_in_cycles(session, org_id, [cycle.id]) if dates_changed else []
    )
    before = await tracker.snapshot(session, org_id, paced)
    cycle.name = name
    cycle.starts_on = starts_on
    cycle.ends_on = ends_on
    cycle.parent_cycle_id = parent_cycle_id
    await _flush(session)
    await outbox.emit(session, org_id, EventType.CYCLE_UPDATED, cycle.id, cycle_payload(cycle))
    await tracker.announce_changes(session, org_id, before)
    return cycle


async def archive_cycle(session: AsyncSession, org_id: uuid.UUID, cycle_id: uuid.UUID) -> Cycle:
    """Archive a cycle; archiving an archived cycle changes nothing and emits nothing."""
    cycle = await get_cycle(session, org_id, cycle_id)
    if cycle.archived_at is not None:
        return cycle
    cycle.archived_at = datetime.now(UTC)
    await session.flush()
    await outbox.emit(session, org_id, EventType.CYCLE_ARCHIVED, cycle.id, cycle_payload(cycle))
    return cycle
