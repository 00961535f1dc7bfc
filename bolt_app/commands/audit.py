"""`ml-connector audit [--team T] [--since ISO] [--format csv|json]`: export the audit trail.

Polls, delivery attempts and configuration changes, oldest first, on stdout.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bolt_app.commands.parsing import DATABASE, add_command
from bolt_app.errors import ConfigError

if TYPE_CHECKING:
    from bolt_app.settings import Settings
    from bolt_app.storage.audit import AuditEvent


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "audit",
        "export the audit trail (CSV or JSON)",
        description="Export the audit trail on stdout, oldest first: polls and what they found, "
        "delivery attempts given up on, configuration changes, pauses and resumptions.",
        environment=DATABASE,
    )
    parser.add_argument("--team", metavar="T", help="only this team ID")
    parser.add_argument(
        "--since",
        metavar="ISO",
        help="only events at or after this time (ISO 8601; UTC if no offset)",
    )
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from bolt_app.storage.audit import events_as_csv, events_as_json

    since = parse_since(args.since)
    events = asyncio.run(_events(args.settings, args.team, since))
    render = events_as_json if args.format == "json" else events_as_csv
    print(render(events), end="")
    return 0


def parse_since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(
            f"--since must be an ISO 8601 time such as 2026-11-01T00:00:00+00:00, not {raw!r}."
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _events(settings: Settings, team: str | None, since: datetime | None) -> list[AuditEvent]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bolt_app.runtime.database import open_database
    from bolt_app.storage.audit import list_audit_events

    async with open_database(settings) as engine, AsyncSession(engine) as session:
        return await list_audit_events(session, team_id=team, since=since)
