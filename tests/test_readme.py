"""Every shell block of the README runs as written, in order, in one bash on a fresh copy.

`sh` blocks must run without failing; in `console` blocks each `$ ` line is a command and the
lines under it are what it must print (`...` stands for any lines). A block preceded by
`<!-- readme-test: skip (reason) -->` is not run (`make test` itself, `make demo`, real Slack).
The simulated agent and the Slack stand-in are started by the README's own commands.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_MARKER = "<!-- readme-test: skip"
PORTS = (8443, 8765, 3000)  # the simulator, the Slack stand-in and `web`, as the README says
BLOCK = re.compile(
    r"^(?P<indent> *)```(?P<kind>sh|console)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S
)


@dataclass(frozen=True, slots=True)
class Step:
    command: str
    expected: tuple[str, ...] | None  # None: an `sh` block, only required to succeed
    line: int  # where it is in the README, for the failure message


def readme_steps(text: str) -> list[Step]:
    steps = []
    for block in BLOCK.finditer(text):
        before = text[: block.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.lstrip().startswith(SKIP_MARKER):
            continue
        line = text.count("\n", 0, block.start()) + 2
        indent = len(block["indent"])
        lines = [row[indent:] for row in block["body"].splitlines()]
        if block["kind"] == "sh":
            steps.append(Step("\n".join(lines), None, line))
            continue
        for offset, row in enumerate(lines):
            if row.startswith("$ "):
                steps.append(Step(row[2:], (), line + offset))
            else:
                last = steps[-1]
                steps[-1] = Step(last.command, (*last.expected, row), last.line)
    return steps


def matches(expected: tuple[str, ...], output: str) -> bool:
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if row == "..." else re.escape(row) + r"\n" for row in expected
    )
    return re.fullmatch(pattern, output + "\n" if output else "") is not None


def fresh_copy(destination: Path) -> None:
    """The repository's files as a clone has them (tracked and new, not ignored), with the
    already built .venv/ and .tools/ linked in so `make venv` finds them up to date."""
    if not (ROOT / ".venv" / ".synced").exists():
        pytest.skip("no synced .venv/ to link in (`make test` builds it)")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)  # keeps times: make compares them
    for built in (".venv", ".tools"):
        if (ROOT / built).exists():
            (destination / built).symlink_to(ROOT / built)
    # The linked .venv was synced from this same uv.lock: make must see it as up to date, and
    # never re-sync the shared environment from the copy (it would point it at the copy).
    synced = (ROOT / ".venv" / ".synced").stat().st_mtime
    for source in ("uv.lock", "pyproject.toml"):
        os.utime(destination / source, (synced - 1, synced - 1))


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_readme_steps_are_read_as_commands_and_their_output():
    steps = readme_steps(
        "```console\n$ echo a\na\n...\n$ true\n```\n\n"
        "<!-- readme-test: skip (no) -->\n```sh\nfalse\n```\n\n  ```sh\n  echo b\n  ```\n"
    )
    assert [(s.command, s.expected) for s in steps] == [
        ("echo a", ("a", "...")),
        ("true", ()),
        ("echo b", None),
    ]
    assert matches(("a", "..."), "a\nb\nc") and matches(("a", "..."), "a")
    assert not matches(("a",), "a\nb") and not matches((), "surprise")


@pytest.mark.slow
def test_every_readme_command_runs_as_written_on_a_fresh_copy(tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the README uses it")
    busy = [port for port in PORTS if _port_in_use(port)]
    if busy:
        pytest.skip(f"port(s) {busy} in use on this machine; the README's commands need them")
    steps = readme_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(steps) > 10  # the walk-through is still there
    clone = tmp_path / "ml-connector"
    clone.mkdir()
    fresh_copy(clone)

    script = [f"printf '\\n@@step {i}@@\\n'\n{step.command}" for i, step in enumerate(steps)]
    script.append("printf '\\n@@end@@\\n'")
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin)
    shell = subprocess.Popen(
        ["bash", "-e", "-c", "\n".join(script)],
        cwd=clone,
        env={"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its background jobs too are stopped below, whatever happens
    )
    try:
        output, _ = shell.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the shell's whole session
            os.killpg(shell.pid, signal.SIGTERM)

    parts = re.split(r"\n?@@(step \d+|end)@@\n", output)
    outputs = dict(zip(parts[1::2], parts[2::2], strict=True))
    logs = "".join(log.read_text() for log in clone.glob("*.log"))
    assert "Traceback" not in output + logs, output + logs
    for i, step in enumerate(steps):
        assert f"step {i}" in outputs, f"README line {step.line} never ran:\n{output}"
        shown = outputs[f"step {i}"].rstrip("\n")
        if step.expected is not None:
            assert matches(step.expected, shown), (
                f"README line {step.line}: `{step.command}` printed\n{shown}\n"
                f"instead of\n" + "\n".join(step.expected)
            )
    assert "end" in outputs, f"the last README block failed:\n{output}"
    assert shell.returncode == 0
