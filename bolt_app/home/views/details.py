"""The "Details" modal: one whole record as the agent has it now, lines included.

Three states share one callback id: loading (opened at once, inside Slack's 3-second trigger
window), the record (pushed with `views.update` once the agent answered), and unreachable
(the agent failed; the message says why in the agent client's own words). The record's blocks
are its type's (`RecordDescription.details`); long documents are packed several lines to a
section and capped (`bolt_app.records.wording.packed`), so a 900-line PO still fits Block Kit.
"""

from __future__ import annotations

from typing import Any

from bolt_app.blockkit.kit import MAX_VIEW_BLOCKS, context, modal, section
from bolt_app.blockkit.text import escape
from bolt_app.records.registry import describe, description_of
from sage.records import RecordType

DETAILS_CALLBACK_ID = "record_details_modal"


def build_details_loading_modal(record_type: RecordType, record_key: str) -> dict[str, Any]:
    label = describe(record_type).label
    return modal(
        "Details",
        [
            section(
                f":hourglass_flowing_sand: Fetching `{escape(record_key)}` ({label.lower()}) "
                "from the Sage 100 agent…"
            )
        ],
        callback_id=DETAILS_CALLBACK_ID,
    )


def build_details_unreachable_modal(
    record_type: RecordType, record_key: str, reason: str
) -> dict[str, Any]:
    label = describe(record_type).label
    return modal(
        "Details",
        [
            section(
                f":warning: *The Sage 100 agent could not be reached* for `{escape(record_key)}`"
                f" ({label.lower()}).\n{escape(reason)}"
            ),
            context("The message in the channel still shows what was last seen. Try again later."),
        ],
        callback_id=DETAILS_CALLBACK_ID,
    )


def build_details_modal(record: object) -> dict[str, Any]:
    """The record's own blocks (its type's `details`), in the modal every type shares."""
    blocks = description_of(record).details(record)
    return modal("Details", blocks[:MAX_VIEW_BLOCKS], callback_id=DETAILS_CALLBACK_ID)
