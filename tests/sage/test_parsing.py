import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sage.errors import ParseError
from sage.parsing import (
    format_date,
    format_time,
    local_stamp,
    may_hold_surrogates,
    parse_amount,
    parse_date,
    parse_time,
    to_sage_stamp,
)
from sage.records import APInvoice, APInvoiceSource, SkippedRecord
from sage.resources import RESOURCES, by_path
from tests.sage import sample_rows

CHICAGO = ZoneInfo("America/Chicago")
ZONES = st.sampled_from(
    [ZoneInfo(name) for name in ("America/Chicago", "Europe/London", "Australia/Lord_Howe", "UTC")]
)


# --- dates ------------------------------------------------------------------------------------


@given(st.dates(min_value=date(1754, 1, 1), max_value=date(9999, 12, 31)))
def test_date_round_trips(day):
    assert parse_date(format_date(day)) == day
    assert parse_date(format_date(day) + "  ") == day


@pytest.mark.parametrize("empty", ["", "17530101", "  "])
def test_empty_dates_are_missing(empty):
    assert parse_date(empty) is None


@pytest.mark.parametrize(
    "bad", ["2026-11-26", "20261331", "20260230", "2026112", "x", "２０２６１１２６"]
)
def test_bad_dates_name_the_value(bad):
    with pytest.raises(ParseError, match="date"):
        parse_date(bad)


@given(st.text())
def test_date_parser_never_crashes(value):
    try:
        result = parse_date(value)
    except ParseError:
        return
    assert result is None or isinstance(result, date)


# --- times ------------------------------------------------------------------------------------


@given(st.times().map(lambda t: t.replace(microsecond=0)))
def test_time_round_trips(clock):
    assert parse_time(format_time(clock)) == clock


@given(st.integers(0, 86399), st.integers(0, 2), st.integers(0, 3))
def test_time_padding_variants_agree(seconds, zeros_left, zeros_right):
    clock = time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    canonical = format_time(clock)
    hours, fraction = canonical.split(".")
    variant = "0" * zeros_left + hours + "." + fraction + "0" * zeros_right
    if len(hours) + zeros_left > 2:
        variant = hours + "." + fraction + "0" * zeros_right
    assert parse_time(variant) == clock


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9.5", time(9, 30)),
        ("09.50000", time(9, 30)),
        ("9.", time(9)),
        ("13.50833", time(13, 30, 30)),
        ("0", time(0)),
        ("23.99999", time(23, 59, 59)),  # would round to 24:00; clamped onto its own day
        ("13.50833  ", time(13, 30, 30)),
    ],
)
def test_decimal_hours(value, expected):
    assert parse_time(value) == expected


def test_blank_time_is_missing():
    assert parse_time("") is None


@pytest.mark.parametrize("bad", ["24", "24.0", "-1.5", "1e1", "9:30", ".5", "NaN", "123.4"])
def test_bad_times_are_refused(bad):
    with pytest.raises(ParseError):
        parse_time(bad)


@given(st.text())
def test_time_parser_never_crashes(value):
    try:
        result = parse_time(value)
    except ParseError:
        return
    assert result is None or isinstance(result, time)


# --- amounts ----------------------------------------------------------------------------------


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**12), max_value=10**12
    )
)
def test_amount_round_trips(amount):
    assert parse_amount(f"{amount:f}") == amount
    assert parse_amount(f"{amount:f}   ") == amount


def test_negative_amounts_are_credit_memos():
    assert parse_amount("-75.10") == Decimal("-75.10")
    assert parse_amount("1250.00") == Decimal("1250.00")


@pytest.mark.parametrize("bad", ["", "NaN", "Infinity", "1e3", "1,250.00", "$5", "--1"])
def test_bad_amounts_are_refused(bad):
    with pytest.raises(ParseError, match="amount"):
        parse_amount(bad)


@given(st.text())
def test_amount_parser_never_crashes(value):
    try:
        result = parse_amount(value)
    except ParseError:
        return
    assert result.is_finite()


# --- local time and daylight saving -----------------------------------------------------------


def test_repeated_hour_reads_as_first_occurrence():
    # 2026-11-01 01:30 happens twice in Chicago; we take the earlier (CDT, -05:00).
    stamp = local_stamp(date(2026, 11, 1), time(1, 30), CHICAGO)
    assert stamp.utcoffset() == timedelta(hours=-5)
    assert stamp.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_skipped_hour_moves_forward_by_the_gap():
    # 2026-03-08 02:30 does not exist in Chicago; read with the offset before the gap.
    stamp = local_stamp(date(2026, 3, 8), time(2, 30), CHICAGO)
    assert stamp.astimezone(UTC) == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    assert (stamp.hour, stamp.minute) == (3, 30)


