import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    PrimaryKeyConstraint,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, tenant_fk

# The statuses of SPEC §3 (`service.rollups.types.Status`, which `service.statuses.tracker`
# checks against this tuple; the models do not import the roll-up engine).
STATUSES = ("off_track", "at_risk", "no_data", "on_track", "done")


class KeyResultStatus(Base):
    """The last status announced for a key result (`key_result.status_changed`), or the
    first one observed of it: the `before` of its next announcement, whoever makes it.

    Written by `service.statuses.tracker.announce_changes` (writers, the daily sweep), by the
    worker's recheck after ingestion (`service.statuses.recheck`) and when a key result is
    created; announcers lock the rows they compare, so a change is announced once.
    """

    __tablename__ = "key_result_statuses"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "key_result_id"),
        tenant_fk("key_result_id", "key_results", ondelete="CASCADE"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")",
            name="status_valid",
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    key_result_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    # Progress at that status; null when only the status was known (a bare `before` string).
    progress: Mapped[float | None] = mapped_column(Float)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
