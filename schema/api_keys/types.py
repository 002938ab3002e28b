import uuid
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.relay import Node
from schema.people.types import Person
from service.models import ApiKey as ApiKeyModel


@strawberry.enum(description="What an API key may do.")
class ApiKeyScope(Enum):
    READ = strawberry.enum_value("read", description="Run queries.")
    WRITE = strawberry.enum_value("write", description="Run mutations.")
    INGEST = strawberry.enum_value("ingest", description="Push metric points and check-ins.")
    ADMIN = strawberry.enum_value("admin", description="Everything, and manage keys and webhooks.")


@strawberry.type(description="An API key of the organization; its secret is never shown again.")
class ApiKey(Node):
    name: str = strawberry.field(description="What the key is for.")
    scopes: list[ApiKeyScope] = strawberry.field(description="What the key may do.")
    prefix: str = strawberry.field(description="First characters of the key, to recognise it.")
    created_at: datetime = strawberry.field(description="When the key was created.")
    last_used_at: datetime | None = strawberry.field(description="When the key was last used.")
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked.")
    created_by_person_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, model: ApiKeyModel) -> "ApiKey":
        return cls(
            uuid_=model.id,
            name=model.name,
            scopes=[ApiKeyScope(scope) for scope in model.scopes],
            prefix=model.prefix,
            created_at=model.created_at,
            last_used_at=model.last_used_at,
            revoked_at=model.revoked_at,
            created_by_person_id=model.created_by_person_id,
        )

    @strawberry.field(description="The person who created the key.")
    async def created_by(self, info: Info[Context, None]) -> Person | None:
        if self.created_by_person_id is None:
            return None
        model = await info.context.loaders.person_by_id.load(self.created_by_person_id)
        return Person.from_model(model) if model else None
