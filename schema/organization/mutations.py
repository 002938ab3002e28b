import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.errors import UserError
from schema.core.mutation_runner import payload_of, run, set_fields
from schema.core.permissions import require_scope
from schema.organization.types import Organization
from service.models import Organization as OrganizationModel
from service.models import Scope
from service.organizations import service
from service.organizations.schemas import OrganizationUpdate


@strawberry.input(description="Changes to the organization; only the fields given change.")
class OrganizationUpdateInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Display name, 1 to 200 characters."
    )
    on_track_ratio: float | None = strawberry.field(
        default=strawberry.UNSET,
        description="Progress ÷ pace at or above which an item is on track (0 < ratio ≤ 1).",
    )
    at_risk_ratio: float | None = strawberry.field(
        default=strawberry.UNSET,
        description="Progress ÷ pace at or above which an item is at risk"
        " (0 ≤ ratio ≤ the on-track ratio).",
    )


@strawberry.type(description="Result of an organization mutation.")
class OrganizationPayload:
    organization: Organization | None = strawberry.field(
        description="The organization after the change."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the input was refused; empty on success."
    )


_payload = payload_of(OrganizationPayload, "organization", Organization.from_model)


@strawberry.type
class OrganizationMutations:
    @strawberry.mutation(
        description="Rename the organization or change its status thresholds (needs `admin`);"
        " every status is computed with the new thresholds from then on."
    )
    async def organization_update(
        self, info: Info[Context, None], input: OrganizationUpdateInput
    ) -> OrganizationPayload:
        require_scope(info, Scope.admin)

        async def change(session: AsyncSession, org_id: uuid.UUID) -> OrganizationModel:
            fields = set_fields(input, "name", "on_track_ratio", "at_risk_ratio")
            return await service.update_organization(session, org_id, OrganizationUpdate(**fields))

        return await run(info, change, _payload)
