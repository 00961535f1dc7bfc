"""`ml-connector check` end to end: a stored workspace, the simulated agent over real TLS."""

from __future__ import annotations

import pytest

from bolt_app.cli import main
from bolt_app.crypto import generate_key

WORKSPACE = """\
team_id = "T0CHECK01"

[sage]
agent_url = "{url}"
companies = ["ABC", "TST"]
auth = "mtls"
client_cert = "file:{pki.client_cert}"
client_key = "file:{pki.client_key}"
ca_cert = "file:{ca}"
timezone = "America/Chicago"

[channels]
ap_invoice = "C0AP00001"
purchase_order = "C0PO00001"
gl_entry = "C0GL00001"
gl_account = "C0GL00001"
"""


SLACK_TOKEN = "xoxb-check-0001-bot-token"
SLACK_LINES = 1 + 1 + 4  # paused or not, the token, the channel of each record type


@pytest.fixture
def cli_env(monkeypatch, tmp_path, slack_standin_thread):
    slack_standin_thread.add_workspace("T0CHECK01", "Check Co", bot_token=SLACK_TOKEN)
    for channel, name in (("C0AP00001", "ap"), ("C0PO00001", "po"), ("C0GL00001", "gl")):
        slack_standin_thread.add_channel("T0CHECK01", channel, name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'check.db'}")
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", generate_key())
    monkeypatch.setenv("SLACK_API_URL", slack_standin_thread.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    for name in (
        "MLC_KMS_KEY_ID",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "MLC_DEMO_CHANNEL",
    ):
        monkeypatch.delenv(name, raising=False)
    return slack_standin_thread


def apply(tmp_path, server, ca) -> None:
    path = tmp_path / "workspace.toml"
    path.write_text(WORKSPACE.format(url=server.base_url, pki=server.pki, ca=ca))
    assert main(["workspace", "apply", str(path)]) == 0


def test_check_passes_every_agent_line(cli_env, tmp_path, mtls_simulator_thread, capsys):
    apply(tmp_path, mtls_simulator_thread, mtls_simulator_thread.pki.ca_cert)
    capsys.readouterr()
    assert main(["check", "--team", "T0CHECK01"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "HTTP Request" not in captured.err  # no log line per request among the results
    assert lines[0] == "Workspace T0CHECK01"
    assert len(lines) == 1 + 3 + 2 * 5 + SLACK_LINES
    assert all(line.startswith("  PASS  ") for line in lines[1:]), lines
    assert lines[2].startswith("  PASS  agent keys listing: the agent lists every key and version")
    assert "  PASS  Slack token: bot ml-connector in Check Co (T0CHECK01)" in lines


def test_check_fails_with_the_certificate_reason(
    cli_env, tmp_path, mtls_simulator_thread, capsys, test_pki
):
    untrusted = tmp_path / "other-ca.pem"
    untrusted.write_text(test_pki.ca_cert_pem)
    apply(tmp_path, mtls_simulator_thread, untrusted)
    capsys.readouterr()
    assert main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "  FAIL  agent TLS and certificate: "
        "the agent's certificate is not signed by the configured CA"
    )


def test_check_of_an_unknown_team_is_an_operator_error(cli_env, capsys):
    assert main(["check", "--team", "T0NOPE"]) == 2
    assert "No workspace with team ID T0NOPE" in capsys.readouterr().err
