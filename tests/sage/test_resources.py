import pytest

from sage.records import RecordType
from sage.resources import RESOURCES, by_path, by_record_type


def test_every_record_type_has_exactly_one_resource():
    assert sorted(r.record_type for r in RESOURCES) == sorted(RecordType)
    for resource in RESOURCES:
        assert by_path(resource.path) is resource
        assert by_record_type(resource.record_type) is resource


def test_gl_entries_come_from_gl_postings_which_have_only_created_stamps():
    resource = by_record_type(RecordType.GL_ENTRY)
    assert resource.path == "gl-postings"
    assert resource.updated_fields is None


def test_updated_pair_wins_over_created_pair():
    from zoneinfo import ZoneInfo

    from tests.sage.sample_rows import ap_invoice

    zone = ZoneInfo("UTC")
    row = ap_invoice(DateUpdated="20261125", TimeUpdated="10")
    assert by_path("ap-invoices").change_stamp(row, zone).day == 25
    assert by_path("ap-invoices").change_stamp(ap_invoice(), zone).day == 20


def test_unknown_path_names_the_known_ones():
    with pytest.raises(KeyError, match="ap-invoices"):
        by_path("ar-invoices")


@pytest.mark.parametrize(
    "stamps",
    [
        {},
        {"DateUpdated": "20261125", "TimeUpdated": "10.5"},
        {"DateUpdated": "", "TimeUpdated": ""},
        {"DateUpdated": "17530101", "TimeUpdated": "", "UserUpdatedKey": ""},
    ],
)
def test_a_parsed_record_gives_the_change_stamp_its_row_does(stamps):
    """A page's last stamp is taken from its parsed records, so the cursor lands where the
    agent's order says; gl-postings sort by the created pair even if a row carries another."""
    from zoneinfo import ZoneInfo

    from tests.sage.sample_rows import BY_PATH

    zone = ZoneInfo("America/Chicago")
    for resource in RESOURCES:
        row = BY_PATH[resource.path](**stamps)
        record = resource.parse_row(row, "ABC", zone)
        assert resource.record_stamp(record) == resource.change_stamp(row, zone)
