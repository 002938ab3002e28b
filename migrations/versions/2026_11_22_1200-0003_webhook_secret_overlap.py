"""webhook secret rotation with overlap

After `webhookEndpointRotateSecret`, deliveries are signed with the new and the previous
secret (two signatures in `webhook-signature`) until `previous_secret_expires_at`, so a
receiver can switch secrets without rejecting deliveries in between.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhook_endpoints", sa.Column("previous_secret", sa.String(200)))
    op.add_column(
        "webhook_endpoints",
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True)),
    )
    op.create_check_constraint(
        op.f("ck_webhook_endpoints_previous_secret_expiry"),
        "webhook_endpoints",
        "(previous_secret IS NULL) = (previous_secret_expires_at IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_webhook_endpoints_previous_secret_expiry"), "webhook_endpoints", type_="check"
    )
    op.drop_column("webhook_endpoints", "previous_secret_expires_at")
    op.drop_column("webhook_endpoints", "previous_secret")
