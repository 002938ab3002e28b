"""the status recheck keeps what it read of each window

`window_aggregates` holds, per metric window the recheck reads ([cycle start, min(as of,
cycle end)), keyed by the cycle's bounds), the count of its points up to `through` and their
aggregate by the metric's aggregation (sum, minimum or maximum), with the PostgreSQL
snapshot they were read at (`pg_current_snapshot()` as text), the transaction that read
them (`read_by`) and when the window was last read whole. The next recheck adds only the
points written since instead of reading the whole window again
(`service.events.window_cache`). To know which points those are, every queued batch
(`status_rechecks`) now records its transaction id (`xids`, `xid8` values as bigint; a
put-back row lists those of the batches it merges). Rows queued before this revision have
no `xids`: their metrics' windows are read whole once. The table starts empty: each window
is read whole the first time. During an upgrade, stop the workers of the old code first: an
old worker's recheck consumes batches without dropping the kept rows they reach, which then
miss those points until their hourly whole read.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "status_rechecks", sa.Column("xids", postgresql.ARRAY(sa.BigInteger()), nullable=True)
    )
    op.create_table(
        "window_aggregates",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aggregation", sa.String(length=16), nullable=False),
        sa.Column("through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=True),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("read_by", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "metric_id"],
            ["metrics.org_id", "metrics.id"],
            name=op.f("fk_window_aggregates_org_id_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "metric_id", "starts_at", "ends_at", name=op.f("pk_window_aggregates")
        ),
    )


def downgrade() -> None:
    op.drop_table("window_aggregates")
    op.drop_column("status_rechecks", "xids")
