import pytest

from bolt_app.records.registry import DESCRIPTIONS, describe, description_of
from bolt_app.workspace.schedule import DEFAULT_SCHEDULES
from sage.records import RecordType
from tests.bolt_app.sample_records import ap_invoice, purchase_order


def test_every_record_type_has_one_description_and_a_default_schedule():
    assert [d.record_type for d in DESCRIPTIONS] == list(RecordType)
    assert set(DEFAULT_SCHEDULES) == set(RecordType)


def test_a_record_finds_its_description_and_anything_else_is_refused():
    assert description_of(ap_invoice()) is describe(RecordType.AP_INVOICE)
    assert description_of(purchase_order()).label == "Purchase orders"
    with pytest.raises(TypeError, match="str is not a record"):
        description_of("INV-1001")


def test_a_type_tracked_by_its_record_key_tracks_exactly_that_key():
    """A first reconcile pass takes the RecordKey for the tracked key of such a type unread."""
    for record in (purchase_order(), ap_invoice()):
        description = description_of(record)
        assert description.tracked_key is not None
        same = description.tracked_key(record) == record.record_key
        assert same is description.tracked_by_record_key
