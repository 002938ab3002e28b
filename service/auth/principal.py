import uuid
from dataclasses import dataclass

from service.models import Scope


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key of one organization, with its scopes."""

    org_id: uuid.UUID
    api_key_id: uuid.UUID
    scopes: frozenset[Scope]

    def has(self, scope: Scope) -> bool:
        # admin implies every other scope.
        return scope in self.scopes or Scope.admin in self.scopes
