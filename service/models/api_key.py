import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, tenant_fk


class Scope(StrEnum):
    read = "read"
    write = "write"
    ingest = "ingest"
    admin = "admin"


class ApiKey(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A bearer key of one organization. Only a SHA-256 hash of the secret is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("prefix"),
        UniqueConstraint("secret_hash"),
        tenant_fk("created_by_person_id", "people"),
        CheckConstraint(
            "scopes <@ ARRAY['read', 'write', 'ingest', 'admin']::varchar[]"
            " AND cardinality(scopes) > 0",
            name="scopes_valid",
        ),
        CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name="name_length"),
    )

    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    prefix: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_by_person_id: Mapped[uuid.UUID | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
