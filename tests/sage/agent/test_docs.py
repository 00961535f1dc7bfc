"""docs/agent.md documents every agent.toml key the agent reads, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from sage.agent.config import COMPANY_KEYS, SERVER_KEYS, TOP_KEYS

GUIDE_FOLDER = Path(__file__).resolve().parents[3] / "docs"
GUIDE = (GUIDE_FOLDER / "agent.md").read_text(encoding="utf-8")


def test_every_agent_file_key_is_documented_and_nothing_else():
    section = GUIDE[GUIDE.index("\n## agent.toml\n") :]
    section = section[: section.index("\n## ", 1)]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))
    expected = TOP_KEYS | {f"server.{k}" for k in SERVER_KEYS}
    expected |= {f"companies.XYZ.{k}" for k in COMPANY_KEYS}
    assert documented == expected


def test_the_windows_guides_agent_file_is_one_the_agent_reads(tmp_path):
    from mlc_common.certs import write_pki
    from sage.agent.config import load_agent_config

    guide = (GUIDE_FOLDER / "agent" / "install-windows.md").read_text(encoding="utf-8")
    section = guide[guide.index("## 7. agent.toml") :]
    start = section.index("```toml\n") + len("```toml\n")
    toml = section[start : section.index("\n```", start)]
    write_pki(tmp_path / "pki")
    (tmp_path / "ABC.odbc").write_text("Driver={MAS 90 4.0 ODBC Driver};UID=odbcuser;PWD=x")
    (tmp_path / "agent.toml").write_text(toml)
    config = load_agent_config(tmp_path / "agent.toml", {})
    assert (config.port, [c.code for c in config.companies]) == (8443, ["ABC"])
