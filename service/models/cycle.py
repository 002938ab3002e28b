import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, tenant_fk


class Cycle(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A planning period; `starts_on` and `ends_on` are both inclusive."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "name"),
        tenant_fk("parent_cycle_id", "cycles"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        CheckConstraint("parent_cycle_id IS DISTINCT FROM id", name="not_own_parent"),
        CheckConstraint("length(btrim(name)) BETWEEN 1 AND 100", name="name_length"),
    )

    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    parent_cycle_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
