"""One module per `ml-connector` command group; each has `register(subparsers)`."""

from bolt_app.commands import simulator, version

COMMAND_MODULES = [version, simulator]
