import uuid
from enum import StrEnum

from sqlalchemy import CheckConstraint, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    CreatedAtMixin,
    IdMixin,
    TenantMixin,
    enum_check,
    tenant_fk,
)


class EdgeRelation(StrEnum):
    driver = "driver"
    component = "component"


class MetricEdge(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """child metric → parent metric. The graph is a DAG, kept so by the metrics service."""

    __tablename__ = "metric_edges"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("child_metric_id", "parent_metric_id"),
        tenant_fk("child_metric_id", "metrics", ondelete="CASCADE"),
        tenant_fk("parent_metric_id", "metrics", ondelete="CASCADE"),
        enum_check("relation", EdgeRelation),
        CheckConstraint("weight >= 0 AND weight < 'Infinity'::float8", name="weight_non_negative"),
        CheckConstraint("child_metric_id <> parent_metric_id", name="not_self"),
    )

    child_metric_id: Mapped[uuid.UUID] = mapped_column()
    parent_metric_id: Mapped[uuid.UUID] = mapped_column(index=True)
    relation: Mapped[str] = mapped_column(String(16), default=EdgeRelation.driver)
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
