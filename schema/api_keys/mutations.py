import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.api_keys.types import ApiKey, ApiKeyScope
from schema.core.context import Context
from schema.core.enum_values import raw
from schema.core.errors import UserError
from schema.core.mutation_runner import Refused, payload_of, run, run_by_id
from schema.core.permissions import require_scope
from schema.core.relay import decode_optional_id
from service.auth import service
from service.models import ApiKey as ApiKeyModel
from service.models import Scope
from service.people import service as people_service


@strawberry.input(description="A new API key.")
class ApiKeyCreateInput:
    name: str = strawberry.field(description="What the key is for.")
    scopes: list[ApiKeyScope] = strawberry.field(description="What the key may do.")
    created_by_person_id: strawberry.ID | None = strawberry.field(
        default=None, description="The person creating the key."
    )


@strawberry.input(description="The API key to revoke.")
class ApiKeyRevokeInput:
    id: strawberry.ID = strawberry.field(description="The key to revoke.")


@strawberry.type(description="Result of creating an API key: the only time its secret is shown.")
class ApiKeyCreatePayload:
    api_key: ApiKey | None = strawberry.field(description="The new key.")
    secret: str | None = strawberry.field(
        description="The full key, shown this once; store it now. Only a hash is kept."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


@strawberry.type(description="Result of revoking an API key.")
class ApiKeyRevokePayload:
    api_key: ApiKey | None = strawberry.field(description="The revoked key.")
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


def _created_payload(result: tuple[ApiKeyModel, str] | Refused) -> ApiKeyCreatePayload:
    if isinstance(result, Refused):
        return ApiKeyCreatePayload(api_key=None, secret=None, user_errors=result.errors)
    api_key, secret = result
    return ApiKeyCreatePayload(api_key=ApiKey.from_model(api_key), secret=secret, user_errors=[])


_revoked_payload = payload_of(ApiKeyRevokePayload, "api_key", ApiKey.from_model)


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(
        description="Create an API key (needs `admin`); the secret is returned once."
    )
    async def api_key_create(
        self, info: Info[Context, None], input: ApiKeyCreateInput
    ) -> ApiKeyCreatePayload:
        require_scope(info, Scope.admin)

        async def change(session: AsyncSession, org_id: uuid.UUID) -> tuple[ApiKeyModel, str]:
            person_id = decode_optional_id(
                input.created_by_person_id, "Person", field="created_by_person_id"
            )
            # The check stays here: `service.auth` sits below the domains and may not import
            # `service.people` (the layers in pyproject.toml).
            if person_id is not None:
                await people_service.get_person(session, org_id, person_id)
            return await service.create_key(
                session,
                org_id,
                name=input.name,
                scopes=[raw(scope) for scope in input.scopes],
                created_by_person_id=person_id,
            )

        return await run(info, change, _created_payload)

    @strawberry.mutation(description="Revoke an API key (needs `admin`); it stops working at once.")
    async def api_key_revoke(
        self, info: Info[Context, None], input: ApiKeyRevokeInput
    ) -> ApiKeyRevokePayload:
        require_scope(info, Scope.admin)
        return await run_by_id(info, service.revoke_key, input.id, "ApiKey", _revoked_payload)
