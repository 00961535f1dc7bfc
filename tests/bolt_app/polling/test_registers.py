from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bolt_app.polling.registers import merge_register, split_registers
from bolt_app.polling.window import plan_window
from sage.records import AuditStamps, GLPosting

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 26, 13, 30, tzinfo=ZONE)


def line(key, register="000101", at=NOW - timedelta(minutes=5), debit="0", credit="0", seq="1"):
    return GLPosting(
        company="ABC", record_key=key, account_key="400010000", account="400-01-00",
        account_description="Sales", posting_date=date(2026, 11, 26), source_journal="GJ",
        register_no=register, sequence_no=seq, comment="", debit=Decimal(debit),
        credit=Decimal(credit), batch_no="00001", source_module="G/L",
        stamps=AuditStamps(at, "0000000001"),
    )  # fmt: skip


def test_a_register_still_being_written_waits_whole_and_holds_the_cursor():
    window = plan_window(NOW - timedelta(minutes=20), NOW)
    early = NOW - timedelta(minutes=1)
    split = split_registers(
        [line("a", "000101"), line("b", "000102", at=early), line("c", "000102", at=NOW)], window
    )
    assert [key for key, _ in split.settled] == [("GJ", "000101")]
    assert split.hold_from == early
    assert split.held_count == 2


def test_merge_adds_only_unseen_lines_and_rebuilds_the_whole_register():
    key = ("GJ", "000101")
    first = merge_register("ABC", key, None, [line("a", debit="10", seq="1")], ZONE)
    assert [x.record_key for x in first.added] == ["a"] and first.previous is None
    again = merge_register("ABC", key, first.snapshot, [line("a", debit="10", seq="1")], ZONE)
    assert again.added == () and again.version == first.version
    late = merge_register("ABC", key, first.snapshot, [line("b", credit="10", seq="2")], ZONE)
    assert [x.record_key for x in late.register.lines] == ["a", "b"]
    assert late.register.is_balanced and late.version != first.version
    assert late.previous == first.register
    assert late.register.lines[0] == line("a", debit="10", seq="1")


def test_a_register_that_does_not_balance_yet_waits_until_quiet_for_two_minutes():
    # The agent writes a register's lines up to a minute apart: a read between two lines
    # sees a register that does not balance, which must not be announced as out of balance.
    window = plan_window(NOW - timedelta(minutes=20), NOW)
    half = [line("d1", "000103", at=NOW - timedelta(seconds=50), debit="622.93")]
    assert split_registers(half, window).settled == ()
    assert split_registers(half, window).hold_from == NOW - timedelta(seconds=50)
    whole = [*half, line("c1", "000103", at=NOW - timedelta(seconds=40), credit="622.93")]
    assert [key for key, _ in split_registers(whole, window).settled] == [("GJ", "000103")]
    # One that really does not balance is announced (with its warning) once quiet.
    old = [line("d1", "000104", at=NOW - timedelta(minutes=3), debit="10.00")]
    assert [key for key, _ in split_registers(old, window).settled] == [("GJ", "000104")]
