"""Cursor connections with keyset pagination (`first`/`after`, `last`/`before`, `totalCount`).

Rows are ordered by one non-null column and the id as a tie-breaker; a cursor is the opaque
(base64 JSON) pair of both values of its row, so pages stay stable while rows are inserted.
"""

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from strawberry.types import Info

from schema.core.enum_values import raw
from schema.core.errors import ApiError, ErrorCodes
from schema.core.loaders import Database

T = TypeVar("T")


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest (or oldest) first.")
    DESC = strawberry.enum_value("DESC", description="Largest (or newest) first.")


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow the last edge.")
    has_previous_page: bool = strawberry.field(description="More items precede the first edge.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge, if any.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge, if any.")


@strawberry.type(description="One item of a page with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item; pass to `after`.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items with cursors, page info and the total count.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page with cursors.")
    page_info: PageInfo = strawberry.field(description="Cursors and neighbours of this page.")
    count_statement: strawberry.Private[Select[Any] | None]
    db: strawberry.Private[Database | None]
    count: strawberry.Private[int | None] = None

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Number of items matching the filters, over all pages.")
    async def total_count(self) -> int:
        if self.count is None:
            assert self.db is not None and self.count_statement is not None
            self.count = int(await self.db.scalar(self.count_statement))
        return self.count


def encode_cursor(value: Any, id: uuid.UUID) -> str:
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, str(id)]).encode()).decode()


def decode_cursor(cursor: str, python_type: type) -> tuple[Any, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw_value, raw_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value: Any = raw_value
        if python_type is datetime:
            value = datetime.fromisoformat(raw_value)
        elif python_type is date:
            value = date.fromisoformat(raw_value)
        elif python_type is float:
            value = float(raw_value)
        elif not isinstance(raw_value, python_type):
            raise ValueError("cursor value of the wrong type")
        return value, uuid.UUID(raw_id)
    except (ValueError, TypeError, binascii.Error, UnicodeError, json.JSONDecodeError):
        raise ApiError(
            f"{cursor!r} is not a valid cursor for this list", ErrorCodes.INVALID_PAGINATION
        ) from None


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def size(self, max_page_size: int = MAX_PAGE_SIZE) -> tuple[int, bool]:
        """Page size and whether the page is taken from the end (`last`)."""
        if self.first is not None and self.last is not None:
            raise ApiError("pass `first` or `last`, not both", ErrorCodes.INVALID_PAGINATION)
        backwards = self.last is not None
        size = self.last if backwards else self.first
        if size is None:
            size = DEFAULT_PAGE_SIZE
        if size < 0:
            raise ApiError("page size must not be negative", ErrorCodes.INVALID_PAGINATION)
        if size > max_page_size:
            raise ApiError(
                f"page size {size} exceeds the maximum of {max_page_size}",
                ErrorCodes.PAGE_SIZE_EXCEEDED,
            )
        return size, backwards


async def paginate(
    info: Info[Any, Any],
    statement: Select[Any],
    *,
    order: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    direction: OrderDirection,
    page: PageArgs,
    to_node: Callable[[Any], T],
) -> Connection[T]:
    """One page of `statement` (already filtered by organization) in keyset order."""
    db: Database = info.context.db
    size, backwards = page.size(info.context.settings.graphql_max_page_size)
    python_type = order.type.python_type
    ascending = (direction is OrderDirection.ASC) != backwards
    key = tuple_(order, id_column)
    query = statement
    if page.after is not None:
        value, id = decode_cursor(page.after, python_type)
        bound = tuple_(value, id)
        query = query.where(key > bound if direction is OrderDirection.ASC else key < bound)
    if page.before is not None:
        value, id = decode_cursor(page.before, python_type)
        bound = tuple_(value, id)
        query = query.where(key < bound if direction is OrderDirection.ASC else key > bound)
    if ascending:
        query = query.order_by(order.asc(), id_column.asc())
    else:
        query = query.order_by(order.desc(), id_column.desc())
    rows: Sequence[Any] = await db.scalars(query.limit(size + 1))
    has_more = len(rows) > size
    rows = list(rows[:size])
    if backwards:
        rows.reverse()
    edges = [
        Edge(cursor=encode_cursor(getattr(row, order.key), row.id), node=to_node(row))
        for row in rows
    ]
    page_info = PageInfo(
        has_next_page=has_more if not backwards else page.before is not None,
        has_previous_page=has_more if backwards else page.after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    count_statement = select(func.count()).select_from(statement.order_by(None).subquery())
    return Connection(edges=edges, page_info=page_info, count_statement=count_statement, db=db)


class Ordering(Protocol):
    """An `XOrder` input: a field enum whose values name columns, and a direction."""

    @property
    def field(self) -> Enum: ...

    @property
    def direction(self) -> OrderDirection: ...


Keep = Callable[[list[uuid.UUID]], Awaitable[list[uuid.UUID]]]
"""Which of the candidate ids to keep, for filters computed outside SQL (e.g. a status)."""


async def list_page(
    info: Info[Any, Any],
    statement: Select[Any],
    model: Any,
    order: Ordering,
    page: PageArgs,
    to_node: Callable[[Any], T],
    *,
    keep: Keep | None = None,
) -> Connection[T]:
    """One page of a filtered list of `model` (the domain's statement), ordered by the column
    `order` names and then the id; with `keep`, only the rows whose ids it keeps."""
    if keep is not None:
        candidates = await info.context.db.scalars(statement.with_only_columns(model.id))
        statement = statement.where(model.id.in_(await keep(list(candidates))))
    return await paginate(
        info,
        statement,
        order=getattr(model, raw(order.field)),
        id_column=model.id,
        direction=order.direction,
        page=page,
        to_node=to_node,
    )
