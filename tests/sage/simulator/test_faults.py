"""Fault injection: scripted and random errors, slowness, malformed rows."""

from __future__ import annotations

import random

import httpx
import pytest

from sage.simulator import Faults, Malformation, Resource
from tests.fixtures.simulator import client_ssl_context

PATH = "/v1/companies/ABC/ap-invoices"


async def test_scripted_locks_answer_423_with_retry_after_then_clear(mtls_simulator, mtls_client):
    mtls_simulator.faults.script(PATH, "record_locked", times=2, retry_after=3)
    answers = [await mtls_client.get(PATH) for _ in range(3)]
    assert [a.status_code for a in answers] == [423, 423, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert answers[0].json()["error"]["code"] == "record_locked"
    assert answers[0].json()["error"]["retryable"] is True
    assert [r.status for r in mtls_simulator.requests if r.path == PATH] == [423, 423, 200]


async def test_a_script_matches_only_its_path_pattern(mtls_simulator, mtls_client):
    mtls_simulator.faults.script("/v1/companies/ABC/gl-*", "sage_unavailable", times=1)
    other = await mtls_client.get(PATH)
    matched = await mtls_client.get("/v1/companies/ABC/gl-postings")
    assert other.status_code == 200
    assert matched.status_code == 503
    assert "Retry-After" not in matched.headers  # 503 may come without one


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("too_many_requests", 429, True),
        ("sage_unavailable", 503, True),
        ("internal", 500, False),
        ("forbidden", 403, False),
    ],
)
async def test_scripted_errors_have_the_contract_shape(
    mtls_simulator, mtls_client, code, status, retryable
):
    mtls_simulator.faults.script("/v1/health", code, retry_after=5 if retryable else None)
    answer = await mtls_client.get("/v1/health")
    assert answer.status_code == status
    assert set(answer.json()) == {"error"}
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["retryable"] is retryable
    assert answer.json()["error"]["message"]
    assert ("Retry-After" in answer.headers) is retryable


def test_unknown_codes_cannot_be_scripted():
    with pytest.raises(ValueError, match="unknown error code"):
        Faults().script(PATH, "teapot")


@pytest.mark.parametrize(
    ("setting", "status"),
    [("lock_rate", 423), ("unavailable_rate", 503), ("throttle_rate", 429)],
)
async def test_random_errors_at_full_rate_hit_every_data_request(
    mtls_simulator, mtls_client, setting, status
):
    setattr(mtls_simulator.faults, setting, 1.0)
    mtls_simulator.faults.retry_after = 7
    data_answer = await mtls_client.get(PATH)
    health = await mtls_client.get("/v1/health")
    assert data_answer.status_code == status
    assert data_answer.headers["Retry-After"] == "7"
    assert health.status_code == 200


async def test_slow_answers_outlast_a_short_read_timeout(mtls_simulator):
    mtls_simulator.faults.slow_rate = 1.0
    mtls_simulator.faults.slow_seconds = 1.0
    async with httpx.AsyncClient(
        verify=client_ssl_context(mtls_simulator.pki), timeout=httpx.Timeout(5.0, read=0.2)
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"{mtls_simulator.base_url}{PATH}")


@pytest.mark.parametrize(
    ("how", "check"),
    [
        (Malformation.MISSING_KEY, lambda row: "RecordKey" not in row),
        (Malformation.BAD_DATE, lambda row: row["InvoiceDate"] == "20261341"),
        (Malformation.BAD_AMOUNT, lambda row: row["InvoiceAmt"] == "12O.5O"),
    ],
)
async def test_a_malformed_row_comes_among_good_ones(mtls_simulator, mtls_client, how, check):
    rows = mtls_simulator.data.rows("ABC", Resource.AP_INVOICES)
    target = rows[3]["RecordKey"]
    mtls_simulator.faults.malform(target, how)
    served = (await mtls_client.get(PATH, params={"page_size": 10})).json()["records"]
    assert check(served[3])
    assert [r["RecordKey"] for r in served[:3] + served[4:]] == [
        r["RecordKey"] for r in rows[:3] + rows[4:10]
    ]


async def test_malformed_rate_breaks_some_rows_and_paging_goes_on(start_simulator):
    server = await start_simulator(faults=Faults(rng=random.Random(5), malformed_rate=0.3))
    async with httpx.AsyncClient(
        base_url=server.base_url, verify=client_ssl_context(server.pki)
    ) as client:
        first = (await client.get(PATH, params={"page_size": 20})).json()
        second = (
            await client.get(PATH, params={"page_size": 20, "page_token": first["next_page_token"]})
        ).json()
    rows = server.data.rows("ABC", Resource.AP_INVOICES)
    broken = [s for s, row in zip(first["records"], rows[:20], strict=True) if s != row]
    assert 0 < len(broken) < 20
    assert len(second["records"]) == 20
    next_keys = {row["RecordKey"] for row in rows[20:40]}
    served_keys = [s["RecordKey"] for s in second["records"] if "RecordKey" in s]
    assert all(any(key.startswith(k) for k in next_keys) for key in served_keys)  # or padded


async def test_clear_restores_a_healthy_agent(mtls_simulator, mtls_client):
    mtls_simulator.faults.lock_rate = 1.0
    mtls_simulator.faults.script(PATH, "internal", times=5)
    mtls_simulator.faults.clear()
    assert (await mtls_client.get(PATH)).status_code == 200


async def test_a_repeated_page_token_is_handed_back_once_asked(mtls_simulator, mtls_client):
    first = (await mtls_client.get(PATH, params={"page_size": 5})).json()
    mtls_simulator.faults.repeat_page_token()
    token = first["next_page_token"]
    stuck = (await mtls_client.get(PATH, params={"page_size": 5, "page_token": token})).json()
    moving = (await mtls_client.get(PATH, params={"page_size": 5, "page_token": token})).json()
    assert stuck["next_page_token"] == token
    assert moving["next_page_token"] not in (None, token)


async def test_an_account_asked_to_carry_a_bad_amount_gets_a_bad_date(mtls_simulator, mtls_client):
    rows = mtls_simulator.data.rows("ABC", Resource.GL_ACCOUNTS)
    mtls_simulator.faults.malform(rows[0]["RecordKey"], Malformation.BAD_AMOUNT)
    served = (await mtls_client.get("/v1/companies/ABC/gl-accounts")).json()["records"]
    assert served[0]["DateCreated"] == "20261341"
