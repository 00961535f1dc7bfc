"""docs/agent.md documents every agent.toml key the agent reads, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from sage.agent.config import COMPANY_KEYS, SERVER_KEYS, TOP_KEYS

GUIDE = (Path(__file__).resolve().parents[3] / "docs" / "agent.md").read_text(encoding="utf-8")


def test_every_agent_file_key_is_documented_and_nothing_else():
    section = GUIDE[GUIDE.index("\n## agent.toml\n") :]
    section = section[: section.index("\n## ", 1)]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))
    expected = TOP_KEYS | {f"server.{k}" for k in SERVER_KEYS}
    expected |= {f"companies.XYZ.{k}" for k in COMPANY_KEYS}
    assert documented == expected