def test_stamps_without_date_are_missing_and_blank_time_is_midnight():
    assert local_stamp(None, time(1), CHICAGO) is None
    assert local_stamp(date(2026, 1, 2), None, CHICAGO) == datetime(2026, 1, 2, tzinfo=CHICAGO)


def lowest_spelling(wall: datetime) -> tuple[str, Decimal]:
    """The smallest (date, decimal hours) BOI could write for a record at this wall second."""
    seconds = wall.hour * 3600 + wall.minute * 60 + wall.second
    return format_date(wall.date()), max(Decimal(seconds) - Decimal("0.5"), Decimal(0)) / 3600


@example(datetime(2026, 3, 8, 2, 30), CHICAGO)  # inside the spring gap
@example(datetime(2026, 3, 8, 3, 0), CHICAGO)  # just after it
@example(datetime(2026, 11, 1, 1, 30), CHICAGO)  # the repeated hour
@example(datetime(2026, 10, 4, 2, 15), ZoneInfo("Australia/Lord_Howe"))  # a 30-minute gap
@example(datetime(2026, 9, 6, 0, 0, 1), ZoneInfo("America/Santiago"))  # gap at midnight
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)), ZONES)
def test_since_bound_never_skips_the_record_it_came_from(wall, zone):
    """A record whose wall stamp is `wall` (even one inside a DST gap) and which BOI wrote any
    way that reads back as that second is included by the bound made from its own stamp."""
    wall = wall.replace(microsecond=0)
    record = local_stamp(wall.date(), wall.time(), zone)
    day, since = to_sage_stamp(record, zone)
    assert (day, Decimal(since)) <= lowest_spelling(wall)
    # ... and at most one second earlier, or one gap more just after a spring gap (whose
    # skipped wall times read as the same instants)
    since_wall = datetime.combine(parse_date(day), parse_time(since))
    assert timedelta(0) <= wall - since_wall <= timedelta(hours=2, seconds=1)


def test_since_bound_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="aware"):
        to_sage_stamp(datetime(2026, 1, 1), CHICAGO)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)), ZONES)
def test_local_stamp_is_deterministic_and_aware(moment, zone):
    clock = moment.time().replace(microsecond=0)
    first = local_stamp(moment.date(), clock, zone)
    assert first == local_stamp(moment.date(), clock, zone)
    assert first.tzinfo is not None
    # an existing wall time is kept as is; a skipped one moves forward, never back
    assert first.replace(tzinfo=None) >= datetime.combine(moment.date(), clock)


# --- rows -------------------------------------------------------------------------------------


def test_ap_invoice_row_is_typed_and_trimmed():
    record = by_path("ap-invoices").parse_row(sample_rows.ap_invoice(), "ABC", CHICAGO)
    assert isinstance(record, APInvoice)
    assert record.vendor_display == "01-AIRWAY"
    assert record.vendor_name == "Airway Freight"
    assert record.source is APInvoiceSource.POSTED
    assert record.due_date is None
    assert record.amount == Decimal("1250.00")
    assert record.stamps.changed_at == datetime(2026, 11, 20, 9, 30, tzinfo=CHICAGO)


def test_purchase_order_total_and_lines():
    record = by_path("purchase-orders").parse_row(sample_rows.purchase_order(), "ABC", CHICAGO)
    assert record.total == Decimal("157.00")
    assert record.line_count == 1
    assert record.lines[0].unit_cost == Decimal("10.00")


@pytest.mark.parametrize(
    ("path", "changes", "reason"),
    [
        ("ap-invoices", {"HoldPayment": "maybe"}, "HoldPayment 'maybe' is not Y or N"),
        ("ap-invoices", {"SourceTable": "AP_Other"}, "SourceTable 'AP_Other'"),
        ("purchase-orders", {"OrderStatus": "Z"}, "OrderStatus 'Z' is not one of N, O, B, C, X"),
        ("purchase-orders", {"Lines": [{"LineKey": "1"}]}, "Lines[0]: ItemCode is missing"),
        ("gl-postings", {"TimeCreated": "25"}, "TimeCreated: time '25'"),
        ("gl-accounts", {"DateUpdated": "2026-01-01"}, "DateUpdated: date"),
        ("gl-accounts", {"Status": 1}, "Status is not a string"),
        (
            "gl-accounts",
            {"DateCreated": "99991231", "TimeCreated": "23"},
            "stamp 9999-12-31T23:00:00 is out of range",
        ),
    ],
)
def test_bad_rows_become_skipped_records_with_reasons(path, changes, reason):
    row = sample_rows.BY_PATH[path]("KEY 7", **changes)
    result = by_path(path).parse_row(row, "ABC", CHICAGO)
    assert isinstance(result, SkippedRecord)
    assert result.record_key == "KEY 7"
    assert reason in result.reason


