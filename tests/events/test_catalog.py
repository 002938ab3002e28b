"""The event catalog: every type `emit` accepts is documented, with the shape writers send."""

import typing
import uuid
from datetime import date, datetime
from enum import Enum
from types import NoneType, UnionType
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from service.check_ins.schemas import CheckInRead
from service.commitments.schemas import CommitmentRead
from service.db import outbox
from service.events import catalog
from service.events.catalog import EventType
from service.key_results.schemas import KeyResultRead
from service.objectives.schemas import AlignmentRead, ObjectiveRead

_TYPE_NAMES: dict[Any, str] = {
    uuid.UUID: "str",
    datetime: "datetime",
    date: "date",
    float: "float",
    int: "int",
    bool: "bool",
    str: "str",
}


def type_name(annotation: Any) -> str:
    args = [arg for arg in get_args(annotation) if arg is not NoneType]
    if get_origin(annotation) in (typing.Union, UnionType):
        inner = "|".join(type_name(arg) for arg in args)
        return f"{inner}?" if len(args) < len(get_args(annotation)) else inner
    if get_origin(annotation) is list:
        return f"[{type_name(args[0])}]"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(member.value) for member in annotation)
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def shape_of(model: type[BaseModel], **extra: str) -> dict[str, str]:
    return {name: type_name(field.annotation) for name, field in model.model_fields.items()} | extra


def test_every_event_type_has_a_catalog_entry() -> None:
    assert set(catalog.CATALOG) == set(EventType)
    assert all(entry.description.endswith(".") for entry in catalog.CATALOG.values())


def test_emit_accepts_event_types_only() -> None:
    hints = typing.get_type_hints(outbox.emit)
    assert hints["type"] is EventType


@pytest.mark.parametrize(
    ("shape", "model", "extra"),
    [
        (catalog.OBJECTIVE, ObjectiveRead, {"metric_ids": "[str]"}),
        (catalog.ALIGNMENT, AlignmentRead, {}),
        (catalog.KEY_RESULT, KeyResultRead, {}),
        (catalog.CHECK_IN, CheckInRead, {}),
        (catalog.COMMITMENT, CommitmentRead, {"key_result_ids": "[str]"}),
    ],
)
def test_object_payload_shapes_are_the_read_models(
    shape: dict[str, str], model: type[BaseModel], extra: dict[str, str]
) -> None:
    assert shape == shape_of(model, **extra)
