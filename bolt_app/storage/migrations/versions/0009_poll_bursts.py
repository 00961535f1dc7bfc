"""A poll's bursts in progress: the running summary of each channel's digest, stored with the
batches whose records it holds, so a crash between batches still announces what was committed.

Revision ID: 0009_poll_bursts
Revises: 0008_reconcile
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_poll_bursts"
down_revision: str | None = "0008_reconcile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poll_bursts",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("company", sa.String(16), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name="fk_poll_bursts_team_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "team_id", "company", "record_type", "channel_id", "kind", name="pk_poll_bursts"
        ),
    )


def downgrade() -> None:
    op.drop_table("poll_bursts")
