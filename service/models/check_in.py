import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, DateTime, Float, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, TenantMixin, enum_check, org_id_index, tenant_fk


class CheckInSource(StrEnum):
    graphql = "graphql"
    api = "api"


class CheckIn(IdMixin, TenantMixin, Base):
    """An append-only observation of a key result. Corrections are new rows; retraction marks."""

    __tablename__ = "check_ins"
    __table_args__ = (
        org_id_index(),
        tenant_fk("key_result_id", "key_results"),
        tenant_fk("author_person_id", "people"),
        enum_check("source", CheckInSource),
        CheckConstraint("(value IS NULL) <> (done IS NULL)", name="value_or_done"),
        CheckConstraint(
            "value IS NULL OR (value <> 'NaN'::float8 AND value > '-Infinity'::float8"
            " AND value < 'Infinity'::float8)",
            name="value_finite",
        ),
        CheckConstraint(
            "confidence IS NULL OR confidence BETWEEN 0 AND 1", name="confidence_range"
        ),
        Index(
            "ix_check_ins_key_result_id_observed_at_recorded_at",
            "key_result_id",
            "observed_at",
            "recorded_at",
        ),
    )

    key_result_id: Mapped[uuid.UUID] = mapped_column()
    value: Mapped[float | None] = mapped_column(Float)
    done: Mapped[bool | None] = mapped_column(Boolean)
    confidence: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    author_person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(16), default=CheckInSource.graphql)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
