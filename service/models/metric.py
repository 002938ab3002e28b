import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    CreatedAtMixin,
    IdMixin,
    TenantMixin,
    enum_check,
    tenant_fk,
)


class Direction(StrEnum):
    """Which way a metric is better."""

    increase = "increase"
    decrease = "decrease"


class Aggregation(StrEnum):
    sum = "sum"
    avg = "avg"
    min = "min"
    max = "max"
    last = "last"
    count = "count"  # type: ignore[assignment]  # shadows str.count on purpose: it is the SPEC name


class MetricKind(StrEnum):
    leading = "leading"
    lagging = "lagging"


METRIC_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"


class Metric(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A measured quantity of the metric tree; at most one per org is the North Star."""

    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "key"),
        tenant_fk("owner_person_id", "people"),
        CheckConstraint(f"key ~ '{METRIC_KEY_PATTERN}'", name="key_slug"),
        CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint(
            "observation_window_days IS NULL OR observation_window_days BETWEEN 1 AND 3660",
            name="observation_window_positive",
        ),
        enum_check("direction", Direction),
        enum_check("aggregation", Aggregation),
        enum_check("kind", MetricKind),
        Index(
            "uq_metrics_org_id_north_star",
            "org_id",
            unique=True,
            postgresql_where=text("is_north_star"),
        ),
    )

    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    definition: Mapped[str] = mapped_column(Text, default="", server_default="")
    unit: Mapped[str] = mapped_column(String(50), default="", server_default="")
    direction: Mapped[str] = mapped_column(String(16), default=Direction.increase)
    aggregation: Mapped[str] = mapped_column(String(16), default=Aggregation.sum)
    kind: Mapped[str] = mapped_column(String(16), default=MetricKind.lagging)
    observation_window_days: Mapped[int | None] = mapped_column()
    owner_person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    is_north_star: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
