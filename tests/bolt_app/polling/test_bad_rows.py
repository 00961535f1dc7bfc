"""No row stops a record type: each kind of broken row beside good ones, against the simulator."""

from __future__ import annotations

import json

import pytest

from bolt_app.home.state import load_home_state
from bolt_app.home.views.home import build_home_view
from bolt_app.polling.service import PollTuning
from bolt_app.status.model import load_status
from bolt_app.status.views import build_status_blocks
from bolt_app.storage.audit import list_audit_events
from sage.records import RecordType
from sage.simulator import Malformation
from tests.bolt_app.polling.test_pipeline import baseline, records_in, rendered
from tests.fixtures.slack import AP_CHANNEL, TEAM_ID

# A row whose text, date or amount is broken is still shown (the value as received, flagged);
# one whose key or shape cannot be trusted is named with its reason instead.
FLAGGED = {
    Malformation.LONE_SURROGATE: "VendorName",
    Malformation.BAD_DATE: "InvoiceDate 20261341 is not a date",
    Malformation.BAD_AMOUNT: "InvoiceAmt 12O.5O is not an amount (0 is shown)",
    Malformation.HUGE_AMOUNT: "InvoiceAmt 123456789012345678901234567890.00 is not an amount",
}


@pytest.mark.parametrize("how", list(Malformation))
async def test_a_broken_row_is_named_or_flagged_and_the_rows_beside_it_are_posted(polling, how):
    await baseline(polling, RecordType.AP_INVOICE)
    at = polling.clock()
    polling.data.add_ap_invoice("ABC", at, InvoiceNo="GOOD-1")
    broken = polling.data.add_ap_invoice("ABC", at, InvoiceNo="BROKEN-1")
    polling.data.add_ap_invoice("ABC", at, InvoiceNo="GOOD-2")
    polling.simulator.faults.malform(str(broken["RecordKey"]), how)
    polling.clock.advance(minutes=1)

    outcome = await polling.poll(RecordType.AP_INVOICE)
    posted = [rendered(m) for m in records_in(polling, AP_CHANNEL)]
    assert sum("GOOD-1" in m for m in posted) == sum("GOOD-2" in m for m in posted) == 1
    flagged = [m for m in posted if "BROKEN-1" in m]
    if how in FLAGGED:  # posted as received, with what is wrong said on the message
        [message] = flagged
        assert "could not be read" in message and FLAGGED[how] in message
        assert outcome.skipped == ()
    else:
        assert flagged == []  # named with its reason wherever the poll is reported
        [reason] = outcome.skipped
        async with polling.sessions() as session:
            events = await list_audit_events(session, team_id=TEAM_ID)
        assert reason in [e for e in events if e.kind == "poll"][-1].details["skipped"]

    polling.clock.advance(minutes=15)
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="LATER-1")
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.AP_INVOICE)
    posted = [rendered(m) for m in records_in(polling, AP_CHANNEL)]
    assert sum("LATER-1" in m for m in posted) == 1
    assert sum("GOOD-1" in m for m in posted) == 1


async def shown_as_not_read(polling) -> tuple[list[str], str, str]:
    """What `status`, /sage-status and the App Home status panel say did not read."""
    async with polling.sessions() as session:
        status = await load_status(session, TEAM_ID, polling.clock())
        home = await load_home_state(
            session, TEAM_ID, polling.box, is_admin=True, now=polling.clock()
        )
    [ap] = [r for r in status.resources if r.record_type is RecordType.AP_INVOICE]
    listed = [str(row) for row in ap.skipped_rows]
    return listed, json.dumps(build_status_blocks(status)), json.dumps(build_home_view(home))


async def test_a_row_that_did_not_read_is_shown_in_status_until_it_reads_cleanly(polling):
    await baseline(polling, RecordType.AP_INVOICE)
    broken = polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="BROKEN-1")
    key = str(broken["RecordKey"])
    polling.simulator.faults.malform(key, Malformation.WRONG_TYPE)
    polling.clock.advance(minutes=1)
    [reason] = (await polling.poll(RecordType.AP_INVOICE)).skipped
    assert "VendorName is not a string" in reason

    polling.clock.advance(minutes=15)  # the row leaves the read window, still broken
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="GOOD-1")
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.AP_INVOICE)
    polling.clock.advance(minutes=15)
    assert (await polling.poll(RecordType.AP_INVOICE)).skipped == ()
    listed, slash_status, home = await shown_as_not_read(polling)
    assert listed == [reason]
    assert "VendorName is not a string" in slash_status and "did not read" in home

    polling.simulator.faults.clear()  # fixed in Sage: the next edit stamps it
    polling.data.update("ABC", "ap-invoices", key, {"Comment": "fixed"}, at=polling.clock())
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.AP_INVOICE)).new == 1
    listed, slash_status, home = await shown_as_not_read(polling)
    assert listed == [] and "did not read" not in home
    assert "VendorName is not a string" not in slash_status
    assert sum("BROKEN-1" in rendered(m) for m in records_in(polling, AP_CHANNEL)) == 1


async def test_rows_without_a_key_in_several_batches_are_listed_as_one_row_counting_them_all(
    polling,
):
    await baseline(polling, RecordType.AP_INVOICE)
    polling.tuning = PollTuning(page_size=2, batch_size=2)
    at = polling.clock()
    rows = [polling.data.add_ap_invoice("ABC", at, InvoiceNo=f"INV-{n}") for n in range(6)]
    for row in rows[1::2]:  # one keyless row in each batch of two
        polling.simulator.faults.malform(str(row["RecordKey"]), Malformation.MISSING_KEY)
    polling.clock.advance(minutes=1)

    outcome = await polling.poll(RecordType.AP_INVOICE)

    assert len(outcome.skipped) == 3 and outcome.new == 3
    listed, _, _ = await shown_as_not_read(polling)
    [keyless] = listed
    assert "3 rows, first: " in keyless
