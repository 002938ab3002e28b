import strawberry
from strawberry.types import Info

from schema.api_keys.types import ApiKey
from schema.core.context import Context
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.permissions import require_scope
from service.auth import repository
from service.models import ApiKey as ApiKeyModel
from service.models import Scope


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="API keys of the organization (needs the `admin` scope).")
    async def api_keys(
        self,
        info: Info[Context, None],
        include_revoked: bool = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApiKey]:
        require_scope(info, Scope.admin)
        return await paginate(
            info,
            repository.keys_statement(
                info.context.principal.org_id, include_revoked=include_revoked
            ),
            order=ApiKeyModel.created_at,
            id_column=ApiKeyModel.id,
            direction=OrderDirection.ASC,
            page=PageArgs(first, after, last, before),
            to_node=ApiKey.from_model,
        )
