"""Global IDs: the opaque `Type:uuid` identifiers of the GraphQL API (URL-safe base64).

The GraphQL layer (`schema.core.relay`) shows every object by its global ID; REST routes that
take an ID accept it as well as the bare UUID that webhook payloads carry, so an ID copied
from GraphiQL works in a script. Both layers use this one codec.
"""

import base64
import binascii
import uuid


def encode(type_name: str, id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{id}".encode()).decode()


def decode(global_id: str) -> tuple[str, uuid.UUID] | None:
    """The type name and UUID inside a global ID; None when it is not one."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, uuid.UUID(raw)
    except (ValueError, binascii.Error, UnicodeError):
        return None


def uuid_or_global_id(value: str, type_name: str) -> uuid.UUID | None:
    """The UUID named by `value` — a UUID, or the global ID of a `type_name` — else None."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    decoded = decode(value)
    if decoded is None or decoded[0] != type_name:
        return None
    return decoded[1]
