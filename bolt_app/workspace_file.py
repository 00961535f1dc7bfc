"""The workspace file of `ml-connector workspace apply` (INTERFACE.md): parse, resolve, validate.

`load_workspace_file` turns the TOML into a `WorkspaceConfig` or raises one `ConfigError`
naming the file and the field (`sage.companies[0]`), never echoing a secret. The per-value
checks (`check_*`) raise ValueError with the problem alone, so the App Home modal can reuse
them with its own wording. Sections and their allowed keys are declared in `_SECTIONS`; a new
optional key is one entry there plus its parsing in `_build`.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from bolt_app.errors import ConfigError
from bolt_app.polling.rules import RoutingRule, parse_rules
from bolt_app.schedule import DEFAULT_SCHEDULES, Schedule, parse_schedule
from sage.client import normalise_pin
from sage.connection import AuthMode, ConnectionSettings
from sage.records import RecordType

_TEAM_ID = re.compile(r"^T[A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_COMPANY = re.compile(r"^[A-Z0-9]{3}$")
RECORD_URL_FIELDS = frozenset({"company", "resource", "record_key"})

_SECTIONS: dict[str | None, frozenset[str]] = {
    None: frozenset(
        {"team_id", "bot_token", "admins", "sage", "channels", "schedule", "rules", "backfill_days"}
    ),
    "sage": frozenset(
        {
            "agent_url",
            "companies",
            "auth",
            "client_cert",
            "client_key",
            "ca_cert",
            "pin_sha256",
            "api_key",
            "timezone",
            "record_url",
        }
    ),
    "channels": frozenset(RecordType),
    "schedule": frozenset(RecordType),
}


@dataclass(frozen=True, slots=True)
class WorkspaceConfig:
    """One workspace's configuration; `connection` is None until Sage is configured."""

    team_id: str
    connection: ConnectionSettings | None
    channels: Mapping[RecordType, str]
    schedules: Mapping[RecordType, Schedule]
    admins: tuple[str, ...] = ()
    bot_token: str | None = field(default=None, repr=False)
    rules: tuple[RoutingRule, ...] = ()  # [[rules]]: extra channels and mentions
    backfill_days: int | None = None  # first connection replays this many days


