"""The invented data: deterministic, realistic, internally consistent."""

from __future__ import annotations

import random
import re
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sage.simulator import Resource, SimulatorData
from sage.simulator.formats import EMPTY_DATES, change_stamp

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded() -> SimulatorData:
    return SimulatorData.seeded(NOW, rng=random.Random(42))


def test_the_same_seed_and_moment_give_the_same_rows(seeded):
    again = SimulatorData.seeded(NOW, rng=random.Random(42))
    other = SimulatorData.seeded(NOW, rng=random.Random(43))
    for resource in Resource:
        assert again.rows("ABC", resource) == seeded.rows("ABC", resource)
    assert other.rows("ABC", Resource.AP_INVOICES) != seeded.rows("ABC", Resource.AP_INVOICES)


def test_every_row_carries_key_and_audit_fields_in_sage_formats(seeded):
    for company in ("ABC", "TST"):
        for resource in Resource:
            rows = seeded.rows(company, resource)
            assert rows, (company, resource)
            for row in rows:
                assert row["RecordKey"]
                assert re.fullmatch(r"\d{8}", row["DateCreated"])
                assert re.fullmatch(r"|\d{1,2}\.\d{1,5}", row["TimeCreated"])
                assert re.fullmatch(r"\d{10}", row["UserCreatedKey"])
                if resource is Resource.GL_POSTINGS:
                    assert "DateUpdated" not in row
                else:
                    assert row["DateUpdated"] in EMPTY_DATES or re.fullmatch(
                        r"\d{8}", row["DateUpdated"]
                    )
                    assert row["UserUpdatedKey"] == "" or re.fullmatch(
                        r"\d{10}", row["UserUpdatedKey"]
                    )
                assert change_stamp(row) <= ("20261126", Decimal(12))  # never after now (noon CST)


def test_abc_has_recognisable_vendors_accounts_and_po_numbers(seeded):
    vendors = {
        f"{r['APDivisionNo']}-{r['VendorNo']}" for r in seeded.rows("ABC", Resource.AP_INVOICES)
    }
    accounts = {r["Account"] for r in seeded.rows("ABC", Resource.GL_ACCOUNTS)}
    orders = [r["PurchaseOrderNo"] for r in seeded.rows("ABC", Resource.PURCHASE_ORDERS)]
    assert vendors & {"01-AIRWAY", "01-CAPITAL", "02-OFFICE", "01-CONTAIN", "01-METRO"}
    assert {"400-01-00", "200-00-00", "100-00-00"} <= accounts
    assert all(re.fullmatch(r"\d{7}", number) for number in orders)


def test_tables_hold_every_time_spelling_and_padding_and_the_agent_serves_them_clean(seeded):
    """Sage's files keep times as `09.50000`, `9.50000` or `9.5` and pad fixed-width text; the
    agent (read through by `rows`) serves five unpadded places and strips the blanks."""
    with sqlite3.connect(seeded.path("ABC")) as table:
        times = [t for (t,) in table.execute("SELECT TimeCreated FROM GL_DetailPosting")]
        times += [t for (t,) in table.execute("SELECT TimeCreated FROM GL_Account")]
        names = [n for (n,) in table.execute("SELECT PurchaseName FROM PO_PurchaseOrderHeader")]
    assert any(t.startswith("0") for t in times)
    assert any(re.fullmatch(r"[1-9]\.\d{5}", t) for t in times)
    assert "" in times
    assert any(name != name.rstrip() for name in names)
    served = [r["TimeCreated"] for r in seeded.rows("ABC", Resource.GL_POSTINGS)]
    assert served and all(re.fullmatch(r"|[1-9]?\d\.\d{5}", t) for t in served)
    orders = seeded.rows("ABC", Resource.PURCHASE_ORDERS)
    assert all(r["PurchaseName"] == r["PurchaseName"].rstrip() for r in orders)


def test_purchase_order_amounts_agree_with_their_lines(seeded):
    for order in seeded.rows("ABC", Resource.PURCHASE_ORDERS):
        lines = order["Lines"]
        assert lines
        extensions = sum(Decimal(line["ExtensionAmt"]) for line in lines)
        assert Decimal(order["TaxableAmt"]) + Decimal(order["NonTaxableAmt"]) == extensions
        for line in lines:
            product = Decimal(line["QuantityOrdered"]) * Decimal(line["UnitCost"])
            assert Decimal(line["ExtensionAmt"]) == product.quantize(Decimal("0.01"))
        assert order["OrderType"] in "SDMRX"
        assert order["OrderStatus"] in "NOBCX"


