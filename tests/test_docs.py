"""docs/configuration.md lists exactly what the code reads: environment and workspace file."""

from __future__ import annotations

import re
from pathlib import Path

from bolt_app import settings
from bolt_app.workspace import reminders, rules
from bolt_app.workspace.file import _SECTIONS

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = REFERENCE.index(f"\n## {title}\n")
    end = REFERENCE.find("\n## ", start + 1)
    return REFERENCE[start : end if end != -1 else None]


def _table_names(text: str) -> set[str]:
    """The backticked first cell of every table row."""
    return set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.MULTILINE))


def test_every_environment_variable_the_settings_read_is_documented_and_nothing_else():
    source = Path(settings.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r'\bget\("([A-Z0-9_]+)"\)', source))
    assert "DATABASE_URL" in read  # the pattern still finds what it is meant to
    assert _table_names(_section("Environment")) == read


def test_every_workspace_file_key_is_documented_and_nothing_else():
    keys = {key for key in _SECTIONS[None] if key not in _SECTIONS}
    keys |= {f"{section}.{key}" for section, names in _SECTIONS.items() if section for key in names}
    keys |= {f"rules.{key}" for key in rules._RULE_KEYS}
    keys |= {f"reminders.{key}" for key in reminders._FIELDS}
    documented = _table_names(_section("Workspace file"))
    # The section tables themselves are listed at the top level too.
    assert documented == keys | {section for section in _SECTIONS if section}
