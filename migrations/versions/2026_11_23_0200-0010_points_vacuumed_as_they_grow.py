"""points are vacuumed as they grow, not after a fifth more

Sets the points table's insert-triggered autovacuum to every 100,000 inserted rows
(`autovacuum_vacuum_insert_threshold = 100000`, `autovacuum_vacuum_insert_scale_factor = 0`)
instead of PostgreSQL's default of 1,000 rows plus a fifth of the table. A window's aggregate
reads the primary key alone (it carries `value`, revision 0007), but only on pages the
visibility map marks all-visible, which only a vacuum does; under the default a table of
100 million points leaves up to 20 million of its newest rows, the ones roll-ups and the
status recheck read most, behind heap fetches. Measured on the benchmark's organization
after 1,000,000 ingested points (1,000 metrics, one point each per batch), the status
recheck's window reads (839 windows): 1.07-1.11 s before a vacuum, 0.29-0.36 s after.
An insert-only vacuum visits only the pages written since the last one.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE points SET (autovacuum_vacuum_insert_threshold = 100000,"
        " autovacuum_vacuum_insert_scale_factor = 0)"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE points RESET (autovacuum_vacuum_insert_threshold,"
        " autovacuum_vacuum_insert_scale_factor)"
    )
