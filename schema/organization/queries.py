import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.organization.types import Organization
from service.organizations import service


@strawberry.type
class OrganizationQueries:
    @strawberry.field(description="The organization of the calling API key.")
    async def organization(self, info: Info[Context, None]) -> Organization:
        ctx = info.context
        model = await ctx.db.run(
            lambda session: service.get_organization(session, ctx.principal.org_id)
        )
        return Organization.from_model(model)
