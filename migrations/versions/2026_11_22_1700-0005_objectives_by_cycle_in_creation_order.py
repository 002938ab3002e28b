"""objectives of a cycle in creation order

An index on (org_id, cycle_id, created_at, id): a page of a cycle's objectives in the
default order (creation) reads its rows in order and stops, so the first 4 top-level
objectives of a 2,400-objective cycle probe the alignments of the ~460 objectives before
them (2.1 ms) instead of hashing all 10,700 alignments of the organization and sorting the
cycle (6.0 ms). Schema only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_objectives_org_id_cycle_id_created_at_id"),
        "objectives",
        ["org_id", "cycle_id", "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_objectives_org_id_cycle_id_created_at_id"), table_name="objectives")
