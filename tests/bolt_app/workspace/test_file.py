from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bolt_app.errors import ConfigError
from bolt_app.workspace.file import load_workspace_file
from bolt_app.workspace.schedule import CronSchedule, IntervalSchedule
from sage.connection import AuthMode
from sage.records import RecordType
from tests.fixtures.workspace import API_KEY, BOT_TOKEN


def test_the_interface_example_loads_with_secrets_resolved(workspace_files, test_pki):
    config = load_workspace_file(workspace_files.path, workspace_files.environ)
    assert config.team_id == "T0123ABCD"
    assert config.bot_token == BOT_TOKEN
    assert config.admins == ("U0123ABCD",)
    connection = config.connection
    assert connection.agent_url == "https://sage01.corp.example:8443"
    assert connection.companies == ("ABC",)
    assert connection.auth is AuthMode.MTLS
    assert connection.timezone == ZoneInfo("America/Chicago")
    assert connection.client_cert_pem == test_pki.client_cert_pem
    assert connection.client_key_pem == test_pki.client_key_pem
    assert connection.ca_cert_pem == test_pki.ca_cert_pem
    assert config.channels[RecordType.GL_ACCOUNT] == "C0GL00001"
    assert config.schedules[RecordType.AP_INVOICE] == IntervalSchedule(timedelta(minutes=15), "15m")
    assert config.schedules[RecordType.GL_ACCOUNT] == CronSchedule("0 18 * * 1-5")
    assert BOT_TOKEN not in repr(config) and "PRIVATE KEY" not in repr(config)


def test_api_key_auth_with_optional_fields_and_default_schedules(workspace_files):
    text = workspace_files.text
    text = text.replace('auth = "mtls"', 'auth = "api_key"\napi_key = "env:TEST_SAGE_API_KEY"')
    text = text.replace('client_cert = "file:client.pem"\nclient_key = "file:client.key"\n', "")
    text = text.replace(
        'timezone = "America/Chicago"',
        'timezone = "America/Chicago"\npin_sha256 = "' + "ab" * 32 + '"\n'
        'record_url = "https://erp.example/{company}/{resource}/{record_key}"',
    )
    text = text[: text.index("[schedule]")] + "[schedule]\n"
    config = load_workspace_file(workspace_files.write(text), workspace_files.environ)
    assert config.connection.auth is AuthMode.API_KEY
    assert config.connection.api_key == API_KEY
    assert API_KEY not in repr(config)
    assert config.connection.client_key_pem is None
    assert config.connection.pin_sha256 == ":".join(["AB"] * 32)
    assert str(config.schedules[RecordType.PURCHASE_ORDER]) == "15m"
    assert str(config.schedules[RecordType.GL_ACCOUNT]) == "1h"


def test_reconcile_runs_daily_at_03_00_unless_the_file_says_when(workspace_files):
    config = load_workspace_file(workspace_files.path, workspace_files.environ)
    assert config.reconcile_schedules == {
        RecordType.AP_INVOICE: CronSchedule("0 3 * * *"),
        RecordType.PURCHASE_ORDER: CronSchedule("0 3 * * *"),
        RecordType.GL_ACCOUNT: CronSchedule("0 3 * * *"),
    }
    text = workspace_files.text.replace(
        "[schedule]", '[reconcile]\nschedule = "30 1 * * 1-5"\npurchase_order = "6h"\n\n[schedule]'
    )
    config = load_workspace_file(workspace_files.write(text), workspace_files.environ)
    assert config.reconcile_schedules == {
        RecordType.AP_INVOICE: CronSchedule("30 1 * * 1-5"),
        RecordType.PURCHASE_ORDER: IntervalSchedule(timedelta(hours=6), "6h"),
        RecordType.GL_ACCOUNT: CronSchedule("30 1 * * 1-5"),
    }


