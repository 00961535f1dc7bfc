"""The /sage-status blocks: what they say, and within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bolt_app.delivery.outbox import QueueCounts
from bolt_app.status.model import ReconcileStatus, ResourceStatus, WorkspaceStatus
from bolt_app.status.views import build_status_blocks, status_summary
from sage.records import RecordType
from slack_standin import MAX_BLOCKS_TEXT, blocks_text_length, validate_blocks

POLLED = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def resource(company: str, record_type: RecordType, **changes) -> ResourceStatus:
    values = {
        "company": company,
        "record_type": record_type,
        "channel": "C0AP00001",
        "schedule": "15m",
        "last_poll_at": POLLED,
        "last_success_at": POLLED,
        "next_poll_at": datetime(2026, 11, 26, 14, 15, tzinfo=UTC),
        "records_seen_last_poll": 7,
        "last_error": None,
    }
    values.update(changes)
    return ResourceStatus(**values)


def status(*resources: ResourceStatus, paused: bool = False, pending=2, dead=1):
    return WorkspaceStatus(
        team_id="T0123ABCD",
        paused=paused,
        resources=resources,
        queue=QueueCounts(pending=pending, dead=dead),
    )


def test_each_resource_shows_channel_polls_records_seen_and_last_error():
    blocks = build_status_blocks(
        status(
            resource("ABC", RecordType.AP_INVOICE),
            resource(
                "ABC",
                RecordType.GL_ENTRY,
                channel=None,
                next_poll_at=None,
                records_seen_last_poll=None,
                last_error="The agent refused the client certificate.",
            ),
        )
    )
    assert validate_blocks(blocks) == []
    ap, gl = (block for block in blocks if block.get("fields"))
    ap_fields = [field["text"] for field in ap["fields"]]
    assert ap["text"]["text"] == "*ABC · AP invoices*"
    assert "*Channel*\n<#C0AP00001>" in ap_fields
    assert "*Records seen last poll*\n7" in ap_fields
    assert f"<!date^{int(POLLED.timestamp())}^" in " ".join(ap_fields)
    assert "*Last error*\n:white_check_mark: none" in ap_fields
    gl_fields = [field["text"] for field in gl["fields"]]
    assert "*Channel*\nnot routed" in gl_fields
    assert "*Next poll*\nnot scheduled" in gl_fields
    assert "*Last error*\n:warning: The agent refused the client certificate." in gl_fields
    assert "Queue: *2* pending, *1* failed for good" in json.dumps(blocks)


def test_the_last_reconcile_shows_when_or_why_it_is_off_escaped():
    off = "Reconcile is off: the agent (version <2.0>, API 1.0) has no keys listing."
    blocks = build_status_blocks(
        status(
            resource("ABC", RecordType.AP_INVOICE, reconcile=ReconcileStatus(POLLED, POLLED)),
            resource("ABC", RecordType.PURCHASE_ORDER, reconcile=ReconcileStatus(POLLED, None, None, off)),
            resource("ABC", RecordType.GL_ENTRY),
        )
    )  # fmt: skip
    assert validate_blocks(blocks) == []
    ap, po, gl = ([f["text"] for f in block["fields"]] for block in blocks if block.get("fields"))
    [ap_line] = [text for text in ap if text.startswith("*Last reconcile*")]
    assert ap_line.startswith("*Last reconcile*\nlast run <!date^")
    [po_line] = [text for text in po if text.startswith("*Last reconcile*")]
    assert "(version &lt;2.0&gt;, API 1.0) has no keys listing." in po_line
    assert not any(text.startswith("*Last reconcile*") for text in gl)


def test_a_paused_workspace_says_so_first():
    blocks = build_status_blocks(status(resource("ABC", RecordType.AP_INVOICE), paused=True))
    assert "Polling is paused" in blocks[1]["text"]["text"]
    assert "paused" in status_summary(status(paused=True))


@given(companies=st.integers(min_value=0, max_value=40))
def test_any_number_of_companies_fits_in_one_message(companies):
    resources = [
        resource(f"C{index:02d}", record_type)
        for index in range(companies)
        for record_type in RecordType
    ]
    blocks = build_status_blocks(status(*resources))
    assert validate_blocks(blocks) == []
    shown = sum(1 for block in blocks if block.get("fields"))
    if shown < len(resources):
        assert f"…and {len(resources) - shown} more" in json.dumps(blocks, ensure_ascii=False)


@given(
    companies=st.integers(min_value=1, max_value=40),
    error=st.sampled_from(["", "The agent did not answer. " * 40, "<!channel> & " * 200]),
)
def test_a_long_status_list_stays_within_slacks_total_text(companies, error):
    """Slack refuses blocks whose text adds up past ~12,000 characters (msg_blocks_too_long)."""
    resources = [
        resource(f"C{index:02d}", record_type, last_error=error or None, schedule="0 6 * * 1-5")
        for index in range(companies)
        for record_type in RecordType
    ]
    paused = WorkspaceStatus(
        team_id="T0123ABCD",
        paused=True,
        resources=tuple(resources),
        queue=QueueCounts(pending=2, dead=1),
        paused_reason=error or None,
    )
    blocks = build_status_blocks(paused)
    assert validate_blocks(blocks) == []
    assert blocks_text_length(blocks) <= MAX_BLOCKS_TEXT
    shown = sum(1 for block in blocks if block.get("fields"))
    assert shown >= min(len(resources), 10)
    if shown < len(resources):
        assert f"…and {len(resources) - shown} more" in json.dumps(blocks, ensure_ascii=False)
