"""Declarative base, naming convention and the column shapes every tenant table shares."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TenantMixin:
    """`org_id` on every tenant row: the distribution key and the filter of every query.

    Not indexed here: most tenant tables have an index led by `org_id` already (the unique
    `(org_id, id)` that tenant foreign keys point at, or a lookup index), which serves every
    `org_id` filter and the organization's cascading delete; an index on `org_id` alone
    beside it would only cost every write. Tables without one declare `org_id_index()`
    (`tests/test_migrations.py` checks both ways).
    """

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))


def org_id_index() -> Index:
    """The `org_id` index of a tenant table that has no other index led by `org_id`; named
    `ix_<table>_org_id` by the naming convention."""
    return Index(None, "org_id")


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def tenant_fk(column: str, target: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A foreign key that also matches `org_id`, so no row can point into another tenant."""
    return ForeignKeyConstraint(
        ["org_id", column], [f"{target}.org_id", f"{target}.id"], ondelete=ondelete
    )


def enum_check(column: str, enum: type[StrEnum], name: str | None = None) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name or f"{column}_valid")
