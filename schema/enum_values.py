"""The stored value behind a GraphQL enum member (`ObjectiveState.ACTIVE` → "active")."""

from enum import Enum


def raw(member: Enum) -> str:
    return str(member.value)
