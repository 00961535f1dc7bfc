"""The App Home: what an admin runs the product from, and what everyone else may look at.

`build_home_view(state)` turns a `HomeState` (gathered by the listener from storage, status,
the outbox and the seen-records read model) into a `home` view. Everything that can grow with
the customer (companies, routing rules, dead letters, deliveries, pending documents) is
summarised with a fixed cap here and shown in full in a modal or `/sage-status`, so the view
stays under Block Kit's 100-block limit however large the workspace is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bolt_app.blockkit.kit import (
    MAX_SECTION_TEXT,
    Block,
    actions,
    button,
    context,
    divider,
    header,
    modal,
    plain,
    section,
    slack_date,
)
from bolt_app.blockkit.text import escape, format_money, truncate
from bolt_app.blocks.reminders import PendingGroup, pending_lines
from bolt_app.records.registry import describe
from bolt_app.status.model import ResourceStatus
from bolt_app.status.views import build_not_configured_blocks
from bolt_app.workspace.rules import RoutingRule
from sage.connection import ConnectionSettings
from sage.records import RecordType

# Caps that keep the home view bounded; the rest is reachable through a modal or /sage-status.
MAX_STATUS_COMPANIES = 10
MAX_RULES_SHOWN = 5
MAX_DEAD_LETTERS_SHOWN = 5
MAX_DELIVERIES_SHOWN = 10

# Action ids the listeners answer; `route_<record_type>` is part of docs/interface.md.
ACTION_POLL_NOW = "poll_now"
ACTION_TEST_CONNECTION = "test_connection"
ACTION_EDIT_CONNECTION = "edit_connection"
ACTION_EDIT_SCHEDULES = "edit_schedules"
ACTION_MANAGE_RULES = "manage_rules"
ACTION_MANAGE_REMINDERS = "manage_reminders"
ACTION_PAUSE = "pause_polling"
ACTION_RESUME = "resume_polling"
ACTION_RETRY_DEAD_LETTER = "retry_dead_letter"
ACTION_RETRY_ALL_DEAD_LETTERS = "retry_all_dead_letters"
ROUTE_ACTION_PREFIX = "route_"
SCHEDULES_CALLBACK_ID = "home_schedules"


def route_action_id(record_type: RecordType) -> str:
    return f"{ROUTE_ACTION_PREFIX}{record_type.value}"


def schedule_block_id(record_type: RecordType) -> str:
    return f"schedule_{record_type.value}"


@dataclass(frozen=True, slots=True)
class RouteRow:
    """Where one record type goes and how often it is polled."""

    record_type: RecordType
    channel_id: str | None
    schedule: str


@dataclass(frozen=True, slots=True)
class StatusPanel:
    """`bolt_app.status.model.WorkspaceStatus` plus why the workspace is paused."""

    paused: bool
    resources: tuple[ResourceStatus, ...]
    queue_pending: int
    queue_dead: int
    paused_reason: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    delivery_id: int
    channel_id: str
    record_type: RecordType
    record_key: str
    error: str
    failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    channel_id: str
    record_type: RecordType
    record_key: str
    outcome: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class HomeState:
    """Everything the App Home shows; `is_admin` decides which panels appear."""

    team_id: str
    is_admin: bool
    status: StatusPanel
    pending: tuple[PendingGroup, ...]
    extra_admins: tuple[str, ...] = ()
    connection: ConnectionSettings | None = None
    routes: tuple[RouteRow, ...] = ()
    rules: tuple[RoutingRule, ...] = ()
    dead_letters: tuple[DeadLetterRow, ...] = ()
    last_deliveries: tuple[DeliveryRow, ...] = ()
    notice: str | None = None  # one line after a change, e.g. "Polling paused by <@U1>"


def build_home_view(state: HomeState) -> dict[str, Any]:
    blocks: list[Block] = [header("Sage 100 in Slack")]
    if state.notice:
        blocks.append(context(state.notice))
    if state.is_admin:
        blocks += _connection_panel(state)
        blocks += _routes_panel(state.routes)
        blocks += _rules_panel(state.rules)
    else:
        if state.connection is None:
            blocks.append(section("Sage 100 is not connected yet."))
        blocks.append(section(_who_can_change(state.extra_admins)))
    blocks += _status_panel(state.status)
    blocks += _pending_panel(state.pending)
    if state.is_admin:
        blocks += _dead_letters_panel(state.dead_letters, state.status.queue_dead)
        blocks += _deliveries_panel(state.last_deliveries)
    return {"type": "home", "blocks": blocks}


def _who_can_change(extra_admins: Sequence[str]) -> str:
    who = "workspace admins and owners"
    if extra_admins:
        who += ", and " + ", ".join(f"<@{user}>" for user in extra_admins)
    return f"Only {who} can change these settings. Ask one of them to change a channel or schedule."


def _connection_panel(state: HomeState) -> list[Block]:
    connection = state.connection
    controls = [
        button("Edit connection", ACTION_EDIT_CONNECTION, style="primary"),
        button("Test connection", ACTION_TEST_CONNECTION),
        button("Poll now", ACTION_POLL_NOW),
    ]
    if state.status.paused:
        controls.append(button("Resume polling", ACTION_RESUME, style="primary"))
    else:
        controls.append(button("Pause polling", ACTION_PAUSE, style="danger"))
    if connection is None:
        return [
            divider(),
            *build_not_configured_blocks(state.team_id),
            section("Or set the connection up here with *Edit connection*."),
            actions(*controls),
        ]
    summary = (
        f"*Agent* {escape(connection.agent_url)}\n"
        f"*Companies* {', '.join(connection.companies)} · *Auth* {connection.auth.value} · "
        f"*Time zone* {connection.timezone.key}"
    )
    return [divider(), header("Agent connection"), section(summary), actions(*controls)]


def _routes_panel(routes: Sequence[RouteRow]) -> list[Block]:
    blocks: list[Block] = [divider(), header("Channels and schedules")]
    for route in routes:
        selector: dict[str, Any] = {
            "type": "conversations_select",
            "action_id": route_action_id(route.record_type),
            "placeholder": {"type": "plain_text", "text": "Choose a channel"},
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        }
        if route.channel_id:
            selector["initial_conversation"] = route.channel_id
        label = describe(route.record_type).label
        blocks.append(
            section(
                f"*{label}*\nPolled {_schedule_words(route.schedule)}",
                accessory=selector,
                block_id=f"route_block_{route.record_type.value}",
            )
        )
    blocks.append(actions(button("Edit schedules", ACTION_EDIT_SCHEDULES)))
    return blocks


def _schedule_words(schedule: str) -> str:
    if " " in schedule:
        return f"on cron `{schedule}`"
    return f"every {schedule}"


def describe_rule(rule: RoutingRule) -> str:
    """`Purchase orders (warehouse EST and over $5,000.00) to <#C1> and mention <!subteam^S1>`."""
    conditions = []
    if rule.warehouse:
        conditions.append(f"warehouse {escape(rule.warehouse)}")
    if rule.min_amount is not None:
        conditions.append(f"over {format_money(rule.min_amount)}")
    targets = []
    if rule.channel:
        targets.append(f"to <#{rule.channel}>")
    if rule.mention:
        targets.append(f"mention <!subteam^{rule.mention}>")
    where = " and ".join(conditions) or "all"
    return f"{describe(rule.record_type).label} ({where}) {' and '.join(targets)}"


def _rules_panel(rules: Sequence[RoutingRule]) -> list[Block]:
    if rules:
        lines = [f"• {describe_rule(rule)}" for rule in rules[:MAX_RULES_SHOWN]]
        if len(rules) > MAX_RULES_SHOWN:
            lines.append(f"…and {len(rules) - MAX_RULES_SHOWN} more")
        text = "\n".join(lines)
    else:
        text = "No extra routing rules: each record type goes to its channel above."
    return [
        divider(),
        header(f"Routing rules ({len(rules)})"),
        section(_fit(text)),
        actions(
            button("Manage rules", ACTION_MANAGE_RULES),
            button("Manage reminders", ACTION_MANAGE_REMINDERS),
        ),
    ]


def _status_panel(status: StatusPanel) -> list[Block]:
    blocks: list[Block] = [divider(), header("Status")]
    if status.paused:
        reason = f": {escape(status.paused_reason)}" if status.paused_reason else ""
        blocks.append(section(f":double_vertical_bar: *Polling is paused*{reason}"))
    by_company: dict[str, list[ResourceStatus]] = {}
    for resource in status.resources:
        by_company.setdefault(resource.company, []).append(resource)
    if not by_company:
        blocks.append(section("Nothing polled yet."))
    for company, rows in list(by_company.items())[:MAX_STATUS_COMPANIES]:
        lines = [f"*{escape(company)}*"] + [_status_line(row) for row in rows]
        blocks.append(section(_fit("\n".join(lines))))
    hidden = len(by_company) - MAX_STATUS_COMPANIES
    more = f" · {hidden} more companies in `/sage-status`" if hidden > 0 else ""
    blocks.append(
        context(f"Queue: {status.queue_pending} waiting, {status.queue_dead} dead letters{more}")
    )
    return blocks


def _status_line(row: ResourceStatus) -> str:
    channel = f"<#{row.channel}>" if row.channel else "_no channel_"
    seen = "" if row.records_seen_last_poll is None else f" · {row.records_seen_last_poll} seen"
    line = (
        f"{describe(row.record_type).label} → {channel} · last {slack_date(row.last_poll_at)}"
        f" · next {slack_date(row.next_poll_at, 'not scheduled')}{seen}"
    )
    if row.last_error:
        line += f"\n    :warning: {escape(truncate(row.last_error, 200))}"
    if row.skipped_rows:
        first = escape(truncate(str(row.skipped_rows[0]), 200))
        more = len(row.skipped_rows) - 1
        line += f"\n    :warning: did not read: {first}" + (f" (and {more} more)" if more else "")
    return line


def _pending_panel(groups: Sequence[PendingGroup]) -> list[Block]:
    blocks: list[Block] = [divider(), header("Pending in Sage 100")]
    for group in groups:
        blocks.append(section(_fit("\n".join(pending_lines(group)))))
    blocks.append(context("From the records the connector has seen."))
    return blocks


def _dead_letters_panel(rows: Sequence[DeadLetterRow], total: int) -> list[Block]:
    blocks: list[Block] = [divider(), header(f"Dead letters ({total})")]
    if not rows:
        blocks.append(section("None: every message reached Slack."))
        return blocks
    for row in rows[:MAX_DEAD_LETTERS_SHOWN]:
        text = (
            f"{describe(row.record_type).label} `{escape(row.record_key)}` to <#{row.channel_id}>"
            f" · {slack_date(row.failed_at)}\n{escape(truncate(row.error, 300))}"
        )
        blocks.append(
            section(text, accessory=button("Retry", ACTION_RETRY_DEAD_LETTER, str(row.delivery_id)))
        )
    blocks.append(actions(button(f"Retry all {total}", ACTION_RETRY_ALL_DEAD_LETTERS)))
    return blocks


def _deliveries_panel(rows: Sequence[DeliveryRow]) -> list[Block]:
    if not rows:
        return [divider(), header("Last deliveries"), section("Nothing delivered yet.")]
    lines = [
        f"{slack_date(row.at)} · {describe(row.record_type).label} `{escape(row.record_key)}`"
        f" → <#{row.channel_id}> · {escape(row.outcome)}"
        for row in rows[:MAX_DELIVERIES_SHOWN]
    ]
    return [divider(), header("Last deliveries"), section(_fit("\n".join(lines)))]


def _fit(text: str) -> str:
    """Cut at a line boundary rather than mid-token, so Slack date and link tokens stay whole."""
    if len(text) <= MAX_SECTION_TEXT:
        return text
    cut = text.rfind("\n", 0, MAX_SECTION_TEXT - 2)
    return text[: cut if cut > 0 else MAX_SECTION_TEXT - 2] + "\n…"


def build_schedules_modal(routes: Sequence[RouteRow]) -> dict[str, Any]:
    """One text input per record type: a duration ("15m") or a five-field cron line."""
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": schedule_block_id(route.record_type),
            "label": plain(describe(route.record_type).label),
            "element": {
                "type": "plain_text_input",
                "action_id": schedule_block_id(route.record_type),
                "initial_value": route.schedule,
                "max_length": 64,
            },
        }
        for route in routes
    ]
    blocks.append(
        context("A duration (30s minimum: `15m`, `1h`, `1d`) or a cron line (`0 18 * * 1-5`).")
    )
    return modal(
        "Poll schedules", blocks, callback_id=SCHEDULES_CALLBACK_ID, submit="Save", close="Cancel"
    )


def read_schedules(values: dict[str, dict[str, Any]]) -> dict[RecordType, str]:
    """The submitted schedule text per record type (`view.state.values`)."""
    found = {}
    for record_type in RecordType:
        name = schedule_block_id(record_type)
        element = values.get(name, {}).get(name)
        if element is not None:
            found[record_type] = str(element.get("value") or "").strip()
    return found
