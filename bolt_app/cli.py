"""The `ml-connector` command line: the only place that reads the environment.

Each command lives in its own module under `bolt_app.commands` with a `register(subparsers)`
that adds its parser and sets `handler`, a function taking the parsed args and returning an
exit code. The environment is read here once into `args.settings` (a `Settings`), and logging
is configured once with its secrets registered for redaction. Operator mistakes become one
sentence on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bolt_app.commands import COMMAND_MODULES
from bolt_app.errors import MLConnectorError
from bolt_app.logging import configure_logging
from bolt_app.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ml-connector", description="See your Sage 100 ERP in Slack."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.settings = Settings.from_environ(os.environ)
        configure_logging(secrets=args.settings.secret_values())
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except MLConnectorError as error:
        print(f"ml-connector: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
