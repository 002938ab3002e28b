from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin


class WebhookEndpoint(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A receiver of signed events (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        CheckConstraint("url ~ '^https?://'", name="url_http"),
        CheckConstraint(
            "(previous_secret IS NULL) = (previous_secret_expires_at IS NULL)",
            name="previous_secret_expiry",
        ),
    )

    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(200))
    # After a rotation, deliveries are signed with the previous secret too until it expires.
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
