"""The reminders modal: every channel's reminder with a Remove button, and a form to add one.

A submission parses exactly as a `[[reminders]]` table does; adding a reminder for a channel
that has one replaces it (one reminder per channel).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bolt_app.blockkit.kit import (
    Block,
    button,
    context,
    divider,
    input_block,
    modal,
    plain,
    section,
)
from bolt_app.workspace.reminders import (
    DEFAULT_DUE_WITHIN_DAYS,
    DEFAULT_NEW_AFTER_DAYS,
    Reminder,
    ReminderSection,
)

REMINDERS_CALLBACK_ID = "home_reminders"
ACTION_REMOVE_REMINDER = "remove_reminder"
MAX_REMINDERS_LISTED = 85  # + a note, divider, heading, six inputs and a note <= 100 blocks

SECTION_LABELS = {
    ReminderSection.DUE: "AP invoices overdue and due soon",
    ReminderSection.UNPOSTED: "AP invoices entered, not posted",
    ReminderSection.ON_HOLD: "AP invoices on hold",
    ReminderSection.NEW_ORDERS: "Purchase orders still New",
}
# Block ids, by the workspace file's field name, so the form parses as `[[reminders]]` does.
FIELD_BLOCKS = {
    "channel": "reminder_channel",
    "schedule": "reminder_schedule",
    "include": "reminder_include",
    "due_within_days": "reminder_due_within_days",
    "new_after_days": "reminder_new_after_days",
    "always": "reminder_always",
}
_ALWAYS = "always"


def describe_reminder(reminder: Reminder) -> str:
    """`<#C1> on cron `0 8 * * 1-5`: AP invoices on hold, ... (only when something waits)`."""
    listed = ", ".join(SECTION_LABELS[section] for section in reminder.include)
    when = "always" if reminder.always else "only when something waits"
    return (
        f"<#{reminder.channel}> on cron `{reminder.schedule}`: {listed}; due within "
        f"{reminder.due_within_days} days, POs New after {reminder.new_after_days} days ({when})"
    )


def build_reminders_modal(reminders: Sequence[Reminder]) -> dict[str, Any]:
    blocks: list[Block] = [
        section(
            f"{number}. {describe_reminder(reminder)}",
            accessory=button("Remove", ACTION_REMOVE_REMINDER, str(number - 1), style="danger"),
        )
        for number, reminder in enumerate(reminders[:MAX_REMINDERS_LISTED], 1)
    ]
    if len(reminders) > MAX_REMINDERS_LISTED:
        hidden = len(reminders) - MAX_REMINDERS_LISTED
        blocks.append(context(f"…and {hidden} more, kept as they are; remove some to see them."))
    if not reminders:
        blocks.append(section("No reminders yet."))
    options = [
        {"text": plain(SECTION_LABELS[item]), "value": item.value} for item in ReminderSection
    ]
    blocks += [
        divider(),
        section("*Add a reminder*: at its time, one message saying what is waiting in Sage 100."),
        _input("channel", "Channel", {"type": "conversations_select"}, optional=False),
        _input(
            "schedule",
            "When (cron, Sage server's time)",
            {"type": "plain_text_input", "initial_value": "0 8 * * 1-5"},
            optional=False,
        ),
        _input(
            "include",
            "List",
            {"type": "checkboxes", "options": options, "initial_options": options},
        ),
        _days("due_within_days", "Due soon: within days", DEFAULT_DUE_WITHIN_DAYS),
        _days("new_after_days", "POs New after days", DEFAULT_NEW_AFTER_DAYS),
        _input(
            "always",
            "Empty days",
            {
                "type": "checkboxes",
                "options": [{"text": plain("Post even when nothing is waiting"), "value": _ALWAYS}],
            },
        ),
        context(
            "`0 8 * * 1-5` is weekdays at 08:00. A channel's new reminder replaces its old one."
        ),
    ]
    return modal(
        "Reminders", blocks, callback_id=REMINDERS_CALLBACK_ID, submit="Add reminder", close="Done"
    )


def read_reminder_form(values: Mapping[str, Mapping[str, Any]]) -> dict[str, object]:
    """The submission as a `[[reminders]]` table: the channel and schedule as given, the days
    as whole numbers where they are digits (else as typed, for the check to refuse)."""
    found: dict[str, object] = {}
    for name, block_id in FIELD_BLOCKS.items():
        element = values.get(block_id, {}).get(block_id) or {}
        if name in ("include", "always"):
            chosen = [option["value"] for option in element.get("selected_options") or []]
            found[name] = _ALWAYS in chosen if name == "always" else chosen
            continue
        value = str(element.get("selected_conversation") or element.get("value") or "").strip()
        if name.endswith("_days"):
            if value:
                found[name] = int(value) if value.isdigit() else value
        elif value:
            found[name] = value
    return found


def _days(name: str, label: str, default: int) -> Block:
    return _input(name, label, {"type": "plain_text_input", "initial_value": str(default)})


def _input(name: str, label: str, element: dict[str, Any], *, optional: bool = True) -> Block:
    return input_block(FIELD_BLOCKS[name], label, element, optional=optional)
