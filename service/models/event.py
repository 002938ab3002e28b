import uuid
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin


class Event(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """Transactional outbox: written in the same transaction as the change it describes
    (ingested points: by the worker, from the batch's queue row, `service.statuses.recheck`)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        Index("ix_events_org_id_seq", "org_id", "seq"),
        # The daily sweep's per-organization marker rows (service.worker.sweep), found fast.
        Index(
            "ix_events_daily_sweep",
            "org_id",
            "seq",
            postgresql_where=text("type = 'lodestar.daily_sweep'"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID | None] = mapped_column()
    # json, not jsonb: written once, read whole (migration 0006).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