def load_workspace_file(path: str | Path, environ: Mapping[str, str]) -> WorkspaceConfig:
    """Read, resolve (`env:`/`file:`) and validate one workspace file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Workspace file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"Workspace file {path} cannot be read ({error}).") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Workspace file {path} is not valid TOML ({error}).") from None
    return _Reader(path, environ).build(raw)


class _Reader:
    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        self.environ = environ

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {name}: {problem}.")

    def build(self, raw: dict[str, Any]) -> WorkspaceConfig:
        self.check_keys(None, raw)
        for section in ("sage", "channels", "schedule"):
            if section in raw:
                if not isinstance(raw[section], dict):
                    raise self.fail(section, "must be a table ([" + section + "])")
                self.check_keys(section, raw[section])
        team_id = self.checked("team_id", self.required_str(raw, "team_id"), check_team_id)
        bot_token = None
        if "bot_token" in raw:
            # Tokens never hold blanks; a `file:` token usually ends with a newline.
            token = self.secret(raw, "bot_token").strip()
            bot_token = self.checked("bot_token", token, check_bot_token)
        # Sorted and de-duplicated, as stored, so re-applying a file compares equal.
        admins = tuple(
            sorted(
                {
                    self.checked(f"admins[{i}]", value, check_user_id)
                    for i, value in enumerate(self.str_list(raw, "admins"))
                }
            )
        )
        if "sage" not in raw:
            raise self.fail("sage", "the [sage] section is missing")
        connection = self.connection(raw["sage"])
        channels = {
            RecordType(key): self.checked(
                f"channels.{key}", self.as_str(value, f"channels.{key}"), check_channel_id
            )
            for key, value in raw.get("channels", {}).items()
        }
        schedules = dict(DEFAULT_SCHEDULES)
        for key, value in raw.get("schedule", {}).items():
            schedules[RecordType(key)] = self.checked(
                f"schedule.{key}", self.as_str(value, f"schedule.{key}"), parse_schedule
            )
        rules = parse_rules(raw.get("rules"), source=str(self.path))
        backfill_days = None
        if "backfill_days" in raw:
            backfill_days = self.checked("backfill_days", raw["backfill_days"], check_backfill_days)
        return WorkspaceConfig(
            team_id=team_id,
            connection=connection,
            channels=channels,
            schedules=schedules,
            admins=admins,
            bot_token=bot_token,
            rules=rules,
            backfill_days=backfill_days,
        )

    def connection(self, sage: dict[str, Any]) -> ConnectionSettings:
        agent_url = self.checked(
            "sage.agent_url", self.required_str(sage, "agent_url", "sage."), check_agent_url
        )
        companies = self.str_list(sage, "companies", "sage.")
        if not companies:
            raise self.fail("sage.companies", "list at least one company code")
        for i, company in enumerate(companies):
            self.checked(f"sage.companies[{i}]", company, check_company)
        if len(set(companies)) != len(companies):
            raise self.fail("sage.companies", "a company code is listed twice")
        auth_text = self.required_str(sage, "auth", "sage.")
        try:
            auth = AuthMode(auth_text)
        except ValueError:
            raise self.fail("sage.auth", f"{auth_text!r} is neither 'mtls' nor 'api_key'") from None
        timezone = self.checked(
            "sage.timezone", self.required_str(sage, "timezone", "sage."), check_timezone
        )
        client_cert = self.secret(sage, "client_cert", "sage.") if "client_cert" in sage else None
        client_key = self.secret(sage, "client_key", "sage.") if "client_key" in sage else None
        ca_cert = self.secret(sage, "ca_cert", "sage.") if "ca_cert" in sage else None
        api_key = self.secret(sage, "api_key", "sage.").strip() if "api_key" in sage else None
        if auth is AuthMode.MTLS:
            for name, value in (("client_cert", client_cert), ("client_key", client_key)):
                if value is None:
                    raise self.fail(f"sage.{name}", "is required with auth = 'mtls'")
            if api_key is not None:
                raise self.fail("sage.api_key", "is only used with auth = 'api_key'")
        else:
            if api_key is None:
                raise self.fail("sage.api_key", "is required with auth = 'api_key'")
            for name, value in (("client_cert", client_cert), ("client_key", client_key)):
                if value is not None:
                    raise self.fail(f"sage.{name}", "is only used with auth = 'mtls'")
        if client_cert is not None and client_key is not None:
            self.checked("sage.client_cert", client_cert, check_certificates)
            self.checked(
                "sage.client_key", client_key, lambda key: check_key_pair(client_cert, key)
            )
        if ca_cert is not None:
            self.checked("sage.ca_cert", ca_cert, check_certificates)
        if api_key == "":
            raise self.fail("sage.api_key", "is empty")
        pin = None
        if "pin_sha256" in sage:
            pin = self.checked(
                "sage.pin_sha256", self.as_str(sage["pin_sha256"], "sage.pin_sha256"), check_pin
            )
        record_url = None
        if "record_url" in sage:
            record_url = self.checked(
                "sage.record_url",
                self.as_str(sage["record_url"], "sage.record_url"),
                check_record_url,
            )
        return ConnectionSettings(
            agent_url=agent_url,
            companies=tuple(companies),
            auth=auth,
            timezone=timezone,
            client_cert_pem=client_cert,
            client_key_pem=client_key,
            ca_cert_pem=ca_cert,
            api_key=api_key,
            pin_sha256=pin,
            record_url=record_url,
        )

    def check_keys(self, section: str | None, table: dict[str, Any]) -> None:
        allowed = _SECTIONS[section]
        for key in table:
            if key not in allowed:
                name = f"{section}.{key}" if section else key
                expected = ", ".join(sorted(allowed))
                raise self.fail(name, f"unknown field (expected one of: {expected})")

    def checked(self, name: str, value: Any, check: Any) -> Any:
        try:
            return check(value)
        except ValueError as error:
            raise self.fail(name, str(error)) from None

    def as_str(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise self.fail(name, "must be a string")
        return value

    def required_str(self, table: dict[str, Any], key: str, prefix: str = "") -> str:
        if key not in table:
            raise self.fail(prefix + key, "is required")
        return self.as_str(table[key], prefix + key)

    def str_list(self, table: dict[str, Any], key: str, prefix: str = "") -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(prefix + key, "must be a list of strings")
        return value

    def secret(self, table: dict[str, Any], key: str, prefix: str = "") -> str:
        """A secret given literally, as `env:NAME` or as `file:PATH` (relative to the file)."""
        name = prefix + key
        value = self.as_str(table[key], name)
        if value.startswith("env:"):
            variable = value[4:]
            resolved = self.environ.get(variable)
            if not resolved:
                raise self.fail(name, f"environment variable {variable} is not set")
            return resolved
        if value.startswith("file:"):
            target = Path(value[5:]).expanduser()
            if not target.is_absolute():
                target = self.path.parent / target
            try:
                return target.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
                raise self.fail(name, f"cannot read {target} ({reason})") from None
        return value


def check_backfill_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise ValueError("must be a whole number of days from 0 to 366")
    return value


def check_team_id(value: str) -> str:
    if not _TEAM_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack team ID (T followed by upper-case letters and digits)"
        )
    return value


def check_user_id(value: str) -> str:
    if not _USER_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack user ID (U or W followed by upper-case letters and digits)"
        )
    return value


def check_channel_id(value: str) -> str:
    if not _CHANNEL_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack channel ID (C or G followed by upper-case letters and digits)"
        )
    return value


def check_company(value: str) -> str:
    if not _COMPANY.match(value):
        raise ValueError(
            f"{value!r} is not a three-character company code (upper-case letters and digits)"
        )
    return value


def check_bot_token(value: str) -> str:
    if not value.startswith("xoxb-"):
        raise ValueError("is not a Slack bot token (it must start with 'xoxb-')")
    return value


def check_https_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (reading it raises for a port outside 0-65535 or not a number)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid URL ({error})") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https:// URL")
    if any(character.isspace() for character in value):
        raise ValueError(f"{value!r} contains a blank")
    return value.rstrip("/")


def check_agent_url(value: str) -> str:
    """The agent's base address: https, host, optional port and path; no credentials (they
    would be stored and shown in clear), query or fragment (the client appends /v1/...)."""
    if "@" in value.partition("://")[2].partition("/")[0]:
        raise ValueError(
            "must not hold a user name or password; the agent authenticates with auth = "
            "'mtls' or 'api_key'"
        )
    url = check_https_url(value)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} has a query or fragment; give the agent's base address")
    return url


def check_record_url(value: str) -> str:
    check_https_url(value)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid template ({error})") from None
    unknown = names - RECORD_URL_FIELDS
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{sorted(unknown)[0]}}} (use {{company}}, {{resource}}, {{record_key}})"
        )
    return value


def check_timezone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (e.g. 'America/Chicago')") from None


def check_pin(value: str) -> str:
    """Accepts what the client accepts ('AB:CD:...', plain hex); returns 'AB:CD:...' pairs."""
    try:
        digits = normalise_pin(value).upper()
    except ValueError:
        raise ValueError(
            "is not a SHA-256 fingerprint (32 hex pairs such as 'AB:CD:...')"
        ) from None
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def check_certificates(pem: str) -> str:
    """One or more PEM certificates (a chain or a CA bundle)."""
    try:
        x509.load_pem_x509_certificates(pem.encode("utf-8"))
    except ValueError:
        raise ValueError("does not hold a PEM certificate that parses") from None
    return pem


def check_key_pair(cert_pem: str, key_pem: str) -> str:
    """The key parses as an unencrypted PEM private key and matches the first certificate."""
    try:
        key = serialization.load_pem_private_key(key_pem.encode("utf-8"), password=None)
    except TypeError:
        raise ValueError("the private key is password-protected; give it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("does not hold a PEM private key that parses") from None
    cert = x509.load_pem_x509_certificates(cert_pem.encode("utf-8"))[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, spki) != cert.public_key().public_bytes(der, spki):
        raise ValueError("the private key does not match the certificate in sage.client_cert")
    return key_pem
