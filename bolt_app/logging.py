"""Structured logging, set up once by the CLI: JSON lines on stderr, secrets masked.

`RedactionFilter` sits on the handler, so every record from every logger passes through it:
it masks the secret values registered with `register_secret` (settings, resolved workspace
secrets) and anything shaped like a Slack token, a Fernet token, a PEM private key (also
URL-encoded, as in a form-encoded Slack payload) or the value of a secret-named field
(`api_key=...`, `"client_secret": "..."`, a modal input `"api_key": {..."value": "..."}`), in
the message, the exception text and the stack text alike; a message longer than
`MAX_MESSAGE_CHARS` is cut, so no request body can become a log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

REDACTED = "[redacted]"
MAX_MESSAGE_CHARS = 8_000

_DASHES = r"(?:-|%2D){5}"
_SPACE = r"(?: |\+|%20)"
_PEM_LABEL = rf"[A-Z0-9 +%]*?PRIVATE{_SPACE}KEY"
# A field whose name says it holds a secret, then its value, in JSON, form or key=value text.
_SECRET_NAME = r"[\w-]*(?:api[_-]?key|client[_-]?key|secret|password|passwd|token|authorization)"
_QUOTE = r"(?:[\"']|%22|\\\")"
# `name=` or a quoted `"name":`, not prose such as "no Slack token: install the app".
_SEPARATOR = rf"(?:=|%3D|{_QUOTE}\s*(?::|%3A))[\s+]*"
_VALUE = r"(?:[^\"'&\s,;{}%\\]|%(?!22|7B)[0-9A-Fa-f]{2})+"
_PATTERNS = (
    re.compile(
        rf"{_DASHES}BEGIN{_SPACE}{_PEM_LABEL}{_DASHES}.*?(?:{_DASHES}END{_SPACE}{_PEM_LABEL}"
        rf"{_DASHES}|\Z)",
        re.DOTALL | re.IGNORECASE,
    ),
    re.compile(r"\bx(?:ox[abpers]|app)-[A-Za-z0-9-]+"),
    re.compile(r"\bgAAAAA[A-Za-z0-9_-]{20,}=*"),
)
# (pattern, replacement) keeping the field's name: the value alone is masked.
_FIELD_PATTERNS = (
    (
        re.compile(
            rf"({_SECRET_NAME}{_SEPARATOR}(?:\{{|%7B)[^{{}}]*?value{_SEPARATOR}{_QUOTE}?){_VALUE}",
            re.IGNORECASE,
        ),
        rf"\g<1>{REDACTED}",
    ),
    (
        re.compile(rf"({_SECRET_NAME}{_SEPARATOR}{_QUOTE}?)(?!{_QUOTE}|\+){_VALUE}", re.IGNORECASE),
        rf"\g<1>{REDACTED}",
    ),
)
# Shorter values would mask ordinary words; real secrets are much longer.
_MIN_SECRET_LENGTH = 6
# Attributes every LogRecord has; anything else came in through `extra=` and is logged too.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask this value wherever it would appear in a log line from now on."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """The text with every registered secret and every secret-shaped string masked."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    for pattern, replacement in _FIELD_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _capped(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return f"{text[:MAX_MESSAGE_CHARS]}... [{len(text) - MAX_MESSAGE_CHARS} characters cut]"


class RedactionFilter(logging.Filter):
    """Rewrites each record in place so no formatter or handler ever sees a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(_capped(record.getMessage()))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD_ATTRIBUTES:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at emit time (so a replaced stderr is followed)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr


def configure_logging(
    *, level: int | str = logging.INFO, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> None:
    """Route all logging to one redacting JSON handler; calling it again replaces the handler."""
    for secret in secrets:
        register_secret(secret)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every connection at INFO; `upgrade_database` logs the upgrades that ran.
    # httpx logs every request at INFO, which buries `check` lines and poll logs; agent
    # failures are logged by our own code as SageError sentences.
    for chatty in ("alembic", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
