"""`ml-connector version`: which build is running (support asks for it first)."""

from importlib.metadata import version as distribution_version

from bolt_app.commands.parsing import add_command


def register(subparsers) -> None:
    parser = add_command(subparsers, "version", "print the installed version")
    parser.set_defaults(handler=run)


def run(args) -> int:
    print(distribution_version("ml-connector"))
    return 0
