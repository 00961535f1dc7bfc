"""The agent's exception tree; `sage.agent.server` turns it into the contract's error answers.

AgentReadError          reading Sage failed; str() is one sentence an IT admin can act on
│                       and never holds a connection string or password
├── SourceUnavailable   no connection or login (driver, 32/64-bit, Directory, login,
│   │                   company), or tables that are not Sage's: 503 sage_unavailable
│   └── DriverMissing   the ODBC driver (or the pyodbc package) is not installed
└── FileBusy            a file the driver cannot open now: 423 record_locked
"""

from __future__ import annotations


class AgentReadError(Exception):
    """Reading Sage failed; the message says what to fix."""


class SourceUnavailable(AgentReadError):
    """Sage could not be reached or logged into."""


class DriverMissing(SourceUnavailable):
    """The ODBC driver or pyodbc is missing on this machine."""


class FileBusy(AgentReadError):
    """A Sage file is locked or busy; the same read may work in a moment."""