def test_tokens_read_from_files_lose_their_trailing_newline(workspace_files):
    (workspace_files.directory / "bot.token").write_text(BOT_TOKEN + "\n")
    (workspace_files.directory / "api.key").write_text(API_KEY + "\r\n")
    text = workspace_files.text.replace("env:TEST_SLACK_BOT_TOKEN", "file:bot.token")
    text = text.replace('auth = "mtls"', 'auth = "api_key"\napi_key = "file:api.key"')
    text = text.replace('client_cert = "file:client.pem"\nclient_key = "file:client.key"\n', "")
    config = load_workspace_file(workspace_files.write(text), {})
    assert (config.bot_token, config.connection.api_key) == (BOT_TOKEN, API_KEY)


def test_an_agent_url_with_a_path_prefix_is_accepted(workspace_files):
    path = workspace_files.replace("example:8443", "example:8443/sage-agent/")
    config = load_workspace_file(path, workspace_files.environ)
    assert config.connection.agent_url == "https://sage01.corp.example:8443/sage-agent"


def test_literal_secrets_and_absolute_file_paths_are_accepted(workspace_files, test_pki):
    text = workspace_files.text.replace('"env:TEST_SLACK_BOT_TOKEN"', '"xoxb-literal-1"')
    text = text.replace("file:client.pem", f"file:{workspace_files.directory / 'client.pem'}")
    config = load_workspace_file(workspace_files.write(text), {})
    assert config.bot_token == "xoxb-literal-1"
    assert config.connection.client_cert_pem == test_pki.client_cert_pem


