"""Polling tables (Alembic revision 0003_polling mirrors them).

`poll_states` is one row per (workspace, company, record type): the cursor (the agent's wall
clock, naive ISO text, because the agent filters by wall clock), what `status` shows, and the
lease that lets one worker run a poll per due time. `seen_records` remembers, per channel, the
version last announced and the delivery id of its POST so a change becomes an update and a
reply. `skipped_rows` lists the rows a poll could not read, by key, until one reads cleanly,
for `status` and the App Home.
"""

from __future__ import annotations

import sqlalchemy as sa

from bolt_app.storage.schema import AwareDateTime, metadata


def _team_fk() -> sa.ForeignKey:
    return sa.ForeignKey("workspaces.team_id", ondelete="CASCADE")


poll_states = sa.Table(
    "poll_states",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("company", sa.String(16), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("cursor", sa.String(32), nullable=True),
    sa.Column("last_poll_at", AwareDateTime, nullable=True),
    sa.Column("last_success_at", AwareDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("records_seen_last_poll", sa.Integer, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", AwareDateTime, nullable=True),
    sa.Column("last_due_at", AwareDateTime, nullable=True),
)

seen_records = sa.Table(
    "seen_records",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("company", sa.String(16), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("record_key", sa.String(255), primary_key=True),
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("delivery_id", sa.Integer, nullable=True),  # the POST; None: baseline or digest
    sa.Column("first_seen_at", AwareDateTime, nullable=False),
    sa.Column("changed_at", AwareDateTime, nullable=False),
)

skipped_rows = sa.Table(
    "skipped_rows",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("company", sa.String(16), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("record_key", sa.String(255), primary_key=True),  # "" for a row without one
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("first_seen_at", AwareDateTime, nullable=False),
    sa.Column("last_seen_at", AwareDateTime, nullable=False),
)

# When each channel's reminder last went out (Alembic revision 0005_reminders): claiming a due
# time here lets exactly one worker post it. Kept apart from the `reminders` configuration,
# which `workspace apply` rewrites, so re-applying a file never makes a reminder go out twice.
reminder_runs = sa.Table(
    "reminder_runs",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("last_due_at", AwareDateTime, nullable=False),
)

# The reconcile pass (Alembic revision 0008_reconcile): per resource, the agent's own version of
# every key it listed (`reconcile_keys`, with the tracked key the connector's messages use) and
# the pass that last listed it, so a key the last complete pass did not list is a candidate gone.
# `reconcile_states` numbers the passes and keeps what `status` shows and the claimed due time.
reconcile_states = sa.Table(
    "reconcile_states",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("company", sa.String(16), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("pass_no", sa.Integer, nullable=False),
    sa.Column("last_run_at", AwareDateTime, nullable=True),
    sa.Column("last_success_at", AwareDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_due_at", AwareDateTime, nullable=True),
    sa.Column("off_reason", sa.Text, nullable=True),  # why the last attempt could not run
)

reconcile_keys = sa.Table(
    "reconcile_keys",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("company", sa.String(16), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("record_key", sa.String(255), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("tracked_key", sa.String(255), nullable=True),  # None: not yet known
    sa.Column("pass_no", sa.Integer, nullable=False),
    sa.Index("ix_reconcile_keys_pass", "team_id", "company", "record_type", "pass_no"),
)

# A poll's bursts in progress (Alembic revision 0009_poll_bursts): per channel and kind (new,
# changed), the running summary of the digest whose members' seen rows are already committed.
# The poll's last transaction queues the digest and deletes the row; a row left by a crash is
# announced by the next poll of its resource first.
poll_bursts = sa.Table(
    "poll_bursts",
    metadata,
    sa.Column("team_id", sa.String(32), _team_fk(), primary_key=True),
    sa.Column("company", sa.String(16), primary_key=True),
    sa.Column("record_type", sa.String(32), primary_key=True),
    sa.Column("channel_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("updated_at", AwareDateTime, nullable=False),
)
