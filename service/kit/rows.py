"""Tenant-scoped lookups by primary key, shared by every domain's repository and service."""

import uuid
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.models.base import IdMixin

Row = TypeVar("Row", bound=IdMixin)

# How to lock the row until the transaction ends: FOR UPDATE, FOR NO KEY UPDATE (keeps
# foreign-key checks of rows pointing at it from waiting) or FOR SHARE.
Lock = Literal["update", "no key update", "share"]


async def find(
    session: AsyncSession,
    model: type[Row],
    org_id: uuid.UUID,
    id: uuid.UUID,
    *,
    lock: Lock | None = None,
) -> Row | None:
    """The organization's row of `model` with this id, or None."""
    table: Any = model
    query = select(table).where(table.org_id == org_id, table.id == id)
    if lock == "update":
        query = query.with_for_update()
    elif lock == "no key update":
        query = query.with_for_update(key_share=True)
    elif lock == "share":
        query = query.with_for_update(read=True)
    row: Row | None = (await session.execute(query)).scalar_one_or_none()
    return row


async def get_one(
    session: AsyncSession,
    model: type[Row],
    org_id: uuid.UUID,
    id: uuid.UUID,
    *,
    what: str,
    field: str | None = "id",
    lock: Lock | None = None,
) -> Row:
    """The organization's row of `model` with this id; NotFound("`what` not found") else."""
    row = await find(session, model, org_id, id, lock=lock)
    if row is None:
        raise NotFound(f"{what} not found", field=field)
    return row


async def get_by_ids(
    session: AsyncSession, model: type[Row], org_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Row | None]:
    """The organization's rows of `model` in the order of `ids`, None where missing."""
    if not ids:
        return []
    table: Any = model
    result = await session.execute(
        select(table).where(table.org_id == org_id, table.id.in_(set(ids)))
    )
    found: dict[uuid.UUID, Row] = {row.id: row for row in result.scalars()}
    return [found.get(id) for id in ids]
