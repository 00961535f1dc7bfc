import io
import json
import logging
import urllib.parse

import pytest

from bolt_app.crypto import SecretBox, generate_key
from bolt_app.logging import REDACTED, configure_logging, redact, register_secret

PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBd\nAoGBAM=\n-----END EC PRIVATE KEY-----"


@pytest.fixture
def log_output():
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=["registered-secret-value"])
    yield stream
    logging.getLogger().handlers = [
        h for h in logging.getLogger().handlers if getattr(h, "stream", None) is not stream
    ]


@pytest.mark.parametrize(
    "secret",
    [
        "xoxb-123-456-abcdef",
        "xoxp-1-2-3",
        "xoxe.xoxp-1-abc",
        "xapp-1-A01-123-abc",
        PEM,
        "-----BEGIN PRIVATE KEY-----\nMIIEv",  # even a truncated block
        pytest.param(SecretBox([generate_key()]).encrypt("anything"), id="fernet-token"),
        "registered-secret-value",
    ],
)
def test_secret_shaped_text_is_masked(log_output, secret):
    assert secret not in redact(f"before {secret} after")
    assert "before" in redact(f"before {secret} after")


def test_log_lines_are_json_with_extras_and_masked_everywhere(log_output):
    register_secret("agent-api-key-42")
    log = logging.getLogger("test.redaction")
    try:
        raise RuntimeError("connecting with agent-api-key-42 and xoxb-9-9-token failed")
    except RuntimeError:
        log.exception("poll failed for %s", "xoxb-9-9-token", extra={"team_id": "T1", "key": PEM})
    lines = log_output.getvalue().splitlines()
    entry = json.loads(lines[-1])
    assert entry["level"] == "error" and entry["logger"] == "test.redaction"
    assert entry["team_id"] == "T1"
    assert entry["message"] == f"poll failed for {REDACTED}"
    text = log_output.getvalue()
    assert "RuntimeError" in entry["exception"]
    for secret in ("agent-api-key-42", "xoxb-9-9-token", "PRIVATE KEY", "registered-secret"):
        assert secret not in text


def test_short_values_are_not_registered_so_ordinary_words_survive():
    register_secret("abc")
    assert redact("abc def") == "abc def"


MODAL_STATE = json.dumps(
    {"api_key": {"api_key": {"type": "plain_text_input", "value": "sk-live-12345"}}}
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("payload=" + urllib.parse.quote_plus(json.dumps({"key": PEM})), "MHcCAQEEIBd"),
        ("payload=" + urllib.parse.quote_plus(MODAL_STATE), "sk-live-12345"),
        (MODAL_STATE, "sk-live-12345"),
        ("api_key=k3y-value-1&team=T1", "k3y-value-1"),
        ("{'x-api-key': 'k3y-value-2'}", "k3y-value-2"),
        ('{"client_secret": "shh-value-3"}', "shh-value-3"),
    ],
)
def test_pasted_credentials_are_masked_by_their_shape(text, secret):
    assert secret not in redact(text)


def test_prose_about_tokens_is_left_alone():
    sentence = "Workspace T1 has no Slack token: install the app through /slack/install"
    assert redact(sentence) == sentence


def test_a_huge_message_is_cut(log_output):
    logging.getLogger("test.huge").warning("body %s", "x" * 1_000_000)
    entry = json.loads(log_output.getvalue().splitlines()[-1])
    assert len(entry["message"]) < 10_000 and "characters cut" in entry["message"]
