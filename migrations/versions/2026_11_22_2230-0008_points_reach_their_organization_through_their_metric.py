"""points reach their organization through their metric

Drops `fk_points_org_id_organizations`. A point's `(org_id, metric_id)` already references
`metrics (org_id, id)`, and a metric references its organization, so the direct key checked
nothing the composite one does not; deleting an organization still removes its points
(organization → metrics → points, both `ON DELETE CASCADE`). It cost a referential-integrity
check per written point: with it gone the benchmark's 1,000-point batches went from
48,946-51,604 to 52,435-55,727 points/s for Lodestar and from 94,423-108,691 to
111,228-112,132 for a raw upsert (one held benchmark database, 150 batches a side, two runs
each way); in full benchmark runs ~50-53k -> 54-58k and ~95-106k -> 121-130k.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 22:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("fk_points_org_id_organizations", "points", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        "fk_points_org_id_organizations",
        "points",
        "organizations",
        ["org_id"],
        ["id"],
        ondelete="CASCADE",
    )
