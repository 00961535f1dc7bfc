"""The connector's AgentClient against the agent over mTLS, reading Sage-layout SQLite files
through sqlite3 and through pyodbc + unixODBC + the SQLite ODBC driver."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from sage.agent.connection import OdbcConnector, SqliteConnector
from sage.agent.server import JSONAnswer
from sage.agent.service import InvalidParameter, parse_since
from sage.client import AgentClient, RetryPolicy
from sage.connection import AuthMode, ConnectionSettings
from sage.errors import AuthError, NotFoundError, UnavailableError
from sage.resources import RESOURCES, by_path
from tests.fixtures.agent import needs_odbc, odbc_connection_string, write_test_company
from tests.fixtures.polling import agent_settings

CHICAGO = ZoneInfo("America/Chicago")
ONE_TRY = RetryPolicy(max_attempts=1)


def connector(kind: str, code: str, path: Path):
    if kind == "odbc":
        return OdbcConnector(odbc_connection_string(path), label=f"companies.{code}.odbc")
    return SqliteConnector(path, label=f"companies.{code}.sqlite")


@pytest.fixture(params=["sqlite3", pytest.param("odbc", marks=needs_odbc)])
def kind(request) -> str:
    return request.param


def settings(server, **changes) -> ConnectionSettings:
    return replace(agent_settings(server), **changes)


def without_key(record):
    return replace(record, record_key="")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_every_record_type_arrives_as_sage_holds_it_and_the_file_is_never_written(
    kind, start_agent, company_files, sage_data
):
    before = {code: digest(path) for code, path in company_files.items()}
    server = await start_agent({c: connector(kind, c, p) for c, p in company_files.items()})
    async with AgentClient(settings(server)) as agent:
        health = await agent.health()
        for resource in RESOURCES:
            for company in ("ABC", "TST"):
                pages = [p async for p in agent.list_changes(resource, company, None, 7)]
                served = [r for page in pages for r in page.records]
                assert not any(page.skipped for page in pages)
                expected = [
                    resource.parse_row(row, company, CHICAGO)
                    for row in sage_data.rows(company, resource.path)
                ]
                assert sorted(map(repr, map(without_key, served))) == sorted(
                    map(repr, map(without_key, expected))
                ), (company, resource.path)
                stamps = [(r.stamps.changed_at, r.record_key) for r in served]
                assert stamps == sorted(stamps)  # the contract's order
                again = await agent.get_record(resource, company, served[-1].record_key)
                assert again == served[-1]
    assert health.api_version == "1.1" and "keys" in health.capabilities
    assert health.companies == ("ABC", "TST") and health.sage_version == "2024.1"
    assert {code: digest(path) for code, path in company_files.items()} == before


async def test_a_since_bound_lists_only_what_changed_from_then(start_agent, company_files):
    server = await start_agent({"ABC": connector("sqlite3", "ABC", company_files["ABC"])})
    gl = by_path("gl-postings")
    async with AgentClient(settings(server)) as agent:
        everything = [r async for p in agent.list_changes(gl, "ABC", None) for r in p.records]
        middle = everything[len(everything) // 2].stamps.changed_at
        later = [r async for p in agent.list_changes(gl, "ABC", middle) for r in p.records]
    expected = [r for r in everything if r.stamps.changed_at >= middle]
    assert len(later) - len(expected) <= 5  # at most the second just before the bound
    assert {r.record_key for r in expected} <= {r.record_key for r in later}


async def test_the_pages_of_one_listing_scan_the_file_once(start_agent, company_files):
    statements: list[str] = []

    class Traced(SqliteConnector):
        def connect(self):
            connection = super().connect()
            connection.set_trace_callback(statements.append)
            return connection

    server = await start_agent({"ABC": Traced(company_files["ABC"], label="companies.ABC")})
    async with AgentClient(settings(server)) as agent:
        pages = [p async for p in agent.list_changes(by_path("gl-postings"), "ABC", None, 5)]
    scans = [s for s in statements if s.startswith("SELECT") and "FROM GL_DetailPosting" in s]
    assert len(pages) > 5
    assert len([s for s in scans if "WHERE" not in s]) == 1


async def test_a_row_whose_time_is_not_a_number_is_served_for_the_connector_to_skip(
    start_agent, tmp_path, sage_data
):
    path = write_test_company(tmp_path / "ABC.db", sage_data, "ABC")
    with sqlite3.connect(path) as writer:  # "NaN" reads as a number, but not as a time
        writer.execute(
            "UPDATE GL_DetailPosting SET TimeCreated = 'NaN' WHERE rowid = "
            "(SELECT MIN(rowid) FROM GL_DetailPosting)"
        )
    server = await start_agent({"ABC": connector("sqlite3", "ABC", path)})
    async with AgentClient(settings(server)) as agent:
        pages = [p async for p in agent.list_changes(by_path("gl-postings"), "ABC", None, 50)]
    skipped = [row for page in pages for row in page.skipped]
    served = sum(len(page.records) for page in pages)
    assert served + len(skipped) == len(sage_data.rows("ABC", "gl-postings"))
    assert len(skipped) == 1 and "TimeCreated" in skipped[0].reason


async def test_the_keys_listing_shows_a_change_to_purchase_order_lines_alone(
    start_agent, tmp_path, sage_data
):
    path = write_test_company(tmp_path / "ABC.db", sage_data, "ABC")
    server = await start_agent({"ABC": connector("sqlite3", "ABC", path)})
    po = by_path("purchase-orders")
    async with AgentClient(settings(server)) as agent:
        first = dict(
            k for page in [p async for p in agent.list_keys(po, "ABC", 6)] for k in page.keys
        )
        order = sage_data.rows("ABC", "purchase-orders")[0]
        with sqlite3.connect(path) as writer:  # Sage changes a line; the header keeps its stamp
            writer.execute(
                "UPDATE PO_PurchaseOrderDetail SET QuantityOrdered = 999 "
                "WHERE PurchaseOrderNo = ? AND LineKey = '000001'",
                (order["PurchaseOrderNo"],),
            )
        second = dict(
            k for page in [p async for p in agent.list_keys(po, "ABC", 6)] for k in page.keys
        )
    assert len(first) == len(sage_data.rows("ABC", "purchase-orders"))
    changed = [key for key in first if first[key] != second[key]]
    assert changed == [order["PurchaseOrderNo"]]


async def test_api_keys_are_required_and_checked(start_agent, company_files):
    server = await start_agent(
        {"ABC": connector("sqlite3", "ABC", company_files["ABC"])},
        api_keys=("k-right",),
        mtls=False,
    )
    base = settings(
        server, auth=AuthMode.API_KEY, api_key="k-right", client_cert_pem=None, client_key_pem=None
    )
    async with AgentClient(base) as agent:
        assert (await agent.health()).status == "ok"
    async with AgentClient(replace(base, api_key="k-wrong"), retry=ONE_TRY) as agent:
        with pytest.raises(AuthError, match="did not accept the API key"):
            await agent.health()


async def test_errors_answer_in_the_contracts_shape(start_agent, company_files, tmp_path):
    server = await start_agent(
        {
            "ABC": connector("sqlite3", "ABC", company_files["ABC"]),
            "ZZZ": connector("sqlite3", "ZZZ", tmp_path / "moved-away.db"),
        }
    )
    ap = by_path("ap-invoices")
    async with AgentClient(settings(server), retry=ONE_TRY) as agent:
        with pytest.raises(NotFoundError, match="unknown_company"):
            await anext(agent.list_changes(ap, "XYZ", None))
        with pytest.raises(NotFoundError, match="not_found"):
            await agent.get_record(ap, "ABC", "no such key")
        with pytest.raises(UnavailableError) as caught:
            await anext(agent.list_changes(ap, "ZZZ", None))
        assert caught.value.status == 503
        assert "could not be opened at the location in companies.ZZZ.sqlite" in str(caught.value)
        response = await agent._http.get(
            "/companies/ABC/ap-invoices", params={"page_token": "forged"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_parameter"


@needs_odbc
async def test_a_file_that_disappears_is_a_503_with_retry_after(start_agent, tmp_path, sage_data):
    path = write_test_company(tmp_path / "ABC.db", sage_data, "ABC")
    server = await start_agent({"ABC": connector("odbc", "ABC", path)})
    async with AgentClient(settings(server), retry=ONE_TRY) as agent:
        await anext(agent.list_changes(by_path("gl-accounts"), "ABC", None))
        path.unlink()
        server.service.close()  # the next request reconnects, as after a network blip
        response = await agent._http.get("/companies/ABC/gl-accounts")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    body = response.json()["error"]
    assert body["code"] == "sage_unavailable" and body["retryable"] is True
    assert "Database=" in body["message"] and str(path) not in body["message"]


def test_since_parsing():
    assert parse_since(None, None) is None
    assert parse_since("20261126", None) == ("20261126", Decimal(0))
    assert parse_since("20261126", "9.5") == ("20261126", Decimal("9.5"))
    for bad in [("20261126", "-1"), ("2026112", "1"), ("20260230", "1"), (None, "1")]:
        with pytest.raises(InvalidParameter):
            parse_since(*bad)


_ANSWER_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@hypothesis_settings(max_examples=300)
@given(st.dictionaries(st.text(), _ANSWER_VALUES, max_size=6))
def test_an_answer_is_written_byte_for_byte_as_starlette_writes_json(body):
    """The agent's answers go through a faster encoder; the contract's clients see the same
    bytes (compact, UTF-8, keys in the order given)."""
    assert JSONAnswer(body).body == JSONResponse(body).body
