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


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'check.db'}")
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", generate_key())
    for name in ("MLC_KMS_KEY_ID", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "MLC_DEMO_CHANNEL"):
        monkeypatch.delenv(name, raising=False)


def apply(tmp_path, server, ca) -> None:
    path = tmp_path / "workspace.toml"
    path.write_text(WORKSPACE.format(url=server.base_url, pki=server.pki, ca=ca))
    assert main(["workspace", "apply", str(path)]) == 0


def test_check_passes_every_agent_line(cli_env, tmp_path, mtls_simulator_thread, capsys):
    apply(tmp_path, mtls_simulator_thread, mtls_simulator_thread.pki.ca_cert)
    capsys.readouterr()
    assert main(["check", "--team", "T0CHECK01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Workspace T0CHECK01"
    assert len(lines) == 1 + 2 + 2 * 5
    assert all(line.startswith("  PASS  ") for line in lines[1:])


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
