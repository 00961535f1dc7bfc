"""No row stops a record type: each kind of broken row beside good ones, against the simulator."""

from __future__ import annotations

import pytest

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
