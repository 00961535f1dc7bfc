"""`ml-connector version`: which build is running (support asks for it first)."""

from importlib.metadata import version as distribution_version


def register(subparsers) -> None:
    parser = subparsers.add_parser("version", help="print the installed version")
    parser.set_defaults(handler=run)


def run(args) -> int:
    print(distribution_version("ml-connector"))
    return 0
