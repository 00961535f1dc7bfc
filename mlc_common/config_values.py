"""Configuration values given literally, as `env:NAME` or as `file:PATH`.

The workspace file and the agent file both let a secret (a token, a connection string, a
PEM) live in the environment or in a file beside the configuration instead of in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def resolve_value(value: str, environ: Mapping[str, str], base: Path) -> str:
    """The value itself; `file:` paths are relative to `base` (the configuration's folder).

    Raises ValueError with the reason (unset variable, unreadable file), never the value.
    """
    if value.startswith("env:"):
        variable = value[4:]
        resolved = environ.get(variable)
        if not resolved:
            raise ValueError(f"environment variable {variable} is not set")
        return resolved
    if value.startswith("file:"):
        target = Path(value[5:]).expanduser()
        if not target.is_absolute():
            target = base / target
        try:
            return target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise ValueError(f"cannot read {target} ({reason})") from None
    return value
