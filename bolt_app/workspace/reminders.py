"""Scheduled reminders: the workspace file's and the App Home's `[[reminders]]`, parsed.

A reminder names a channel, a cron line (read in the Sage server's zone, as poll schedules
are), which kinds of waiting documents to list and the thresholds that decide what counts as
waiting. One reminder per channel: "at a time per channel" is how a finance team thinks of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bolt_app.errors import ConfigError
from bolt_app.workspace.schedule import CronSchedule
from bolt_app.workspace.values import check_bool, check_channel_id, check_cron_line, check_days

DEFAULT_DUE_WITHIN_DAYS = 7
DEFAULT_NEW_AFTER_DAYS = 7


class ReminderSection(StrEnum):
    """What a reminder can list, in the order the message lists it."""

    DUE = "due"  # AP invoices overdue, and due within `due_within_days`
    UNPOSTED = "unposted"  # AP invoices entered, not posted
    ON_HOLD = "on_hold"  # AP invoices on hold
    NEW_ORDERS = "new_orders"  # purchase orders still New after `new_after_days`


@dataclass(frozen=True, slots=True)
class Reminder:
    channel: str
    schedule: CronSchedule
    include: tuple[ReminderSection, ...] = tuple(ReminderSection)
    due_within_days: int = DEFAULT_DUE_WITHIN_DAYS
    new_after_days: int = DEFAULT_NEW_AFTER_DAYS
    always: bool = False  # post "nothing is waiting" too


class ReminderFieldError(ValueError):
    """One bad field of one reminder; `field` is its workspace-file name."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


def parse_include(value: object) -> tuple[ReminderSection, ...]:
    """A list of section names -> sections in message order; ValueError names a bad one."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a non-empty list of section names")
    allowed = ", ".join(ReminderSection)
    for name in value:
        if name not in ReminderSection.__members__.values():
            raise ValueError(f"{name!r} is not a section (use {allowed})")
    return tuple(section for section in ReminderSection if section in value)


_FIELDS = {
    "channel": lambda value: check_channel_id(_text(value)),
    "schedule": lambda value: check_cron_line(_text(value)),
    "include": parse_include,
    "due_within_days": check_days,
    "new_after_days": check_days,
    "always": check_bool,
}
_REQUIRED = ("channel", "schedule")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value.strip()


def parse_reminder(item: Mapping[str, object]) -> Reminder:
    """One `[[reminders]]` table -> a Reminder; ReminderFieldError names the first bad field."""
    for name in item:
        if name not in _FIELDS:
            expected = ", ".join(_FIELDS)
            raise ReminderFieldError(name, f"unknown field (expected one of: {expected})")
    for name in _REQUIRED:
        if name not in item:
            raise ReminderFieldError(name, "is required")
    values = {}
    for name, value in item.items():
        try:
            values[name] = _FIELDS[name](value)
        except ValueError as error:
            raise ReminderFieldError(name, str(error)) from None
    return Reminder(**values)


def parse_reminders(raw: object, *, source: str = "workspace file") -> tuple[Reminder, ...]:
    """`[[reminders]]` tables -> reminders; a ConfigError names `reminders[N].field`."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: reminders must be a list of [[reminders]] tables.")
    reminders: list[Reminder] = []
    for number, item in enumerate(raw, 1):
        where = f"{source}: reminders[{number}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where} must be a table.")
        try:
            reminder = parse_reminder(item)
        except ReminderFieldError as error:
            raise ConfigError(f"{where}.{error.field}: {error}.") from None
        reminders.append(reminder)
    _check_one_per_channel(reminders, source)
    return tuple(reminders)


def _check_one_per_channel(reminders: Sequence[Reminder], source: str) -> None:
    channels = [reminder.channel for reminder in reminders]
    for number, channel in enumerate(channels, 1):
        if channels.index(channel) != number - 1:
            raise ConfigError(
                f"{source}: reminders[{number}].channel: {channel} already has a reminder; "
                "one reminder per channel."
            )
