"""lz4 compression for the large values every ingestion batch writes

A batch of 1,000 points over 1,000 metrics writes a ~200 KB `metric.points_ingested` payload
and a ~40 KB `status_rechecks` row; PostgreSQL's default compression (pglz) spent 3-4 ms of
the batch's transaction on them, lz4 under 1 ms at about the same size (measured on
PostgreSQL 15). lz4 needs a server built with it (`--with-lz4`, as distribution packages
are); where it is missing (some embedded builds) the columns keep pglz and this revision
only says so: the schema is otherwise the same.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("events", "payload"),
    ("status_rechecks", "metric_ids"),
    ("status_rechecks", "first_ts"),
    ("status_rechecks", "last_ts"),
)


def _set_compression(method: str) -> None:
    statements = "\n".join(
        f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method};"
        for table, column in _COLUMNS
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            {statements}
        EXCEPTION WHEN feature_not_supported THEN
            RAISE NOTICE 'this server has no lz4: large values stay compressed with pglz';
        END
        $$
        """
    )


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
