import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, tenant_fk


class Team(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A node of the team tree; the tree is kept acyclic by the teams service."""

    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        tenant_fk("parent_team_id", "teams"),
        CheckConstraint("parent_team_id IS DISTINCT FROM id", name="not_own_parent"),
        CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name="name_length"),
    )

    name: Mapped[str] = mapped_column(String(200))
    parent_team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
