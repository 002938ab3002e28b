"""The stored value behind a GraphQL enum member (`ObjectiveState.ACTIVE` → "active"), and
the member of a stored value."""

from collections.abc import Callable
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


def raw(member: Enum) -> str:
    return str(member.value)


def member_of(enum: type[E]) -> Callable[[str], E]:
    """`enum(value)` for a stored value, as one dict lookup: calling the enum class costs far
    more, and a nested read converts three values of each of a thousand key results
    (docs/decisions/0016-graphql-reads-through-record-loaders.md). Raises KeyError for a
    value that is not a member's."""
    members: dict[str, E] = dict(enum._value2member_map_)
    return members.__getitem__
