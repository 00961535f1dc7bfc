from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bolt_app.workspace.schedule import (
    DEFAULT_SCHEDULES,
    CronSchedule,
    IntervalSchedule,
    parse_schedule,
)
from sage.records import RecordType


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", IntervalSchedule(timedelta(seconds=30), "30s")),
        ("15m", IntervalSchedule(timedelta(minutes=15), "15m")),
        ("1h", IntervalSchedule(timedelta(hours=1), "1h")),
        ("1d", IntervalSchedule(timedelta(days=1), "1d")),
        ("0 18 * * 1-5", CronSchedule("0 18 * * 1-5")),
        ("  */10  8-17 * * mon-fri ", CronSchedule("*/10 8-17 * * mon-fri")),
    ],
)
def test_durations_and_cron_lines_parse(text, expected):
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "15",
        "15 m",
        "1w",
        "0m",
        "10s",
        "every hour",
        "0 18 * *",
        "0 18 * * 1-5 2026",
        "61 * * * *",
    ],
)
def test_everything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_schedule(text)


@given(st.integers(min_value=1, max_value=10_000))
def test_any_whole_number_of_minutes_round_trips_through_its_text(minutes):
    schedule = parse_schedule(f"{minutes}m")
    assert schedule.every == timedelta(minutes=minutes)
    assert parse_schedule(str(schedule)) == schedule


def test_every_record_type_has_a_default():
    assert set(DEFAULT_SCHEDULES) == set(RecordType)
    assert str(DEFAULT_SCHEDULES[RecordType.AP_INVOICE]) == "15m"
    assert str(DEFAULT_SCHEDULES[RecordType.GL_ACCOUNT]) == "1h"