def test_gl_registers_balance(seeded):
    registers = defaultdict(list)
    for line in seeded.rows("ABC", Resource.GL_POSTINGS):
        registers[(line["SourceJournal"], line["JournalRegisterNo"])].append(line)
    assert len(registers) >= 5
    for lines in registers.values():
        debit = sum(Decimal(line["DebitAmount"]) for line in lines)
        credit = sum(Decimal(line["CreditAmount"]) for line in lines)
        assert debit == credit > 0
        assert len(lines) >= 2


def test_posting_an_invoice_moves_it_under_a_new_key():
    data = SimulatorData(("ABC",), rng=random.Random(1))
    entered = data.add_ap_invoice("ABC", NOW - timedelta(hours=2))
    posted = data.post_invoice("ABC", entered["RecordKey"], NOW)
    assert entered["SourceTable"] == "AP_InvoiceHeader"
    assert "Balance" not in entered
    assert posted["SourceTable"] == "AP_OpenInvoice"
    assert posted["RecordKey"] != entered["RecordKey"]
    assert posted["Balance"] == posted["InvoiceAmt"] == entered["InvoiceAmt"]
    business_key = ("APDivisionNo", "VendorNo", "InvoiceNo")
    assert [posted[f] for f in business_key] == [entered[f] for f in business_key]
    assert data.get("ABC", Resource.AP_INVOICES, entered["RecordKey"]) is None
    with pytest.raises(ValueError, match="already posted"):
        data.post_invoice("ABC", posted["RecordKey"], NOW)


def test_paying_an_invoice_lowers_its_balance_and_stamps_it():
    data = SimulatorData(("ABC",), rng=random.Random(1))
    posted = data.add_ap_invoice(
        "ABC", NOW - timedelta(days=2), posted=True, InvoiceAmt="100.00", Balance="100.00"
    )
    paid = data.pay_invoice("ABC", posted["RecordKey"], Decimal("100.00"), NOW)
    assert paid["Balance"] == "0.00"
    assert change_stamp(paid) > change_stamp(posted)


def test_add_many_shares_stamps_as_asked():
    data = SimulatorData(("ABC",), rng=random.Random(1))
    rows = data.add_many("ABC", Resource.GL_ACCOUNTS, 30, start=NOW, per_stamp=10)
    stamps = [change_stamp(row) for row in rows]
    assert len(set(stamps)) == 3
    assert len({row["RecordKey"] for row in rows}) == 30
    postings = data.add_many("ABC", Resource.GL_POSTINGS, 101, start=NOW, per_stamp=1)
    assert len(postings) == 101 == len(data.rows("ABC", Resource.GL_POSTINGS))


def test_naive_times_are_refused():
    data = SimulatorData(("ABC",))
    with pytest.raises(ValueError, match="timezone-aware"):
        data.add_ap_invoice("ABC", datetime(2026, 11, 26, 9, 0))


def test_removed_rows_leave_no_trace():
    data = SimulatorData(("ABC",), rng=random.Random(1))
    row = data.add_purchase_order("ABC", NOW)
    data.remove("ABC", Resource.PURCHASE_ORDERS, row["RecordKey"])
    assert data.rows("ABC", Resource.PURCHASE_ORDERS) == []


def test_a_vendor_can_be_chosen_by_its_display_code():
    data = SimulatorData(("ABC",), rng=random.Random(1))
    invoice = data.add_ap_invoice("ABC", NOW, vendor="01-AIRWAY")
    order = data.add_purchase_order("ABC", NOW, vendor="02-OFFICE")
    assert (invoice["APDivisionNo"], invoice["VendorNo"]) == ("01", "AIRWAY")
    assert invoice["VendorName"].rstrip() == "Airway Freight Lines"
    assert order["PurchaseName"].rstrip() == "OfficeLine Supplies"
    with pytest.raises(KeyError, match="no vendor 09-NOBODY"):
        data.add_ap_invoice("ABC", NOW, vendor="09-NOBODY")
