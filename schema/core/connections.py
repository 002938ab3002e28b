"""Text search shared by the list fields."""

from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute


def text_search(
    search: str | None, *columns: InstrumentedAttribute[Any]
) -> list[ColumnElement[bool]]:
    """Case-insensitive substring match on any of `columns`; no condition for empty search."""
    if search is None or not search.strip():
        return []
    pattern = (
        "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )
    return [or_(*(column.ilike(pattern, escape="\\") for column in columns))]
