"""One module per `ml-connector` command group; each has `register(subparsers)`."""

from bolt_app.commands import (
    audit,
    check,
    db,
    demo,
    keys,
    polling,
    simulator,
    version,
    workspace,
)

COMMAND_MODULES = [version, db, keys, workspace, check, simulator, audit, polling, demo]
