"""Listing changes: order, inclusive bounds, pagination, single records, parameter errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from sage.simulator import Faults, Resource, SimulatorData
from tests.fixtures.simulator import client_ssl_context

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 09:00 in Chicago


def empty_data() -> SimulatorData:
    return SimulatorData(("ABC",), rng=random.Random(7))


async def serve(start_simulator, data: SimulatorData, **kwargs) -> httpx.AsyncClient:
    server = await start_simulator(data=data, **kwargs)
    return httpx.AsyncClient(base_url=server.base_url, verify=client_ssl_context(server.pki))


async def list_all(client: httpx.AsyncClient, path: str, **params) -> tuple[list[dict], list]:
    """Every record of a listing, following tokens; also the tokens seen."""
    records, tokens, token = [], [], None
    while True:
        query = dict(params) | ({"page_token": token} if token else {})
        answer = await client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        records += body["records"]
        token = body["next_page_token"]
        tokens.append(token)
        if token is None:
            return records, tokens


def timed_account(data: SimulatorData, key: str, day: str, time: str) -> None:
    row = data.factory.gl_account("ABC", data.factory.account("ABC", "100-00-00"), START)
    row |= {"RecordKey": key, "AccountKey": key, "DateCreated": day, "TimeCreated": time}
    row |= {"DateUpdated": "", "TimeUpdated": "", "UserUpdatedKey": ""}
    data.put("ABC", Resource.GL_ACCOUNTS, row)


async def test_records_sort_by_numeric_time_then_record_key(start_simulator):
    data = empty_data()
    timed_account(data, "000000003", "20261102", "10.00000")
    timed_account(data, "000000002", "20261102", "9.5")
    timed_account(data, "000000001", "20261102", "09.75000")
    timed_account(data, "000000004", "20261102", "09.50000")
    timed_account(data, "000000005", "20261101", "23.9")
    async with await serve(start_simulator, data) as client:
        records, _ = await list_all(client, "/v1/companies/ABC/gl-accounts")
    assert [r["RecordKey"] for r in records] == [
        "000000005",
        "000000002",
        "000000004",
        "000000001",
        "000000003",
    ]


async def test_since_is_inclusive_and_compares_times_numerically(start_simulator):
    data = empty_data()
    timed_account(data, "000000001", "20261102", "9.49972")
    timed_account(data, "000000002", "20261102", "09.50000")
    timed_account(data, "000000003", "20261102", "9.5")
    timed_account(data, "000000004", "20261103", "")
    async with await serve(start_simulator, data) as client:
        exact, _ = await list_all(
            client, "/v1/companies/ABC/gl-accounts", since_date="20261102", since_time="9.5"
        )
        from_day, _ = await list_all(client, "/v1/companies/ABC/gl-accounts", since_date="20261103")
    assert [r["RecordKey"] for r in exact] == ["000000002", "000000003", "000000004"]
    assert [r["RecordKey"] for r in from_day] == ["000000004"]


async def test_the_updated_stamp_counts_and_blank_ones_fall_back_to_created(start_simulator):
    data = empty_data()
    timed_account(data, "000000001", "20261001", "08.00000")
    timed_account(data, "000000002", "20261001", "08.00000")
    data.update("ABC", Resource.GL_ACCOUNTS, "000000001", {"Status": "I"}, at=START)
    data.update("ABC", Resource.GL_ACCOUNTS, "000000002", {"DateUpdated": "17530101"}, at=None)
    async with await serve(start_simulator, data) as client:
        recent, _ = await list_all(
            client, "/v1/companies/ABC/gl-accounts", since_date="20261102", since_time="9"
        )
    assert [r["RecordKey"] for r in recent] == ["000000001"]
    assert recent[0]["Status"] == "I"


async def test_a_visual_integrator_update_keeps_its_old_stamp(start_simulator):
    data = empty_data()
    row = data.add_ap_invoice("ABC", START - timedelta(days=3))
    data.update("ABC", "ap-invoices", row["RecordKey"], {"Comment": "imported"}, at=None)
    async with await serve(start_simulator, data) as client:
        since_yesterday, _ = await list_all(
            client, "/v1/companies/ABC/ap-invoices", since_date="20261101"
        )
        single = await client.get(f"/v1/companies/ABC/ap-invoices/{quote(row['RecordKey'])}")
    assert since_yesterday == []
    assert single.json()["Comment"] == "imported"


@pytest.mark.parametrize("page_size", [1000, 200, 37])
async def test_pagination_over_2500_records_returns_each_once_in_order(start_simulator, page_size):
    data = empty_data()
    data.add_many("ABC", Resource.AP_INVOICES, 2500, start=START, per_stamp=7)
    async with await serve(start_simulator, data) as client:
        records, tokens = await list_all(
            client, "/v1/companies/ABC/ap-invoices", page_size=page_size
        )
    keys = [r["RecordKey"] for r in records]
    assert len(keys) == 2500
    assert len(set(keys)) == 2500
    assert keys == [r["RecordKey"] for r in data.rows("ABC", Resource.AP_INVOICES)]
    assert len(tokens) == -(-2500 // page_size) + (2500 % page_size == 0)
    assert len(set(tokens)) == len(tokens)


async def test_default_page_size_is_200(start_simulator):
    data = empty_data()
    data.add_many("ABC", Resource.GL_POSTINGS, 450, start=START, per_stamp=3)
    async with await serve(start_simulator, data) as client:
        first = (await client.get("/v1/companies/ABC/gl-postings")).json()
    assert len(first["records"]) == 200
    assert first["next_page_token"]


async def test_short_and_empty_pages_still_end_only_on_a_null_token(start_simulator):
    data = empty_data()
    data.add_many("ABC", Resource.PURCHASE_ORDERS, 300, start=START, per_stamp=4)
    faults = Faults(rng=random.Random(3), short_page_rate=0.7)
    async with await serve(start_simulator, data, faults=faults) as client:
        records, tokens = await list_all(client, "/v1/companies/ABC/purchase-orders", page_size=50)
    assert sorted(r["RecordKey"] for r in records) == sorted(
        r["RecordKey"] for r in data.rows("ABC", Resource.PURCHASE_ORDERS)
    )
    assert len(tokens) > 6  # pages were cut short
    assert len(set(tokens)) == len(tokens)


async def test_records_written_during_a_listing_arrive_in_the_next_one(start_simulator):
    """The agent serves a listing's pages from the scan its first page took (the file is read
    once per listing); what is written meanwhile comes in the next listing from the cursor."""
    data = empty_data()
    data.add_many("ABC", Resource.AP_INVOICES, 10, start=START)
    async with await serve(start_simulator, data) as client:
        first = (await client.get("/v1/companies/ABC/ap-invoices", params={"page_size": 5})).json()
        late = data.add_ap_invoice("ABC", START - timedelta(hours=1))
        new = data.add_ap_invoice("ABC", START + timedelta(hours=1))
        rest, _ = await list_all(
            client, "/v1/companies/ABC/ap-invoices", page_token=first["next_page_token"]
        )
        last = rest[-1]
        stamp = last["DateUpdated"] or last["DateCreated"]
        clock = last["TimeUpdated"] if last["DateUpdated"] else last["TimeCreated"]
        following, _ = await list_all(
            client, "/v1/companies/ABC/ap-invoices", since_date=stamp, since_time=clock
        )
    keys = [r["RecordKey"] for r in rest]
    assert len(keys) == 5 and new["RecordKey"] not in keys
    assert [r["RecordKey"] for r in following] == [last["RecordKey"], new["RecordKey"]]
    assert late["RecordKey"] not in keys + [r["RecordKey"] for r in following]


async def test_a_record_is_found_by_its_url_encoded_key(start_simulator):
    data = empty_data()
    row = data.add_ap_invoice("ABC", START, vendor="01-AIRWAY", InvoiceNo="AW/11/0923")
    assert row["RecordKey"] == "H01AIRWAY AW/11/0923000001"  # the primary key at Sage's widths
    async with await serve(start_simulator, data) as client:
        found = await client.get(
            f"/v1/companies/ABC/ap-invoices/{quote(row['RecordKey'], safe='')}"
        )
        missing = await client.get("/v1/companies/ABC/ap-invoices/NOPE%20000001")
    assert found.status_code == 200
    assert found.json()["InvoiceNo"] == "AW/11/0923"
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "no record with RecordKey 'NOPE 000001'",
        "retryable": False,
    }


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v1/companies/XYZ/ap-invoices", "unknown_company"),
        ("/v1/companies/abc/ap-invoices", "unknown_company"),
        ("/v1/companies/ABC/ar-invoices", "unknown_resource"),
        ("/v1/companies/ABC/ar-invoices/123", "unknown_resource"),
        ("/v2/health", "not_found"),
    ],
)
async def test_unknown_paths_answer_404_with_their_code(mtls_client, path, code):
    answer = await mtls_client.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["retryable"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "0"},
        {"page_size": "1001"},
        {"page_size": "ten"},
        {"since_date": "2026-11-02"},
        {"since_date": "20261302"},
        {"since_date": "20261102", "since_time": "24"},
        {"since_date": "20261102", "since_time": "9,5"},
        {"since_time": "9.5"},
        {"page_token": "not-a-token"},
    ],
)
async def test_malformed_parameters_answer_400(mtls_client, params):
    answer = await mtls_client.get("/v1/companies/ABC/ap-invoices", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_parameter"


async def test_a_page_token_only_works_for_its_own_listing(mtls_client):
    first = await mtls_client.get("/v1/companies/ABC/gl-accounts", params={"page_size": 1})
    token = first.json()["next_page_token"]
    elsewhere = await mtls_client.get("/v1/companies/ABC/gl-postings", params={"page_token": token})
    assert elsewhere.status_code == 400
