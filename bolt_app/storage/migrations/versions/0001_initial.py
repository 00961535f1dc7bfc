"""Workspaces, Sage connections, channel routes, schedules, admins, audit trail, KMS data keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("bot_token_encrypted", sa.Text, nullable=True),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("paused_reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_workspaces"),
    )
    op.create_table(
        "sage_connections",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("agent_url", sa.Text, nullable=False),
        sa.Column("companies", sa.JSON, nullable=False),
        sa.Column("auth", sa.String(16), nullable=False),
        sa.Column("client_cert_pem", sa.Text, nullable=True),
        sa.Column("client_key_encrypted", sa.Text, nullable=True),
        sa.Column("ca_cert_pem", sa.Text, nullable=True),
        sa.Column("api_key_encrypted", sa.Text, nullable=True),
        sa.Column("pin_sha256", sa.String(128), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("record_url", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name="pk_sage_connections"),
        _team_fk("sage_connections"),
    )
    op.create_table(
        "channel_routes",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "record_type", name="pk_channel_routes"),
        _team_fk("channel_routes"),
    )
    op.create_table(
        "schedules",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("schedule", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "record_type", name="pk_schedules"),
        _team_fk("schedules"),
    )
    op.create_table(
        "workspace_admins",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name="pk_workspace_admins"),
        _team_fk("workspace_admins"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index(
        "ix_audit_events_team_id_occurred_at", "audit_events", ["team_id", "occurred_at"]
    )
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"])
    op.create_table(
        "kms_data_keys",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("kms_key_id", sa.Text, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kms_data_keys"),
    )


def _team_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["team_id"],
        ["workspaces.team_id"],
        name=f"fk_{table}_team_id_workspaces",
        ondelete="CASCADE",
    )


def downgrade() -> None:
    for table in (
        "kms_data_keys",
        "audit_events",
        "workspace_admins",
        "schedules",
        "channel_routes",
        "sage_connections",
        "workspaces",
    ):
        op.drop_table(table)
