import uuid
from functools import partial
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.errors import UserError
from schema.core.mutation_runner import Refused, payload_of, run, run_by_id
from schema.core.permissions import require_scope
from schema.webhooks.queries import load_delivery_details
from schema.webhooks.types import WebhookDelivery, WebhookEndpoint
from service.models import Scope
from service.models import WebhookEndpoint as WebhookEndpointModel
from service.webhooks import service
from service.webhooks.schemas import EndpointCreate, EndpointUpdate

ERRORS = "Why the input was refused; empty on success."
INPUT = "What to change."


@strawberry.input(description="A new webhook endpoint.")
class WebhookEndpointCreateInput:
    url: str = strawberry.field(
        description="Where to POST events; private and loopback addresses are refused in production."
    )
    event_types: list[str] = strawberry.field(
        description="Event types to send, e.g. `key_result.status_changed`."
    )
    enabled: bool = strawberry.field(default=True, description="Send events from now on.")


@strawberry.input(description="Changes to a webhook endpoint; omitted fields stay as they are.")
class WebhookEndpointUpdateInput:
    id: strawberry.ID = strawberry.field(description="The endpoint to change.")
    url: str | None = strawberry.field(default=None, description="New URL.")
    event_types: list[str] | None = strawberry.field(default=None, description="New event types.")


@strawberry.input(description="One webhook endpoint.")
class WebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")


@strawberry.input(description="A new signing secret for a webhook endpoint.")
class WebhookEndpointRotateSecretInput:
    id: strawberry.ID = strawberry.field(description="The endpoint.")
    keep_previous_for_hours: int = strawberry.field(
        default=24,
        description="For how long (0 to 168 hours) deliveries stay signed with the replaced"
        " secret too, so receivers can switch without rejecting any; 0 stops using it at"
        " once (a leaked secret).",
    )


@strawberry.input(description="One webhook delivery.")
class WebhookDeliveryInput:
    id: strawberry.ID = strawberry.field(description="The delivery.")


@strawberry.type(description="Result of a change to a webhook endpoint.")
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of creating an endpoint or rotating its secret.")
class WebhookEndpointSecretPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint.")
    secret: str | None = strawberry.field(
        description="The signing secret (`whsec_...`), shown this once: store it now."
    )
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="Result of queueing a delivery (ping or redelivery).")
class WebhookDeliveryPayload:
    webhook_delivery: WebhookDelivery | None = strawberry.field(description="The delivery.")
    user_errors: list[UserError] = strawberry.field(description=ERRORS)


_endpoint_payload = payload_of(
    WebhookEndpointPayload, "webhook_endpoint", WebhookEndpoint.from_model
)
_delivery_payload = payload_of(
    WebhookDeliveryPayload, "webhook_delivery", WebhookDelivery.from_model
)


def _secret_payload(
    result: tuple[WebhookEndpointModel, str] | Refused,
) -> WebhookEndpointSecretPayload:
    if isinstance(result, Refused):
        return WebhookEndpointSecretPayload(
            webhook_endpoint=None, secret=None, user_errors=result.errors
        )
    endpoint, secret = result
    return WebhookEndpointSecretPayload(
        webhook_endpoint=WebhookEndpoint.from_model(endpoint), secret=secret, user_errors=[]
    )


