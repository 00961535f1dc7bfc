import argparse
import subprocess
import sys


def test_version_command_prints_the_installed_version(capsys):
    from bolt_app.cli import main

    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == "0.1.0"


def test_unknown_command_is_refused_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "bolt_app", "frobnicate"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "invalid choice" in result.stderr


def test_an_agent_failure_is_one_sentence_on_stderr_and_exit_code_1(capsys):
    from bolt_app.cli import run
    from sage.errors import CertificateError

    def fail(args):
        raise CertificateError("The agent's certificate expired on 2026-11-01.")

    assert run(argparse.Namespace(handler=fail), {}) == 1
    captured = capsys.readouterr()
    assert captured.err == "ml-connector: The agent's certificate expired on 2026-11-01.\n"
    assert captured.out == ""


def test_a_reader_that_closes_stdout_early_gets_no_traceback():
    """`ml-connector status --json | head -1`: the reader is gone before the command writes."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bolt_app", "keys", "generate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdout.close()  # no reader left: the command's write gets EPIPE
    stderr = child.stderr.read().decode()
    assert child.wait() == 1
    assert stderr == ""
