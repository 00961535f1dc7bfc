"""The agent connection modal and the "Test connection" result, as pure builders.

Secrets (API key, client key) and the PEM blocks are never sent back to Slack: the modal says
"set" and an empty field keeps the stored value, so an admin can change the URL without
pasting the certificate again. `read_connection_form` turns a submission's `state.values` into
a `ConnectionForm` of raw strings; the listener validates it field by field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bolt_app.blockkit.kit import Block, context, modal, mrkdwn, plain, section
from bolt_app.blockkit.text import escape
from sage.check import CheckResult
from sage.connection import AuthMode, ConnectionSettings

CONNECTION_CALLBACK_ID = "connection_settings"
TEST_CONNECTION_CALLBACK_ID = "test_connection_result"

# block_id == action_id for every input, so errors and values share one name.
FIELD_AGENT_URL = "agent_url"
FIELD_COMPANIES = "companies"
FIELD_AUTH = "auth"
FIELD_API_KEY = "api_key"
FIELD_CLIENT_CERT = "client_cert"
FIELD_CLIENT_KEY = "client_key"
FIELD_CA_CERT = "ca_cert"
FIELD_PIN = "pin_sha256"
FIELD_TIMEZONE = "timezone"
FIELD_RECORD_URL = "record_url"

_AUTH_LABELS = {
    AuthMode.MTLS: "Client certificate (mTLS)",
    AuthMode.API_KEY: "API key",
}


@dataclass(frozen=True, slots=True)
class ConnectionForm:
    """What the admin typed; empty strings mean "left empty" (keep the stored secret)."""

    agent_url: str
    companies: str
    auth: str
    timezone: str
    api_key: str = field(default="", repr=False)
    client_cert: str = ""
    client_key: str = field(default="", repr=False)
    ca_cert: str = ""
    pin_sha256: str = ""
    record_url: str = ""


def build_connection_modal(current: ConnectionSettings | None) -> dict[str, Any]:
    auth = current.auth if current else AuthMode.MTLS
    blocks: list[Block] = [
        _text_input(
            FIELD_AGENT_URL,
            "Agent URL",
            current.agent_url if current else "",
            placeholder="https://sage01.corp.example:8443",
        ),
        _text_input(
            FIELD_COMPANIES,
            "Company codes",
            ", ".join(current.companies) if current else "",
            placeholder="ABC, TST",
            hint="Three upper-case letters or digits each, separated by commas.",
        ),
        {
            "type": "input",
            "block_id": FIELD_AUTH,
            "label": plain("Authentication"),
            "element": {
                "type": "radio_buttons",
                "action_id": FIELD_AUTH,
                "options": [_option(mode) for mode in AuthMode],
                "initial_option": _option(auth),
            },
        },
        _secret_input(
            FIELD_API_KEY, "API key", current is not None and bool(current.api_key), multiline=False
        ),
        _secret_input(
            FIELD_CLIENT_CERT,
            "Client certificate (PEM)",
            current is not None and bool(current.client_cert_pem),
        ),
        _secret_input(
            FIELD_CLIENT_KEY,
            "Client private key (PEM)",
            current is not None and bool(current.client_key_pem),
        ),
        _secret_input(
            FIELD_CA_CERT,
            "Agent CA certificate (PEM)",
            current is not None and bool(current.ca_cert_pem),
        ),
        _text_input(
            FIELD_PIN,
            "Agent certificate pin (SHA-256)",
            (current.pin_sha256 or "") if current else "",
            optional=True,
            placeholder="AB:CD:…",
            hint="Optional. Leave empty for no pin.",
        ),
        _text_input(
            FIELD_TIMEZONE,
            "Sage server time zone",
            current.timezone.key if current else "",
            placeholder="America/Chicago",
        ),
        _text_input(
            FIELD_RECORD_URL,
            "Link to each record",
            (current.record_url or "") if current else "",
            optional=True,
            placeholder="https://erp.example/{company}/{resource}/{record_key}",
            hint="Optional. A button on each message opens this URL.",
        ),
        context("Secrets are stored encrypted and never shown again. Changes apply at once."),
    ]
    return modal(
        "Sage 100 connection",
        blocks,
        callback_id=CONNECTION_CALLBACK_ID,
        submit="Save",
        close="Cancel",
    )


def read_connection_form(values: Mapping[str, Mapping[str, Any]]) -> ConnectionForm:
    """`view.state.values` -> `ConnectionForm`; a missing or null field reads as empty."""

    def text(name: str) -> str:
        element = values.get(name, {}).get(name, {})
        if element.get("type") == "radio_buttons":
            selected = element.get("selected_option") or {}
            return str(selected.get("value") or "")
        return str(element.get("value") or "").strip()

    def pem(name: str) -> str:
        """Slack trims nothing reliably; PEM text ends with exactly one newline."""
        value = text(name)
        return value + "\n" if value else ""

    return ConnectionForm(
        agent_url=text(FIELD_AGENT_URL),
        companies=text(FIELD_COMPANIES),
        auth=text(FIELD_AUTH),
        timezone=text(FIELD_TIMEZONE),
        api_key=text(FIELD_API_KEY),
        client_cert=pem(FIELD_CLIENT_CERT),
        client_key=pem(FIELD_CLIENT_KEY),
        ca_cert=pem(FIELD_CA_CERT),
        pin_sha256=text(FIELD_PIN),
        record_url=text(FIELD_RECORD_URL),
    )


def build_test_connection_loading() -> dict[str, Any]:
    return modal(
        "Test connection",
        [
            section(
                ":hourglass_flowing_sand: Trying the agent (TLS, credentials, each company) and Slack (token, each channel)…"
            )
        ],
        callback_id=TEST_CONNECTION_CALLBACK_ID,
    )


def build_test_connection_result(lines: Sequence[CheckResult]) -> dict[str, Any]:
    failed = sum(1 for line in lines if not line.ok)
    summary = (
        ":white_check_mark: *Every check passed.*"
        if failed == 0
        else f":x: *{failed} of {len(lines)} checks failed.*"
    )
    blocks: list[Block] = [section(summary)]
    rows = [
        f"{':white_check_mark:' if line.ok else ':x:'} *{escape(line.name)}*"
        + (f": {escape(line.detail)}" if line.detail else "")
        for line in lines
    ]
    # Several lines per section so a long check list still fits in the 100-block modal.
    for start in range(0, len(rows), 10):
        blocks.append({"type": "section", "text": mrkdwn("\n".join(rows[start : start + 10]))})
    return modal("Test connection", blocks, callback_id=TEST_CONNECTION_CALLBACK_ID)


def _option(mode: AuthMode) -> dict[str, Any]:
    return {"text": plain(_AUTH_LABELS[mode]), "value": mode.value}


def _text_input(
    name: str,
    label: str,
    initial: str,
    *,
    optional: bool = False,
    placeholder: str | None = None,
    hint: str | None = None,
) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": name}
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    block: Block = {
        "type": "input",
        "block_id": name,
        "label": plain(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _secret_input(name: str, label: str, is_set: bool, *, multiline: bool = True) -> Block:
    hint = (
        "Set. Leave empty to keep it, or paste a new one to replace it." if is_set else "Not set."
    )
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": name,
        "multiline": multiline,
        "max_length": 3000,
    }
    return {
        "type": "input",
        "block_id": name,
        "label": plain(f"{label}: set" if is_set else label),
        "element": element,
        "optional": True,
        "hint": plain(hint),
    }
