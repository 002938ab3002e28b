from enum import StrEnum
from typing import Any

from service.errors import Invalid


class PointErrorCode(StrEnum):
    """Why one point of a batch was refused."""

    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_FINITE = "NOT_FINITE"
    TIMEZONE_REQUIRED = "TIMEZONE_REQUIRED"
    IN_FUTURE = "IN_FUTURE"
    UNKNOWN_METRIC = "UNKNOWN_METRIC"
    METRIC_ARCHIVED = "METRIC_ARCHIVED"
    METRIC_MISMATCH = "METRIC_MISMATCH"
    TOO_LONG = "TOO_LONG"
    MALFORMED = "MALFORMED"


class BatchRejected(Invalid):
    """At least one point is bad; `errors` lists each as {index, field, code, message}."""

    def __init__(self, errors: list[dict[str, Any]]):
        count = len({error.get("index") for error in errors})
        super().__init__(f"{count} point(s) are invalid; nothing was stored", field="points")
        self.errors = errors
