import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    PrimaryKeyConstraint,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, tenant_fk

# Insert-triggered autovacuum every 100,000 new points, whatever the table's size (migration
# 0010): only a vacuum marks pages all-visible, and only on those does a window's aggregate
# read the primary key alone.
VACUUM_AS_IT_GROWS = {
    "autovacuum_vacuum_insert_threshold": 100_000,
    "autovacuum_vacuum_insert_scale_factor": 0,
}


class Point(Base):
    """One observation of a metric.

    Identity is (metric, ts, dimensions): a later write replaces the value. The primary key
    leads with `org_id, metric_id, ts`, which serves "points of a metric in a window" and
    keeps `ts` in the key so the table can be range-partitioned by time. It also carries
    `value` (INCLUDE, migration 0007), so a window's aggregate reads the index alone on pages
    a vacuum marked all-visible; the table is vacuumed every 100,000 inserted points
    (migration 0010), not after a fifth more rows as by default.

    Unlike other tenant tables, `org_id` has no foreign key of its own: the composite key to
    the metric already ties the point to an organization that exists (and deletes it with
    the organization), and a second check per written point slowed ingestion (migration
    0008; docs/decisions/0001-tenant-isolation-by-composite-foreign-keys.md).
    """

    __tablename__ = "points"
    __table_args__ = (
        PrimaryKeyConstraint(
            "org_id", "metric_id", "ts", "dimensions", postgresql_include=["value"]
        ),
        tenant_fk("metric_id", "metrics", ondelete="CASCADE"),
        CheckConstraint(
            "value <> 'NaN'::float8 AND value > '-Infinity'::float8 AND value < 'Infinity'::float8",
            name="value_finite",
        ),
        CheckConstraint("jsonb_typeof(dimensions) = 'object'", name="dimensions_object"),
        {"postgresql_with": VACUUM_AS_IT_GROWS},
    )

    org_id: Mapped[uuid.UUID] = mapped_column()
    metric_id: Mapped[uuid.UUID] = mapped_column()
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dimensions: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb"), default=dict
    )
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(100), default="", server_default="")
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
