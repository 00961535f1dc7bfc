"""Poll cursors and state, seen records, routing rules, polling settings.

Revision ID: 0003_polling
Revises: 0002_delivery
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_polling"
down_revision: str | None = "0002_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _team_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["team_id"],
        ["workspaces.team_id"],
        name=f"fk_{table}_team_id_workspaces",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "poll_states",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("company", sa.String(16), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("cursor", sa.String(32), nullable=True),
        sa.Column("last_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("records_seen_last_poll", sa.Integer, nullable=True),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "company", "record_type", name="pk_poll_states"),
        _team_fk("poll_states"),
    )
    op.create_table(
        "seen_records",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("company", sa.String(16), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("delivery_id", sa.Integer, nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "company", "record_type", "record_key", "channel_id", name="pk_seen_records"
        ),
        _team_fk("seen_records"),
    )
    op.create_table(
        "routing_rules",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("warehouse", sa.String(16), nullable=True),
        sa.Column("min_amount", sa.String(32), nullable=True),
        sa.Column("mention", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "position", name="pk_routing_rules"),
        _team_fk("routing_rules"),
    )
    op.create_table(
        "polling_settings",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("backfill_days", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("team_id", name="pk_polling_settings"),
        _team_fk("polling_settings"),
    )


def downgrade() -> None:
    for table in ("polling_settings", "routing_rules", "seen_records", "poll_states"):
        op.drop_table(table)
