"""The `ml-connector` command line: the only place that reads the environment.

Each command lives in its own module under `bolt_app.commands` with a `register(subparsers)`
that adds its parser and sets `handler`, a function taking the parsed args and returning an
exit code. The environment is read here once into `args.settings` (a `Settings`), and logging
is configured once with its secrets registered for redaction. Operator mistakes become one
sentence on stderr and exit code 2, never a traceback; an agent failure (`SageError`) is one
sentence and exit code 1. Settings and everything a command runs on are imported only once a
command runs, so `--help` answers at once.

What a command prints for a person goes to stdout; logs go to stderr as JSON lines. Services
(`serve`, `web`, `worker`, `agent serve`, which set `service`) log from INFO; one-shot
commands only warnings and errors, unless `--verbose` or MLC_LOG_LEVEL asks for more.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping, Sequence

from bolt_app.commands import COMMAND_MODULES
from bolt_app.commands.parsing import HelpFormatter
from bolt_app.errors import MLConnectorError
from sage.errors import SageError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ml-connector",
        description="See your Sage 100 ERP in Slack. `ml-connector COMMAND --help` describes "
        "each command, its defaults and the environment variables it reads.",
        epilog="environment (every command):\n  MLC_LOG_LEVEL  log level (DEBUG, INFO, WARNING, "
        "ERROR); see docs/configuration.md",
        formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    for command in _commands(parser):
        command.add_argument(
            "--verbose", action="store_true", help="log from INFO on stderr (JSON lines)"
        )
    return parser


def _commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser that runs a command (those with no subcommands of their own)."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield parser
    for group in groups:
        for child in group.choices.values():
            yield from _commands(child)


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv), os.environ)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run a parsed command: its errors become one sentence on stderr, a closed stdout
    (`status --json | head -1`) ends it quietly."""
    from bolt_app.logging import configure_logging
    from bolt_app.settings import Settings

    try:
        args.settings = Settings.from_environ(environ)
        configure_logging(level=_log_level(args), secrets=args.settings.secret_values())
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except MLConnectorError as error:
        print(f"ml-connector: {error}", file=sys.stderr)
        return 2
    except SageError as error:  # the agent failed a command that needed it: not a usage error
        print(f"ml-connector: {error}", file=sys.stderr)
        return 1


def _log_level(args: argparse.Namespace) -> str:
    if getattr(args, "verbose", False):
        return "INFO"
    if args.settings.log_level is not None:
        return args.settings.log_level
    return "INFO" if getattr(args, "service", False) else "WARNING"


if __name__ == "__main__":
    sys.exit(main())
