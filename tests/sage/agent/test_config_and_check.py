"""agent.toml, `agent check` and `agent certs`, as an IT admin on the Sage server sees them."""

from __future__ import annotations

import stat
from datetime import date
from types import SimpleNamespace

import pytest

from bolt_app.cli import main
from sage.agent.check import check_company
from sage.agent.config import AgentConfigError, load_agent_config
from sage.agent.connection import OdbcConnector, SqliteConnector
from sage.agent.service import CompanyReader
from tests.fixtures.agent import needs_odbc, odbc_connection_string

TODAY = date(2026, 11, 20)


def agent_file(tmp_path, pki, companies: str, server: str = "") -> str:
    path = tmp_path / "agent.toml"
    path.write_text(
        "[server]\n"
        'host = "127.0.0.1"\n'
        f'cert = "file:{pki.server_cert}"\n'
        f'key = "file:{pki.server_key}"\n'
        f'client_ca = "file:{pki.ca_cert}"\n' + server + "\n" + companies
    )
    return str(path)


def test_a_full_agent_file_is_read_with_env_and_file_values(tmp_path, simulator_pki):
    path = agent_file(
        tmp_path,
        simulator_pki,
        '[companies.ABC]\nodbc = "env:SAGE_ABC_ODBC"\n[companies.TST]\nsqlite = "tst.db"\n',
        'api_keys = ["env:KEY"]\nsage_version = "2024.1"\nscan_cache_seconds = 5\n',
    )
    config = load_agent_config(
        path, {"SAGE_ABC_ODBC": "Driver={X};PWD=hunter2", "KEY": "agent-api-key-never-shown"}
    )
    assert [c.code for c in config.companies] == ["ABC", "TST"]
    assert config.api_keys == ("agent-api-key-never-shown",) and config.scan_cache_seconds == 5.0
    assert config.companies[1].sqlite == tmp_path / "tst.db"
    assert "hunter2" not in repr(config) and "agent-api-key-never-shown" not in repr(config)


@pytest.mark.parametrize(
    ("companies", "server", "message"),
    [
        ('[companies.ABC]\nodbc = "x"\nfoo = 1\n', "", "companies.ABC.foo: unknown key"),
        ('[companies.ABC]\nodbc = "x"\n', "colour = 'red'\n", "server.colour: unknown key"),
        ('[companies.abc]\nodbc = "x"\n', "", "companies.abc: a company code is three"),
        ('[companies.ABC]\nodbc = "env:NOPE"\n', "", "environment variable NOPE is not set"),
        ('[companies.ABC]\nodbc = "x"\nsqlite = "y"\n', "", "exactly one of odbc"),
        ("", "", "companies: no company is configured"),
        ('[companies.ABC]\nodbc = "x"\n', "port = 99999\n", "server.port: must be a port"),
    ],
)
def test_mistakes_name_the_key(tmp_path, simulator_pki, companies, server, message):
    with pytest.raises(AgentConfigError, match=message):
        load_agent_config(agent_file(tmp_path, simulator_pki, companies, server), {})


def test_a_connection_string_never_appears_in_an_error(tmp_path, simulator_pki):
    path = agent_file(tmp_path, simulator_pki, '[companies.ABC]\nodbc = ["PWD=hunter2"]\n')
    with pytest.raises(AgentConfigError) as caught:
        load_agent_config(path, {})
    assert "hunter2" not in str(caught.value)


def test_check_passes_each_table_and_times_each_scan(company_files):
    company = CompanyReader("ABC", SqliteConnector(company_files["ABC"], label="companies.ABC"))
    lines = [result.line() for result in check_company(company, TODAY)]
    assert lines[0] == "PASS  ABC connection: driver found, logged in (companies.ABC)"
    assert any(
        line.startswith("PASS  ABC table GL_DetailPosting: ")
        and "audit columns DateCreated, TimeCreated, UserCreatedKey present" in line
        for line in lines
    )
    assert sum(line.startswith("PASS  ABC table ") for line in lines) == 7
    assert (
        sum(line.startswith("PASS  ABC scan ") and "rows scanned in" in line for line in lines) == 4
    )


