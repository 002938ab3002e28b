"""Expected failures of the domain. GraphQL maps them to `userErrors`, REST to RFC 9457 problems."""

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    CYCLE = "CYCLE"
    WRONG_OWNER = "WRONG_OWNER"
    INVALID_STATE = "INVALID_STATE"


class DomainError(Exception):
    """An expected failure with a stable code, a message for people and the input field at fault."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(self, message: str, *, field: str | None = None, code: ErrorCode | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """Missing, or in another organization: the two are indistinguishable by design."""

    code = ErrorCode.NOT_FOUND


class Invalid(DomainError):
    code = ErrorCode.INVALID


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class InFlight(Conflict):
    """The same request is being run right now: retry in `retry_after_seconds`."""

    retry_after_seconds = 1


class CycleDetected(DomainError):
    code = ErrorCode.CYCLE
