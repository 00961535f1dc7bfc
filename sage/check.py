"""The agent half of `ml-connector check`: one pass/fail line per thing an admin can fix.

Lines, in order: the TLS handshake and certificate (and pin), whether the agent lists keys (what
reconciling needs; an API 1.0 agent does not, and the line says so), the credentials, then for each
configured company whether the agent serves it and whether each resource can be read. An agent
problem is never raised; it becomes a failed line with the client's own sentence, and lines
that depend on a failed one say they were not tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from sage.client import COMPANY_CODE, AgentClient, AgentHealth, RetryPolicy
from sage.connection import AuthMode, ConnectionSettings
from sage.errors import AuthError, NotFoundError, SageError
from sage.resources import RESOURCES, Resource

# A check answers within seconds: one quick retry, not a poller's patience.
CHECK_RETRY = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=2.0, max_total=10.0)


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


TLS = "agent TLS and certificate"
CREDENTIALS = "agent credentials"
KEYS = "agent keys listing"


async def check_agent(
    settings: ConnectionSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy = CHECK_RETRY,
) -> list[CheckResult]:
    try:
        client = AgentClient(settings, transport=transport, retry=retry)
    except SageError as error:
        return [CheckResult("agent settings", False, str(error))]
    async with client:
        return await _run(client, settings)


async def _run(client: AgentClient, settings: ConnectionSettings) -> list[CheckResult]:
    results: list[CheckResult] = []
    health: AgentHealth | None = None
    try:
        health = await client.health()
    except AuthError:
        results.append(CheckResult(TLS, True, _tls_detail(settings)))
    except SageError as error:
        results.append(CheckResult(TLS, False, str(error)))
        return results + _not_tried(settings, CREDENTIALS, f"{TLS} failed")
    else:
        versions = f"agent {health.agent_version}, Sage {health.sage_version}"
        results.append(CheckResult(TLS, True, f"{_tls_detail(settings)}; {versions}"))
        results.append(_keys_result(health))

    if not settings.companies:
        results.append(CheckResult("companies", False, "no company is configured"))
        return results
    valid = [company for company in settings.companies if COMPANY_CODE.fullmatch(company)]
    probe: str | SageError | None = None
    if not valid:
        results.append(CheckResult(CREDENTIALS, False, "not tried: no valid company code"))
    else:
        probe = await _read(client, RESOURCES[0], valid[0])
        if isinstance(probe, AuthError) and probe.status == 401:
            results.append(CheckResult(CREDENTIALS, False, str(probe)))
            return results + _not_tried(settings, None, f"{CREDENTIALS} failed")
        credential = "API key" if settings.auth is AuthMode.API_KEY else "client certificate"
        results.append(CheckResult(CREDENTIALS, True, f"the agent accepted our {credential}"))

    for company in settings.companies:
        if company not in valid:
            detail = f"{company!r} is not a company code (three upper-case letters or digits)"
            results.append(CheckResult(f"company {company}", False, detail))
            results += _not_tried_resources(company, "bad company code")
            continue
        if health is not None and company not in health.companies:
            served = ", ".join(health.companies) or "none"
            detail = f"the agent does not serve {company}; it serves {served}"
            results.append(CheckResult(f"company {company}", False, detail))
            results += _not_tried_resources(company, f"company {company} failed")
            continue
        reads = {RESOURCES[0]: probe} if company == valid[0] and probe is not None else {}
        for resource in RESOURCES:
            if resource not in reads:
                reads[resource] = await _read(client, resource, company)
            if _refuses_company(reads[resource]):
                break  # said once on the company's line, not again on every resource's
        company_line = _company_result(company, reads)
        results.append(company_line)
        for resource in RESOURCES:
            outcome = reads.get(resource)
            if outcome is None:
                results += _not_tried_resources(company, f"company {company} failed", [resource])
            elif _refuses_company(outcome):
                results.append(
                    CheckResult(f"{company} {resource.path}", False, "refused: see above")
                )
            else:
                results.append(_resource_result(company, resource, outcome))
    return results


def _refuses_company(outcome: str | SageError) -> bool:
    """403 or 404 for the company itself (not for one resource): its every resource would be."""
    return isinstance(outcome, AuthError | NotFoundError) and outcome.code != "unknown_resource"


async def _read(client: AgentClient, resource: Resource, company: str) -> str | SageError:
    """The first page of a listing, summarised; or the error that stopped it."""
    try:
        async for page in client.list_changes(resource, company, None, page_size=1):
            if page.skipped:
                return f"readable, but a row could not be parsed: {page.skipped[0].reason}"
            if page.records or page.next_page_token is None:
                return "readable"
    except SageError as error:
        return error
    return "readable"


def _company_result(company: str, reads: dict[Resource, str | SageError]) -> CheckResult:
    name = f"company {company}"
    refusals = [outcome for outcome in reads.values() if _refuses_company(outcome)]
    if refusals:
        return CheckResult(name, False, str(refusals[0]))
    return CheckResult(name, True, "served by the agent")


def _resource_result(company: str, resource: Resource, outcome: str | SageError) -> CheckResult:
    name = f"{company} {resource.path}"
    if isinstance(outcome, SageError):
        return CheckResult(name, False, str(outcome))
    return CheckResult(name, True, outcome)


def _keys_result(health: AgentHealth) -> CheckResult:
    """An agent without the keys listing (API 1.0) is supported: the line passes and says what
    is off and why."""
    off = health.reconcile_off
    detail = (
        off or f"the agent lists every key and version (API {health.api_version}): reconcile is on"
    )
    return CheckResult(KEYS, True, detail)


def _tls_detail(settings: ConnectionSettings) -> str:
    trust = "the configured CA" if settings.ca_cert_pem else "the system trust store"
    detail = f"handshake with {settings.agent_url} done, certificate verified against {trust}"
    if settings.pin_sha256:
        detail += ", pin matches"
    return detail


def _not_tried_resources(
    company: str, because: str, resources: Sequence[Resource] = RESOURCES
) -> list[CheckResult]:
    return [
        CheckResult(f"{company} {resource.path}", False, f"not tried: {because}")
        for resource in resources
    ]


def _not_tried(settings: ConnectionSettings, first: str | None, because: str) -> list[CheckResult]:
    names = [first] if first else []
    for company in settings.companies:
        names.append(f"company {company}")
        names += [f"{company} {resource.path}" for resource in RESOURCES]
    return [CheckResult(name, False, f"not tried: {because}") for name in names]
