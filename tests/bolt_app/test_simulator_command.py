"""`ml-connector simulator` as an operator runs it: starts, serves, stops on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx
import pytest

from mlc_common.certs import Pki
from tests.fixtures.simulator import client_ssl_context


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_simulator_serves_mtls_and_stops_cleanly_on_a_signal(tmp_path, signum):
    certs = tmp_path / "certs"
    process = subprocess.Popen(
        [sys.executable, "-m", "bolt_app", "simulator", "--port", "0", "--certs", str(certs)]
        + ["--activity-interval", "0.2", "--lock-rate", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = [process.stdout.readline() for _ in range(6)]
        url = re.search(r"listening on (https://localhost:\d+)", banner[0]).group(1)
        assert f"CA certificate:     {certs / 'ca.pem'}" in "".join(banner)
        with httpx.Client(verify=client_ssl_context(Pki.in_directory(certs))) as client:
            assert client.get(f"{url}/v1/health").json()["companies"] == ["ABC", "TST"]
    finally:
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Simulator stopped." in out
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus' is not a known time zone"),
        (["--lock-rate", "2"], "is not a rate between 0 and 1"),
    ],
)
def test_bad_options_are_one_sentence_not_a_traceback(tmp_path, arguments, message):
    result = subprocess.run(
        [sys.executable, "-m", "bolt_app", "simulator", "--certs", str(tmp_path), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
