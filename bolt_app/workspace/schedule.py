"""How often a resource is polled: an interval ("15m") or a five-field cron line.

A `Schedule` is a small typed value; the poller turns it into an APScheduler trigger. A cron
line means what crontab(5) says: day-of-week 0 and 7 are Sunday, names (`mon-fri`, `jan`)
work, and when both day-of-month and day-of-week are restricted either one matching is
enough. APScheduler 3 numbers Monday 0, so the day-of-week field is translated to day names
before it reaches `CronTrigger`; the trigger runs in the Sage server's zone.
Intervals are at least 30 seconds: the agent sits on the customer's Sage server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bolt_app.records.registry import DESCRIPTIONS
from sage.records import RecordType

MINIMUM_INTERVAL = timedelta(seconds=30)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"^(\d{1,6})([smhd])$")

# crontab(5) numbering: 0 (and 7) Sunday .. 6 Saturday; APScheduler takes the names.
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_WORDS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAY_PART = re.compile(r"^(?P<range>\*|(?P<first>\w+)(?:-(?P<last>\w+))?)(?:/(?P<step>\d+))?$")
WEEKDAYS = frozenset({1, 2, 3, 4, 5})
WEEKEND = frozenset({0, 6})
EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class IntervalSchedule:
    every: timedelta
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """Five fields: minute hour day-of-month month day-of-week, as written."""

    expression: str

    def __str__(self) -> str:
        return self.expression

    @property
    def fields(self) -> tuple[str, str, str, str, str]:
        minute, hour, day, month, day_of_week = self.expression.split(" ")
        return minute, hour, day, month, day_of_week

    @property
    def days_of_week(self) -> frozenset[int]:
        """The crontab day numbers (0 Sunday .. 6 Saturday) the line runs on."""
        return parse_days_of_week(self.fields[4])


Schedule = IntervalSchedule | CronSchedule


def _day_number(token: str) -> int:
    lowered = token.lower()
    if lowered in _DAY_NAMES:
        return _DAY_NAMES.index(lowered)
    if lowered.isdigit() and int(lowered) <= 7:
        return int(lowered) % 7
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun-sat)")


def parse_days_of_week(field: str) -> frozenset[int]:
    """A crontab day-of-week field ("1-5", "mon-fri", "0,6", "*/2") as day numbers, 0 Sunday."""
    days: set[int] = set()
    for part in field.split(","):
        match = _DAY_PART.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not a day-of-week range")
        if match["range"] == "*":
            first, last = 0, 6
        else:
            first = _day_number(match["first"])
            last = first if match["last"] is None else _day_number(match["last"])
            if last == 0 < first:  # Sunday ends a range as 7: "fri-sun", "5-7"
                last = 7
            if last < first:
                raise ValueError(f"{part!r} runs backwards")
        step = int(match["step"] or 1)
        if step < 1:
            raise ValueError(f"{part!r} has a zero step")
        days.update(day % 7 for day in range(first, last + 1, step))
    return frozenset(days)


def cron_trigger(schedule: CronSchedule, zone: tzinfo) -> BaseTrigger:
    """The APScheduler trigger that fires when crontab(5) would run the line, in `zone`."""
    minute, hour, day, month, day_of_week = schedule.fields
    days = schedule.days_of_week
    names = "*" if days == EVERY_DAY else ",".join(_DAY_NAMES[d] for d in sorted(days))
    common = {"minute": minute, "hour": hour, "month": month, "timezone": zone}
    if day.startswith("*") or day_of_week.startswith("*"):
        return CronTrigger(day=day, day_of_week=names, **common)
    # Both restricted: crontab(5) runs when either matches.
    return OrTrigger([CronTrigger(day=day, **common), CronTrigger(day_of_week=names, **common)])


def parse_schedule(text: str) -> Schedule:
    """A duration ("30s", "15m", "1h", "1d") or a cron line ("0 18 * * 1-5"); ValueError else."""
    cleaned = " ".join(text.split())
    match = _DURATION.match(cleaned)
    if match:
        every = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        if every < MINIMUM_INTERVAL:
            raise ValueError(f"{text!r} is shorter than the 30s minimum")
        return IntervalSchedule(every=every, text=cleaned)
    if len(cleaned.split(" ")) == 5:
        schedule = CronSchedule(expression=cleaned)
        try:
            cron_trigger(schedule, UTC)
        except ValueError as error:
            raise ValueError(f"{text!r} is not a valid cron line ({error})") from None
        return schedule
    raise ValueError(
        f"{text!r} is neither a duration like '15m', '1h', '1d' nor a five-field cron line"
    )


def describe_schedule(schedule: Schedule) -> str:
    """In words, for people: "every 15 minutes", "weekdays at 18:00"; the line itself when it
    is more than a time of day on some days."""
    if isinstance(schedule, IntervalSchedule):
        return _describe_interval(schedule.every)
    minute, hour, day, month, _ = schedule.fields
    days = _describe_days(schedule.days_of_week)
    if day != "*" or month != "*" or days is None:
        return f"on cron {schedule.expression!r}"
    if minute.isdigit() and all(part.isdigit() for part in hour.split(",")):
        times = ", ".join(f"{int(h):02d}:{int(minute):02d}" for h in hour.split(","))
        return f"{days} at {times}"
    if minute.isdigit() and hour == "*":
        return f"{days}, hourly at :{int(minute):02d}"
    step = re.fullmatch(r"\*/(\d+)", minute)
    if step and hour == "*":
        return f"{days}, every {step.group(1)} minutes"
    return f"on cron {schedule.expression!r}"


def _describe_interval(every: timedelta) -> str:
    seconds = int(every.total_seconds())
    unit, size = next(
        (unit, size)
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
        if seconds % size == 0
    )
    count = seconds // size
    return f"every {unit}" if count == 1 else f"every {count} {unit}s"


def _describe_days(days: frozenset[int]) -> str | None:
    if days == EVERY_DAY:
        return "every day"
    if days == WEEKDAYS:
        return "weekdays"
    if days == WEEKEND:
        return "weekends"
    if len(days) <= 3:
        return " and ".join(f"{_DAY_WORDS[d]}s" for d in sorted(days, key=lambda d: (d + 6) % 7))
    return None


DEFAULT_SCHEDULES: dict[RecordType, Schedule] = {
    description.record_type: parse_schedule(description.default_schedule)
    for description in DESCRIPTIONS
}

# A reconcile pass reads every key of a resource, so it runs at a quiet hour, at most hourly.
RECONCILED_TYPES = tuple(d.record_type for d in DESCRIPTIONS if d.reconciled)
MINIMUM_RECONCILE_INTERVAL = timedelta(hours=1)
DEFAULT_RECONCILE_SCHEDULES: dict[RecordType, Schedule] = {
    record_type: CronSchedule("0 3 * * *") for record_type in RECONCILED_TYPES
}


def parse_reconcile_schedule(text: str) -> Schedule:
    """A schedule as `parse_schedule` reads it, a duration no shorter than an hour."""
    schedule = parse_schedule(text)
    if isinstance(schedule, IntervalSchedule) and schedule.every < MINIMUM_RECONCILE_INTERVAL:
        raise ValueError(
            f"{text!r} is shorter than the 1h minimum (a reconcile pass reads every key)"
        )
    return schedule
