"""The import-linter contract in pyproject.toml is the architecture: it holds, and it bites."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sage", "bolt_app", "mlc_common", "slack_standin", "bench")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy_tree(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_tree_keeps_every_contract(tmp_path):
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_storage_module_importing_delivery_breaks_the_contract(tmp_path):
    tree = _copy_tree(tmp_path)
    audit = tree / "bolt_app" / "storage" / "audit.py"
    audit.write_text(audit.read_text() + "\nfrom bolt_app.delivery import outbox  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "bolt_app.storage.audit -> bolt_app.delivery.outbox" in result.stdout


def test_sage_importing_the_slack_side_breaks_the_contract(tmp_path):
    tree = _copy_tree(tmp_path)
    records = tree / "sage" / "records.py"
    records.write_text(records.read_text() + "\nimport bolt_app.blocks.messages  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "sage never imports the Slack side BROKEN" in result.stdout


def test_the_block_kit_helpers_importing_a_record_type_breaks_the_layers(tmp_path):
    """`bolt_app.blockkit` sits under `bolt_app.records`, so each record type's module can word
    its own messages with it and it can never come to depend on one."""
    tree = _copy_tree(tmp_path)
    kit = tree / "bolt_app" / "blockkit" / "kit.py"
    kit.write_text(kit.read_text() + "\nfrom bolt_app.records import ap_invoice  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "bolt_app.blockkit.kit -> bolt_app.records.ap_invoice" in result.stdout
