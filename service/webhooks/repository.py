"""All SQL of webhook endpoints, deliveries and attempts (tenant requests; the worker has its own)."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


async def get_endpoint(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint | None:
    statement = select(WebhookEndpoint).where(
        WebhookEndpoint.org_id == org_id, WebhookEndpoint.id == endpoint_id
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


def endpoints_statement(org_id: uuid.UUID) -> Select[Any]:
    return select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id)


def deliveries_statement(
    org_id: uuid.UUID, endpoint_id: uuid.UUID | None = None, status: str | None = None
) -> Select[Any]:
    statement = select(Delivery).where(Delivery.org_id == org_id)
    if endpoint_id is not None:
        statement = statement.where(Delivery.endpoint_id == endpoint_id)
    if status is not None:
        statement = statement.where(Delivery.status == status)
    return statement


async def get_delivery(
    session: AsyncSession, org_id: uuid.UUID, delivery_id: uuid.UUID, *, for_update: bool = False
) -> Delivery | None:
    statement = select(Delivery).where(Delivery.org_id == org_id, Delivery.id == delivery_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def endpoints_by_ids(
    session: AsyncSession, org_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[WebhookEndpoint]:
    result = await session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id, WebhookEndpoint.id.in_(ids))
    )
    return list(result.scalars())


async def events_by_ids(
    session: AsyncSession, org_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[Event]:
    result = await session.execute(select(Event).where(Event.org_id == org_id, Event.id.in_(ids)))
    return list(result.scalars())


async def attempts_by_delivery_ids(
    session: AsyncSession, org_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[DeliveryAttempt]:
    result = await session.execute(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.org_id == org_id, DeliveryAttempt.delivery_id.in_(ids))
        .order_by(DeliveryAttempt.created_at, DeliveryAttempt.id)
    )
    return list(result.scalars())


async def add(session: AsyncSession, row: Any) -> None:
    session.add(row)
    await session.flush()
