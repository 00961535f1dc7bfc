"""What each record type is called, in every message, view and status line."""

from __future__ import annotations

from bolt_app.records.registry import DESCRIPTIONS
from sage.records import RecordType

NOUNS: dict[RecordType, tuple[str, str]] = {  # (singular, plural)
    d.record_type: (d.noun, d.plural) for d in DESCRIPTIONS
}

# A heading's label: "AP invoices", "Purchase orders", "GL registers", "GL accounts".
RECORD_TYPE_LABELS: dict[RecordType, str] = {d.record_type: d.label for d in DESCRIPTIONS}
