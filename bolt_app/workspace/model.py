"""The workspace model every layer of the Slack side shares: its configuration and pause reasons.

The lowest layer above `sage`: storage, polling, the workspace file and the App Home import it,
and it imports none of them, so no layer has to reach up for the shape of a workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bolt_app.workspace.reminders import Reminder
from bolt_app.workspace.rules import RoutingRule
from bolt_app.workspace.schedule import DEFAULT_RECONCILE_SCHEDULES, Schedule
from sage.connection import ConnectionSettings
from sage.records import RecordType

# Why a workspace's delivery is paused when Slack refused its token: the app was uninstalled,
# its tokens revoked, Slack answered one of these auth errors, or an expired token could not be
# refreshed. A reinstall lifts these.
UNINSTALLED = "uninstalled"
TOKENS_REVOKED = "tokens_revoked"
TOKEN_EXPIRED = "token_expired"
SLACK_AUTH_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
TOKEN_PAUSE_REASONS = frozenset({UNINSTALLED, TOKENS_REVOKED, TOKEN_EXPIRED, *SLACK_AUTH_ERRORS})


def paused_by(user_id: str) -> str:
    """The pause reason an admin's Pause button stores."""
    return f"paused by <@{user_id}>"


@dataclass(frozen=True, slots=True)
class PollingSettings:
    """The workspace's `[[rules]]` and `backfill_days`."""

    rules: tuple[RoutingRule, ...] = ()
    backfill_days: int | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceConfig:
    """One workspace's configuration; `connection` is None until Sage is configured."""

    team_id: str
    connection: ConnectionSettings | None
    channels: Mapping[RecordType, str]
    schedules: Mapping[RecordType, Schedule]
    admins: tuple[str, ...] = ()
    bot_token: str | None = field(default=None, repr=False)
    rules: tuple[RoutingRule, ...] = ()  # [[rules]]: extra channels and mentions
    backfill_days: int | None = None  # first connection replays this many days
    reminders: tuple[Reminder, ...] = ()  # [[reminders]]: what is waiting, on a schedule
    # [reconcile]: when each reconciled record type is compared with the agent's keys listing
    reconcile_schedules: Mapping[RecordType, Schedule] = field(
        default_factory=lambda: dict(DEFAULT_RECONCILE_SCHEDULES)
    )
