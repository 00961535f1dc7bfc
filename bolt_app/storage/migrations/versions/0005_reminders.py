"""Scheduled reminders: their configuration and when each last went out.

Revision ID: 0005_reminders
Revises: 0004_slack
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_reminders"
down_revision: str | None = "0004_slack"
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
        "reminders",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("schedule", sa.String(64), nullable=False),
        sa.Column("include", sa.JSON, nullable=False),
        sa.Column("due_within_days", sa.Integer, nullable=False),
        sa.Column("new_after_days", sa.Integer, nullable=False),
        sa.Column("always", sa.Boolean, nullable=False),
        _team_fk("reminders"),
        sa.PrimaryKeyConstraint("team_id", "channel_id", name="pk_reminders"),
    )
    op.create_table(
        "reminder_runs",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("last_due_at", sa.DateTime(timezone=True), nullable=False),
        _team_fk("reminder_runs"),
        sa.PrimaryKeyConstraint("team_id", "channel_id", name="pk_reminder_runs"),
    )


def downgrade() -> None:
    op.drop_table("reminder_runs")
    op.drop_table("reminders")
