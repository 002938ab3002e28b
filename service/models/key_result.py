import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Float, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    CreatedAtMixin,
    IdMixin,
    TenantMixin,
    enum_check,
    tenant_fk,
)


class Measure(StrEnum):
    metric = "metric"
    manual = "manual"
    milestone = "milestone"


class KeyResultDirection(StrEnum):
    increase = "increase"
    decrease = "decrease"
    at_least = "at_least"
    at_most = "at_most"


class KeyResultState(StrEnum):
    active = "active"
    archived = "archived"


class KeyResult(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A measurable outcome of an objective.

    `milestone` key results are done or not: they carry no start or target. Every other
    measure needs a target, and `increase`/`decrease` also a start on the right side of it.
    """

    __tablename__ = "key_results"
    # RETURNING the server-computed updated_at on UPDATE, so it never has to be lazy-loaded.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        tenant_fk("objective_id", "objectives"),
        tenant_fk("owner_person_id", "people"),
        tenant_fk("metric_id", "metrics"),
        enum_check("measure", Measure),
        enum_check("direction", KeyResultDirection),
        enum_check("state", KeyResultState),
        CheckConstraint(
            "(measure = 'metric') = (metric_id IS NOT NULL)", name="metric_iff_measure"
        ),
        CheckConstraint("measure = 'milestone' OR target_value IS NOT NULL", name="target_present"),
        CheckConstraint(
            "measure = 'milestone' OR direction NOT IN ('increase', 'decrease')"
            " OR start_value IS NOT NULL",
            name="start_present",
        ),
        CheckConstraint(
            "measure = 'milestone' OR direction <> 'increase' OR target_value > start_value",
            name="increase_ordered",
        ),
        CheckConstraint(
            "measure = 'milestone' OR direction <> 'decrease' OR target_value < start_value",
            name="decrease_ordered",
        ),
        CheckConstraint("weight >= 0 AND weight < 'Infinity'::float8", name="weight_non_negative"),
        CheckConstraint("length(btrim(title)) BETWEEN 1 AND 300", name="title_length"),
    )

    objective_id: Mapped[uuid.UUID] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    measure: Mapped[str] = mapped_column(String(16))
    metric_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    direction: Mapped[str] = mapped_column(String(16), default=KeyResultDirection.increase)
    start_value: Mapped[float | None] = mapped_column(Float)
    target_value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(50), default="", server_default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    state: Mapped[str] = mapped_column(String(16), default=KeyResultState.active)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
