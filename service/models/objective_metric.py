import uuid

from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, TenantMixin, org_id_index, tenant_fk


class ObjectiveMetric(TenantMixin, CreatedAtMixin, Base):
    """A metric an objective is meant to drive: the link from the goal tree to the metric tree."""

    __tablename__ = "objective_metrics"
    __table_args__ = (
        org_id_index(),
        tenant_fk("objective_id", "objectives", ondelete="CASCADE"),
        tenant_fk("metric_id", "metrics", ondelete="CASCADE"),
    )

    objective_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    metric_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