@needs_odbc
def test_check_names_a_wrong_database_path(tmp_path):
    missing = tmp_path / "not-there" / "ABC.db"
    company = CompanyReader(
        "ABC", OdbcConnector(odbc_connection_string(missing), label="companies.ABC.odbc")
    )
    lines = [result.line() for result in check_company(company, TODAY)]
    assert lines == [
        "FAIL  ABC connection: the Sage data could not be opened at the location in "
        "companies.ABC.odbc: check Database= (a service account needs a UNC path it can "
        "read, not a mapped drive)",
        "FAIL  ABC tables and scans: not tried: ABC connection failed",
    ]


class DriverError(Exception):
    """What pyodbc raises: (SQLSTATE, message)."""


def refusing_driver(state: str, message: str) -> SimpleNamespace:
    def connect(connection_string, **options):
        assert options == {"readonly": True, "autocommit": True}
        raise DriverError(state, message)

    return SimpleNamespace(connect=connect, Error=DriverError)


@pytest.mark.parametrize(
    ("state", "message", "sentence"),
    [
        (
            "28000",
            "[ProvideX][ODBC Driver]Invalid user ID or password: hunter2",
            "Sage refused the login in companies.ABC.odbc: check UID and PWD",
        ),
        (
            "IM014",
            "[Microsoft][ODBC Driver Manager] The specified DSN contains an architecture "
            "mismatch between the Driver and Application",
            "is built for the other architecture (32-bit vs 64-bit)",
        ),
        (
            "S1000",
            "[ProvideX][ODBC Driver]Invalid Directory specified",
            "could not be opened at the location in companies.ABC.odbc: check Directory=",
        ),
        (
            "S1000",
            "[ProvideX][ODBC Driver]Company code XYZ not found",
            "Sage has no such company at that location: check Company=",
        ),
    ],
)
def test_check_turns_driver_refusals_into_sentences(state, message, sentence):
    connection_string = (
        "Driver={MAS 90 4.0 ODBC Driver};UID=ana;PWD=hunter2;Directory=\\\\sage\\MAS90;Company=XYZ"
    )
    connector = OdbcConnector(
        connection_string, label="companies.ABC.odbc", driver=refusing_driver(state, message)
    )
    [connection, _] = check_company(CompanyReader("ABC", connector), TODAY)
    assert not connection.ok and sentence in connection.detail
    assert "hunter2" not in connection.detail and "UID=" not in connection.detail.replace(
        "check UID", ""
    )


def test_agent_certs_writes_private_keys_and_the_lines_to_paste(tmp_path, capsys):
    assert main(["agent", "certs", str(tmp_path / "pki"), "--host", "sage01.corp.example"]) == 0
    out = capsys.readouterr().out
    for name in ("server.key", "client.key"):
        assert stat.S_IMODE((tmp_path / "pki" / name).stat().st_mode) == 0o600
    assert f'client_ca = "file:{(tmp_path / "pki" / "ca.pem").as_posix()}"' in out
    assert 'agent_url = "https://sage01.corp.example:8443"' in out


def test_agent_check_command_exit_codes(tmp_path, simulator_pki, company_files, capsys):
    good = agent_file(
        tmp_path, simulator_pki, f'[companies.ABC]\nsqlite = "{company_files["ABC"]}"\n'
    )
    assert main(["agent", "check", "--config", good]) == 0
    assert "PASS  ABC scan gl-postings" in capsys.readouterr().out
    (tmp_path / "bad").mkdir()
    bad = agent_file(tmp_path / "bad", simulator_pki, '[companies.ABC]\nsqlite = "gone.db"\n')
    assert main(["agent", "check", "--config", bad]) == 1
    assert main(["agent", "check", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read agent file" in capsys.readouterr().err
