"""Sage value formats the simulator writes, and the stamp rule it sorts by."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sage.simulator.formats import (
    TimeStyle,
    change_stamp,
    decimal_hours,
    sage_date,
    sage_time,
)


@pytest.mark.parametrize(
    ("style", "text"),
    [(TimeStyle.PADDED, "09.50000"), (TimeStyle.PLAIN, "9.50000"), (TimeStyle.TRIMMED, "9.5")],
)
def test_half_past_nine_in_each_spelling(style, text):
    assert sage_time(time(9, 30), style) == text


def test_contract_example_time():
    assert sage_time(time(13, 30, 30)) == "13.50833"
    assert sage_time(time(13, 0), TimeStyle.TRIMMED) == "13.0"


def test_dates_and_empty_dates():
    assert sage_date(date(2026, 1, 5)) == "20260105"
    assert sage_date(None) == ""
    assert sage_date(None, empty="17530101") == "17530101"


@given(st.times(), st.sampled_from(list(TimeStyle)))
def test_every_spelling_means_the_same_number(value, style):
    assert Decimal(sage_time(value, style)) == decimal_hours(value.replace(microsecond=0))


@given(st.times().map(lambda t: t.replace(microsecond=0)), st.times())
def test_distinct_seconds_stay_distinct_and_ordered(first, second):
    second = second.replace(microsecond=0)
    assert (decimal_hours(first) < decimal_hours(second)) == (first < second)


@pytest.mark.parametrize(
    ("row", "stamp"),
    [
        (
            {
                "DateCreated": "20261101",
                "TimeCreated": "8.5",
                "DateUpdated": "20261102",
                "TimeUpdated": "09.25000",
            },
            ("20261102", Decimal("9.25")),
        ),
        (
            {
                "DateCreated": "20261101",
                "TimeCreated": "8.5",
                "DateUpdated": "17530101",
                "TimeUpdated": "",
            },
            ("20261101", Decimal("8.5")),
        ),
        ({"DateCreated": "20261101", "TimeCreated": ""}, ("20261101", Decimal(0))),
        ({"DateCreated": "", "TimeCreated": ""}, ("", Decimal(0))),
    ],
)
def test_change_stamp_rule(row, stamp):
    assert change_stamp(row) == stamp
