"""One module per `ml-connector` command group; each has `register(subparsers)`.

Registering imports only argparse-level code: each module imports what its command runs on
(SQLAlchemy, Bolt, httpx, the simulator) inside its handlers, so `--help` and a mistyped
command answer at once instead of after loading the whole product.
"""

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
    standin,
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
    standin,
    demo,
    agent,
]
