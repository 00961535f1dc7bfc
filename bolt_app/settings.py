"""Typed settings, read once from the environment by the CLI and passed down.

Nothing below the CLI reads `os.environ`: components take a `Settings` (or the few fields they
need) as an argument, so tests build one with `Settings(...)` or `Settings.from_environ({...})`.
Secret fields are hidden from `repr()` so a logged or printed Settings never leaks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bolt_app.errors import ConfigError
from bolt_app.workspace.values import CHANNEL_ID

DEFAULT_DATABASE_URL = "sqlite:///ml_connector.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000
DEFAULT_AUDIT_RETENTION_DAYS = 90
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


_TOKEN_PREFIXES = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    kms_key_id: str | None = None
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = DEFAULT_PORT
    demo_channel: str | None = None
    audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS
    log_level: str | None = None  # None: the command's own default (services INFO, else WARNING)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate every variable of docs/configuration.md; empty values count as unset."""

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        keys = get("MLC_ENCRYPTION_KEYS")
        encryption_keys = tuple(k.strip() for k in keys.split(",") if k.strip()) if keys else ()
        kms_key_id = get("MLC_KMS_KEY_ID")
        if encryption_keys and kms_key_id:
            raise ConfigError(
                "Set either MLC_ENCRYPTION_KEYS or MLC_KMS_KEY_ID, not both: "
                "it must be clear which key protects the stored secrets."
            )
        for name, prefix in _TOKEN_PREFIXES.items():
            token = get(name)
            if token is not None and not token.startswith(prefix):
                raise ConfigError(f"{name} must be a Slack token starting with {prefix!r}.")
        demo_channel = get("MLC_DEMO_CHANNEL")
        if demo_channel is not None and not CHANNEL_ID.match(demo_channel):
            raise ConfigError(
                "MLC_DEMO_CHANNEL must be a Slack channel ID (C or G followed by "
                "upper-case letters and digits)."
            )
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            encryption_keys=encryption_keys,
            kms_key_id=kms_key_id,
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=_slack_api_url(get("SLACK_API_URL")),
            port=_port(get("PORT")),
            demo_channel=demo_channel,
            audit_retention_days=_audit_retention_days(get("MLC_AUDIT_RETENTION_DAYS")),
            log_level=_log_level(get("MLC_LOG_LEVEL")),
        )

    def secret_values(self) -> tuple[str, ...]:
        """Every secret held here, for the log redaction filter."""
        candidates = (
            *self.encryption_keys,
            self.slack_signing_secret,
            self.slack_client_secret,
            self.slack_bot_token,
            self.slack_app_token,
        )
        return tuple(value for value in candidates if value)


def _audit_retention_days(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_AUDIT_RETENTION_DAYS
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(
            f"MLC_AUDIT_RETENTION_DAYS must be a whole number of days (1 or more), not {raw!r}."
        )
    return int(raw)


def _log_level(raw: str | None) -> str | None:
    if raw is None:
        return None
    if raw.upper() not in LOG_LEVELS:
        raise ConfigError(f"MLC_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}.")
    return raw.upper()


def _port(raw: str | None) -> int:
    return DEFAULT_PORT if raw is None else check_port(raw, "PORT")


def check_port(raw: str, name: str) -> int:
    """A TCP port number from `PORT` or `--port`; ConfigError naming `name` else."""
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be a number from 0 to 65535, not {raw!r}.")
    return port


def _slack_api_url(raw: str | None) -> str:
    if raw is None:
        return DEFAULT_SLACK_API_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, not {raw!r}.")
    return raw if raw.endswith("/") else raw + "/"
