from zoneinfo import ZoneInfo

from bolt_app.home.views.connection import (
    FIELD_API_KEY,
    FIELD_AUTH,
    FIELD_CLIENT_KEY,
    build_connection_modal,
    build_test_connection_result,
    read_connection_form,
)
from sage.check import CheckResult
from sage.connection import AuthMode, ConnectionSettings
from tests.bolt_app.home.views.blockkit import assert_within_limits

CURRENT = ConnectionSettings(
    agent_url="https://sage01.corp.example:8443",
    companies=("ABC", "TST"),
    auth=AuthMode.MTLS,
    timezone=ZoneInfo("America/Chicago"),
    client_cert_pem="-----BEGIN CERTIFICATE-----\nCERTBODY\n-----END CERTIFICATE-----\n",
    client_key_pem="-----BEGIN PRIVATE KEY-----\nKEYBODY\n-----END PRIVATE KEY-----\n",
    ca_cert_pem="-----BEGIN CERTIFICATE-----\nCABODY\n-----END CERTIFICATE-----\n",
)


def blocks_by_id(view: dict) -> dict[str, dict]:
    return {block["block_id"]: block for block in view["blocks"] if "block_id" in block}


def test_modal_prefills_plain_fields_and_only_says_secrets_are_set():
    view = build_connection_modal(CURRENT)
    assert_within_limits(view)
    assert "KEYBODY" not in str(view) and "CERTBODY" not in str(view)
    blocks = blocks_by_id(view)
    assert blocks["agent_url"]["element"]["initial_value"] == "https://sage01.corp.example:8443"
    assert blocks["companies"]["element"]["initial_value"] == "ABC, TST"
    assert blocks["timezone"]["element"]["initial_value"] == "America/Chicago"
    assert blocks[FIELD_AUTH]["element"]["initial_option"]["value"] == "mtls"
    assert blocks[FIELD_CLIENT_KEY]["label"]["text"].endswith(": set")
    assert blocks[FIELD_CLIENT_KEY]["optional"] is True
    assert not blocks[FIELD_API_KEY]["label"]["text"].endswith(": set")


def test_blank_modal_for_a_first_connection():
    view = build_connection_modal(None)
    assert_within_limits(view)
    assert "initial_value" not in blocks_by_id(view)["agent_url"]["element"]


def test_submission_values_read_back_into_a_form():
    values = {
        "agent_url": {"agent_url": {"type": "plain_text_input", "value": " https://x.example "}},
        "companies": {"companies": {"type": "plain_text_input", "value": "ABC,TST"}},
        "auth": {"auth": {"type": "radio_buttons", "selected_option": {"value": "api_key"}}},
        "api_key": {"api_key": {"type": "plain_text_input", "value": None}},
        "timezone": {"timezone": {"type": "plain_text_input", "value": "UTC"}},
    }
    form = read_connection_form(values)
    assert (form.agent_url, form.companies, form.auth, form.timezone) == (
        "https://x.example",
        "ABC,TST",
        "api_key",
        "UTC",
    )
    assert form.api_key == "" and form.client_cert == ""


def test_test_connection_result_marks_each_line():
    view = build_test_connection_result(
        [
            CheckResult(
                "TLS handshake", False, "the agent's certificate is not signed by the configured CA"
            ),
            CheckResult("company ABC", True, ""),
        ]
    )
    assert_within_limits(view)
    text = str(view)
    assert "1 of 2 checks failed" in text
    assert ":x: *TLS handshake*: the agent's certificate is not signed" in text
    assert ":white_check_mark: *company ABC*" in text
