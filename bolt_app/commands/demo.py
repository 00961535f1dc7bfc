"""`ml-connector demo` (`make demo`): the whole product on one machine, with no configuration.

The options are checked here; the session itself (`demo_session`) is imported only when the
demo runs, so `--help` does not load the simulator, the stand-in and the runtime.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bolt_app.commands.parsing import add_command
from bolt_app.errors import ConfigError


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "demo",
        "simulated Sage 100 agent -> polls -> Slack (or a local stand-in), live",
        description="The whole product on this machine with no configuration: a simulated "
        "Sage 100 agent, the local Slack stand-in (or real Slack with SLACK_BOT_TOKEN and "
        "MLC_DEMO_CHANNEL), the scheduler and delivery worker, on SQLite in --state-dir.",
        environment=("SLACK_BOT_TOKEN", "MLC_DEMO_CHANNEL", "SLACK_API_URL"),
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("demo-data"),
        help="where certificates, key, database and simulated company live (default demo-data)",
    )
    parser.add_argument("--schedule", default="30s", help="poll schedule of every record type")
    parser.add_argument(
        "--activity-interval",
        type=float,
        default=4.0,
        help="seconds between changes in the simulated company",
    )
    parser.add_argument(
        "--backfill-days",
        type=int,
        default=2,
        help="days of history the first poll replays, so messages appear at once",
    )
    parser.add_argument(
        "--builder-links",
        action="store_true",
        help="print a Block Kit Builder link (about 2 KB) under each message, to see its layout",
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    from bolt_app.commands.demo_session import run_demo
    from bolt_app.workspace.schedule import parse_schedule

    try:
        parse_schedule(args.schedule)
    except ValueError as error:
        raise ConfigError(f"--schedule: {error}.") from None
    if not 0 <= args.backfill_days <= 366:
        raise ConfigError("--backfill-days must be a whole number of days from 0 to 366.")
    if args.activity_interval <= 0:
        raise ConfigError("--activity-interval must be a positive number of seconds.")
    asyncio.run(run_demo(args.settings, args))
    return 0
