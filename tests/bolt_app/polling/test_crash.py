"""A poll killed between its batches: what the committed batches did stays, and the next poll
posts each record exactly once (the cursor stands where the committed batches end; seen versions
make the re-read silent; a stored burst summary is announced first)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bolt_app.blocks.messages import DIGEST_EVENT_TYPE
from bolt_app.polling.service import PollService, PollTuning
from bolt_app.polling.store import PollKey
from sage.client import AgentClient
from sage.errors import UnavailableError
from sage.records import RecordType
from tests.bolt_app.polling.test_pipeline import baseline, records_in
from tests.fixtures.slack import AP_CHANNEL, TEAM_ID

KEY = PollKey(TEAM_ID, "ABC", RecordType.AP_INVOICE)


class _DyingAgent(AgentClient):
    """The real client, whose listing breaks off after `pages` pages."""

    pages = 0

    async def list_changes(self, *args, **kwargs) -> AsyncIterator:
        served = 0
        async for page in super().list_changes(*args, **kwargs):
            if served == self.pages:
                raise UnavailableError("the agent went away mid-listing")
            served += 1
            yield page


def dying_after(pages: int):
    return type("Dying", (_DyingAgent,), {"pages": pages})


async def killed_then_polled(polling, count: int, *, killed_after: int, threshold: int):
    polling.tuning = PollTuning(page_size=5, batch_size=5, burst_threshold=threshold)
    await baseline(polling, RecordType.AP_INVOICE)
    rows = polling.data.add_many("ABC", "ap-invoices", count, start=polling.clock(), per_stamp=2)
    polling.clock.advance(minutes=1)
    dying = PollService(
        polling.sessions,
        box=polling.box,
        now=polling.clock,
        tuning=polling.tuning,
        agent_client_for=dying_after(killed_after),
    )
    failed = await dying.poll(KEY)
    assert failed.error is not None and "went away" in failed.error
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.AP_INVOICE)
    polling.clock.advance(minutes=5)
    assert (await polling.poll(RecordType.AP_INVOICE)).new == 0
    return rows


async def test_a_poll_killed_between_batches_of_singles_posts_each_invoice_once(polling):
    rows = await killed_then_polled(polling, 12, killed_after=2, threshold=20)
    posted = [m.metadata["event_payload"]["record_key"] for m in records_in(polling, AP_CHANNEL)]
    assert sorted(posted) == sorted(str(row["RecordKey"]) for row in rows)


async def test_a_poll_killed_inside_a_burst_announces_what_it_committed_and_the_rest_once(
    polling,
):
    rows = await killed_then_polled(polling, 30, killed_after=3, threshold=3)
    messages = records_in(polling, AP_CHANNEL)
    digests = [m for m in messages if m.metadata["event_type"] == DIGEST_EVENT_TYPE]
    singles = [m.metadata["event_payload"]["record_key"] for m in messages if m not in digests]
    counts = [m.metadata["event_payload"]["count"] for m in digests]
    assert counts[0] == 15  # the three committed batches' members, announced first
    assert sum(counts) + len(singles) == len(rows) and len(set(singles)) == len(singles)
