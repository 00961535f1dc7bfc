"""A partial index of the deliveries not yet sent, so the worker's idle loop, the queue gauges
and `status` read the live rows only, however many sent ones are kept.

Revision ID: 0010_live_deliveries
Revises: 0009_poll_bursts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_live_deliveries"
down_revision: str | None = "0009_poll_bursts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    not_sent = sa.text("status != 'sent'")
    op.create_index(
        "ix_deliveries_live",
        "deliveries",
        ["team_id", "channel_id", "status"],
        sqlite_where=not_sent,
        postgresql_where=not_sent,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_live", table_name="deliveries")
