"""Rows a poll could not read, kept by key until they read cleanly (`status`, App Home).

Revision ID: 0007_skipped_rows
Revises: 0006_slim_seen_snapshots
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_skipped_rows"
down_revision: str | None = "0006_slim_seen_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "skipped_rows",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("company", sa.String(16), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "company", "record_type", "record_key", name="pk_skipped_rows"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name="fk_skipped_rows_team_id_workspaces",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("skipped_rows")
