"""The reconcile pass: the agent's version of every listed key, each resource's passes, and
each workspace's reconcile schedules.

Revision ID: 0008_reconcile
Revises: 0007_skipped_rows
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_reconcile"
down_revision: str | None = "0007_skipped_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _team_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["team_id"],
        ["workspaces.team_id"],
        name=f"fk_{table}_team_id_workspaces",
        ondelete="CASCADE",
    )


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("company", sa.String(16), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "reconcile_schedules",
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("schedule", sa.String(64), nullable=False),
        _team_fk("reconcile_schedules"),
        sa.PrimaryKeyConstraint("team_id", "record_type", name="pk_reconcile_schedules"),
    )
    op.create_table(
        "reconcile_states",
        *_key_columns(),
        sa.Column("pass_no", sa.Integer, nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("off_reason", sa.Text, nullable=True),
        _team_fk("reconcile_states"),
        sa.PrimaryKeyConstraint("team_id", "company", "record_type", name="pk_reconcile_states"),
    )
    op.create_table(
        "reconcile_keys",
        *_key_columns(),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("tracked_key", sa.String(255), nullable=True),
        sa.Column("pass_no", sa.Integer, nullable=False),
        _team_fk("reconcile_keys"),
        sa.PrimaryKeyConstraint(
            "team_id", "company", "record_type", "record_key", name="pk_reconcile_keys"
        ),
    )
    op.create_index(
        "ix_reconcile_keys_pass",
        "reconcile_keys",
        ["team_id", "company", "record_type", "pass_no"],
    )


def downgrade() -> None:
    op.drop_index("ix_reconcile_keys_pass", table_name="reconcile_keys")
    op.drop_table("reconcile_keys")
    op.drop_table("reconcile_states")
    op.drop_table("reconcile_schedules")
