"""Scope checks beyond the operation-level ones of `schema.core.limits.RequestLimits`."""

from typing import Any

from strawberry.types import Info

from schema.core.errors import ApiError, ErrorCodes
from service.models import Scope


def require_scope(info: Info[Any, Any], scope: Scope) -> None:
    if not info.context.principal.has(scope):
        raise ApiError(f"this API key lacks the {scope.value!r} scope", ErrorCodes.FORBIDDEN)
