import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, DateTime, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    CreatedAtMixin,
    IdMixin,
    TenantMixin,
    enum_check,
    tenant_fk,
)


class CommitmentState(StrEnum):
    open = "open"
    done = "done"
    dropped = "dropped"


class Commitment(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A binary deliverable with exactly one person owner, a definition of done and a due date."""

    __tablename__ = "commitments"
    # RETURNING the server-computed updated_at on UPDATE, so it never has to be lazy-loaded.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        tenant_fk("owner_person_id", "people"),
        enum_check("state", CommitmentState),
        CheckConstraint("(state = 'done') = (done_at IS NOT NULL)", name="done_at_iff_done"),
        CheckConstraint("length(btrim(title)) BETWEEN 1 AND 300", name="title_length"),
        CheckConstraint(
            "length(btrim(success_criteria)) BETWEEN 1 AND 5000", name="success_criteria_length"
        ),
        Index("ix_commitments_org_id_due_on", "org_id", "due_on"),
    )

    title: Mapped[str] = mapped_column(String(300))
    success_criteria: Mapped[str] = mapped_column(Text)
    owner_person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=CommitmentState.open)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence_url: Mapped[str | None] = mapped_column(String(2048))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
