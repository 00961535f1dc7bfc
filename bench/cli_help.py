"""How fast `ml-connector --help` answers: the CLI imports what a command runs on only when it runs.

Each run is a fresh interpreter, as when an admin types the command; the baseline is an empty
`python -c pass`, the cost no command can go under.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 20
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "ml-connector --help": [sys.executable, "-m", "bolt_app", "--help"],
    "ml-connector status --help": [sys.executable, "-m", "bolt_app", "status", "--help"],
    "ml-connector version": [sys.executable, "-m", "bolt_app", "version"],
}


def _seconds(command: list[str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return sorted(times)


def main(argv: list[str]) -> int:
    print(f"cli_help: {RUNS} fresh interpreters each, wall time")
    for name, command in COMMANDS.items():
        times = _seconds(command)
        p95 = times[int(0.95 * (len(times) - 1))]
        print(
            f"  {name:<28} median {statistics.median(times) * 1000:4.0f} ms, p95 {p95 * 1000:4.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
