import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    CreatedAtMixin,
    IdMixin,
    TenantMixin,
    enum_check,
    tenant_fk,
)


class ObjectiveState(StrEnum):
    draft = "draft"
    active = "active"
    closed = "closed"
    archived = "archived"


class RollupMode(StrEnum):
    auto = "auto"
    key_results = "key_results"
    children = "children"
    both = "both"


class Objective(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A company or team objective in a cycle, owned by a team or a person."""

    __tablename__ = "objectives"
    # RETURNING the server-computed updated_at on UPDATE, so it never has to be lazy-loaded.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        tenant_fk("owner_team_id", "teams"),
        tenant_fk("owner_person_id", "people"),
        tenant_fk("cycle_id", "cycles"),
        CheckConstraint("(owner_team_id IS NULL) <> (owner_person_id IS NULL)", name="one_owner"),
        CheckConstraint("length(btrim(title)) BETWEEN 1 AND 300", name="title_length"),
        enum_check("state", ObjectiveState),
        enum_check("rollup_mode", RollupMode),
        Index("ix_objectives_org_id_cycle_id_state", "org_id", "cycle_id", "state"),
        # A cycle's objectives in the lists' default order (creation), so a page stops after
        # its rows instead of hashing every alignment of the organization and sorting the
        # cycle (migration 0005; docs/decisions/0016-graphql-reads-through-record-loaders.md).
        Index(
            "ix_objectives_org_id_cycle_id_created_at_id", "org_id", "cycle_id", "created_at", "id"
        ),
    )

    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    owner_person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default=ObjectiveState.active)
    rollup_mode: Mapped[str] = mapped_column(String(16), default=RollupMode.auto)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
