"""Webhook endpoints (admin): create, update, rotate the secret, enable, delete, ping, redeliver.

Secrets follow Standard Webhooks: `whsec_` + base64 of 32 random bytes. The secret is
returned once, by create and by rotate; it is stored as is because signing needs it (an
HMAC key cannot be kept as a hash) and no API reads it back.
"""

import base64
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.db import outbox
from service.errors import ErrorCode, Invalid
from service.events import catalog
from service.kit import rows
from service.models import Delivery, DeliveryStatus, WebhookEndpoint
from service.webhooks import repository
from service.webhooks.addresses import check_url
from service.webhooks.schemas import EndpointCreate, EndpointUpdate

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def clean_event_types(values: Iterable[str]) -> list[str]:
    cleaned = sorted({value.strip() for value in values})
    if not cleaned:
        raise Invalid("subscribe to at least one event type", field="eventTypes")
    unknown = [value for value in cleaned if value not in catalog.SUBSCRIBABLE]
    if unknown:
        allowed = ", ".join(sorted(catalog.SUBSCRIBABLE))
        raise Invalid(
            f"unknown event type {unknown[0]!r}; allowed: {allowed}",
            field="eventTypes",
            code=ErrorCode.INVALID,
        )
    return cleaned


async def get_endpoint(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    return await rows.get_one(
        session,
        WebhookEndpoint,
        org_id,
        endpoint_id,
        what="webhook endpoint",
        lock="update" if for_update else None,
    )


async def create_endpoint(
    session: AsyncSession, org_id: uuid.UUID, data: EndpointCreate, *, production: bool
) -> tuple[WebhookEndpoint, str]:
    """Store a new endpoint and return it with its secret, which is never shown again."""
    event_types = clean_event_types(data.event_types)
    url = await check_url(data.url, production=production)
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        org_id=org_id,
        url=url,
        secret=secret,
        event_types=event_types,
        enabled=data.enabled,
        consecutive_failures=0,
    )
    await repository.add(session, endpoint)
    return endpoint, secret


async def update_endpoint(
    session: AsyncSession,
    org_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    data: EndpointUpdate,
    *,
    production: bool,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, org_id, endpoint_id, for_update=True)
    fields = data.model_fields_set
    event_types = (
        clean_event_types(data.event_types or [])
        if "event_types" in fields
        else endpoint.event_types
    )
    url = (
        await check_url(data.url or "", production=production) if "url" in fields else endpoint.url
    )
    endpoint.url = url
    endpoint.event_types = event_types
    await session.flush()
    return endpoint


MAX_OVERLAP_HOURS = 168


async def rotate_secret(
    session: AsyncSession,
    org_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    *,
    keep_previous_for_hours: int = 24,
    now: datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new secret, returned once. For `keep_previous_for_hours` (0 to 168) every attempt is
    signed with the new and the replaced secret (two signatures, as Standard Webhooks
    allows), so receivers can switch at their pace; 0 drops the replaced one at once (a
    leaked secret). A rotation during an overlap replaces the older previous secret."""
    if not 0 <= keep_previous_for_hours <= MAX_OVERLAP_HOURS:
        raise Invalid(
            f"the previous secret can be kept for 0 to {MAX_OVERLAP_HOURS} hours",
            field="keep_previous_for_hours",
            code=ErrorCode.OUT_OF_RANGE,
        )
    endpoint = await get_endpoint(session, org_id, endpoint_id, for_update=True)
    now = now or datetime.now(UTC)
    if keep_previous_for_hours:
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + timedelta(hours=keep_previous_for_hours)
    else:
        endpoint.previous_secret = None
        endpoint.previous_secret_expires_at = None
    secret = generate_secret()
    endpoint.secret = secret
    await session.flush()
    return endpoint, secret


async def set_enabled(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, enabled: bool
) -> WebhookEndpoint:
    """Enable or disable. Enabling clears the failure streak; pending deliveries resume."""
    endpoint = await get_endpoint(session, org_id, endpoint_id, for_update=True)
    endpoint.enabled = enabled
    if enabled:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
    elif endpoint.disabled_at is None:
        endpoint.disabled_at = datetime.now(UTC)
    await session.flush()
    return endpoint


async def delete_endpoint(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    """Delete the endpoint with its deliveries and their log (the events stay)."""
    endpoint = await get_endpoint(session, org_id, endpoint_id, for_update=True)
    await session.delete(endpoint)
    await session.flush()
    return endpoint


async def ping(session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID) -> Delivery:
    """Queue a `webhook.ping` event to this endpoint only (sent once it is enabled)."""
    endpoint = await get_endpoint(session, org_id, endpoint_id)
    event = await outbox.emit(
        session,
        org_id,
        catalog.PING,
        endpoint.id,
        {"endpoint_id": str(endpoint.id), "message": "Test event from Lodestar."},
    )
    delivery = Delivery(
        org_id=org_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        status=DeliveryStatus.pending,
        attempts=0,
        next_attempt_at=datetime.now(UTC),
    )
    await repository.add(session, delivery)
    return delivery


async def redeliver(session: AsyncSession, org_id: uuid.UUID, delivery_id: uuid.UUID) -> Delivery:
    """Make a delivery due now, whatever its status.

    A manual redelivery of a delivery older than the retry window is one attempt: if it
    fails, the delivery is `failed` again (redeliver again by hand). The event id, and so
    `webhook-id`, stays the same, so the receiver can recognise a duplicate.
    """
    delivery = await rows.get_one(
        session, Delivery, org_id, delivery_id, what="delivery", lock="update"
    )
    delivery.status = DeliveryStatus.pending
    delivery.next_attempt_at = datetime.now(UTC)
    await session.flush()
    return delivery
