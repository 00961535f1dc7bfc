"""`ml-connector db upgrade`: apply the schema migrations (every database command does too)."""

import asyncio

from bolt_app.runtime.database import open_database
from bolt_app.storage.engine import describe_url


def register(subparsers) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations")
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args) -> int:
    asyncio.run(_upgrade(args.settings))
    print(f"Database {describe_url(args.settings.database_url)} is up to date.")
    return 0


async def _upgrade(settings) -> None:
    async with open_database(settings):
        pass
