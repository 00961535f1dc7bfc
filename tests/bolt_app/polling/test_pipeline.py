"""The polling pipeline end to end: simulated agent -> poller -> outbox -> Slack stand-in."""

from __future__ import annotations

from sage.records import RecordType
from tests.fixtures.slack import AP_CHANNEL, GL_CHANNEL, PO_CHANNEL


async def test_first_connection_posts_one_connected_message_per_channel_and_no_history(polling):
    for record_type in RecordType:
        outcome = await polling.poll(record_type)
        assert outcome.new == 0 and outcome.queued >= 1
    ap, po, gl = (polling.messages(c) for c in (AP_CHANNEL, PO_CHANNEL, GL_CHANNEL))
    assert len(ap) == 1 and len(po) == 1 and len(gl) == 2
    assert all("Connected to Sage 100 company" in m.text for m in ap + po + gl)
    polling.clock.advance(minutes=15)
    for record_type in RecordType:
        await polling.poll(record_type)
    assert len(polling.messages(AP_CHANNEL)) == 1
    assert len(polling.messages(PO_CHANNEL)) == 1
    assert len(polling.messages(GL_CHANNEL)) == 2