@pytest.mark.parametrize(
    ("path", "changes", "problem"),
    [
        ("ap-invoices", {"InvoiceAmt": "12,50"}, "InvoiceAmt 12,50 is not an amount (0 is shown)"),
        ("ap-invoices", {"Balance": "x"}, "Balance x is not an amount (none is shown)"),
        ("ap-invoices", {"InvoiceDate": "20261399"}, "InvoiceDate 20261399 is not a date"),
        ("purchase-orders", {"FreightAmt": "1e999"}, "FreightAmt 1e999 is not an amount"),
        ("gl-postings", {"PostingDate": "2026-12-01"}, "PostingDate 2026-12-01 is not a date"),
    ],
)
def test_a_bad_date_or_amount_of_an_identified_record_is_flagged_not_skipped(
    path, changes, problem
):
    row = sample_rows.BY_PATH[path]("KEY 7", **changes)
    result = by_path(path).parse_row(row, "ABC", CHICAGO)
    assert not isinstance(result, SkippedRecord)
    [said] = result.problems
    assert said.startswith(problem)


def test_two_bad_values_are_both_flagged():
    row = sample_rows.ap_invoice("KEY 7", InvoiceAmt="?", InvoiceDueDate="2026")
    result = by_path("ap-invoices").parse_row(row, "ABC", CHICAGO)
    assert (result.amount, result.due_date) == (0, None)
    assert len(result.problems) == 2


def test_a_row_that_is_not_an_object_is_skipped():
    assert by_path("gl-accounts").parse_row(["x"], "ABC", CHICAGO) == SkippedRecord(
        None, "the row is not a JSON object"
    )


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.path)
def test_every_resource_parses_its_sample_row(resource):
    row = sample_rows.BY_PATH[resource.path]()
    record = resource.parse_row(row, "ABC", CHICAGO)
    assert not isinstance(record, SkippedRecord), record
    assert record.record_key == row["RecordKey"]
    assert resource.change_stamp(row, CHICAGO) == record.stamps.changed_at


@given(
    st.dictionaries(
        st.sampled_from(list(sample_rows.ap_invoice())),
        st.one_of(st.text(), st.none(), st.integers()),
    )
)
def test_row_parser_never_raises(row):
    for resource in RESOURCES:
        resource.parse_row(row, "ABC", CHICAGO)


@pytest.mark.parametrize(
    ("content", "possible"),
    [
        (b'{"VendorName": "Acme \\u00e9"}', False),  # an escape, but not of a surrogate
        ('{"VendorName": "Acme \u00e9 \U0001f600"}'.encode(), False),  # plain UTF-8
        (b'{"VendorName": "Acme \\ud800"}', True),  # an escaped lone surrogate
        (b'{"VendorName": "Acme \\uDC00"}', True),
        (b'{"VendorName": "Acme \xed\xa0\x80"}', True),  # a surrogate's bytes, surrogatepass
        ('{"VendorName": "Acme"}'.encode("utf-16"), True),  # not UTF-8: not vouched for
    ],
)
def test_a_page_is_searched_row_by_row_only_when_its_text_could_hold_a_lone_surrogate(
    content, possible
):
    assert may_hold_surrogates(content) is possible
    if not possible:  # what the page decodes to indeed has none
        assert "\ud800" not in json.dumps(json.loads(content))


def test_a_lone_surrogate_sent_as_raw_bytes_is_flagged_like_an_escaped_one():
    row = sample_rows.ap_invoice()
    content = json.dumps({**row, "VendorName": "Acme \ud800"}, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )
    assert may_hold_surrogates(content)
    record = by_path("ap-invoices").parse_row(json.loads(content), "ABC", CHICAGO)
    assert "VendorName" in record.problems[0] and record.vendor_name == "Acme \\ud800"
