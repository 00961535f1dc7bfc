"""What each record type is called, in every message, view and status line."""

from __future__ import annotations

from sage.records import RecordType

NOUNS: dict[RecordType, tuple[str, str]] = {  # (singular, plural)
    RecordType.AP_INVOICE: ("AP invoice", "AP invoices"),
    RecordType.PURCHASE_ORDER: ("purchase order", "purchase orders"),
    RecordType.GL_ENTRY: ("GL register", "GL registers"),
    RecordType.GL_ACCOUNT: ("GL account", "GL accounts"),
}

# A heading's label: "AP invoices", "Purchase orders", "GL registers", "GL accounts".
RECORD_TYPE_LABELS: dict[RecordType, str] = {
    record_type: plural[0].upper() + plural[1:] for record_type, (_, plural) in NOUNS.items()
}
