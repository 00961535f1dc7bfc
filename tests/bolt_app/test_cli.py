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
