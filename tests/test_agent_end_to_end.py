"""The whole product on one machine: Sage 100 data in a Sage-layout file -> SQLite ODBC driver
-> pyodbc -> the agent over mTLS -> the connector's poller -> Slack (the stand-in)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from sage.agent import layout
from sage.agent.connection import OdbcConnector
from sage.records import RecordType
from sage.simulator import SimulatorData
from tests.bolt_app.polling.test_pipeline import records_in, rendered
from tests.fixtures.agent import needs_odbc, odbc_connection_string, write_test_company
from tests.fixtures.polling import SAGE_ZONE, START, FakeClock, make_harness
from tests.fixtures.slack import AP_CHANNEL, GL_CHANNEL, PO_CHANNEL


def save(path: Path, resource: str, row: dict) -> None:
    """What Sage does when a user saves: each table row replaced (a new vendor row kept)."""
    with sqlite3.connect(path) as connection:
        for table, values in layout.sage_rows(resource, row):
            where = " AND ".join(f"{name} = ?" for name in table.key)
            key = [layout.stored_value(table.column(n), values.get(n)) for n in table.key]
            if table is not layout.AP_VENDOR:
                connection.execute(f"DELETE FROM {table.name} WHERE {where}", key)
            if not connection.execute(f"SELECT 1 FROM {table.name} WHERE {where}", key).fetchone():
                layout.write_rows(connection, table, [values])


@needs_odbc
async def test_each_record_type_saved_in_sage_is_posted_once(
    start_agent, engine, secret_box, slack_standin, tmp_path
):
    clock = FakeClock(START)
    sage = SimulatorData.seeded(START, rng=random.Random(3), timezone=SAGE_ZONE)
    path = write_test_company(tmp_path / "ABC.db", sage, "ABC")
    agent = await start_agent(
        {"ABC": OdbcConnector(odbc_connection_string(path), label="companies.ABC.odbc")},
        now=lambda: clock().astimezone(SAGE_ZONE).replace(tzinfo=None),
    )
    polling = await make_harness(agent, clock, engine, secret_box, slack_standin)
    for record_type in RecordType:
        assert (await polling.poll(record_type)).new == 0  # history is not posted
    clock.advance(minutes=1)

    invoice = sage.add_ap_invoice(
        "ABC", clock(), vendor="01-AIRWAY", InvoiceNo="INV-7001", InvoiceAmt="1250.00"
    )
    order = sage.add_purchase_order("ABC", clock())
    register = sage.add_gl_register("ABC", clock(), lines=3)
    account = sage.rows("ABC", "gl-accounts")[0]
    edited = sage.edit_account("ABC", str(account["RecordKey"]), clock(), description="Petty cash")
    save(path, "ap-invoices", invoice)
    save(path, "purchase-orders", order)
    for line in register:
        save(path, "gl-postings", line)
    save(path, "gl-accounts", edited)
    clock.advance(minutes=3)  # the register has settled

    outcomes = {record_type: await polling.poll(record_type) for record_type in RecordType}
    assert outcomes[RecordType.AP_INVOICE].new == 1
    assert outcomes[RecordType.PURCHASE_ORDER].new == 1
    assert outcomes[RecordType.GL_ENTRY].new == 1
    assert outcomes[RecordType.GL_ACCOUNT].changed == 1

    [posted_invoice] = records_in(polling, AP_CHANNEL)
    text = rendered(posted_invoice)
    assert "INV-7001" in text and "Airway Freight Lines" in text and "$1,250.00" in text
    [posted_order] = records_in(polling, PO_CHANNEL)
    assert str(order["PurchaseOrderNo"]) in rendered(posted_order)
    gl = [rendered(m) for m in records_in(polling, GL_CHANNEL)]
    assert any(register[0]["JournalRegisterNo"] in m for m in gl)
    assert any("Petty cash" in m for m in gl)

    clock.advance(minutes=15)
    for record_type in RecordType:  # nothing new: nothing posted twice
        outcome = await polling.poll(record_type)
        assert outcome.new == outcome.changed == 0
    assert len(records_in(polling, AP_CHANNEL)) == len(records_in(polling, PO_CHANNEL)) == 1
