"""The one seam between the agent and a database: any DB-API 2.0 connection.

`OdbcConnector` opens Sage's "MAS 90 4.0 ODBC Driver" (Standard/Advanced, DSN-less) or SQL
Server (Premium) through pyodbc, read-only; `SqliteConnector` opens a Sage-layout SQLite file
read-only through the standard library (demo, fast tests). Both send the same SQL. pyodbc is
imported only when an ODBC company is opened, so the connector side never needs it.

Each connector turns its driver's errors into `sage.agent.errors` with a sentence naming the
setting to fix (`label`, e.g. "companies.ABC.odbc"). The connection string is never part of a
message; a password the driver echoes is blanked out.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from sage.agent.errors import AgentReadError, DriverMissing, FileBusy, SourceUnavailable

PROVIDEX_DRIVER = "MAS 90 4.0 ODBC Driver"
# Keywords the ProvideX driver needs for an unattended, read-only, fast reader (contract,
# "How the project's agent reads Sage 100"); added when the connection string lacks them.
PROVIDEX_KEYWORDS = {
    "SILENT": "1",
    "DirtyReads": "1",
    "BurstMode": "1",
    "StripTrailingSpaces": "1",
    "EnforceNullDate": "1",
}
_SECRET_KEYS = {"pwd", "password"}


class Connector(Protocol):
    label: str

    def connect(self) -> Any: ...

    def translate(self, error: BaseException) -> AgentReadError | None:
        """The agent error for a driver error; None for anything that is not the driver's."""

    def date_parameter(self, value: date) -> object: ...


def connection_keywords(connection_string: str) -> dict[str, str]:
    """`A=1;Driver={x;y};B=2` -> {"A": "1", "Driver": "{x;y}", "B": "2"} (braces kept)."""
    pairs: dict[str, str] = {}
    for match in re.finditer(r"\s*([^=;]+?)\s*=\s*(\{[^}]*\}|[^;]*)\s*(?:;|$)", connection_string):
        pairs[match.group(1)] = match.group(2)
    return pairs


def with_providex_keywords(connection_string: str) -> str:
    """The string, plus the ProvideX keywords it lacks when it names Sage's driver."""
    keywords = connection_keywords(connection_string)
    driver = next((v for k, v in keywords.items() if k.lower() == "driver"), "")
    if driver.strip("{}").lower() != PROVIDEX_DRIVER.lower():
        return connection_string
    present = {key.lower() for key in keywords}
    missing = [f"{k}={v}" for k, v in PROVIDEX_KEYWORDS.items() if k.lower() not in present]
    if not missing:
        return connection_string
    return connection_string.rstrip("; ") + ";" + ";".join(missing)


def _redacted(message: str, connection_string: str) -> str:
    for key, value in connection_keywords(connection_string).items():
        secret = value.strip("{}")
        if key.lower() in _SECRET_KEYS and secret:
            message = message.replace(secret, "****")
    return message


def _driver_message(error: BaseException) -> tuple[str, str]:
    """(SQLSTATE, message) from a pyodbc-style error, ('', str) otherwise."""
    args = getattr(error, "args", ())
    if len(args) >= 2 and isinstance(args[0], str) and re.fullmatch(r"[0-9A-Z]{5}", args[0]):
        return args[0], str(args[1])
    return "", str(error)


class OdbcConnector:
    """Any ODBC data source by connection string; `driver` is the pyodbc module (a seam)."""

    def __init__(
        self, connection_string: str, *, label: str, driver: ModuleType | None = None
    ) -> None:
        self._connection_string = with_providex_keywords(connection_string)
        self._driver = driver
        self.label = label

    def __repr__(self) -> str:
        return f"OdbcConnector(label={self.label!r})"

    def _module(self) -> ModuleType:
        if self._driver is None:
            try:
                import pyodbc
            except ImportError:
                raise DriverMissing(
                    "the pyodbc package is not installed: install the agent with "
                    "`pip install ml-connector[agent]`"
                ) from None
            self._driver = pyodbc
        return self._driver

    def connect(self) -> Any:
        module = self._module()
        try:
            return module.connect(self._connection_string, readonly=True, autocommit=True)
        except module.Error as error:
            raise self.translate(error) or SourceUnavailable(str(error)) from None

    def date_parameter(self, value: date) -> object:
        return value

    def _names(self, keyword: str) -> bool:
        return keyword.lower() in {k.lower() for k in connection_keywords(self._connection_string)}

    def translate(self, error: BaseException) -> AgentReadError | None:
        module = self._module()
        if not isinstance(error, module.Error):
            return None
        state, raw = _driver_message(error)
        message = _redacted(raw, self._connection_string)
        text = message.lower()
        where = self.label
        if state == "IM014" or "architecture mismatch" in text:
            return SourceUnavailable(
                f"the ODBC driver in {where} is built for the other architecture (32-bit vs "
                "64-bit) than this agent: install the agent build that matches the driver"
            )
        if state in ("IM002", "IM003") or "can't open lib" in text or "driver not found" in text:
            return DriverMissing(
                f"the ODBC driver named in {where} is not installed on this machine: check the "
                "Driver={...} name against the ODBC Data Source Administrator's Drivers tab"
            )
        if state.startswith("28") or any(
            word in text for word in ("login failed", "invalid user", "password", "logon")
        ):
            return SourceUnavailable(
                f"Sage refused the login in {where}: check UID and PWD (a Sage 100 user with "
                "rights to these tables, or the read-only SQL Server login on Premium)"
            )
        if "company" in text and any(word in text for word in ("not found", "invalid", "no ")):
            return SourceUnavailable(
                f"Sage has no such company at that location: check Company= in {where}"
            )
        if any(word in text for word in ("busy", "locked", "lock ", "in use")):
            return FileBusy(f"a Sage file is busy or locked ({message})")
        if any(word in text for word in ("connect failed", "directory", "path", "unable to open")):
            setting = "Directory=" if self._names("Directory") else "Database="
            return SourceUnavailable(
                f"the Sage data could not be opened at the location in {where}: check "
                f"{setting} (a service account needs a UNC path it can read, not a mapped drive)"
            )
        return SourceUnavailable(f"the ODBC driver for {where} failed: {message}")


class SqliteConnector:
    """A Sage-layout SQLite file, opened read-only (the file is never changed)."""

    def __init__(self, path: Path | str, *, label: str) -> None:
        self.path = Path(path)
        self.label = label

    def connect(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise SourceUnavailable(
                f"the Sage data could not be opened at the location in {self.label}: "
                f"there is no file {self.path}"
            )
        try:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            return sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as error:
            raise self.translate(error) or SourceUnavailable(str(error)) from None

    def date_parameter(self, value: date) -> object:
        return value.isoformat()  # as the layout stores dates

    def translate(self, error: BaseException) -> AgentReadError | None:
        if not isinstance(error, sqlite3.Error):
            return None
        text = str(error)
        if "locked" in text or "busy" in text:
            return FileBusy(f"the company file is busy ({text})")
        if "unable to open" in text or "not a database" in text:
            return SourceUnavailable(
                f"the Sage data could not be opened at the location in {self.label}: {text}"
            )
        return SourceUnavailable(f"reading {self.label} failed: {text}")
