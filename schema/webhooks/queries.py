from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from schema.core.context import Context
from schema.core.pagination import Connection, OrderDirection, PageArgs, paginate
from schema.core.permissions import require_scope
from schema.core.relay import decode_optional_id
from schema.webhooks.types import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEventType,
)
from service.events import catalog
from service.kit import rows
from service.models import Delivery, DeliveryAttempt, Event, Scope
from service.models import WebhookEndpoint as WebhookEndpointModel
from service.webhooks import repository


async def load_delivery_details(info: Info[Context, None], nodes: list[WebhookDelivery]) -> None:
    """Events and attempt logs of one page of deliveries: two batched queries."""
    if not nodes:
        return
    db = info.context.db
    ids = [node.uuid_ for node in nodes]
    event_ids = {node.event_uuid for node in nodes}

    async def load(session: AsyncSession) -> tuple[list[DeliveryAttempt], list[Event]]:
        attempts = await repository.attempts_by_delivery_ids(session, db.org_id, ids)
        events = await rows.get_by_ids(session, Event, db.org_id, list(event_ids))
        return attempts, [event for event in events if event is not None]

    attempts, events = await db.run(load)
    by_id = {event.id: event for event in events}
    for node in nodes:
        node.event = by_id.get(node.event_uuid)
        node.attempt_log = [a for a in attempts if a.delivery_id == node.uuid_]


FIRST = "Page size from the start (at most 100)."
AFTER = "Cursor of the edge after which the page starts."
LAST = "Page size from the end (at most 100)."
BEFORE = "Cursor of the edge before which the page ends."


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="Every event type an endpoint can subscribe to, with its payload."
    )
    def webhook_event_types(self) -> list[WebhookEventType]:
        return [
            WebhookEventType(
                name=event_type.name,
                description=event_type.description,
                payload_shape=event_type.payload,  # type: ignore[arg-type]
            )
            for name, event_type in sorted(catalog.CATALOG.items())
            if name in catalog.SUBSCRIBABLE
        ]

    @strawberry.field(description="Webhook endpoints of the organization (needs `admin`).")
    async def webhook_endpoints(
        self,
        info: Info[Context, None],
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> Connection[WebhookEndpoint]:
        require_scope(info, Scope.admin)
        return await paginate(
            info,
            repository.endpoints_statement(info.context.principal.org_id),
            order=WebhookEndpointModel.created_at,
            id_column=WebhookEndpointModel.id,
            direction=OrderDirection.ASC,
            page=PageArgs(first, after, last, before),
            to_node=WebhookEndpoint.from_model,
        )

    @strawberry.field(
        description="The delivery log, newest first, with every attempt (needs `admin`)."
    )
    async def webhook_deliveries(
        self,
        info: Info[Context, None],
        endpoint_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this endpoint's.")
        ] = None,
        status: Annotated[
            WebhookDeliveryStatus | None, strawberry.argument(description="Only in this status.")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
    ) -> Connection[WebhookDelivery]:
        require_scope(info, Scope.admin)
        endpoint = decode_optional_id(endpoint_id, "WebhookEndpoint", field="endpointId")
        connection = await paginate(
            info,
            repository.deliveries_statement(
                info.context.principal.org_id, endpoint, str(status.value) if status else None
            ),
            order=Delivery.created_at,
            id_column=Delivery.id,
            direction=OrderDirection.DESC,
            page=PageArgs(first, after, last, before),
            to_node=WebhookDelivery.from_model,
        )
        await load_delivery_details(info, connection.nodes())
        return connection
