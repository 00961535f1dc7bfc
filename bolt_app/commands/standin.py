"""`ml-connector slack-standin`: the local Slack Web API stand-in, for trying the product.

One workspace with the bot installed, its token and channels, on a fixed port, so a session
can point SLACK_API_URL at it (the README's walk-through does). It records nothing to disk: a
restart starts from an empty workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from bolt_app.commands.parsing import add_command
from bolt_app.errors import ConfigError

DEFAULT_CHANNELS = (
    "C0AP00001=ap-invoices",
    "C0PO00001=purchase-orders",
    "C0GL00001=general-ledger",
)


def _channel(text: str) -> tuple[str, str]:
    channel_id, _, name = text.partition("=")
    if not channel_id or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not ID=name, such as C0AP00001=ap-invoices")
    return channel_id, name


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "slack-standin",
        "run the local stand-in for Slack's Web API",
        description="Run the local stand-in for Slack's Web API (the one the tests and the demo "
        "use) until Ctrl-C or SIGTERM: one workspace with the bot installed and a member of "
        "each channel. Point SLACK_API_URL at the address it prints.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--team", default="T0123ABCD", help="the workspace's team ID")
    parser.add_argument("--team-name", default="Finance", help="the workspace's name")
    parser.add_argument(
        "--bot-token", default="xoxb-demo-0001-token", help="the bot token it accepts"
    )
    parser.add_argument(
        "--channel",
        action="append",
        dest="channels",
        type=_channel,
        metavar="ID=NAME",
        help=f"a channel the bot is in (repeatable; default {' '.join(DEFAULT_CHANNELS)})",
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    asyncio.run(_serve(args))
    return 0


async def _serve(args) -> None:
    from slack_standin import SlackStandIn

    standin = SlackStandIn(host=args.host, port=args.port)
    standin.add_workspace(args.team, args.team_name, bot_token=args.bot_token)
    channels = args.channels or [_channel(text) for text in DEFAULT_CHANNELS]
    for channel_id, name in channels:
        standin.add_channel(args.team, channel_id, name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await standin.start()
    except OSError as error:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    print(f"Slack stand-in listening on {standin.api_url} (set SLACK_API_URL to it)", flush=True)
    print(f"  workspace {args.team} ({args.team_name}), bot token {args.bot_token}")
    print(f"  channels {', '.join(f'{channel_id} #{name}' for channel_id, name in channels)}")
    print("  Ctrl-C stops", flush=True)
    try:
        await stop.wait()
    finally:
        await standin.stop()
        posted = sum(len(messages) for messages in standin.messages.values())
        print(f"Slack stand-in stopped: {posted} message(s) were posted.", flush=True)
