"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 08:01:40.179699
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "organizations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(settings) = 'object'", name=op.f("ck_organizations_settings_object")
        ),
        sa.CheckConstraint(
            "length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_organizations_name_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "cycles",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("parent_cycle_id", sa.Uuid(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_cycles_dates_ordered")),
        sa.CheckConstraint(
            "length(btrim(name)) BETWEEN 1 AND 100", name=op.f("ck_cycles_name_length")
        ),
        sa.CheckConstraint(
            "parent_cycle_id IS DISTINCT FROM id", name=op.f("ck_cycles_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "parent_cycle_id"],
            ["cycles.org_id", "cycles.id"],
            name=op.f("fk_cycles_org_id_parent_cycle_id_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_cycles_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_cycles_org_id_id")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_cycles_org_id_name")),
    )
    op.create_index(op.f("ix_cycles_org_id"), "cycles", ["org_id"], unique=False)
    op.create_index(op.f("ix_cycles_parent_cycle_id"), "cycles", ["parent_cycle_id"], unique=False)
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
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
            name=op.f("fk_events_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_events_org_id_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_events_seq")),
    )
    op.create_index(op.f("ix_events_org_id"), "events", ["org_id"], unique=False)
    op.create_index("ix_events_org_id_seq", "events", ["org_id", "seq"], unique=False)
    op.create_index(
        "ix_events_daily_sweep",
        "events",
        ["org_id", "seq"],
        unique=False,
        postgresql_where=sa.text("type = 'lodestar.daily_sweep'"),
    )
    op.create_table(
        "people",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("accountable_person_id", sa.Uuid(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind = 'human' OR accountable_person_id IS NOT NULL",
            name=op.f("ck_people_agent_accountable"),
        ),
        sa.CheckConstraint("kind IN ('human', 'agent')", name=op.f("ck_people_kind_valid")),
        sa.CheckConstraint(
            "accountable_person_id IS DISTINCT FROM id", name=op.f("ck_people_not_self_accountable")
        ),
        sa.CheckConstraint(
            "length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_people_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "accountable_person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_people_org_id_accountable_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_people_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_people_org_id_id")),
    )
    op.create_index(
        op.f("ix_people_accountable_person_id"), "people", ["accountable_person_id"], unique=False
    )
    op.create_index(op.f("ix_people_org_id"), "people", ["org_id"], unique=False)
    op.create_index(
        "uq_people_org_id_email",
        "people",
        ["org_id", sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.create_table(
        "teams",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_team_id", sa.Uuid(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_teams_name_length")
        ),
        sa.CheckConstraint(
            "parent_team_id IS DISTINCT FROM id", name=op.f("ck_teams_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "parent_team_id"],
            ["teams.org_id", "teams.id"],
            name=op.f("fk_teams_org_id_parent_team_id_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_teams_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_teams_org_id_id")),
    )
    op.create_index(op.f("ix_teams_org_id"), "teams", ["org_id"], unique=False)
    op.create_index(op.f("ix_teams_parent_team_id"), "teams", ["parent_team_id"], unique=False)
    op.create_table(
        "webhook_endpoints",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("url ~ '^https?://'", name=op.f("ck_webhook_endpoints_url_http")),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_endpoints_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_webhook_endpoints_org_id_id")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_org_id"), "webhook_endpoints", ["org_id"], unique=False
    )
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "scopes <@ ARRAY['read', 'write', 'ingest', 'admin']::varchar[] AND cardinality(scopes) > 0",
            name=op.f("ck_api_keys_scopes_valid"),
        ),
        sa.CheckConstraint(
            "length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_api_keys_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "created_by_person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_api_keys_org_id_created_by_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_api_keys_org_id_id")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_index(op.f("ix_api_keys_org_id"), "api_keys", ["org_id"], unique=False)
    op.create_table(
        "commitments",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("success_criteria", sa.Text(), nullable=False),
        sa.Column("owner_person_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dropped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(state = 'done') = (done_at IS NOT NULL)", name=op.f("ck_commitments_done_at_iff_done")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'done', 'dropped')", name=op.f("ck_commitments_state_valid")
        ),
        sa.CheckConstraint(
            "length(btrim(success_criteria)) BETWEEN 1 AND 5000",
            name=op.f("ck_commitments_success_criteria_length"),
        ),
        sa.CheckConstraint(
            "length(btrim(title)) BETWEEN 1 AND 300", name=op.f("ck_commitments_title_length")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_commitments_org_id_owner_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_commitments_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_commitments_org_id_id")),
    )
    op.create_index(op.f("ix_commitments_org_id"), "commitments", ["org_id"], unique=False)
    op.create_index(
        "ix_commitments_org_id_due_on", "commitments", ["org_id", "due_on"], unique=False
    )
    op.create_index(
        op.f("ix_commitments_owner_person_id"), "commitments", ["owner_person_id"], unique=False
    )
    op.create_table(
        "deliveries",
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_deliveries_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "endpoint_id"],
            ["webhook_endpoints.org_id", "webhook_endpoints.id"],
            name=op.f("fk_deliveries_org_id_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_deliveries_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_deliveries_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_deliveries_endpoint_id_event_id")
        ),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_deliveries_org_id_id")),
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(op.f("ix_deliveries_org_id"), "deliveries", ["org_id"], unique=False)
    op.create_table(
        "metrics",
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("definition", sa.Text(), server_default="", nullable=False),
        sa.Column("unit", sa.String(length=50), server_default="", nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("aggregation", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("observation_window_days", sa.Integer(), nullable=True),
        sa.Column("owner_person_id", sa.Uuid(), nullable=True),
        sa.Column("is_north_star", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "aggregation IN ('sum', 'avg', 'min', 'max', 'last', 'count')",
            name=op.f("ck_metrics_aggregation_valid"),
        ),
        sa.CheckConstraint(
            "direction IN ('increase', 'decrease')", name=op.f("ck_metrics_direction_valid")
        ),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9_]{0,62}$'", name=op.f("ck_metrics_key_slug")),
        sa.CheckConstraint("kind IN ('leading', 'lagging')", name=op.f("ck_metrics_kind_valid")),
        sa.CheckConstraint(
            "length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_metrics_name_length")
        ),
        sa.CheckConstraint(
            "observation_window_days IS NULL OR observation_window_days BETWEEN 1 AND 3660",
            name=op.f("ck_metrics_observation_window_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_metrics_org_id_owner_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_metrics_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_metrics_org_id_id")),
        sa.UniqueConstraint("org_id", "key", name=op.f("uq_metrics_org_id_key")),
    )
    op.create_index(op.f("ix_metrics_org_id"), "metrics", ["org_id"], unique=False)
    op.create_index(
        op.f("ix_metrics_owner_person_id"), "metrics", ["owner_person_id"], unique=False
    )
    op.create_index(
        "uq_metrics_org_id_north_star",
        "metrics",
        ["org_id"],
        unique=True,
        postgresql_where=sa.text("is_north_star"),
    )
    op.create_table(
        "objectives",
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("owner_team_id", sa.Uuid(), nullable=True),
        sa.Column("owner_person_id", sa.Uuid(), nullable=True),
        sa.Column("cycle_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rollup_mode", sa.String(length=16), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "rollup_mode IN ('auto', 'key_results', 'children', 'both')",
            name=op.f("ck_objectives_rollup_mode_valid"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'active', 'closed', 'archived')",
            name=op.f("ck_objectives_state_valid"),
        ),
        sa.CheckConstraint(
            "(owner_team_id IS NULL) <> (owner_person_id IS NULL)",
            name=op.f("ck_objectives_one_owner"),
        ),
        sa.CheckConstraint(
            "length(btrim(title)) BETWEEN 1 AND 300", name=op.f("ck_objectives_title_length")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "cycle_id"],
            ["cycles.org_id", "cycles.id"],
            name=op.f("fk_objectives_org_id_cycle_id_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_objectives_org_id_owner_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_team_id"],
            ["teams.org_id", "teams.id"],
            name=op.f("fk_objectives_org_id_owner_team_id_teams"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_objectives_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objectives")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_objectives_org_id_id")),
    )
    op.create_index(op.f("ix_objectives_org_id"), "objectives", ["org_id"], unique=False)
    op.create_index(
        "ix_objectives_org_id_cycle_id_state",
        "objectives",
        ["org_id", "cycle_id", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_objectives_owner_person_id"), "objectives", ["owner_person_id"], unique=False
    )
    op.create_index(
        op.f("ix_objectives_owner_team_id"), "objectives", ["owner_team_id"], unique=False
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_team_members_org_id_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "team_id"],
            ["teams.org_id", "teams.id"],
            name=op.f("fk_team_members_org_id_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_team_members_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "person_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_org_id"), "team_members", ["org_id"], unique=False)
    op.create_index(op.f("ix_team_members_person_id"), "team_members", ["person_id"], unique=False)
    op.create_table(
        "alignments",
        sa.Column("child_objective_id", sa.Uuid(), nullable=False),
        sa.Column("parent_objective_id", sa.Uuid(), nullable=False),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "weight >= 0 AND weight < 'Infinity'::float8",
            name=op.f("ck_alignments_weight_non_negative"),
        ),
        sa.CheckConstraint(
            "child_objective_id <> parent_objective_id", name=op.f("ck_alignments_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "child_objective_id"],
            ["objectives.org_id", "objectives.id"],
            name=op.f("fk_alignments_org_id_child_objective_id_objectives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "parent_objective_id"],
            ["objectives.org_id", "objectives.id"],
            name=op.f("fk_alignments_org_id_parent_objective_id_objectives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_alignments_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "child_objective_id", "parent_objective_id", name=op.f("pk_alignments")
        ),
    )
    op.create_index(op.f("ix_alignments_org_id"), "alignments", ["org_id"], unique=False)
    op.create_index(
        op.f("ix_alignments_parent_objective_id"),
        "alignments",
        ["parent_objective_id"],
        unique=False,
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "delivery_id"],
            ["deliveries.org_id", "deliveries.id"],
            name=op.f("fk_delivery_attempts_org_id_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_delivery_attempts_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_delivery_attempts_delivery_id"), "delivery_attempts", ["delivery_id"], unique=False
    )
    op.create_index(
        op.f("ix_delivery_attempts_org_id"), "delivery_attempts", ["org_id"], unique=False
    )
    op.create_table(
        "idempotency_records",
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('in_flight', 'completed')", name=op.f("ck_idempotency_records_status_valid")
        ),
        sa.CheckConstraint(
            "length(key) BETWEEN 1 AND 255", name=op.f("ck_idempotency_records_key_length")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "api_key_id"],
            ["api_keys.org_id", "api_keys.id"],
            name=op.f("fk_idempotency_records_org_id_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_idempotency_records_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_index(
        op.f("ix_idempotency_records_expires_at"),
        "idempotency_records",
        ["expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_idempotency_records_org_id"), "idempotency_records", ["org_id"], unique=False
    )
    op.create_table(
        "key_results",
        sa.Column("objective_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner_person_id", sa.Uuid(), nullable=True),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("metric_id", sa.Uuid(), nullable=True),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("start_value", sa.Float(), nullable=True),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=50), server_default="", nullable=False),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(measure = 'metric') = (metric_id IS NOT NULL)",
            name=op.f("ck_key_results_metric_iff_measure"),
        ),
        sa.CheckConstraint(
            "direction IN ('increase', 'decrease', 'at_least', 'at_most')",
            name=op.f("ck_key_results_direction_valid"),
        ),
        sa.CheckConstraint(
            "measure = 'milestone' OR direction <> 'decrease' OR target_value < start_value",
            name=op.f("ck_key_results_decrease_ordered"),
        ),
        sa.CheckConstraint(
            "measure = 'milestone' OR direction <> 'increase' OR target_value > start_value",
            name=op.f("ck_key_results_increase_ordered"),
        ),
        sa.CheckConstraint(
            "measure = 'milestone' OR direction NOT IN ('increase', 'decrease') OR start_value IS NOT NULL",
            name=op.f("ck_key_results_start_present"),
        ),
        sa.CheckConstraint(
            "measure = 'milestone' OR target_value IS NOT NULL",
            name=op.f("ck_key_results_target_present"),
        ),
        sa.CheckConstraint(
            "measure IN ('metric', 'manual', 'milestone')",
            name=op.f("ck_key_results_measure_valid"),
        ),
        sa.CheckConstraint(
            "state IN ('active', 'archived')", name=op.f("ck_key_results_state_valid")
        ),
        sa.CheckConstraint(
            "weight >= 0 AND weight < 'Infinity'::float8",
            name=op.f("ck_key_results_weight_non_negative"),
        ),
        sa.CheckConstraint(
            "length(btrim(title)) BETWEEN 1 AND 300", name=op.f("ck_key_results_title_length")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "metric_id"],
            ["metrics.org_id", "metrics.id"],
            name=op.f("fk_key_results_org_id_metric_id_metrics"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "objective_id"],
            ["objectives.org_id", "objectives.id"],
            name=op.f("fk_key_results_org_id_objective_id_objectives"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "owner_person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_key_results_org_id_owner_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_key_results_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_results")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_key_results_org_id_id")),
    )
    op.create_index(op.f("ix_key_results_metric_id"), "key_results", ["metric_id"], unique=False)
    op.create_index(
        op.f("ix_key_results_objective_id"), "key_results", ["objective_id"], unique=False
    )
    op.create_index(op.f("ix_key_results_org_id"), "key_results", ["org_id"], unique=False)
    op.create_index(
        op.f("ix_key_results_owner_person_id"), "key_results", ["owner_person_id"], unique=False
    )
    op.create_table(
        "metric_edges",
        sa.Column("child_metric_id", sa.Uuid(), nullable=False),
        sa.Column("parent_metric_id", sa.Uuid(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "relation IN ('driver', 'component')", name=op.f("ck_metric_edges_relation_valid")
        ),
        sa.CheckConstraint(
            "weight >= 0 AND weight < 'Infinity'::float8",
            name=op.f("ck_metric_edges_weight_non_negative"),
        ),
        sa.CheckConstraint(
            "child_metric_id <> parent_metric_id", name=op.f("ck_metric_edges_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "child_metric_id"],
            ["metrics.org_id", "metrics.id"],
            name=op.f("fk_metric_edges_org_id_child_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "parent_metric_id"],
            ["metrics.org_id", "metrics.id"],
            name=op.f("fk_metric_edges_org_id_parent_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_metric_edges_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_edges")),
        sa.UniqueConstraint(
            "child_metric_id",
            "parent_metric_id",
            name=op.f("uq_metric_edges_child_metric_id_parent_metric_id"),
        ),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_metric_edges_org_id_id")),
    )
    op.create_index(op.f("ix_metric_edges_org_id"), "metric_edges", ["org_id"], unique=False)
    op.create_index(
        op.f("ix_metric_edges_parent_metric_id"), "metric_edges", ["parent_metric_id"], unique=False
    )
    op.create_table(
        "objective_metrics",
        sa.Column("objective_id", sa.Uuid(), nullable=False),
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "metric_id"],
            ["metrics.org_id", "metrics.id"],
            name=op.f("fk_objective_metrics_org_id_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "objective_id"],
            ["objectives.org_id", "objectives.id"],
            name=op.f("fk_objective_metrics_org_id_objective_id_objectives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_objective_metrics_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("objective_id", "metric_id", name=op.f("pk_objective_metrics")),
    )
    op.create_index(
        op.f("ix_objective_metrics_metric_id"), "objective_metrics", ["metric_id"], unique=False
    )
    op.create_index(
        op.f("ix_objective_metrics_org_id"), "objective_metrics", ["org_id"], unique=False
    )
    op.create_table(
        "points",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("metric_id", sa.Uuid(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "dimensions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=100), server_default="", nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(dimensions) = 'object'", name=op.f("ck_points_dimensions_object")
        ),
        sa.CheckConstraint(
            "value <> 'NaN'::float8 AND value > '-Infinity'::float8 AND value < 'Infinity'::float8",
            name=op.f("ck_points_value_finite"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "metric_id"],
            ["metrics.org_id", "metrics.id"],
            name=op.f("fk_points_org_id_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_points_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "metric_id", "ts", "dimensions", name=op.f("pk_points")),
    )
    op.create_table(
        "check_ins",
        sa.Column("key_result_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("author_person_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("source IN ('graphql', 'api')", name=op.f("ck_check_ins_source_valid")),
        sa.CheckConstraint(
            "value IS NULL OR (value <> 'NaN'::float8 AND value > '-Infinity'::float8 AND value < 'Infinity'::float8)",
            name=op.f("ck_check_ins_value_finite"),
        ),
        sa.CheckConstraint(
            "(value IS NULL) <> (done IS NULL)", name=op.f("ck_check_ins_value_or_done")
        ),
        sa.CheckConstraint(
            "confidence IS NULL OR confidence BETWEEN 0 AND 1",
            name=op.f("ck_check_ins_confidence_range"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "author_person_id"],
            ["people.org_id", "people.id"],
            name=op.f("fk_check_ins_org_id_author_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "key_result_id"],
            ["key_results.org_id", "key_results.id"],
            name=op.f("fk_check_ins_org_id_key_result_id_key_results"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_check_ins_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
    )
    op.create_index(
        op.f("ix_check_ins_author_person_id"), "check_ins", ["author_person_id"], unique=False
    )
    op.create_index(
        "ix_check_ins_key_result_id_observed_at_recorded_at",
        "check_ins",
        ["key_result_id", "observed_at", "recorded_at"],
        unique=False,
    )
    op.create_index(op.f("ix_check_ins_org_id"), "check_ins", ["org_id"], unique=False)
    op.create_table(
        "commitment_key_results",
        sa.Column("commitment_id", sa.Uuid(), nullable=False),
        sa.Column("key_result_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "commitment_id"],
            ["commitments.org_id", "commitments.id"],
            name=op.f("fk_commitment_key_results_org_id_commitment_id_commitments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "key_result_id"],
            ["key_results.org_id", "key_results.id"],
            name=op.f("fk_commitment_key_results_org_id_key_result_id_key_results"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_commitment_key_results_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "commitment_id", "key_result_id", name=op.f("pk_commitment_key_results")
        ),
    )
    op.create_index(
        op.f("ix_commitment_key_results_key_result_id"),
        "commitment_key_results",
        ["key_result_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_commitment_key_results_org_id"), "commitment_key_results", ["org_id"], unique=False
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_commitment_key_results_org_id"), table_name="commitment_key_results")
    op.drop_index(
        op.f("ix_commitment_key_results_key_result_id"), table_name="commitment_key_results"
    )
    op.drop_table("commitment_key_results")
    op.drop_index(op.f("ix_check_ins_org_id"), table_name="check_ins")
    op.drop_index("ix_check_ins_key_result_id_observed_at_recorded_at", table_name="check_ins")
    op.drop_index(op.f("ix_check_ins_author_person_id"), table_name="check_ins")
    op.drop_table("check_ins")
    op.drop_table("points")
    op.drop_index(op.f("ix_objective_metrics_org_id"), table_name="objective_metrics")
    op.drop_index(op.f("ix_objective_metrics_metric_id"), table_name="objective_metrics")
    op.drop_table("objective_metrics")
    op.drop_index(op.f("ix_metric_edges_parent_metric_id"), table_name="metric_edges")
    op.drop_index(op.f("ix_metric_edges_org_id"), table_name="metric_edges")
    op.drop_table("metric_edges")
    op.drop_index(op.f("ix_key_results_owner_person_id"), table_name="key_results")
    op.drop_index(op.f("ix_key_results_org_id"), table_name="key_results")
    op.drop_index(op.f("ix_key_results_objective_id"), table_name="key_results")
    op.drop_index(op.f("ix_key_results_metric_id"), table_name="key_results")
    op.drop_table("key_results")
    op.drop_index(op.f("ix_idempotency_records_org_id"), table_name="idempotency_records")
    op.drop_index(op.f("ix_idempotency_records_expires_at"), table_name="idempotency_records")
    op.drop_table("idempotency_records")
    op.drop_index(op.f("ix_delivery_attempts_org_id"), table_name="delivery_attempts")
    op.drop_index(op.f("ix_delivery_attempts_delivery_id"), table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    op.drop_index(op.f("ix_alignments_parent_objective_id"), table_name="alignments")
    op.drop_index(op.f("ix_alignments_org_id"), table_name="alignments")
    op.drop_table("alignments")
    op.drop_index(op.f("ix_team_members_person_id"), table_name="team_members")
    op.drop_index(op.f("ix_team_members_org_id"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_index(op.f("ix_objectives_owner_team_id"), table_name="objectives")
    op.drop_index(op.f("ix_objectives_owner_person_id"), table_name="objectives")
    op.drop_index("ix_objectives_org_id_cycle_id_state", table_name="objectives")
    op.drop_index(op.f("ix_objectives_org_id"), table_name="objectives")
    op.drop_table("objectives")
    op.drop_index(
        "uq_metrics_org_id_north_star",
        table_name="metrics",
        postgresql_where=sa.text("is_north_star"),
    )
    op.drop_index(op.f("ix_metrics_owner_person_id"), table_name="metrics")
    op.drop_index(op.f("ix_metrics_org_id"), table_name="metrics")
    op.drop_table("metrics")
    op.drop_index(op.f("ix_deliveries_org_id"), table_name="deliveries")
    op.drop_index(
        "ix_deliveries_due", table_name="deliveries", postgresql_where=sa.text("status = 'pending'")
    )
    op.drop_table("deliveries")
    op.drop_index(op.f("ix_commitments_owner_person_id"), table_name="commitments")
    op.drop_index("ix_commitments_org_id_due_on", table_name="commitments")
    op.drop_index(op.f("ix_commitments_org_id"), table_name="commitments")
    op.drop_table("commitments")
    op.drop_index(op.f("ix_api_keys_org_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_webhook_endpoints_org_id"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
    op.drop_index(op.f("ix_teams_parent_team_id"), table_name="teams")
    op.drop_index(op.f("ix_teams_org_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_index(
        "uq_people_org_id_email", table_name="people", postgresql_where=sa.text("email IS NOT NULL")
    )
    op.drop_index(op.f("ix_people_org_id"), table_name="people")
    op.drop_index(op.f("ix_people_accountable_person_id"), table_name="people")
    op.drop_table("people")
    op.drop_index(
        "ix_events_daily_sweep",
        table_name="events",
        postgresql_where=sa.text("type = 'lodestar.daily_sweep'"),
    )
    op.drop_index("ix_events_org_id_seq", table_name="events")
    op.drop_index(op.f("ix_events_org_id"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_cycles_parent_cycle_id"), table_name="cycles")
    op.drop_index(op.f("ix_cycles_org_id"), table_name="cycles")
    op.drop_table("cycles")
    op.drop_table("organizations")
