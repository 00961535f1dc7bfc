"""The schema as SQLAlchemy Core tables; each change here comes with an Alembic migration.

Encrypted columns are declared with `encrypted_column`, which tags them in `Column.info`;
`encrypted_columns()` collects every tagged column of the metadata, so `keys rotate` finds the
secrets of tables added later (Slack installations, ...) without a second list to maintain.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class AwareDateTime(sa.TypeDecorator[datetime]):
    """Stores UTC, returns aware datetimes on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encrypted_column(name: str, *, nullable: bool = True) -> sa.Column[str]:
    """A column holding a `SecretBox` token; `keys rotate` re-encrypts it."""
    return sa.Column(name, sa.Text, nullable=nullable, info={"encrypted": True})


def encrypted_columns(meta: sa.MetaData = metadata) -> dict[sa.Table, list[sa.Column]]:
    """Every encrypted column, by table (the registry `keys rotate` walks)."""
    found: dict[sa.Table, list[sa.Column]] = {}
    for table in meta.sorted_tables:
        columns = [column for column in table.columns if column.info.get("encrypted")]
        if columns:
            found[table] = columns
    return found


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
