from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bolt_app.polling.window import advance_cursor, is_due, plan_window

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 26, 13, 30, 0, tzinfo=ZONE)


def test_first_connection_is_a_baseline_up_to_the_agents_now():
    window = plan_window(None, NOW)
    assert window.baseline
    assert window.since == NOW - timedelta(minutes=10)
    assert window.signpost == NOW
    assert advance_cursor(None, window, []) == NOW


def test_backfill_replays_the_past_and_posts():
    window = plan_window(None, NOW, backfill=timedelta(days=3))
    assert not window.baseline
    assert window.since == NOW - timedelta(days=3)
    assert window.signpost == NOW - timedelta(seconds=30)


def test_a_backfill_that_read_nothing_still_leaves_a_cursor():
    window = plan_window(None, NOW, backfill=timedelta(days=3))
    assert advance_cursor(None, window, []) == window.signpost
    assert advance_cursor(None, window, [None]) == window.signpost
    held = NOW - timedelta(minutes=2)
    assert advance_cursor(None, window, [], hold_from=held) == held


def test_later_polls_look_back_from_the_cursor_and_stop_at_the_signpost():
    cursor = NOW - timedelta(minutes=15)
    window = plan_window(
        cursor, NOW, lookback=timedelta(minutes=5), settle_lag=timedelta(seconds=20)
    )
    assert window.since == cursor - timedelta(minutes=5)
    assert window.signpost == NOW - timedelta(seconds=20)
    assert is_due(window.signpost, window)
    assert not is_due(window.signpost + timedelta(seconds=1), window)
    assert is_due(None, window)


def test_cursor_moves_to_what_was_read_not_to_the_signpost():
    cursor = NOW - timedelta(minutes=15)
    window = plan_window(cursor, NOW)
    read = NOW - timedelta(minutes=4)
    assert advance_cursor(cursor, window, [read, None]) == read
    assert advance_cursor(cursor, window, []) == cursor


def test_cursor_is_capped_at_the_signpost_and_at_held_registers():
    cursor = NOW - timedelta(minutes=15)
    window = plan_window(cursor, NOW)
    assert advance_cursor(cursor, window, [NOW]) == window.signpost
    held = NOW - timedelta(minutes=2)
    assert advance_cursor(cursor, window, [NOW - timedelta(minutes=1)], hold_from=held) == held


stamps = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=ZONE)
)


@given(cursor=st.one_of(st.none(), stamps), now=stamps, read=st.lists(stamps, max_size=5))
def test_cursor_never_moves_back_nor_past_the_signpost(cursor, now, read):
    window = plan_window(cursor, now)
    moved = advance_cursor(cursor, window, read)
    if cursor is not None:
        assert moved >= cursor
        assert moved == cursor or moved <= window.signpost


def test_a_whole_baseline_reads_from_the_beginning():
    assert plan_window(None, NOW, whole_baseline=True).since is None


def test_after_an_autumn_fall_back_the_window_covers_the_repeated_hour():
    # 2026-11-01 02:00 CDT -> 01:00 CST. The cursor was left at 01:49:30 in the first pass;
    # the agent now says 01:50 (second pass): records stamped 01:00-01:40 in the second
    # pass lie below cursor - lookback and must still be read.
    cursor = datetime(2026, 11, 1, 1, 49, 30, tzinfo=ZONE)
    server_now = datetime(2026, 11, 1, 1, 50, 0, tzinfo=ZONE)
    window = plan_window(cursor, server_now)
    assert window.since is not None
    assert window.since <= datetime(2026, 11, 1, 0, 50, tzinfo=ZONE)
    second_pass = datetime(2026, 11, 1, 1, 5, tzinfo=ZONE)
    assert window.since <= second_pass and is_due(second_pass, window)
    # Once the cursor is out of the repeat, the window is the plain lookback again.
    later = datetime(2026, 11, 1, 2, 14, 30, tzinfo=ZONE)
    assert plan_window(later, later).since == later - timedelta(minutes=10)
