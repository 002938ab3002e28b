"""Decoding a batch body (JSON, NDJSON or CSV) into plain dicts, one per point.

No model object is built per point: validation (service.py) checks the dicts directly.
Body-level faults (not JSON, no header row, unknown CSV column) raise `Invalid`; a bad
NDJSON line or CSV row becomes an error at its index and the other points are still checked.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from service.errors import Invalid
from service.points.errors import PointErrorCode


class BodyFormat(StrEnum):
    json = "application/json"
    ndjson = "application/x-ndjson"
    csv = "text/csv"


MEDIA_TYPES = {
    "": BodyFormat.json,
    "application/json": BodyFormat.json,
    "application/x-ndjson": BodyFormat.ndjson,
    "application/ndjson": BodyFormat.ndjson,
    "application/jsonl": BodyFormat.ndjson,
    "text/csv": BodyFormat.csv,
}

MALFORMED: Any = object()  # stands in for a point that could not be decoded at all


@dataclass
class ParsedBatch:
    items: list[Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    text_values: bool = False  # CSV: values arrive as text and are parsed as numbers


def body_format(content_type: str | None) -> BodyFormat | None:
    return MEDIA_TYPES.get((content_type or "").split(";")[0].strip().lower())


def _loads(data: bytes) -> Any:
    """orjson first; Python's json as a fallback accepts the NaN/Infinity tokens some
    encoders emit, so those points are refused one by one (NOT_FINITE) and not as a body."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            return json.loads(data)
        except RecursionError:  # orjson stops at 1,024 levels; Python's decoder overflows
            raise ValueError("nested too deeply") from None


def parse(body: bytes, fmt: BodyFormat, *, metric_column_required: bool) -> ParsedBatch:
    if fmt is BodyFormat.json:
        return _parse_json(body)
    if fmt is BodyFormat.ndjson:
        return _parse_ndjson(body)
    return _parse_csv(body, metric_column_required=metric_column_required)


def _parse_json(body: bytes) -> ParsedBatch:
    try:
        document = _loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"the body is not valid JSON: {exc}", field="body") from None
    if type(document) is not dict or type(document.get("points")) is not list:
        raise Invalid('the body must be an object {"points": [...]}', field="body")
    if len(document) != 1:
        extra = ", ".join(sorted(name for name in document if name != "points"))
        raise Invalid(f"unknown field(s) next to points: {extra}", field="body")
    return ParsedBatch(document["points"])


def _parse_ndjson(body: bytes) -> ParsedBatch:
    batch = ParsedBatch([])
    for line_number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            batch.items.append(_loads(line))
        except (ValueError, UnicodeDecodeError) as exc:
            batch.errors.append(
                {
                    "index": len(batch.items),
                    "field": None,
                    "code": PointErrorCode.MALFORMED,
                    "message": f"line {line_number} is not valid JSON: {exc}",
                }
            )
            batch.items.append(MALFORMED)
    return batch


_CSV_FIXED = ("metric", "ts", "value", "source")
DIMENSION_PREFIX = "dim."


def _parse_csv(body: bytes, *, metric_column_required: bool) -> ParsedBatch:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"CSV must be UTF-8: {exc}", field="body") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        return _read_csv(rows, metric_column_required=metric_column_required)
    except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
        raise Invalid(f"CSV line {rows.line_num}: {exc}", field="body") from None


def _read_csv(rows: Any, *, metric_column_required: bool) -> ParsedBatch:
    header = next(rows, None)
    if not header:
        raise Invalid("CSV needs a header row: metric,ts,value[,dim.<name>...]", field="body")
    columns = [name.strip() for name in header]
    unknown = [
        name
        for name in columns
        if name not in _CSV_FIXED
        and not (name.startswith(DIMENSION_PREFIX) and len(name) > len(DIMENSION_PREFIX))
    ]
    missing = [
        name
        for name in ("metric", "ts", "value")
        if name not in columns and (name != "metric" or metric_column_required)
    ]
    if unknown or missing or len(set(columns)) != len(columns):
        raise Invalid(
            "CSV header must be metric,ts,value[,source][,dim.<name>...]"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else ""),
            field="body",
        )
    fixed = [(position, name) for position, name in enumerate(columns) if name in _CSV_FIXED]
    dimensions = [
        (position, name[len(DIMENSION_PREFIX) :])
        for position, name in enumerate(columns)
        if name.startswith(DIMENSION_PREFIX)
    ]
    width = len(columns)
    batch = ParsedBatch([], text_values=True)
    for row in rows:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            batch.errors.append(
                {
                    "index": len(batch.items),
                    "field": None,
                    "code": PointErrorCode.MALFORMED,
                    "message": f"CSV line {rows.line_num} has {len(row)} cells, expected {width}",
                }
            )
            batch.items.append(MALFORMED)
            continue
        # Empty cells are absent: no metric (the route's), no source, no such dimension.
        point: dict[str, Any] = {name: row[position] for position, name in fixed if row[position]}
        if dimensions:
            point["dimensions"] = {
                name: row[position] for position, name in dimensions if row[position]
            }
        batch.items.append(point)
    return batch
