"""Every record type's description; adding a record type adds a module and a line here."""

from __future__ import annotations

from bolt_app.records import ap_invoice, gl_account, gl_register, purchase_order
from bolt_app.records.description import RecordDescription
from sage.records import RecordType

DESCRIPTIONS: tuple[RecordDescription, ...] = (
    ap_invoice.DESCRIPTION,
    purchase_order.DESCRIPTION,
    gl_register.DESCRIPTION,
    gl_account.DESCRIPTION,
)

_BY_TYPE = {description.record_type: description for description in DESCRIPTIONS}
_BY_CLASS = {description.record_class: description for description in DESCRIPTIONS}


def describe(record_type: RecordType) -> RecordDescription:
    return _BY_TYPE[record_type]


def description_of(record: object) -> RecordDescription:
    """The description of a record a message, rule or modal is given; TypeError for others."""
    try:
        return _BY_CLASS[type(record)]
    except KeyError:
        raise TypeError(f"{type(record).__name__} is not a record the Slack side shows") from None
