"""check_agent over MockTransport: one line per check, never an exception for agent trouble."""

from zoneinfo import ZoneInfo

import httpx

from sage.check import check_agent
from sage.connection import AuthMode, ConnectionSettings
from tests.sage import sample_rows

SETTINGS = ConnectionSettings(
    agent_url="https://sage01.corp.example:8443",
    companies=("ABC", "XYZ"),
    auth=AuthMode.API_KEY,
    timezone=ZoneInfo("America/Chicago"),
    api_key="k",
)
HEALTH = {
    "status": "ok",
    "agent_version": "2.3.1",
    "sage_version": "2024.1",
    "companies": ["ABC"],
    "server_date": "20261126",
    "server_time": "9.5",
}


def error(status, code):
    return httpx.Response(
        status, json={"error": {"code": code, "message": code, "retryable": False}}
    )


def agent(*, key_ok=True, broken_resource=None):
    def handler(request):
        if request.url.path == "/v1/health":
            return httpx.Response(200, json=HEALTH)
        if not key_ok:
            return error(401, "unauthenticated")
        _, _, _, company, resource = request.url.path.split("/")
        if company != "ABC":
            return error(404, "unknown_company")
        row = sample_rows.BY_PATH[resource]()
        if resource == broken_resource:
            row["DateCreated"] = "yesterday"
        return httpx.Response(
            200,
            json={
                "company": company,
                "resource": resource,
                "records": [row],
                "next_page_token": None,
            },
        )

    return httpx.MockTransport(handler)


def lines(results):
    return [(r.name, r.ok) for r in results]


async def test_a_healthy_agent_passes_every_line_but_the_unknown_company():
    results = await check_agent(SETTINGS, transport=agent())
    assert lines(results) == [
        ("agent TLS and certificate", True),
        ("agent keys listing", True),
        ("agent credentials", True),
        ("company ABC", True),
        ("ABC ap-invoices", True),
        ("ABC purchase-orders", True),
        ("ABC gl-postings", True),
        ("ABC gl-accounts", True),
        ("company XYZ", False),
        ("XYZ ap-invoices", False),
        ("XYZ purchase-orders", False),
        ("XYZ gl-postings", False),
        ("XYZ gl-accounts", False),
    ]
    assert "agent 2.3.1, Sage 2024.1" in results[0].detail
    # Said once, with the companies the agent does serve; not again on every resource.
    assert results[8].detail == "the agent does not serve XYZ; it serves ABC"
    assert {r.detail for r in results[9:]} == {"not tried: company XYZ failed"}
    assert results[3].line() == "PASS  company ABC: served by the agent"


async def test_a_1_0_agent_passes_and_says_in_one_sentence_that_reconcile_is_off():
    results = await check_agent(SETTINGS, transport=agent())
    [keys] = [r for r in results if r.name == "agent keys listing"]
    assert keys.ok
    assert keys.detail.startswith("Reconcile is off:") and "API 1.0" in keys.detail
    assert keys.detail.endswith(".") and ". " not in keys.detail


async def test_a_1_1_agent_with_the_keys_listing_reconciles():
    current = {**HEALTH, "api_version": "1.1", "capabilities": ["keys"]}

    def handler(request):
        if request.url.path == "/v1/health":
            return httpx.Response(200, json=current)
        return agent().handle_request(request)

    results = await check_agent(SETTINGS, transport=httpx.MockTransport(handler))
    [keys] = [r for r in results if r.name == "agent keys listing"]
    assert keys.line() == (
        "PASS  agent keys listing: the agent lists every key and version (API 1.1): reconcile is on"
    )


async def test_a_company_the_agent_refuses_is_said_once_and_asked_once():
    requests = []

    def handler(request):
        requests.append(request.url.path)
        if request.url.path == "/v1/health":
            return error(401, "unauthenticated")  # this agent answers health only when asked right
        if "/XYZ/" in request.url.path:
            return error(403, "forbidden")
        return agent().handle_request(request)

    results = await check_agent(SETTINGS, transport=httpx.MockTransport(handler))
    xyz = [r for r in results if "XYZ" in r.name]
    assert [(r.name, r.ok) for r in xyz][0] == ("company XYZ", False)
    assert "not allowed to read XYZ" in xyz[0].detail
    assert [r.detail for r in xyz[1:]] == ["refused: see above"] + [
        "not tried: company XYZ failed"
    ] * 3
    assert sum("/XYZ/" in path for path in requests) == 1


async def test_a_wrong_api_key_fails_credentials_and_skips_the_rest():
    results = await check_agent(SETTINGS, transport=agent(key_ok=False))
    assert results[2].name == "agent credentials" and not results[2].ok
    assert "did not accept the API key" in results[2].detail
    assert all(not r.ok and r.detail.startswith("not tried") for r in results[3:])


async def test_a_row_that_does_not_parse_is_reported_on_its_resource():
    results = await check_agent(SETTINGS, transport=agent(broken_resource="gl-accounts"))
    [line] = [r for r in results if r.name == "ABC gl-accounts"]
    assert line.ok and "DateCreated" in line.detail


async def test_an_unreachable_agent_is_a_failed_line_not_an_exception():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    results = await check_agent(SETTINGS, transport=httpx.MockTransport(handler))
    assert results[0].name == "agent TLS and certificate" and not results[0].ok
    assert "could not connect to the agent at sage01.corp.example:8443" in results[0].detail
    assert all(not r.ok for r in results)


async def test_bad_settings_are_one_failed_line():
    settings = ConnectionSettings(
        "http://sage01", ("ABC",), AuthMode.API_KEY, SETTINGS.timezone, api_key="k"
    )
    [result] = await check_agent(settings)
    assert not result.ok and "https" in result.detail


async def test_a_malformed_company_code_fails_its_lines_without_a_request():
    settings = ConnectionSettings(
        SETTINGS.agent_url, ("abc", "ABC"), AuthMode.API_KEY, SETTINGS.timezone, api_key="k"
    )
    requests = []

    def handler(request):
        requests.append(request.url.path)
        return agent().handle_request(request)

    results = await check_agent(settings, transport=httpx.MockTransport(handler))
    assert [(r.name, r.ok) for r in results[:9]] == [
        ("agent TLS and certificate", True),
        ("agent keys listing", True),
        ("agent credentials", True),
        ("company abc", False),
        ("abc ap-invoices", False),
        ("abc purchase-orders", False),
        ("abc gl-postings", False),
        ("abc gl-accounts", False),
        ("company ABC", True),
    ]
    assert "three upper-case letters or digits" in results[3].detail
    assert not any("/abc/" in path for path in requests)
    assert requests[1] == "/v1/companies/ABC/ap-invoices"  # credentials tried on a real company
