import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    CreatedAtMixin,
    TenantMixin,
    enum_check,
    org_id_index,
    tenant_fk,
)


class IdempotencyStatus(StrEnum):
    in_flight = "in_flight"
    completed = "completed"


class IdempotencyRecord(TenantMixin, CreatedAtMixin, Base):
    """The first response to an `Idempotency-Key`, scoped to the API key that sent it."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        org_id_index(),
        tenant_fk("api_key_id", "api_keys", ondelete="CASCADE"),
        enum_check("status", IdempotencyStatus),
        CheckConstraint("length(key) BETWEEN 1 AND 255", name="key_length"),
    )

    api_key_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(16), default=IdempotencyStatus.in_flight)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
