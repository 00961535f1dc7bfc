"""`ml-connector serve` and `web` as operators run them: a real process, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys

import httpx
import pytest

from bolt_app.cli import main
from bolt_app.crypto import generate_key
from bolt_app.errors import ConfigError
from bolt_app.runtime.bolt import validate_slack_settings
from bolt_app.settings import Settings
from tests.fixtures.slack import BOT_TOKEN
from tests.fixtures.slack_app import SIGNING_SECRET, command_body, sign_request


def environment(tmp_path, slack_standin, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "MLC_ENCRYPTION_KEYS": generate_key(),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack_standin.api_url,
        **extra,
    }


async def start(command: str, env: dict[str, str], *, ready: str = "listening on"):
    """The started process and the port its `ready` log line names."""
    options = (
        ("--metrics-host", "127.0.0.1", "--metrics-port", "0")
        if command == "worker"
        else ("--host", "127.0.0.1", "--port", "0")
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bolt_app",
        command,
        *options,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        while True:
            line = await process.stderr.readline()
            assert line, "the process ended before it listened"
            message = json.loads(line).get("message", "")
            if message.startswith(ready):
                return process, int(message.split(" port ")[1].split()[0])


@pytest.mark.slow
async def test_serve_runs_slack_scheduler_and_delivery_and_stops_on_sigterm(
    tmp_path, slack_standin, response_urls
):
    process, port = await start("serve", environment(tmp_path, slack_standin))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            health = await http.get("/healthz")
            assert health.status_code == 200
            assert health.json() == {"ok": True, "database": True, "scheduler": True}
            body = command_body(
                "T0123ABCD",
                "U0123ABCD",
                response_url=response_urls.url("serve"),
                command="/sage-status",
            )
            ack = await http.post(
                "/slack/events",
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    **sign_request(body),
                },
            )
            assert ack.status_code == 200
            (reply,) = await response_urls.wait_for(1)
            assert reply["response_type"] == "ephemeral"
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            code = await process.wait()
    assert code == 0


@pytest.mark.slow
async def test_split_roles_each_report_what_they_run_and_scraping_both_sees_every_metric(
    tmp_path, slack_standin
):
    env = environment(tmp_path, slack_standin)
    web, web_port = await start("web", env)
    worker, worker_port = await start("worker", env, ready="metrics on")
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            web_health = await http.get(f"http://127.0.0.1:{web_port}/healthz")
            worker_health = await http.get(f"http://127.0.0.1:{worker_port}/healthz")
            assert web_health.json() == {"ok": True, "database": True}
            assert worker_health.status_code == 200
            assert worker_health.json() == {"ok": True, "database": True, "scheduler": True}
            worker_metrics = (await http.get(f"http://127.0.0.1:{worker_port}/metrics")).text
            web_metrics = (await http.get(f"http://127.0.0.1:{web_port}/metrics")).text
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            codes = [await web.wait(), await worker.wait()]
    assert codes == [0, 0]
    for family in (
        "mlc_delivery_attempts",
        "mlc_poll_duration_seconds",
        "mlc_delivery_queue_depth",
    ):
        assert f"# TYPE {family}" in worker_metrics
    assert "# TYPE mlc_delivery_queue_depth" in web_metrics


def test_web_without_a_signing_secret_is_refused_in_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'web.db'}")
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", generate_key())
    for name in (
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    assert main(["web"]) == 2
    assert capsys.readouterr().err == (
        "ml-connector: SLACK_SIGNING_SECRET must be set to serve Slack's HTTP endpoints "
        "(or set SLACK_APP_TOKEN to use Socket Mode).\n"
    )


def test_half_an_oauth_configuration_is_refused():
    with pytest.raises(ConfigError, match="both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"):
        validate_slack_settings(
            Settings(slack_signing_secret="s3cret-signing", slack_client_id="111.222")
        )


def test_a_port_in_use_or_out_of_range_is_refused_in_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'web.db'}")
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", generate_key())
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["web", "--port", "99999"]) == 2
    assert capsys.readouterr().err == (
        "ml-connector: --port must be a number from 0 to 65535, not '99999'.\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 2
    err = capsys.readouterr().err  # a service logs JSON on stderr first (its schema upgrade)
    assert err.splitlines()[-1] == (
        f"ml-connector: Cannot listen on 127.0.0.1 port {port}: Address already in use."
    )
    assert "Traceback" not in err
