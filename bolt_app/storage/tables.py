"""The schema as SQLAlchemy Core tables; each change here comes with an Alembic migration.

The shared `metadata`, column types and the encrypted-column registry are in `schema.py`, which
polling's and delivery's own table modules import too; the tables themselves are private to
their owners' stores.
"""

from __future__ import annotations

import sqlalchemy as sa

from bolt_app.storage.schema import AwareDateTime, encrypted_column, metadata


def _team_fk() -> sa.ForeignKey:
    return sa.ForeignKey("workspaces.team_id", ondelete="CASCADE")


workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True),
    encrypted_column("bot_token_encrypted"),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("paused_reason", sa.Text, nullable=True),
    sa.Column("created_at", AwareDateTime, nullable=False),
    sa.Column("updated_at", AwareDateTime, nullable=False),
)

sage_connections = sa.Table(
    "sage_connections",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("agent_url", sa.Text, nullable=False),
    sa.Column("companies", sa.JSON, nullable=False),
    sa.Column("auth", sa.String(16), nullable=False),
    sa.Column("client_cert_pem", sa.Text, nullable=True),
    encrypted_column("client_key_encrypted"),
    sa.Column("ca_cert_pem", sa.Text, nullable=True),
    encrypted_column("api_key_encrypted"),
    sa.Column("pin_sha256", sa.String(128), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("record_url", sa.Text, nullable=True),
    sa.Column("updated_at", AwareDateTime, nullable=False),
)

channel_routes = sa.Table(
    "channel_routes",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("channel_id", sa.String(32), nullable=False),
)

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("schedule", sa.String(64), nullable=False),
)

# When each reconciled record type is compared with the agent's keys listing (`[reconcile]`;
# Alembic revision 0008_reconcile).
reconcile_schedules = sa.Table(
    "reconcile_schedules",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("schedule", sa.String(64), nullable=False),
)

workspace_admins = sa.Table(
    "workspace_admins",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("user_id", sa.String(32), primary_key=True),
)

# No foreign key: the trail outlives a deleted workspace.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", sa.String(32), nullable=True),
    sa.Column("occurred_at", AwareDateTime, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Index("ix_audit_events_team_id_occurred_at", "team_id", "occurred_at"),
    sa.Index("ix_audit_events_occurred_at", "occurred_at"),
)

kms_data_keys = sa.Table(
    "kms_data_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kms_key_id", sa.Text, nullable=False),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", AwareDateTime, nullable=False),
)

# Slack installations: the columns slack-sdk's SQLAlchemy installation store reads and writes
# (it is pointed at these tables), with every token an `encrypted_column`. Its timestamps are
# naive UTC, as slack-sdk writes them.
slack_installations = sa.Table(
    "slack_installations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.String(32), nullable=False),
    sa.Column("app_id", sa.String(32), nullable=False),
    sa.Column("enterprise_id", sa.String(32), nullable=True),
    sa.Column("enterprise_name", sa.String(200), nullable=True),
    sa.Column("enterprise_url", sa.String(200), nullable=True),
    sa.Column("team_id", sa.String(32), nullable=True),
    sa.Column("team_name", sa.String(200), nullable=True),
    encrypted_column("bot_token"),
    sa.Column("bot_id", sa.String(32), nullable=True),
    sa.Column("bot_user_id", sa.String(32), nullable=True),
    sa.Column("bot_scopes", sa.String(1000), nullable=True),
    encrypted_column("bot_refresh_token"),
    sa.Column("bot_token_expires_at", sa.DateTime, nullable=True),
    sa.Column("user_id", sa.String(32), nullable=False),
    encrypted_column("user_token"),
    sa.Column("user_scopes", sa.String(1000), nullable=True),
    encrypted_column("user_refresh_token"),
    sa.Column("user_token_expires_at", sa.DateTime, nullable=True),
    sa.Column("incoming_webhook_url", sa.Text, nullable=True),
    sa.Column("incoming_webhook_channel", sa.String(200), nullable=True),
    sa.Column("incoming_webhook_channel_id", sa.String(200), nullable=True),
    sa.Column("incoming_webhook_configuration_url", sa.Text, nullable=True),
    sa.Column("is_enterprise_install", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("token_type", sa.String(32), nullable=True),
    sa.Column("installed_at", sa.DateTime, nullable=False),
    sa.Index(
        "ix_slack_installations_lookup",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

slack_bots = sa.Table(
    "slack_bots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.String(32), nullable=False),
    sa.Column("app_id", sa.String(32), nullable=False),
    sa.Column("enterprise_id", sa.String(32), nullable=True),
    sa.Column("enterprise_name", sa.String(200), nullable=True),
    sa.Column("team_id", sa.String(32), nullable=True),
    sa.Column("team_name", sa.String(200), nullable=True),
    encrypted_column("bot_token"),
    sa.Column("bot_id", sa.String(32), nullable=True),
    sa.Column("bot_user_id", sa.String(32), nullable=True),
    sa.Column("bot_scopes", sa.String(1000), nullable=True),
    encrypted_column("bot_refresh_token"),
    sa.Column("bot_token_expires_at", sa.DateTime, nullable=True),
    sa.Column("is_enterprise_install", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("installed_at", sa.DateTime, nullable=False),
    sa.Index("ix_slack_bots_lookup", "client_id", "enterprise_id", "team_id", "installed_at"),
)

# OAuth `state` values between /slack/install and /slack/oauth_redirect (slack-sdk's store).
slack_oauth_states = sa.Table(
    "slack_oauth_states",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("state", sa.String(200), nullable=False),
    sa.Column("expire_at", sa.DateTime, nullable=False),
)

# One row per Events API event_id received, so a retried event is handled once in any process.
slack_event_receipts = sa.Table(
    "slack_event_receipts",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("team_id", sa.String(32), nullable=True),
    sa.Column("received_at", AwareDateTime, nullable=False),
    sa.Index("ix_slack_event_receipts_received_at", "received_at"),
)

# The workspace file's `[[rules]]` and `backfill_days` (Alembic revision 0003_polling).
routing_rules = sa.Table(
    "routing_rules",
    metadata,
    sa.Column(
        "team_id",
        sa.String(32),
        sa.ForeignKey("workspaces.team_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("record_type", sa.String(32), nullable=False),
    sa.Column("channel_id", sa.String(32), nullable=True),
    sa.Column("warehouse", sa.String(16), nullable=True),
    sa.Column("min_amount", sa.String(32), nullable=True),  # a Decimal, kept exact
    sa.Column("mention", sa.String(32), nullable=True),
)

polling_settings = sa.Table(
    "polling_settings",
    metadata,
    sa.Column(
        "team_id",
        sa.String(32),
        sa.ForeignKey("workspaces.team_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("backfill_days", sa.Integer, nullable=True),
)

# The workspace file's `[[reminders]]` (Alembic revision 0005_reminders): one per channel.
reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("schedule", sa.String(64), nullable=False),
    sa.Column("include", sa.JSON, nullable=False),  # section names, in message order
    sa.Column("due_within_days", sa.Integer, nullable=False),
    sa.Column("new_after_days", sa.Integer, nullable=False),
    sa.Column("always", sa.Boolean, nullable=False),
)
