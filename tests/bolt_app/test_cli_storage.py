"""The database commands as an operator runs them: real processes, real files, no tracebacks."""

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from cryptography import x509
from moto import mock_aws

from bolt_app.cli import main
from bolt_app.crypto import generate_key
from bolt_app.storage.engine import create_engine
from mlc_common import certs
from tests.fixtures.workspace import API_KEY, BOT_TOKEN


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bolt_app", *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def cli_env(database_url, workspace_files):
    return {
        "DATABASE_URL": database_url,
        "MLC_ENCRYPTION_KEYS": generate_key(),
        **workspace_files.environ,
    }


def test_apply_keeps_every_secret_out_of_the_database_file_and_the_logs(
    tmp_path, workspace_files, test_pki
):
    database = tmp_path / "mlc.db"
    key = generate_key()
    text = workspace_files.text.replace(
        "[channels]", 'api_key = "env:TEST_SAGE_API_KEY"\n\n[channels]'
    ).replace('auth = "mtls"', 'auth = "api_key"')
    text = text.replace('client_cert = "file:client.pem"\nclient_key = "file:client.key"\n', "")
    workspace_files.write(text)
    env = {"DATABASE_URL": f"sqlite:///{database}", "MLC_ENCRYPTION_KEYS": key}
    env |= workspace_files.environ
    path = str(workspace_files.path)
    applied = run_cli("workspace", "apply", path, "--verbose", env=env, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout == "Workspace T0123ABCD created.\n"
    # The mTLS variant stores the client key; apply it too so its bytes can be looked for.
    mtls_database = tmp_path / "mtls.db"
    workspace_files.write(
        workspace_files.text.replace('"T0123ABCD"', '"T0MTLS001"')
        .replace(
            'auth = "api_key"',
            'auth = "mtls"\nclient_cert = "file:client.pem"\nclient_key = "file:client.key"',
        )
        .replace('api_key = "env:TEST_SAGE_API_KEY"\n', "")
    )
    env_mtls = env | {"DATABASE_URL": f"sqlite:///{mtls_database}"}
    mtls = run_cli("workspace", "apply", str(workspace_files.path), env=env_mtls, cwd=tmp_path)
    assert mtls.returncode == 0, mtls.stderr
    assert mtls.stderr == ""  # a one-shot command logs nothing unless asked
    shown = run_cli("workspace", "show", env=env_mtls, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert 'client_key = "(set)"' in shown.stdout and 'bot_token = "(set)"' in shown.stdout

    key_body = test_pki.client_key_pem.splitlines()[1]
    secrets = [BOT_TOKEN, API_KEY, key_body, "PRIVATE KEY", key]
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("*.db*"))
    output = "".join(r.stdout + r.stderr for r in (applied, mtls, shown))
    for secret in secrets:
        assert secret.encode() not in stored, secret
        assert secret not in output, secret
    assert b"T0MTLS001" in stored  # the grep does look at the right bytes
    assert '"message": "workspace applied"' in applied.stderr


def test_apply_twice_is_unchanged_and_show_redacts(
    cli_env, workspace_files, test_pki, capsys, monkeypatch
):
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    workspace_files.replace('ap_invoice = "C0AP00001"', 'ap_invoice = "C0AP00002"')
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    assert main(["workspace", "show", "--team", "T0123ABCD"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        "Workspace T0123ABCD created.",
        "Workspace T0123ABCD unchanged.",
        "Workspace T0123ABCD updated.",
    ]
    assert 'ap_invoice = "C0AP00002"' in out
    subject = x509.load_pem_x509_certificate(test_pki.client_cert_pem.encode()).subject
    assert f'client_cert = "{subject.rfc4514_string()}, expires' in out
    assert BOT_TOKEN not in out and "PRIVATE KEY" not in out


def test_one_shot_commands_print_for_a_person_and_log_only_when_asked(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'mlc.db'}"}
    quiet = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert quiet.stdout == f"Database sqlite:///{tmp_path / 'mlc.db'} is up to date.\n"

    fresh = {"DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}", "MLC_LOG_LEVEL": "info"}
    asked = run_cli("db", "upgrade", env=fresh, cwd=tmp_path)
    assert asked.returncode == 0 and asked.stdout.endswith("is up to date.\n")
    logged = [json.loads(line) for line in asked.stderr.splitlines()]
    assert logged and all(entry["level"] == "info" for entry in logged)

    wrong = run_cli("db", "upgrade", env=env | {"MLC_LOG_LEVEL": "loud"}, cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr == (
        "ml-connector: MLC_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
        "not 'loud'.\n"
    )


def test_keys_rotate_lets_the_old_key_go(cli_env, workspace_files, capsys, monkeypatch):
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    old_key, new_key = cli_env["MLC_ENCRYPTION_KEYS"], generate_key()
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", f"{new_key},{old_key}")
    assert main(["keys", "rotate"]) == 0
    assert "Re-encrypted 2 stored secret(s)" in capsys.readouterr().out
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", new_key)
    assert main(["workspace", "show"]) == 0
    assert 'bot_token = "(set)"' in capsys.readouterr().out
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", old_key)
    assert main(["workspace", "show"]) == 2
    assert "cannot be decrypted" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["workspace", "show"], {"MLC_ENCRYPTION_KEYS": ""}, "No encryption key is configured"),
        (["workspace", "show"], {"MLC_ENCRYPTION_KEYS": "nope"}, "Key 1 in MLC_ENCRYPTION_KEYS"),
        (["workspace", "show", "--team", "T0NOPE"], {}, "No workspace with team ID T0NOPE"),
        (["workspace", "apply", "missing.toml"], {}, "missing.toml does not exist"),
        (["db", "upgrade"], {"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with"),
        (["db", "upgrade"], {"DATABASE_URL": "sqlite:////no/such/dir/x.db"}, "/no/such/dir, which"),
        (
            ["db", "upgrade"],
            {"DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/none"},
            "Cannot open the database at DATABASE_URL postgresql://nobody:***@127.0.0.1:1/none",
        ),
        (["db", "upgrade"], {"PORT": "abc"}, "PORT must be a number"),
    ],
)
def test_operator_mistakes_are_one_sentence_and_exit_2(
    cli_env, args, env, message, capsys, monkeypatch
):
    for name, value in (cli_env | env).items():
        monkeypatch.setenv(name, value)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert err.count("ml-connector:") == 1


def test_keys_generate_prints_a_usable_key(capsys):
    assert main(["keys", "generate"]) == 0
    from bolt_app.crypto import SecretBox

    key = capsys.readouterr().out.strip()
    assert SecretBox([key]).decrypt(SecretBox([key]).encrypt("x")) == "x"


def test_db_upgrade_reports_the_database_without_its_password(database_url, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_kms_apply_rotate_show(database_url, workspace_files, capsys, monkeypatch):
    for name, value in workspace_files.environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("MLC_ENCRYPTION_KEYS", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        key_id = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["KeyId"]
        monkeypatch.setenv("MLC_KMS_KEY_ID", key_id)
        assert main(["workspace", "apply", str(workspace_files.path)]) == 0
        assert main(["keys", "rotate"]) == 0
        assert main(["workspace", "show"]) == 0
        out = capsys.readouterr().out
        assert "Re-encrypted 2 stored secret(s)" in out and 'client_key = "(set)"' in out
        monkeypatch.setenv("MLC_KMS_KEY_ID", "alias/not-there")
        assert main(["workspace", "show"]) == 2
        assert "AWS KMS GenerateDataKey with MLC_KMS_KEY_ID" in capsys.readouterr().err


def test_a_database_failure_mid_command_is_one_sentence_without_sql(
    cli_env, workspace_files, capsys, monkeypatch
):
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0

    async def damage():
        engine = create_engine(cli_env["DATABASE_URL"])
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.text("DROP TABLE channel_routes"))
        finally:
            await engine.dispose()

    asyncio.run(damage())
    capsys.readouterr()
    workspace_files.replace('ap_invoice = "C0AP00001"', 'ap_invoice = "C0AP00002"')
    for args in (["workspace", "show"], ["workspace", "apply", str(workspace_files.path)]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("ml-connector: The database at DATABASE_URL "), err
        assert "channel_routes" in err and err.count("\n") == 1
        assert "Traceback" not in err and "gAAAA" not in err and "[SQL:" not in err


def test_apply_refuses_an_expired_client_certificate_saying_when_it_expired(
    cli_env, workspace_files, capsys, monkeypatch
):
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    ca = certs.make_ca("Expired test CA")
    expired = certs.issue_client_cert(
        ca, now=datetime(2025, 3, 1, 9, 30, tzinfo=UTC), valid_for=timedelta(days=30)
    )
    (workspace_files.directory / "client.pem").write_bytes(expired.cert_pem)
    (workspace_files.directory / "client.key").write_bytes(expired.key_pem)
    (workspace_files.directory / "agent-ca.pem").write_bytes(ca.cert_pem)
    assert main(["workspace", "apply", str(workspace_files.path)]) == 2
    assert capsys.readouterr().err == (
        f"ml-connector: {workspace_files.path}: sage.client_cert: expired on 2025-03-31 09:30 "
        "UTC, so the agent would refuse it; issue a new client certificate.\n"
    )
    assert main(["workspace", "show"]) == 0
    assert "No workspace is configured yet" in capsys.readouterr().out  # nothing was stored
