"""Indexes that make the daily prune of sent messages linear: a post's newer post of the same
record, and a message's children (the check for one still waiting, and the ON DELETE SET NULL
a deleted post's children get), each found by an index instead of a scan of the table.

Revision ID: 0011_prune_indexes
Revises: 0010_live_deliveries
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_prune_indexes"
down_revision: str | None = "0010_live_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_deliveries_parent", "deliveries", ["parent_delivery_id"])
    op.create_index(
        "ix_deliveries_record",
        "deliveries",
        ["team_id", "channel_id", "company", "record_type", "record_key", "kind", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_record", table_name="deliveries")
    op.drop_index("ix_deliveries_parent", table_name="deliveries")
