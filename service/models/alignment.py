import uuid

from sqlalchemy import CheckConstraint, Float
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, TenantMixin, org_id_index, tenant_fk


class Alignment(TenantMixin, CreatedAtMixin, Base):
    """child objective → parent objective with a weight; the graph is kept acyclic."""

    __tablename__ = "alignments"
    __table_args__ = (
        org_id_index(),
        tenant_fk("child_objective_id", "objectives", ondelete="CASCADE"),
        tenant_fk("parent_objective_id", "objectives", ondelete="CASCADE"),
        CheckConstraint("weight >= 0 AND weight < 'Infinity'::float8", name="weight_non_negative"),
        CheckConstraint("child_objective_id <> parent_objective_id", name="not_self"),
    )

    child_objective_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    parent_objective_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
