"""The audit trail's export (for `ml-connector audit`) and retention (run daily by the worker).

Events are written by `bolt_app.storage.audit.record_audit_event` (polls, delivery attempts,
configuration changes); this module only reads them out and prunes old ones.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.storage.audit import AuditEvent
from bolt_app.storage.tables import audit_events

CSV_COLUMNS = ("occurred_at", "team_id", "kind", "actor", "summary", "details")


async def prune_audit_events(session: AsyncSession, *, before: datetime) -> int:
    """Delete events that occurred before `before`; returns how many went."""
    result = await session.execute(
        sa.delete(audit_events).where(audit_events.c.occurred_at < before)
    )
    return result.rowcount or 0


def event_as_dict(event: AuditEvent) -> dict[str, object]:
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "team_id": event.team_id,
        "kind": event.kind,
        "actor": event.actor,
        "summary": event.summary,
        "details": dict(event.details),
    }


def events_as_json(events: Iterable[AuditEvent]) -> str:
    """A JSON array, oldest first."""
    return json.dumps([event_as_dict(event) for event in events], indent=2, default=str) + "\n"


def events_as_csv(events: Iterable[AuditEvent]) -> str:
    """One row per event; `details` is a JSON object in its column so every kind fits one shape."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        row = event_as_dict(event)
        row["details"] = json.dumps(row["details"], sort_keys=True, default=str)
        writer.writerow(row)
    return buffer.getvalue()
