"""Whatever shape a driver hands a value in, the agent serves the contract's format."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sage import parsing
from sage.agent.values import amount_text, date_text, plain_text, time_text

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
scales = st.sampled_from([0, 2, 4, 6])


@given(dates, st.sampled_from(["date", "datetime", "iso", "sage"]))
def test_a_date_in_any_shape_is_served_as_yyyymmdd(day, shape):
    value = {
        "date": day,
        "datetime": datetime.combine(day, time(0)),
        "iso": day.isoformat(),
        "sage": f"{day:%Y%m%d}",
    }[shape]
    assert parsing.parse_date(date_text(value)) == day


@pytest.mark.parametrize(
    "empty", [None, date(1753, 1, 1), datetime(1753, 1, 1), "1753-01-01", "17530101", "", "  "]
)
def test_empty_dates_are_served_blank(empty):
    assert date_text(empty) == ""


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
    st.sampled_from(["decimal", "float", "text", "lost_scale"]),
)
def test_an_amount_in_any_shape_keeps_its_columns_scale(amount, shape):
    value = {
        "decimal": amount,
        "float": float(amount),
        "text": f"{amount:.2f}",
        "lost_scale": str(amount.normalize()) if amount == amount.to_integral() else str(amount),
    }[shape]
    served = amount_text(value, 2)
    assert served == f"{amount:.2f}"
    assert parsing.parse_amount(served) == amount


@given(st.integers(min_value=-(10**12), max_value=10**12), scales)
def test_whole_numbers_from_the_sqlite_driver_get_their_scale_back(number, scale):
    assert amount_text(str(number), scale) == f"{Decimal(number):.{scale}f}"


def test_the_sqlite_drivers_lost_scale_and_nulls():
    assert amount_text("1250", 2) == "1250.00"
    assert amount_text("-75.1", 2) == "-75.10"
    assert amount_text(None, 2) == "0.00"
    assert amount_text(1.005, 2) == "1.01"  # the float's shortest repr, not its binary noise
    assert amount_text("12O.5O", 2) == "12O.5O"  # junk is passed on for the connector to refuse


@given(st.integers(min_value=0, max_value=86399), st.sampled_from(["padded", "plain", "float"]))
def test_decimal_hour_times_are_normalised_and_read_back_to_the_second(seconds, shape):
    clock = time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    hours = parsing.format_time(clock)  # "9.50000"
    value = {"padded": hours.zfill(8), "plain": hours, "float": float(hours)}[shape]
    served = time_text(value)
    assert served == hours
    assert parsing.parse_time(served) == clock


def test_blank_times_and_trailing_blanks():
    assert time_text(None) == time_text("   ") == ""
    assert time_text("9.5") == "9.50000"
    assert plain_text("Airway Freight   ") == "Airway Freight"
    assert plain_text("  leading kept") == "  leading kept"
    assert plain_text(None) == ""
