import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import (
    Base,
    CreatedAtMixin,
    IdMixin,
    TenantMixin,
    enum_check,
    tenant_fk,
)


class PersonKind(StrEnum):
    human = "human"
    agent = "agent"


class Person(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A human or an agent (an automated system that answers to an accountable human)."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        tenant_fk("accountable_person_id", "people"),
        enum_check("kind", PersonKind),
        CheckConstraint(
            "kind = 'human' OR accountable_person_id IS NOT NULL", name="agent_accountable"
        ),
        CheckConstraint("accountable_person_id IS DISTINCT FROM id", name="not_self_accountable"),
        CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name="name_length"),
        Index(
            "uq_people_org_id_email",
            "org_id",
            text("lower(email)"),
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16), default=PersonKind.human)
    accountable_person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
