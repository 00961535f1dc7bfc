"""How often a resource is polled: an interval ("15m") or a five-field cron line.

A `Schedule` is a small typed value; the poller turns it into an APScheduler trigger. Cron
lines are validated with APScheduler's own parser so what is accepted here is what runs.
Intervals are at least 30 seconds: the agent sits on the customer's Sage server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.triggers.cron import CronTrigger

from sage.records import RecordType

MINIMUM_INTERVAL = timedelta(seconds=30)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"^(\d{1,6})([smhd])$")


@dataclass(frozen=True, slots=True)
class IntervalSchedule:
    every: timedelta
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """Five fields: minute hour day-of-month month day-of-week."""

    expression: str

    def __str__(self) -> str:
        return self.expression


Schedule = IntervalSchedule | CronSchedule


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
        try:
            CronTrigger.from_crontab(cleaned, timezone=UTC)
        except ValueError as error:
            raise ValueError(f"{text!r} is not a valid cron line ({error})") from None
        return CronSchedule(expression=cleaned)
    raise ValueError(
        f"{text!r} is neither a duration like '15m', '1h', '1d' nor a five-field cron line"
    )


DEFAULT_SCHEDULES: dict[RecordType, Schedule] = {
    RecordType.AP_INVOICE: parse_schedule("15m"),
    RecordType.PURCHASE_ORDER: parse_schedule("15m"),
    RecordType.GL_ENTRY: parse_schedule("1h"),
    RecordType.GL_ACCOUNT: parse_schedule("1h"),
}
