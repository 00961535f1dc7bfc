"""Seen records keep the fields a change message needs, not the whole record.

Rewrites each stored record snapshot ({"fields": ..., "record": the whole record}) into the
slim form `bolt_app.polling.snapshots` writes: the record without its comment, audit stamps,
read problems and order lines, whose keys alone are kept. GL register snapshots (their lines,
which an update rebuilds the register from) are left as they are. Rows are read and written
1,000 at a time, keyed on the primary key. The dropped fields cannot be brought back: a
downgrade leaves the snapshots slim (code before this revision reads only whole ones, so restore
a backup to go back).

Revision ID: 0006_slim_seen_snapshots
Revises: 0005_reminders
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006_slim_seen_snapshots"
down_revision: str | None = "0005_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEFT_OUT = ("comment", "stamps", "problems", "lines")
_BATCH = 1000

_seen = sa.table(
    "seen_records",
    sa.column("team_id", sa.String),
    sa.column("company", sa.String),
    sa.column("record_type", sa.String),
    sa.column("record_key", sa.String),
    sa.column("channel_id", sa.String),
    sa.column("snapshot", sa.JSON),
)
_KEY = ("team_id", "company", "record_type", "record_key", "channel_id")


def _slim(snapshot: Any) -> Any:
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("record"), dict):
        return snapshot
    record = snapshot["record"]
    slim: dict[str, Any] = {"record": {k: v for k, v in record.items() if k not in _LEFT_OUT}}
    if isinstance(record.get("lines"), list):
        slim["line_keys"] = [line.get("line_key", "") for line in record["lines"]]
    return slim


def upgrade() -> None:
    connection = op.get_bind()
    columns = [_seen.c[name] for name in _KEY]
    after: tuple[str, ...] | None = None
    while True:
        query = (
            sa.select(*columns, _seen.c.snapshot)
            .where(_seen.c.record_type != "gl_entry")
            .order_by(*columns)
            .limit(_BATCH)
        )
        if after is not None:
            query = query.where(sa.tuple_(*columns) > sa.tuple_(*after))
        rows = connection.execute(query).all()
        if not rows:
            return
        for row in rows:
            slim = _slim(row.snapshot)
            if slim != row.snapshot:
                where = [column == value for column, value in zip(columns, row[:5], strict=True)]
                connection.execute(sa.update(_seen).where(*where).values(snapshot=slim))
        after = tuple(rows[-1][:5])


def downgrade() -> None:
    """The dropped fields are gone; see the module docstring."""