async def _with_details(
    info: Info[Context, None], payload: WebhookDeliveryPayload
) -> WebhookDeliveryPayload:
    """The payload with its delivery's event and attempt log loaded."""
    if payload.webhook_delivery is not None:
        await load_delivery_details(info, [payload.webhook_delivery])
    return payload


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Create a webhook endpoint (needs `admin`); its secret is returned once."
    )
    async def webhook_endpoint_create(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookEndpointCreateInput, strawberry.argument(description=INPUT)],
    ) -> WebhookEndpointSecretPayload:
        data = EndpointCreate(url=input.url, event_types=input.event_types, enabled=input.enabled)
        require_scope(info, Scope.admin)
        production = info.context.settings.is_production
        return await run(
            info,
            lambda session, org_id: service.create_endpoint(
                session, org_id, data, production=production
            ),
            _secret_payload,
        )

    @strawberry.mutation(description="Change an endpoint's URL or event types (needs `admin`).")
    async def webhook_endpoint_update(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookEndpointUpdateInput, strawberry.argument(description=INPUT)],
    ) -> WebhookEndpointPayload:
        require_scope(info, Scope.admin)
        fields = {
            name: value
            for name, value in (("url", input.url), ("event_types", input.event_types))
            if value is not None
        }
        production = info.context.settings.is_production

        async def change(
            session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID
        ) -> WebhookEndpointModel:
            return await service.update_endpoint(
                session, org_id, endpoint_id, EndpointUpdate(**fields), production=production
            )

        return await run_by_id(info, change, input.id, "WebhookEndpoint", _endpoint_payload)

    @strawberry.mutation(
        description="Give an endpoint a new signing secret (needs `admin`), returned once."
        " Deliveries carry a signature with each secret (`v1,<new> v1,<previous>`) until"
        " `previousSecretExpiresAt`."
    )
    async def webhook_endpoint_rotate_secret(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookEndpointRotateSecretInput, strawberry.argument(description=INPUT)],
    ) -> WebhookEndpointSecretPayload:
        require_scope(info, Scope.admin)
        rotate = partial(
            service.rotate_secret, keep_previous_for_hours=input.keep_previous_for_hours
        )
        return await run_by_id(info, rotate, input.id, "WebhookEndpoint", _secret_payload)

    @strawberry.mutation(
        description="Start sending to an endpoint again (needs `admin`); pending deliveries resume."
    )
    async def webhook_endpoint_enable(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookEndpointInput, strawberry.argument(description=INPUT)],
    ) -> WebhookEndpointPayload:
        require_scope(info, Scope.admin)
        enable = partial(service.set_enabled, enabled=True)
        return await run_by_id(info, enable, input.id, "WebhookEndpoint", _endpoint_payload)

    @strawberry.mutation(
        description="Stop sending to an endpoint (needs `admin`); deliveries wait until enabled."
    )
    async def webhook_endpoint_disable(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookEndpointInput, strawberry.argument(description=INPUT)],
    ) -> WebhookEndpointPayload:
        require_scope(info, Scope.admin)
        disable = partial(service.set_enabled, enabled=False)
        return await run_by_id(info, disable, input.id, "WebhookEndpoint", _endpoint_payload)

    @strawberry.mutation(description="Delete an endpoint and its delivery log (needs `admin`).")
    async def webhook_endpoint_delete(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookEndpointInput, strawberry.argument(description=INPUT)],
    ) -> WebhookEndpointPayload:
        require_scope(info, Scope.admin)
        return await run_by_id(
            info, service.delete_endpoint, input.id, "WebhookEndpoint", _endpoint_payload
        )

    @strawberry.mutation(
        description="Queue a signed `webhook.ping` event to this endpoint only (needs `admin`)."
    )
    async def webhook_endpoint_ping(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookEndpointInput, strawberry.argument(description=INPUT)],
    ) -> WebhookDeliveryPayload:
        require_scope(info, Scope.admin)
        payload = await run_by_id(
            info, service.ping, input.id, "WebhookEndpoint", _delivery_payload
        )
        return await _with_details(info, payload)

    @strawberry.mutation(
        description="Send a delivery again now, with the same `webhook-id` (needs `admin`)."
    )
    async def webhook_delivery_redeliver(
        self,
        info: Info[Context, None],
        input: Annotated[WebhookDeliveryInput, strawberry.argument(description=INPUT)],
    ) -> WebhookDeliveryPayload:
        require_scope(info, Scope.admin)
        payload = await run_by_id(
            info, service.redeliver, input.id, "WebhookDelivery", _delivery_payload
        )
        return await _with_details(info, payload)
