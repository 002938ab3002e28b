"""no org_id index beside an index already led by org_id

Drops the single-column `org_id` index of the twelve tenant tables that also have an index
led by `org_id` (their unique `(org_id, id)`, which tenant foreign keys point at, or a lookup
index such as `(org_id, key)`): that index serves every `org_id` filter and the
organization's cascading delete, so the single-column one only cost every insert and update
of those tables its maintenance, and their storage. The eight tenant tables without such an
index keep theirs (`service.models.base.org_id_index`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "api_keys",
    "commitments",
    "cycles",
    "deliveries",
    "events",
    "key_results",
    "metric_edges",
    "metrics",
    "objectives",
    "people",
    "teams",
    "webhook_endpoints",
)


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_org_id", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_org_id", table, ["org_id"])
