"""Delivery tables (Alembic revisions 0002_delivery and 0010_live_deliveries mirror them).

`deliveries` is the outbox: one row per Slack call to make, written in the poll's
transaction, drained by the worker. `channel_pacing` is the per-channel send clock every
worker process shares (its row is also the lock that serialises sends to one channel);
`team_pacing` holds a workspace-wide 429 pause (two channels of a workspace
rate-limited at once).

Sent rows are most of `deliveries` (a month of them, kept for threading and the audit); the
worker, the gauges and `status` look only at the others through `ix_deliveries_live`, a partial
index a query can use only when it states `NOT_SENT` word for word.
"""

from __future__ import annotations

import sqlalchemy as sa

from bolt_app.storage.schema import AwareDateTime, metadata

DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "dead")
DELIVERY_KINDS = ("post", "update", "reply")

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", sa.String(32), nullable=False),
    sa.Column("channel_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column(
        "parent_delivery_id",
        sa.Integer,
        sa.ForeignKey("deliveries.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("company", sa.String(16), nullable=False),
    sa.Column("record_type", sa.String(32), nullable=False),
    sa.Column("record_key", sa.String(255), nullable=False),
    # Failed attempts so far; a 429 is not a failure and does not count.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", AwareDateTime, nullable=False),
    sa.Column("lease_expires_at", AwareDateTime, nullable=True),
    sa.Column("leased_by", sa.String(128), nullable=True),
    sa.Column("slack_ts", sa.String(32), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("plain_text", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("join_tried", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", AwareDateTime, nullable=False),
    sa.Column("updated_at", AwareDateTime, nullable=False),
    sa.Column("sent_at", AwareDateTime, nullable=True),
    sa.CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
    sa.CheckConstraint(f"kind IN {DELIVERY_KINDS!r}", name="kind"),
    sa.Index("ix_deliveries_channel_queue", "team_id", "channel_id", "status", "id"),
    sa.Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    # The prune's lookups, and the children a deleted post's ON DELETE SET NULL finds.
    sa.Index("ix_deliveries_parent", "parent_delivery_id"),
    sa.Index(
        "ix_deliveries_record",
        "team_id",
        "channel_id",
        "company",
        "record_type",
        "record_key",
        "kind",
        "id",
    ),
)

# A literal, not a bound parameter: SQLite matches a partial index's WHERE only against the same
# term in the query, and PostgreSQL cannot prove `status != $1` implies it in a generic plan.
NOT_SENT = deliveries.c.status != sa.literal_column("'sent'")

sa.Index(
    "ix_deliveries_live",
    deliveries.c.team_id,
    deliveries.c.channel_id,
    deliveries.c.status,
    sqlite_where=NOT_SENT,
    postgresql_where=NOT_SENT,
)

channel_pacing = sa.Table(
    "channel_pacing",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True),
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("next_send_at", AwareDateTime, nullable=False),
    sa.Column("paused_until", AwareDateTime, nullable=True),
)

team_pacing = sa.Table(
    "team_pacing",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True),
    sa.Column("paused_until", AwareDateTime, nullable=False),
)
