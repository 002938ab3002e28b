import uuid

from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, TenantMixin, org_id_index, tenant_fk


class CommitmentKeyResult(TenantMixin, CreatedAtMixin, Base):
    """A key result a commitment supports."""

    __tablename__ = "commitment_key_results"
    __table_args__ = (
        org_id_index(),
        tenant_fk("commitment_id", "commitments", ondelete="CASCADE"),
        tenant_fk("key_result_id", "key_results", ondelete="CASCADE"),
    )

    commitment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key_result_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
