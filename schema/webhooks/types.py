import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schema.core.relay import Node, to_global_id
from service.models import Delivery as DeliveryModel
from service.models import DeliveryAttempt as DeliveryAttemptModel
from service.models import Event as EventModel
from service.models import WebhookEndpoint as WebhookEndpointModel


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(Enum):
    PENDING = strawberry.enum_value("pending", description="Not yet delivered; will be tried.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="The receiver answered 2xx.")
    FAILED = strawberry.enum_value(
        "failed", description="Retries ran out (24 h); redeliver by hand to try again."
    )


@strawberry.type(description="A URL that receives signed events (Standard Webhooks).")
class WebhookEndpoint(Node):
    url: str = strawberry.field(description="Where events are POSTed.")
    event_types: list[str] = strawberry.field(description="Event types sent to this endpoint.")
    enabled: bool = strawberry.field(
        description="Whether events are sent; turned off after 24 h of failing deliveries."
    )
    consecutive_failures: int = strawberry.field(
        description="Failed attempts since the last successful one."
    )
    disabled_at: datetime | None = strawberry.field(description="When it was last disabled.")
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until when deliveries are also signed with the secret replaced by the last"
        " rotation; null when only the current secret signs."
    )
    created_at: datetime = strawberry.field(description="When the endpoint was created.")

    @classmethod
    def from_model(cls, model: WebhookEndpointModel) -> "WebhookEndpoint":
        return cls(
            uuid_=model.id,
            url=model.url,
            event_types=list(model.event_types),
            enabled=model.enabled,
            consecutive_failures=model.consecutive_failures,
            disabled_at=model.disabled_at,
            previous_secret_expires_at=model.previous_secret_expires_at,
            created_at=model.created_at,
        )


@strawberry.type(description="One HTTP attempt of a delivery.")
class WebhookDeliveryAttempt:
    status_code: int | None = strawberry.field(
        description="HTTP status of the answer; null when none came (timeout, network error)."
    )
    latency_ms: int | None = strawberry.field(description="Time to the answer, in milliseconds.")
    error: str | None = strawberry.field(description="Why no answer came, if none did.")
    response_excerpt: str | None = strawberry.field(
        description="The first kilobyte of the answer's body."
    )
    created_at: datetime = strawberry.field(description="When the attempt finished.")

    @classmethod
    def from_model(cls, model: DeliveryAttemptModel) -> "WebhookDeliveryAttempt":
        return cls(
            status_code=model.status_code,
            latency_ms=model.latency_ms,
            error=model.error,
            response_excerpt=model.response_excerpt,
            created_at=model.created_at,
        )


@strawberry.type(description="One event sent (or to be sent) to one endpoint, with its log.")
class WebhookDelivery(Node):
    status: WebhookDeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempt_count: int = strawberry.field(description="How many attempts were started.")
    next_attempt_at: datetime = strawberry.field(
        description="When it is (or was) next due; meaningful while pending."
    )
    last_attempt_at: datetime | None = strawberry.field(description="When it was last tried.")
    created_at: datetime = strawberry.field(description="When the event was queued for it.")
    endpoint_uuid: strawberry.Private[uuid.UUID]
    event_uuid: strawberry.Private[uuid.UUID]
    event: strawberry.Private[EventModel | None] = None
    attempt_log: strawberry.Private[list[DeliveryAttemptModel] | None] = None

    @classmethod
    def from_model(cls, model: DeliveryModel) -> "WebhookDelivery":
        return cls(
            uuid_=model.id,
            status=WebhookDeliveryStatus(model.status),
            attempt_count=model.attempts,
            next_attempt_at=model.next_attempt_at,
            last_attempt_at=model.last_attempt_at,
            created_at=model.created_at,
            endpoint_uuid=model.endpoint_id,
            event_uuid=model.event_id,
        )

    @strawberry.field(description="ID of the endpoint it goes to.")
    def endpoint_id(self) -> strawberry.ID:
        return to_global_id("WebhookEndpoint", self.endpoint_uuid)

    @strawberry.field(
        description="The event id, sent as `webhook-id`: the same on every attempt and redelivery."
    )
    def webhook_id(self) -> str | None:
        return str(self.event.id) if self.event else None

    @strawberry.field(description="The event type, e.g. `key_result.status_changed`.")
    def event_type(self) -> str | None:
        return self.event.type if self.event else None

    @strawberry.field(description="The event's `data` as sent in the body.")
    def payload(self) -> JSON | None:
        data: Any = self.event.payload if self.event else None
        return data  # type: ignore[no-any-return]

    @strawberry.field(description="Every attempt, oldest first.")
    def attempts(self) -> list[WebhookDeliveryAttempt]:
        return [WebhookDeliveryAttempt.from_model(attempt) for attempt in self.attempt_log or []]


@strawberry.type(description="An event type that webhook endpoints can subscribe to.")
class WebhookEventType:
    name: str = strawberry.field(description="The type, e.g. `key_result.status_changed`.")
    description: str = strawberry.field(description="When it is sent.")
    payload_shape: JSON = strawberry.field(
        description="Fields of the event's `data` with their types (`T?` is nullable)."
    )
