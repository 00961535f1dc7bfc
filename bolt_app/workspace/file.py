"""The workspace file of `ml-connector workspace apply` (docs/configuration.md): parse, resolve, validate.

`load_workspace_file` turns the TOML into a `WorkspaceConfig` or raises one `ConfigError`
naming the file and the field (`sage.companies[0]`), never echoing a secret. The per-value
checks (`check_*`) raise ValueError with the problem alone, so the App Home modal can reuse
them with its own wording. Sections and their allowed keys are declared in `_SECTIONS`; a new
optional key is one entry there plus its parsing in `_build`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bolt_app.errors import ConfigError
from bolt_app.workspace.model import WorkspaceConfig
from bolt_app.workspace.reminders import parse_reminders
from bolt_app.workspace.rules import parse_rules
from bolt_app.workspace.schedule import (
    DEFAULT_RECONCILE_SCHEDULES,
    DEFAULT_SCHEDULES,
    RECONCILED_TYPES,
    Schedule,
    parse_reconcile_schedule,
    parse_schedule,
)
from bolt_app.workspace.values import (
    check_agent_url,
    check_bot_token,
    check_certificates,
    check_channel_id,
    check_company,
    check_days,
    check_key_pair,
    check_pin,
    check_record_url,
    check_team_id,
    check_timezone,
    check_user_id,
)
from sage.connection import AuthMode, ConnectionSettings
from sage.records import RecordType

_SECTIONS: dict[str | None, frozenset[str]] = {
    None: frozenset(
        {
            "team_id",
            "bot_token",
            "admins",
            "sage",
            "channels",
            "schedule",
            "rules",
            "backfill_days",
            "reminders",
            "reconcile",
        }
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
    "reconcile": frozenset({"schedule", *RECONCILED_TYPES}),
}


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
        for section in ("sage", "channels", "schedule", "reconcile"):
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
        reconcile_schedules = self.reconcile_schedules(raw.get("reconcile", {}))
        rules = parse_rules(raw.get("rules"), source=str(self.path))
        reminders = parse_reminders(raw.get("reminders"), source=str(self.path))
        backfill_days = None
        if "backfill_days" in raw:
            backfill_days = self.checked("backfill_days", raw["backfill_days"], check_days)
        return WorkspaceConfig(
            team_id=team_id,
            connection=connection,
            channels=channels,
            schedules=schedules,
            admins=admins,
            bot_token=bot_token,
            rules=rules,
            backfill_days=backfill_days,
            reminders=reminders,
            reconcile_schedules=reconcile_schedules,
        )

    def reconcile_schedules(self, table: dict[str, Any]) -> dict[RecordType, Schedule]:
        """`schedule` for every reconciled record type, then each type's own."""
        schedules = dict(DEFAULT_RECONCILE_SCHEDULES)
        if "schedule" in table:
            every = self.checked(
                "reconcile.schedule",
                self.as_str(table["schedule"], "reconcile.schedule"),
                parse_reconcile_schedule,
            )
            schedules = dict.fromkeys(RECONCILED_TYPES, every)
        for key in RECONCILED_TYPES:
            if key in table:
                name = f"reconcile.{key}"
                schedules[key] = self.checked(
                    name, self.as_str(table[key], name), parse_reconcile_schedule
                )
        return schedules

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
