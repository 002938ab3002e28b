"""status rechecks and stored key-result statuses

Ingestion no longer reads key-result windows in its transaction: it queues a
`status_rechecks` row per batch, and the worker announces the status changes.
`key_result_statuses` holds the last status announced (or first observed) per key result.
Schema only: no data is moved (a key result without a stored status is stored silently the
first time it is evaluated).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_result_statuses",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key_result_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('off_track', 'at_risk', 'no_data', 'on_track', 'done')",
            name=op.f("ck_key_result_statuses_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "key_result_id"],
            ["key_results.org_id", "key_results.id"],
            name=op.f("fk_key_result_statuses_org_id_key_result_id_key_results"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_key_result_statuses_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "key_result_id", name=op.f("pk_key_result_statuses")),
    )
    op.create_table(
        "status_rechecks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("metric_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("first_ts", postgresql.ARRAY(sa.DateTime(timezone=True)), nullable=False),
        sa.Column("last_ts", postgresql.ARRAY(sa.DateTime(timezone=True)), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_status_rechecks_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_rechecks")),
    )
    op.create_index(op.f("ix_status_rechecks_org_id"), "status_rechecks", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_status_rechecks_org_id"), table_name="status_rechecks")
    op.drop_table("status_rechecks")
    op.drop_table("key_result_statuses")
