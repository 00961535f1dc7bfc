"""`ml-connector demo` as a user runs it: a real process, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

FIRST_MESSAGE_TIMEOUT = 90  # seconds; a bound on a hang, not a speed assertion
BUILDER_LINK = "Block Kit Builder: https://app.slack.com/block-kit-builder/#"


class DemoProcess:
    """The demo in a subprocess, its stdout read line by line from a thread."""

    def __init__(self, state_dir: Path) -> None:
        environ = {
            name: value
            for name, value in os.environ.items()
            if name not in ("SLACK_BOT_TOKEN", "MLC_DEMO_CHANNEL", "DATABASE_URL")
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bolt_app", "demo", "--state-dir", str(state_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environ,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str, timeout: float) -> None:
        while True:
            line = self._queue.get(timeout=timeout)
            if line is None:
                raise AssertionError("the demo ended early:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if line.startswith(prefix):
                return

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def run_demo(tmp_path):
    started: list[DemoProcess] = []

    def start() -> DemoProcess:
        demo = DemoProcess(tmp_path / "demo-data")
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.kill()


def test_demo_shows_a_posted_message_then_stops_cleanly_and_continues_on_the_next_run(
    run_demo, tmp_path
):
    demo = run_demo()
    demo.wait_for("--- #", FIRST_MESSAGE_TIMEOUT)
    demo.wait_for("-" * 78, FIRST_MESSAGE_TIMEOUT)  # the end of that message
    code, stderr = demo.interrupt()

    assert code == 0, stderr
    assert "Traceback" not in stderr
    output = "\n".join(demo.lines)
    assert "generated an encryption key" in output
    # A message as a person reads it: a channel heading, then the text Slack shows.
    heading = next(i for i, line in enumerate(demo.lines) if line.startswith("--- #"))
    first = demo.lines[heading + 1]
    assert first.startswith("Connected to Sage 100 company ABC") or demo.lines[
        heading + 2
    ].startswith("===")
    assert "Demo stopped after" in output
    assert BUILDER_LINK not in output  # only with --builder-links
    polls = [line for line in demo.lines if re.search(r"  poll ABC \w+: ", line)]
    assert polls and all(
        re.search(r": \d+ read, \d+ new, \d+ changed, \d+ queued", line) for line in polls
    ), polls
    state = tmp_path / "demo-data"
    assert {"fernet.key", "demo.db", "simulator.pickle", "workspace.toml", "pki"} <= {
        path.name for path in state.iterdir()
    }
    assert oct((state / "fernet.key").stat().st_mode & 0o777) == "0o600"

    again = run_demo()
    again.wait_for("Setup took", FIRST_MESSAGE_TIMEOUT)
    code, stderr = again.interrupt()
    assert code == 0, stderr
    second = "\n".join(again.lines)
    assert "generated an encryption key" not in second
    assert "continuing the last run's company" in second
    assert "message(s) delivered by earlier runs" in second


def test_the_block_kit_builder_link_is_printed_only_when_asked():
    from bolt_app.commands.demo_session import Watcher

    delivered = SimpleNamespace(
        channel_id="C0DEMOAP01",
        status="sent",
        kind="post",
        record_type="ap_invoice",
        record_key="0000123",
        last_error=None,
        payload={
            "text": "AP invoice 0000123",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "AP invoice 0000123"}}
            ],
        },
    )
    for asked in (False, True):
        lines: list[str] = []
        watcher = Watcher(None, {}, say=lines.append, started=0.0, builder_links=asked)
        watcher._finished(delivered)
        assert any(line.startswith(BUILDER_LINK) for line in lines) is asked
        assert "AP invoice 0000123" in "\n".join(lines)
