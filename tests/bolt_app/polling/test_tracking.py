import hashlib
import json
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bolt_app.polling.codec import from_json, to_json
from bolt_app.polling.tracking import ChangeKind, classify, version_of
from bolt_app.records.ap_invoice import ap_invoice_fields, ap_invoice_key
from bolt_app.records.purchase_order import purchase_order_fields
from sage.records import APInvoiceSource, OrderStatus
from tests.bolt_app.sample_records import ap_invoice, purchase_order

ZONE = ZoneInfo("America/Chicago")
INVOICE = ap_invoice(purchase_order_no="", comment="")
ORDER = purchase_order()


def test_version_ignores_key_order_and_sees_every_value():
    assert version_of({"a": "1", "b": "2"}) == version_of({"b": "2", "a": "1"})
    assert version_of({"a": "1"}) != version_of({"a": "1 "})


def test_a_version_stored_by_an_earlier_release_still_matches_the_same_fields():
    """Versions live in customers' databases: a changed canonical form would report every
    re-read record as changed."""
    fields = {"vendor": "01-AIRWAY", "amount": "1250.00", "vendor_name": "Café Ñ", "on_hold": "no"}
    assert version_of(fields) == "e3b97256974d493550d497667007ace2f099f06fe9221b400c19921cd8448a3c"


@settings(max_examples=300)
@given(st.dictionaries(st.text(), st.text() | st.none() | st.booleans() | st.integers()))
def test_a_version_is_the_hash_of_the_fields_canonical_json(fields):
    """Whatever encoder writes it, a version is SHA-256 of the json module's canonical form
    (sorted keys, no spaces, UTF-8), so versions stored by any release keep matching."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert version_of(fields) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_invoice_keeps_its_key_when_posted_under_a_new_record_key():
    posted = replace(INVOICE, record_key="O9", source=APInvoiceSource.POSTED, balance=Decimal(1))
    assert ap_invoice_key(INVOICE) == ap_invoice_key(posted) == "01/AIRWAY/INV-1001"


def test_re_read_is_unchanged_a_shown_field_change_is_a_change():
    version = version_of(ap_invoice_fields(INVOICE))
    assert classify(version, None) is ChangeKind.NEW
    reread = version_of(ap_invoice_fields(replace(INVOICE, record_key="other")))
    assert classify(reread, version) is ChangeKind.UNCHANGED
    held = version_of(ap_invoice_fields(replace(INVOICE, on_hold=True)))
    assert classify(held, version) is ChangeKind.CHANGED
    status = version_of(purchase_order_fields(replace(ORDER, status=OrderStatus.OPEN)))
    assert classify(status, version_of(purchase_order_fields(ORDER))) is ChangeKind.CHANGED


def test_records_survive_the_json_round_trip():
    for record in (INVOICE, ORDER, replace(INVOICE, balance=Decimal("0.00"))):
        assert from_json(type(record), to_json(record), ZONE) == record
