"""All SQL of webhook endpoints, deliveries and attempts (tenant requests; the worker has its own)."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Delivery, DeliveryAttempt, WebhookEndpoint


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
