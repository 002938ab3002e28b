"""Transactional outbox: every change records its event in the same transaction.

Services call `emit` next to the write it describes; a rolled-back transaction therefore
emits nothing. Delivery (webhooks, subscriptions) reads the `events` table afterwards.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Event


async def emit(
    session: AsyncSession,
    org_id: uuid.UUID,
    type: str,
    subject_id: uuid.UUID | None,
    payload: dict[str, Any],
) -> Event:
    """Record event `type` (e.g. `objective.created`) about `subject_id` with a JSON payload."""
    event = Event(org_id=org_id, type=type, subject_id=subject_id, payload=payload)
    session.add(event)
    await session.flush()
    return event
