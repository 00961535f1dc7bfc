"""agent.toml: where the agent listens, which credentials it accepts, which companies it reads.

Every key is documented in docs/agent/configuration.md; an unknown key is an error naming it.
Values may be literal, `env:NAME` or `file:PATH` (relative to the file), except `port`,
`scan_cache_seconds` and `sqlite` (a path). Errors are one sentence naming the file and key
and never show a resolved value.
"""

from __future__ import annotations

import re
import ssl
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlc_common.config_values import resolve_value
from sage.agent.connection import Connector, OdbcConnector, SqliteConnector
from sage.agent.server import Listen
from sage.agent.service import DEFAULT_CACHE_SECONDS, AgentService, CompanyReader

COMPANY_CODE = re.compile(r"[A-Z0-9]{3}")
SERVER_KEYS = {
    "host",
    "port",
    "cert",
    "key",
    "client_ca",
    "api_keys",
    "sage_version",
    "scan_cache_seconds",
}
COMPANY_KEYS = {"odbc", "sqlite"}
TOP_KEYS = {"server", "companies"}


class AgentConfigError(ValueError):
    """agent.toml is unusable; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class CompanySource:
    code: str
    odbc: str | None = field(default=None, repr=False)  # a connection string holds a password
    sqlite: Path | None = None

    def connector(self) -> Connector:
        if self.sqlite is not None:
            return SqliteConnector(self.sqlite, label=f"companies.{self.code}.sqlite")
        return OdbcConnector(self.odbc or "", label=f"companies.{self.code}.odbc")


@dataclass(frozen=True, slots=True)
class AgentConfig:
    path: Path
    host: str
    port: int
    cert_pem: str
    key_pem: str = field(repr=False)
    client_ca_pem: str | None
    api_keys: tuple[str, ...] = field(repr=False)
    sage_version: str
    scan_cache_seconds: float
    companies: tuple[CompanySource, ...]

    def service(self, agent_version: str) -> AgentService:
        return AgentService(
            {
                company.code: CompanyReader(
                    company.code,
                    company.connector(),
                    cache_seconds=self.scan_cache_seconds,
                )
                for company in self.companies
            },
            agent_version=agent_version,
            sage_version=self.sage_version,
        )

    @contextmanager
    def listen(self) -> Iterator[Listen]:
        """The server's PEM material as files in a private folder for as long as it serves
        (TLS libraries load certificates only from files; the folder goes afterwards)."""
        with tempfile.TemporaryDirectory(prefix="mlc-agent-tls-") as directory:
            folder = Path(directory)
            cert, key = folder / "server.pem", folder / "server.key"
            cert.write_text(self.cert_pem)
            key.touch(mode=0o600)
            key.write_text(self.key_pem)
            client_ca = None
            if self.client_ca_pem is not None:
                client_ca = folder / "client-ca.pem"
                client_ca.write_text(self.client_ca_pem)
            yield Listen(self.host, self.port, cert, key, client_ca, self.api_keys)


def load_agent_config(path: Path | str, environ: Mapping[str, str]) -> AgentConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AgentConfigError(f"cannot read agent file {path} ({error.strerror}).") from None
    except UnicodeDecodeError:
        raise AgentConfigError(f"agent file {path} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as error:
        raise AgentConfigError(f"agent file {path} is not valid TOML ({error}).") from None
    return _Reader(path, environ).build(raw)


class _Reader:
    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        self.environ = environ

    def fail(self, name: str, problem: str) -> AgentConfigError:
        return AgentConfigError(f"{self.path}: {name}: {problem}.")

    def table(self, raw: Mapping[str, Any], name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table ([{name}])")
        return value

    def known(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.fail(prefix + key, f"unknown key (expected one of: {expected})")

    def text(self, table: Mapping[str, Any], key: str, name: str) -> str:
        value = table[key]
        if not isinstance(value, str) or not value:
            raise self.fail(name, "must be a non-empty string")
        try:
            return resolve_value(value, self.environ, self.path.parent)
        except ValueError as error:
            raise self.fail(name, str(error)) from None

    def pem(self, table: Mapping[str, Any], key: str, *, private: bool = False) -> str:
        name = f"server.{key}"
        text = self.text(table, key, name)
        marker = "PRIVATE KEY-----" if private else "-----BEGIN CERTIFICATE-----"
        if marker not in text:
            what = "a PEM private key" if private else "PEM certificates"
            raise self.fail(name, f"does not hold {what}")
        return text

    def build(self, raw: dict[str, Any]) -> AgentConfig:
        self.known(raw, TOP_KEYS, "")
        server = self.table(raw, "server")
        self.known(server, SERVER_KEYS, "server.")
        for required in ("cert", "key"):
            if required not in server:
                raise self.fail(f"server.{required}", "is required")
        cert_pem, key_pem = self.pem(server, "cert"), self.pem(server, "key", private=True)
        client_ca = self.pem(server, "client_ca") if "client_ca" in server else None
        keys = server.get("api_keys", [])
        if not isinstance(keys, list):
            raise self.fail("server.api_keys", "must be a list of strings")
        api_keys = tuple(
            self.text({"k": key}, "k", f"server.api_keys[{index}]").strip()
            for index, key in enumerate(keys)
        )
        if client_ca is None and not api_keys:
            raise self.fail("server", "set client_ca (mTLS), api_keys, or both")
        port = server.get("port", 8443)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise self.fail("server.port", "must be a port number from 0 to 65535")
        cache = server.get("scan_cache_seconds", DEFAULT_CACHE_SECONDS)
        if not isinstance(cache, int | float) or isinstance(cache, bool) or cache < 0:
            raise self.fail("server.scan_cache_seconds", "must be a number of seconds, 0 or more")
        self.check_tls(cert_pem, key_pem, client_ca)
        return AgentConfig(
            path=self.path,
            host=self.text(server, "host", "server.host") if "host" in server else "0.0.0.0",
            port=port,
            cert_pem=cert_pem,
            key_pem=key_pem,
            client_ca_pem=client_ca,
            api_keys=api_keys,
            sage_version=(
                self.text(server, "sage_version", "server.sage_version")
                if "sage_version" in server
                else "unknown"
            ),
            scan_cache_seconds=float(cache),
            companies=self.companies(self.table(raw, "companies")),
        )

    def companies(self, table: dict[str, Any]) -> tuple[CompanySource, ...]:
        if not table:
            raise self.fail("companies", "no company is configured ([companies.ABC])")
        sources = []
        for code, company in table.items():
            name = f"companies.{code}"
            if not COMPANY_CODE.fullmatch(code):
                raise self.fail(name, "a company code is three upper-case letters or digits")
            if not isinstance(company, dict):
                raise self.fail(name, "must be a table")
            self.known(company, COMPANY_KEYS, name + ".")
            if len(company) != 1:
                raise self.fail(name, "set exactly one of odbc (Sage or SQL Server) and sqlite")
            if "odbc" in company:
                sources.append(CompanySource(code, odbc=self.text(company, "odbc", name + ".odbc")))
            else:
                value = company["sqlite"]
                if not isinstance(value, str) or not value:
                    raise self.fail(name + ".sqlite", "must be the path of a SQLite file")
                target = Path(value).expanduser()
                sources.append(CompanySource(code, sqlite=(self.path.parent / target).absolute()))
        return tuple(sources)

    def check_tls(self, cert: str, key: str, client_ca: str | None) -> None:
        with tempfile.TemporaryDirectory(prefix="mlc-agent-check-") as directory:
            cert_file, key_file = Path(directory, "c.pem"), Path(directory, "k.pem")
            cert_file.write_text(cert)
            key_file.touch(mode=0o600)
            key_file.write_text(key)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            try:
                context.load_cert_chain(cert_file, key_file, password=lambda: b"")
            except ssl.SSLError:
                raise self.fail(
                    "server.key", "is not the unencrypted key of the certificate in server.cert"
                ) from None
        if client_ca is not None:
            try:
                context.load_verify_locations(cadata=client_ca)
            except ssl.SSLError:
                raise self.fail("server.client_ca", "is not valid PEM certificates") from None
