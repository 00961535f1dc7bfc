"""`ml-connector db upgrade`: apply the schema migrations (every database command does too)."""

import asyncio

from bolt_app.commands.parsing import DATABASE, add_command


def register(subparsers) -> None:
    parser = add_command(subparsers, "db", "database maintenance")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = add_command(
        actions,
        "upgrade",
        "apply the schema migrations",
        description="Apply the schema migrations; every command that opens the database does "
        "too, this runs them alone (before starting a new version on several hosts).",
        environment=DATABASE,
    )
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args) -> int:
    from bolt_app.storage.engine import describe_url

    asyncio.run(_upgrade(args.settings))
    print(f"Database {describe_url(args.settings.database_url)} is up to date.")
    return 0


async def _upgrade(settings) -> None:
    from bolt_app.runtime.database import open_database

    async with open_database(settings):
        pass
