"""Error codes of the GraphQL API: `userErrors` on mutations, `extensions.code` on errors."""

from enum import Enum

import strawberry

from schema.core.enum_values import raw
from service.errors import DomainError, ErrorCode


@strawberry.enum(description="Why a mutation input was refused.")
class UserErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="The object does not exist or is not visible to this key."
    )
    INVALID = strawberry.enum_value("INVALID", description="The value is not acceptable.")
    REQUIRED = strawberry.enum_value("REQUIRED", description="A required value is missing.")
    OUT_OF_RANGE = strawberry.enum_value(
        "OUT_OF_RANGE", description="The value is outside its allowed range."
    )
    DUPLICATE = strawberry.enum_value(
        "DUPLICATE", description="Another object already uses this value."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="The change conflicts with the current state of the data."
    )
    CYCLE = strawberry.enum_value("CYCLE", description="The change would create a cycle.")
    WRONG_OWNER = strawberry.enum_value(
        "WRONG_OWNER", description="The owner is not of an acceptable kind."
    )
    INVALID_STATE = strawberry.enum_value(
        "INVALID_STATE", description="The object's state does not allow this change."
    )
    INVALID_ID = strawberry.enum_value(
        "INVALID_ID", description="The ID is malformed or names an object of another type."
    )


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the input field at fault, when one is."
    )
    code: UserErrorCode = strawberry.field(description="Stable machine-readable code.")
    message: str = strawberry.field(description="Explanation for people.")


class ErrorCodes:
    """`extensions.code` values of top-level errors (not domain codes)."""

    FORBIDDEN = "FORBIDDEN"
    INVALID_ID = "INVALID_ID"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    INVALID_PAGINATION = "INVALID_PAGINATION"
    MAX_DEPTH_EXCEEDED = "MAX_DEPTH_EXCEEDED"
    MAX_ALIASES_EXCEEDED = "MAX_ALIASES_EXCEEDED"
    MAX_TOKENS_EXCEEDED = "MAX_TOKENS_EXCEEDED"
    MAX_DOCUMENT_SIZE_EXCEEDED = "MAX_DOCUMENT_SIZE_EXCEEDED"
    MAX_FIELDS_EXCEEDED = "MAX_FIELDS_EXCEEDED"
    MAX_FRAGMENT_SPREADS_EXCEEDED = "MAX_FRAGMENT_SPREADS_EXCEEDED"
    NODE_BUDGET_EXCEEDED = "NODE_BUDGET_EXCEEDED"
    MAX_BATCH_EXCEEDED = "MAX_BATCH_EXCEEDED"
    OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    BAD_REQUEST = "BAD_REQUEST"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class ApiError(Exception):
    """An expected, coded failure of a query (shown to the caller as it is)."""

    def __init__(self, message: str, code: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class InvalidId(DomainError):
    """A global ID that is malformed or names an object of another type."""

    code = ErrorCode.INVALID


def user_error_code(error: DomainError) -> UserErrorCode:
    if isinstance(error, InvalidId):
        return UserErrorCode.INVALID_ID
    try:
        return UserErrorCode(error.code.value)
    except ValueError:  # a domain code this API does not know yet
        return UserErrorCode.INVALID


def error_code(error: DomainError) -> str:
    return raw(user_error_code(error))


def user_error(error: DomainError, prefix: str = "input") -> UserError:
    field = [prefix, error.field] if error.field else None
    return UserError(field=field, code=user_error_code(error), message=error.message)
