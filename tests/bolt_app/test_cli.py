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


def _subcommand_help(*words: str) -> str:
    from bolt_app.cli import build_parser

    parser = build_parser()
    for word in words:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[word]
    return parser.format_help()


def test_each_command_help_describes_it_with_defaults_and_the_environment_it_reads():
    serve = _subcommand_help("serve")
    assert "Everything in one process" in serve
    assert "(default: 0.0.0.0)" in serve
    for variable in ("PORT", "DATABASE_URL", "MLC_ENCRYPTION_KEYS", "SLACK_SIGNING_SECRET"):
        assert f"\n  {variable} " in serve
    status = _subcommand_help("status")
    assert "next poll (in the Sage server's zone)" in status.replace("\n", " ")
    assert "\n  DATABASE_URL " in status
    assert "SLACK_SIGNING_SECRET" not in status
    assert "\n  SLACK_API_URL " in _subcommand_help("poll")
    assert "(default: 8765)" in _subcommand_help("slack-standin")
    assert "(default: 30s)" in _subcommand_help("demo")


def test_every_command_has_a_description_of_its_own():
    from bolt_app.cli import _commands, build_parser

    found = {parser.prog: parser for parser in _commands(build_parser())}
    assert "ml-connector workspace resume" in found and "ml-connector slack-standin" in found
    for prog, parser in found.items():
        assert parser.description, f"`{prog} --help` has no description"


def test_help_loads_none_of_what_the_commands_run_on():
    """`--help` answers at once: no database, Slack, HTTP or crypto library is imported."""
    heavy = ("sqlalchemy", "slack_bolt", "slack_sdk", "httpx", "cryptography", "uvicorn")
    script = (
        "import sys\n"
        "from bolt_app.cli import main\n"
        "try:\n"
        "    main(['status', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