# (text to replace, replacement, the field the message must name)
BAD_INPUTS = {
    "team id": ('team_id = "T0123ABCD"', 'team_id = "t0123abcd"', "team_id"),
    "missing team id": ('team_id = "T0123ABCD"\n', "", "team_id"),
    "company code": ('companies = ["ABC"]', 'companies = ["ABC", "abcd"]', "sage.companies[1]"),
    "no company": ('companies = ["ABC"]', "companies = []", "sage.companies"),
    "company list type": ('companies = ["ABC"]', 'companies = "ABC"', "sage.companies"),
    "record type (channels)": (
        'ap_invoice = "C0AP00001"',
        'ap_invoices = "C0AP00001"',
        "channels.ap_invoices",
    ),
    "record type (schedule)": ('gl_entry = "1h"', 'gl_entries = "1h"', "schedule.gl_entries"),
    "channel id": (
        'purchase_order = "C0PO00001"',
        'purchase_order = "#purchasing"',
        "channels.purchase_order",
    ),
    "channel id lower case": (
        'purchase_order = "C0PO00001"',
        'purchase_order = "c0po00001"',
        "channels.purchase_order",
    ),
    "duration": ('gl_entry = "1h"', 'gl_entry = "1 hour"', "schedule.gl_entry"),
    "too short": ('gl_entry = "1h"', 'gl_entry = "5s"', "schedule.gl_entry"),
    "cron": ('"0 18 * * 1-5"', '"0 25 * * 1-5"', "schedule.gl_account"),
    "http url": ("https://sage01", "http://sage01", "sage.agent_url"),
    "not a url": ('"https://sage01.corp.example:8443"', '"sage01.corp.example"', "sage.agent_url"),
    "url port": ("example:8443", "example:84430", "sage.agent_url"),
    "url port not a number": ("example:8443", "example:https", "sage.agent_url"),
    "url with a space": ("sage01.corp", "sage01 .corp", "sage.agent_url"),
    "url with a query": ("example:8443", "example:8443/?company=ABC", "sage.agent_url"),
    "url with credentials": ("https://sage01", "https://admin:hunter2@sage01", "sage.agent_url"),
    "record url": (
        'timezone = "America/Chicago"',
        'timezone = "America/Chicago"\nrecord_url = "ftp://x/{company}"',
        "sage.record_url",
    ),
    "record url placeholder": (
        'timezone = "America/Chicago"',
        'timezone = "America/Chicago"\nrecord_url = "https://x/{vendor}"',
        "sage.record_url",
    ),
    "unset env": ("env:TEST_SLACK_BOT_TOKEN", "env:NOT_SET_ANYWHERE", "bot_token"),
    "missing file": ("file:client.key", "file:missing.key", "sage.client_key"),
    "certificate": ("file:agent-ca.pem", "not a certificate", "sage.ca_cert"),
    "key": (
        "file:client.key",
        "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----",
        "sage.client_key",
    ),
    "key mismatch": ("file:client.key", "file:other.key", "sage.client_key"),
    "zone": ("America/Chicago", "America/Springfield", "sage.timezone"),
    "auth": ('auth = "mtls"', 'auth = "password"', "sage.auth"),
    "mtls without key": ('client_key = "file:client.key"\n', "", "sage.client_key"),
    "api key without key": (
        'auth = "mtls"\nclient_cert = "file:client.pem"\nclient_key = "file:client.key"',
        'auth = "api_key"',
        "sage.api_key",
    ),
    "blank api key": (
        'auth = "mtls"\nclient_cert = "file:client.pem"\nclient_key = "file:client.key"',
        'auth = "api_key"\napi_key = " \\n"',
        "sage.api_key",
    ),
    "pin": (
        'timezone = "America/Chicago"',
        'timezone = "America/Chicago"\npin_sha256 = "AB:CD"',
        "sage.pin_sha256",
    ),
    "unknown top-level key": (
        'admins = ["U0123ABCD"]',
        'admins = ["U0123ABCD"]\nteam = "x"',
        "team",
    ),
    "unknown sage key": ("agent_url =", "agent_ulr =", "sage.agent_ulr"),
    "admin id": ('admins = ["U0123ABCD"]', 'admins = ["alice"]', "admins[0]"),
    "bot token shape": ('"env:TEST_SLACK_BOT_TOKEN"', '"xoxp-user-token-1"', "bot_token"),
    "missing sage": ("[sage]", "[sag]", "sag"),
    "reconcile gl postings": (
        "[schedule]",
        '[reconcile]\ngl_entry = "0 3 * * *"\n\n[schedule]',
        "reconcile.gl_entry",
    ),
    "reconcile too often": (
        "[schedule]",
        '[reconcile]\nschedule = "30m"\n\n[schedule]',
        "reconcile.schedule",
    ),
    "reconcile cron": (
        "[schedule]",
        '[reconcile]\nap_invoice = "0 3 * *"\n\n[schedule]',
        "reconcile.ap_invoice",
    ),
    "reconcile not a table": (
        'admins = ["U0123ABCD"]',
        'admins = ["U0123ABCD"]\nreconcile = "0 3 * * *"',
        "reconcile",
    ),
}


@pytest.mark.parametrize(("old", "new", "field"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_each_bad_input_is_refused_naming_the_field_and_the_file(
    workspace_files, test_pki, old, new, field
):
    (workspace_files.directory / "other.key").write_text(test_pki.other_key_pem)
    path = workspace_files.replace(old, new)
    with pytest.raises(ConfigError) as caught:
        load_workspace_file(path, workspace_files.environ)
    message = str(caught.value)
    assert str(path) in message
    assert f": {field}: " in message
    assert "\n" not in message
    assert BOT_TOKEN not in message and "PRIVATE KEY" not in message and "hunter2" not in message


def test_a_password_protected_key_is_refused_with_a_reason(workspace_files, test_pki):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(test_pki.client_key_pem.encode(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    (workspace_files.directory / "client.key").write_bytes(encrypted)
    with pytest.raises(ConfigError, match="sage.client_key: the private key is password-protected"):
        load_workspace_file(workspace_files.path, workspace_files.environ)


def test_a_missing_or_malformed_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_workspace_file(tmp_path / "nope.toml", {})
    broken = tmp_path / "broken.toml"
    broken.write_text('team_id = "T0123ABCD\n')
    with pytest.raises(ConfigError, match=f"{broken} is not valid TOML"):
        load_workspace_file(broken, {})
