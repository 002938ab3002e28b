import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, tenant_fk


class WindowAggregate(Base):
    """What the status recheck last read of a metric's window: the count of the metric's
    points in [starts_at, through) and their aggregate by the metric's `aggregation` (`sum`
    for sum and avg, `min`, `max`; the other two null), as of the PostgreSQL snapshot
    `snapshot` (`pg_current_snapshot()` of the statement that wrote the row, as text).

    A key result's window is [cycle start, min(as of, cycle end)): the row is keyed by the
    cycle's bounds (`starts_at`, `ends_at`) and grows `through` as time passes. The next
    recheck of the window adds only the points written since (the queued batches'
    transactions the snapshot did not see, and the points in [through, as of)) instead of
    reading the whole window again; see `service.statuses.window_cache`. `read_by` is the
    transaction that wrote the row (as a bigint `xid8`): its own points were visible to it
    whatever the snapshot says, so a batch of that transaction forces a full read.
    `read_at` is when the window was last read whole.

    Only the recheck reads and writes these rows; the roll-up engine reads the points.
    Without a foreign key to the organization of its own, as for points: the one to the
    metric ties the row to an organization that exists and deletes it with the metric.
    """

    __tablename__ = "window_aggregates"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "metric_id", "starts_at", "ends_at"),
        tenant_fk("metric_id", "metrics", ondelete="CASCADE"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column()
    metric_id: Mapped[uuid.UUID] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    aggregation: Mapped[str] = mapped_column(String(16))
    through: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(BigInteger)
    sum: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    snapshot: Mapped[str] = mapped_column(Text)
    read_by: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
