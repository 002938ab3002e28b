"""Runs one mutation's service call inside a SAVEPOINT and wraps the result in its payload.

A resolver returns `run(info, change, payload)`, or `run_by_id(...)` when the mutation acts
on the one object its `input.id` names. An expected failure (DomainError, or pydantic
validation of the service's input model) rolls the savepoint back and becomes `userErrors`:
nothing of the mutation is written, yet the request's transaction still commits what
earlier mutations of the same request did. Unexpected errors roll the savepoint back too
and propagate (masked by `ErrorShaping`).
"""

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.errors import UserError, UserErrorCode, user_error
from schema.core.framework import UNSET
from schema.core.relay import decode_id
from service.errors import DomainError

T = TypeVar("T")
P = TypeVar("P")


@dataclass
class Refused:
    """The user errors of a mutation that wrote nothing."""

    errors: list[UserError]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _field_path(field: str | None) -> list[str] | None:
    if not field:
        return None
    return ["input", *(camel(part) for part in re.split(r"\.", field) if part)]


_PYDANTIC_CODES = {
    "missing": UserErrorCode.REQUIRED,
    "greater_than": UserErrorCode.OUT_OF_RANGE,
    "greater_than_equal": UserErrorCode.OUT_OF_RANGE,
    "less_than": UserErrorCode.OUT_OF_RANGE,
    "less_than_equal": UserErrorCode.OUT_OF_RANGE,
    "finite_number": UserErrorCode.OUT_OF_RANGE,
}


def _from_validation(error: pydantic.ValidationError) -> list[UserError]:
    return [
        UserError(
            field=_field_path(".".join(str(part) for part in item["loc"])),
            code=_PYDANTIC_CODES.get(item["type"], UserErrorCode.INVALID),
            message=item["msg"],
        )
        for item in error.errors()
    ]


async def mutate(
    info: Info[Any, Any], change: Callable[[AsyncSession], Awaitable[T]]
) -> T | Refused:
    """`change(session)` in a savepoint; expected failures become `Refused`."""
    db = info.context.db
    async with db.lock:
        try:
            async with db.session.begin_nested():
                result = await change(db.session)
                await _load_expired(db.session, result)
            info.context.forget_loaded()
            return result
        except DomainError as error:
            refused = user_error(error)
            refused.field = _field_path(error.field)
            return Refused([refused])
        except pydantic.ValidationError as error:
            return Refused(_from_validation(error))


async def run(
    info: Info[Any, Any],
    change: Callable[[AsyncSession, uuid.UUID], Awaitable[T]],
    payload: Callable[[T | Refused], P],
) -> P:
    """`change(session, org_id)` through `mutate`, its result or refusal wrapped in `payload`."""
    org_id = info.context.principal.org_id
    return payload(await mutate(info, lambda session: change(session, org_id)))


async def run_by_id(
    info: Info[Any, Any],
    action: Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[T]],
    global_id: str,
    type_name: str,
    payload: Callable[[T | Refused], P],
) -> P:
    """`action(session, org_id, id)` for the object that `input.id` (a `type_name`) names.

    The ID is decoded inside the savepoint, so a bad one is a user error on `input.id`.
    """
    return await run(
        info,
        lambda session, org_id: action(
            session, org_id, decode_id(global_id, type_name, field="id")
        ),
        payload,
    )


def payload_of(
    payload: Callable[..., P], field: str, convert: Callable[[T], object]
) -> Callable[[T | Refused], P]:
    """The builder of a payload carrying one object, as `field`, and `userErrors`."""

    def build(result: T | Refused) -> P:
        if isinstance(result, Refused):
            return payload(**{field: None, "user_errors": result.errors})
        return payload(**{field: convert(result), "user_errors": []})

    return build


async def _load_expired(session: AsyncSession, result: object) -> None:
    """Reload columns the flush expired (server-side defaults such as `updated_at`), so the
    payload can read them without lazy IO."""
    for item in result if isinstance(result, tuple) else (result,):
        state = inspect(item, raiseerr=False)
        if state is not None and state.expired_attributes:
            await session.refresh(item, attribute_names=list(state.expired_attributes))


def set_fields(input: Any, *names: str, **converted: Any) -> dict[str, Any]:
    """The input's fields that were given (explicit nulls included), plus `converted` ones.

    `converted` maps a service field name to its value, or to UNSET when not given.
    """
    fields = {name: getattr(input, name) for name in names if getattr(input, name) is not UNSET}
    fields.update({name: value for name, value in converted.items() if value is not UNSET})
    return fields
