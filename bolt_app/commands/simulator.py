"""`ml-connector simulator`: run the simulated Sage 100 agent until Ctrl-C or SIGTERM.

Writes (or reuses) a CA, server and client certificates in `--certs`, so a connector can be
pointed at it with the client files printed on start.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bolt_app.commands.parsing import add_command
from bolt_app.errors import ConfigError

if TYPE_CHECKING:
    from sage.simulator import SimulatorServer


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a rate between 0 and 1")
    return value


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "simulator",
        "run the simulated Sage 100 agent",
        description="Run the simulated Sage 100 agent (docs/simulator.md) until Ctrl-C or "
        "SIGTERM, writing or reusing its certificates in --certs.",
    )
    parser.add_argument("--port", type=int, default=8443, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--certs",
        type=Path,
        default=Path("simulator-certs"),
        help="directory for ca.pem, server.pem/.key, client.pem/.key (reused when valid)",
    )
    parser.add_argument(
        "--cert-hostname",
        action="append",
        dest="cert_hostnames",
        help="DNS name for the server certificate (repeatable; default localhost)",
    )
    parser.add_argument("--api-key", help="serve in API-key mode with this key instead of mTLS")
    parser.add_argument("--seed", type=int, default=1, help="seed of the invented data")
    parser.add_argument("--timezone", default="America/Chicago", help="the Sage server's zone")
    parser.add_argument(
        "--activity-interval",
        type=float,
        default=5.0,
        help="seconds between business changes (0: no activity)",
    )
    faults = parser.add_argument_group("fault injection (rates are 0 to 1, per data request)")
    faults.add_argument("--lock-rate", type=_rate, default=0.0, help="423 record_locked")
    faults.add_argument("--unavailable-rate", type=_rate, default=0.0, help="503 sage_unavailable")
    faults.add_argument("--throttle-rate", type=_rate, default=0.0, help="429 too_many_requests")
    faults.add_argument("--slow-rate", type=_rate, default=0.0, help="answers delayed")
    faults.add_argument("--slow-seconds", type=float, default=2.0, help="delay of a slow answer")
    faults.add_argument("--malformed-rate", type=_rate, default=0.0, help="rows served broken")
    faults.add_argument("--short-page-rate", type=_rate, default=0.0, help="pages cut short")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from mlc_common.certs import DEFAULT_DNS_NAMES, write_pki
    from sage.connection import AuthMode
    from sage.simulator import Faults, SimulatorServer

    try:
        timezone = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--timezone {args.timezone!r} is not a known time zone") from None
    try:
        pki = write_pki(args.certs, dns_names=tuple(args.cert_hostnames or DEFAULT_DNS_NAMES))
    except OSError as error:
        raise ConfigError(f"cannot write certificates to {args.certs}: {error.strerror}") from None
    faults = Faults(
        lock_rate=args.lock_rate,
        unavailable_rate=args.unavailable_rate,
        throttle_rate=args.throttle_rate,
        slow_rate=args.slow_rate,
        slow_seconds=args.slow_seconds,
        malformed_rate=args.malformed_rate,
        short_page_rate=args.short_page_rate,
        retry_after=args.retry_after,
    )
    server = SimulatorServer(
        pki,
        mode=AuthMode.API_KEY if args.api_key else AuthMode.MTLS,
        api_keys={args.api_key: None} if args.api_key else None,
        faults=faults,
        seed=args.seed,
        timezone=timezone,
        activity_interval=args.activity_interval or None,
        host=args.host,
        port=args.port,
    )
    asyncio.run(_serve(server, args))
    return 0


async def _serve(server: SimulatorServer, args) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start()
    except OSError as error:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    pki = server.pki
    mode = "API key" if args.api_key else "mTLS"
    print(f"Simulated Sage 100 agent ({mode}) listening on {server.base_url}", flush=True)
    print(f"  bound to {server.host}:{server.port}; companies {', '.join(server.data.companies)}")
    print(f"  CA certificate:     {pki.ca_cert}")
    if not args.api_key:
        print(f"  client certificate: {pki.client_cert}")
        print(f"  client key:         {pki.client_key}")
    activity = f"every {args.activity_interval:g}s" if server.activity else "off"
    print(f"  activity {activity}; Ctrl-C stops", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("Simulator stopped.", flush=True)
