"""queued ingestion batches carry their per-metric counts and whether they are announced

`metric.points_ingested` is announced by the worker from the ingestion queue
(`status_rechecks`), coalescing the batches of a few seconds, instead of by every batch's own
transaction. The queue row (still written by the batch's upsert statement, in its transaction)
therefore also carries how many points of each metric the batch inserted and updated:
`inserted[i]` and `updated[i]` belong to `metric_ids[i]`, and `announced` says whether the
row's event is written: a run that announces batches without rechecking their statuses (the
recheck has its own, longer cadence under load) puts their merged spans back as one
announced row. The column defaults to true and the upsert writes false: rows queued before
this revision, or by a process still running the code before it, announced themselves (the
batch wrote its event) and get empty counts. During an upgrade, stop the workers of the old
code first: an old worker claiming a new row deletes it without writing its event.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("inserted", "updated")


def upgrade() -> None:
    for column in _COLUMNS:
        op.add_column(
            "status_rechecks",
            sa.Column(
                column,
                postgresql.ARRAY(sa.Integer()),
                server_default=sa.text("'{}'"),
                nullable=False,
            ),
        )
    op.add_column(
        "status_rechecks",
        sa.Column("announced", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    # Like the queue's other arrays (revision 0004): lz4 where the server has it.
    statements = "\n".join(
        f"ALTER TABLE status_rechecks ALTER COLUMN {column} SET COMPRESSION lz4;"
        for column in _COLUMNS
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


def downgrade() -> None:
    op.drop_column("status_rechecks", "announced")
    for column in reversed(_COLUMNS):
        op.drop_column("status_rechecks", column)
