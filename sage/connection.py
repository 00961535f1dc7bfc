"""How to reach one customer's agent: the settings the client needs, secrets hidden from repr.

Stored encrypted by the Slack side, built from the workspace file or the App Home modal, and
handed to `sage.client.AgentClient`. PEM material is held as text, not file paths, because
admins can paste it in the App Home and the database keeps the (encrypted) content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo


class AuthMode(StrEnum):
    MTLS = "mtls"
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    agent_url: str
    companies: tuple[str, ...]
    auth: AuthMode
    timezone: ZoneInfo
    client_cert_pem: str | None = None
    client_key_pem: str | None = field(default=None, repr=False)
    ca_cert_pem: str | None = None
    api_key: str | None = field(default=None, repr=False)
    pin_sha256: str | None = None
    record_url: str | None = None
