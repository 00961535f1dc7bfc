"""Business activity while the simulator runs, driven step by step with an explicit clock."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from sage.simulator import Activity, Resource, SimulatorData
from sage.simulator.formats import change_stamp, sage_stamp
from tests.fixtures.simulator import client_ssl_context

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


def make_activity(seed: int = 9) -> Activity:
    data = SimulatorData.seeded(NOW - timedelta(hours=1), rng=random.Random(seed))
    return Activity(data, rng=random.Random(seed), clock=lambda: NOW, companies=("ABC",))


def keys(data: SimulatorData, resource: Resource) -> set[str]:
    return {row["RecordKey"] for row in data.rows("ABC", resource)}


def test_an_entered_invoice_appears_stamped_now():
    activity = make_activity()
    [change] = activity.step(NOW, "invoice_entered")
    row = activity.data.get("ABC", Resource.AP_INVOICES, change.record_keys[0])
    assert row["SourceTable"] == "AP_InvoiceHeader"
    assert change_stamp(row)[0] == sage_stamp(activity.data.local(NOW))[0]


def test_posting_moves_entered_invoices_and_writes_an_ap_register_over_a_minute():
    activity = make_activity()
    activity.step(NOW, "invoice_entered")
    activity.step(NOW, "invoice_entered")
    entered = {
        r["RecordKey"]
        for r in activity.data.rows("ABC", Resource.AP_INVOICES)
        if r["SourceTable"] == "AP_InvoiceHeader"
    }
    before = keys(activity.data, Resource.GL_POSTINGS)
    [change] = activity.step(NOW, "invoices_posted")
    assert change.kind == "invoices_posted"
    assert len(change.record_keys) == len(entered) >= 2
    assert not entered & keys(activity.data, Resource.AP_INVOICES)
    assert all(
        activity.data.get("ABC", Resource.AP_INVOICES, key)["SourceTable"] == "AP_OpenInvoice"
        for key in change.record_keys
    )
    activity.flush(NOW + timedelta(seconds=30))
    halfway = keys(activity.data, Resource.GL_POSTINGS) - before
    activity.flush(NOW + timedelta(seconds=61))
    written = [
        activity.data.get("ABC", Resource.GL_POSTINGS, key)
        for key in keys(activity.data, Resource.GL_POSTINGS) - before
    ]
    assert 0 < len(halfway) < len(written)
    assert {row["SourceJournal"] for row in written} == {"AP"}
    assert sum(Decimal(r["DebitAmount"]) for r in written) == sum(
        Decimal(r["CreditAmount"]) for r in written
    )
    assert activity.pending == []


def test_a_po_is_created_then_moves_through_statuses():
    activity = make_activity()
    [created] = activity.step(NOW, "po_created")
    order = activity.data.get("ABC", Resource.PURCHASE_ORDERS, created.record_keys[0])
    assert order["OrderStatus"] == "N"
    statuses = set()
    for minute in range(1, 40):
        later = NOW + timedelta(minutes=minute)
        for change in activity.step(later, "po_status"):
            if change.kind == "po_status":
                row = activity.data.get("ABC", Resource.PURCHASE_ORDERS, change.record_keys[0])
                statuses.add(row["OrderStatus"])
                assert change_stamp(row)[1] > 0
    assert {"O", "X"} <= statuses


def test_a_po_header_can_be_read_before_its_lines_which_keep_its_stamp():
    activity = make_activity()
    header_only = None
    for minute in range(30):
        for change in activity.step(NOW + timedelta(minutes=minute), "po_created"):
            row = activity.data.get("ABC", Resource.PURCHASE_ORDERS, change.record_keys[0])
            if change.kind == "po_created" and row["Lines"] == []:
                header_only = row
                break
        if header_only:
            break
    assert header_only is not None
    activity.flush(NOW + timedelta(minutes=minute, seconds=11))
    complete = activity.data.get("ABC", Resource.PURCHASE_ORDERS, header_only["RecordKey"])
    assert complete["Lines"]
    assert change_stamp(complete) == change_stamp(header_only)


def test_gl_registers_post_their_lines_over_about_a_minute():
    activity = make_activity()
    before = keys(activity.data, Resource.GL_POSTINGS)
    [change] = activity.step(NOW, "gl_register")
    assert len(change.record_keys) >= 2
    first = activity.flush(NOW)
    assert [c.kind for c in first] == ["gl_line_written"]
    activity.flush(NOW + timedelta(seconds=60))
    assert keys(activity.data, Resource.GL_POSTINGS) - before == set(change.record_keys)


def test_account_edits_change_description_or_status():
    activity = make_activity()
    original = {r["RecordKey"]: r for r in activity.data.rows("ABC", Resource.GL_ACCOUNTS)}
    edited = set()
    for minute in range(12):
        for change in activity.step(NOW + timedelta(minutes=minute), "account_edited"):
            row = activity.data.get("ABC", Resource.GL_ACCOUNTS, change.record_keys[0])
            before = original[row["RecordKey"]]
            if row["AccountDesc"] != before["AccountDesc"]:
                edited.add("description")
            if row["Status"] != before["Status"]:
                edited.add("status")
    assert edited == {"description", "status"}


def test_paying_clears_an_open_invoice_balance():
    activity = make_activity()
    [change] = activity.step(NOW, "invoice_paid")
    row = activity.data.get("ABC", Resource.AP_INVOICES, change.record_keys[0])
    assert change.kind == "invoice_paid"
    assert row["SourceTable"] == "AP_OpenInvoice"
    assert row["Balance"] == "0.00"


def test_random_steps_produce_every_kind_of_change():
    activity = make_activity(seed=3)
    kinds = defaultdict(int)
    for minute in range(120):
        for change in activity.step(NOW + timedelta(minutes=minute)):
            kinds[change.kind] += 1
    assert set(Activity.KINDS) | {"gl_line_written", "po_lines_read"} == set(kinds)


async def test_run_steps_on_its_interval_and_stops_on_its_event():
    activity = make_activity()
    activity.interval = 0.01
    three_steps = asyncio.Event()
    calls = []

    def clock() -> datetime:
        calls.append(1)
        if len(calls) == 3:
            three_steps.set()
        return NOW + timedelta(seconds=len(calls))

    activity.clock = clock
    stop = asyncio.Event()
    task = asyncio.create_task(activity.run(stop))
    await asyncio.wait_for(three_steps.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert task.done()


async def test_a_running_simulator_keeps_changing(start_simulator):
    server = await start_simulator(activity_interval=0.01)
    async with httpx.AsyncClient(
        base_url=server.base_url, verify=client_ssl_context(server.pki)
    ) as client:
        start = await client.get("/v1/health")
        query = {"since_date": start.json()["server_date"]}
        query["since_time"] = start.json()["server_time"]
        seen = set()
        async with asyncio.timeout(20):
            while len(seen) < 2:
                for resource in ("ap-invoices", "purchase-orders"):
                    answer = await client.get(f"/v1/companies/ABC/{resource}", params=query)
                    if answer.json()["records"]:
                        seen.add(resource)
                await asyncio.sleep(0.02)
