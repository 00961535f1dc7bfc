"""docs/configuration.md lists exactly what the code reads: environment and workspace file."""

from __future__ import annotations

import re
import subprocess
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


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    suffixes = {".md", ".py", ".toml", ".service", ".example", ".yml", ".yaml", ""}
    return [
        ROOT / name for name in listed if Path(name).suffix in suffixes and (ROOT / name).is_file()
    ]


def test_the_repository_stands_alone_with_no_reference_to_files_outside_it():
    outside = re.compile(r"\.\./shared|/work/shared|\bINTERFACE\.md\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _tracked_text_files()
        if path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert offenders == []


def test_every_relative_link_in_the_readme_and_docs_names_a_file_that_exists():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []
