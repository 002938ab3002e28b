import uuid

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, org_id_index, tenant_fk


class DeliveryAttempt(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """The log of one HTTP attempt of a delivery."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        org_id_index(),
        tenant_fk("delivery_id", "deliveries", ondelete="CASCADE"),
    )

    delivery_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str | None] = mapped_column(Text)
