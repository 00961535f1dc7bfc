from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bolt_app.polling.scheduler import trigger_for
from bolt_app.workspace.schedule import (
    DEFAULT_SCHEDULES,
    CronSchedule,
    IntervalSchedule,
    describe_schedule,
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


CHICAGO = ZoneInfo("America/Chicago")
# Friday 27 November 2026, noon on the Sage server.
FRIDAY_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=CHICAGO)


def _next_runs(text: str, count: int = 3) -> list[str]:
    trigger = trigger_for(parse_schedule(text), CHICAGO)
    runs, previous, now = [], None, FRIDAY_NOON
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        runs.append(fire.astimezone(CHICAGO).strftime("%a %H:%M"))
        previous, now = fire, fire + timedelta(seconds=1)
    return runs


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("0 18 * * 1-5", ["Fri 18:00", "Mon 18:00", "Tue 18:00"]),
        ("0 18 * * mon-fri", ["Fri 18:00", "Mon 18:00", "Tue 18:00"]),
        ("0 9 * * 0", ["Sun 09:00", "Sun 09:00", "Sun 09:00"]),
        ("0 9 * * 7", ["Sun 09:00", "Sun 09:00", "Sun 09:00"]),
        ("0 9 * * 5-7", ["Sat 09:00", "Sun 09:00", "Fri 09:00"]),
        ("0 9 * * SAT,sun", ["Sat 09:00", "Sun 09:00", "Sat 09:00"]),
        ("30 6 * * 1", ["Mon 06:30", "Mon 06:30", "Mon 06:30"]),
        ("0 8 * * */2", ["Sat 08:00", "Sun 08:00", "Tue 08:00"]),
    ],
)
def test_cron_days_of_week_mean_what_crontab_says_in_the_sage_servers_zone(text, runs):
    assert _next_runs(text) == runs


def test_a_cron_line_restricting_both_days_runs_when_either_matches():
    # crontab(5): day 1 of the month OR any Monday.
    trigger = trigger_for(parse_schedule("0 7 1 * 1"), CHICAGO)
    fire = trigger.get_next_fire_time(None, FRIDAY_NOON)
    assert fire.astimezone(CHICAGO) == datetime(2026, 11, 30, 7, 0, tzinfo=CHICAGO)  # a Monday
    fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert fire.astimezone(CHICAGO) == datetime(2026, 12, 1, 7, 0, tzinfo=CHICAGO)  # a Tuesday


@pytest.mark.parametrize("text", ["0 18 * * 8", "0 18 * * 5-1", "0 18 * * funday"])
def test_bad_days_of_week_are_refused(text):
    with pytest.raises(ValueError, match="not a valid cron line"):
        parse_schedule(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("15m", "every 15 minutes"),
        ("1h", "every hour"),
        ("90s", "every 90 seconds"),
        ("0 18 * * 1-5", "weekdays at 18:00"),
        ("0 18 * * mon-fri", "weekdays at 18:00"),
        ("30 6 * * *", "every day at 06:30"),
        ("0 8,12 * * 0,6", "weekends at 08:00, 12:00"),
        ("0 9 * * 1,4", "Mondays and Thursdays at 09:00"),
        ("0 9 * * 7", "Sundays at 09:00"),
        ("*/20 * * * 1-5", "weekdays, every 20 minutes"),
        ("5 * * * *", "every day, hourly at :05"),
        ("0 7 1 * *", "on cron '0 7 1 * *'"),
    ],
)
def test_schedules_are_described_in_words(text, words):
    assert describe_schedule(parse_schedule(text)) == words
