"""One module per `ml-connector` command group; each has `register(subparsers)`."""

from bolt_app.commands import (
    agent,
    audit,
    check,
    db,
    demo,
    keys,
    polling,
    serve,
    simulator,
    version,
    workspace,
)

COMMAND_MODULES = [
    version,
    db,
    keys,
    workspace,
    check,
    polling,
    audit,
    serve,
    simulator,
    demo,
    agent,
]
