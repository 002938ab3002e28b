"""Relay conventions: the `Node` interface and opaque global IDs (base64 of `Type:uuid`)."""

import uuid

import strawberry

from schema.core.errors import InvalidId
from service import global_ids


def to_global_id(type_name: str, id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(global_ids.encode(type_name, id))


def parse_global_id(global_id: str) -> tuple[str, uuid.UUID]:
    """The type name and UUID inside a global ID; InvalidId when it is not one of ours."""
    decoded = global_ids.decode(global_id)
    if decoded is None:
        raise InvalidId(f"{global_id!r} is not a valid ID")
    return decoded


def decode_id(global_id: str, *type_names: str, field: str | None = None) -> uuid.UUID:
    """The UUID of a global ID that must name one of `type_names`."""
    try:
        type_name, id = parse_global_id(global_id)
    except InvalidId as error:
        error.field = field
        raise
    if type_name not in type_names:
        expected = " or ".join(type_names)
        raise InvalidId(f"{global_id!r} is not the ID of a {expected}", field=field)
    return id


def decode_optional_id(
    global_id: str | None, *type_names: str, field: str | None = None
) -> uuid.UUID | None:
    return None if global_id is None else decode_id(global_id, *type_names, field=field)


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    uuid_: strawberry.Private[uuid.UUID]
    # A plain field, set when the object is made: Strawberry reads it without the per-field
    # resolver machinery (a nested read shows a thousand IDs).
    id: strawberry.ID = strawberry.field(
        default=strawberry.ID(""),
        description="Opaque global ID of the object; pass it to `node(id:)`.",
    )

    def __post_init__(self) -> None:
        self.id = to_global_id(type(self).__name__, self.uuid_)
