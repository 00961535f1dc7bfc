"""`make bench` (`python -m bench`): run every benchmark module and write docs/benchmarks.md.

A module with `run()` and `section(figures)` contributes its figures as a section of the page;
a module with only `main(argv) -> int` is run as from the command line and its report is quoted.
The machine heads the page. `python -m bench.NAME` runs one module alone.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import platform
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import bench

LOAD_AT_START = (
    " / ".join(f"{load:.1f}" for load in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
)
HELPERS = {"rig"}  # shared set-up, not a benchmark
OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return "\n".join(
        [
            f"- CPUs usable (nproc): {usable}",
            f"- CPU model: {cpu_model()}",
            f"- Python: {platform.python_implementation()} {platform.python_version()}",
            f"- SQLite: {sqlite3.sqlite_version}",
            f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
            f"- Load average when the run started (other work on the machine skews timings): "
            f"{LOAD_AT_START}",
        ]
    )


def _run(name: str) -> tuple[str, bool]:
    """One module's section of the page, and whether it succeeded."""
    module = importlib.import_module(f"bench.{name}")
    if hasattr(module, "section"):
        figures = module.run()
        print(f"  {figures}", flush=True)
        return module.section(figures), True
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = module.main([])
    report = output.getvalue().rstrip()
    print(report, flush=True)
    title = (module.__doc__ or name).strip().splitlines()[0]
    return f"## {title}\n\n`bench/{name}.py`:\n\n```\n{report}\n```", code == 0


def main() -> int:
    sections = []
    ok = True
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(bench.__path__)
        if not info.name.startswith("_") and info.name not in HELPERS
    )
    for name in names:
        print(f"running bench.{name} ...", flush=True)
        started = time.perf_counter()
        section, succeeded = _run(name)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
        sections.append(section)
        ok = ok and succeeded
    page = "\n\n".join(
        [
            "# Benchmarks",
            "Written by `make bench` (`python -m bench`), which runs every benchmark in `bench/` "
            "and rewrites this page; the figures below are from its last run. Nothing here is "
            "asserted by `make test`.",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on:\n\n{machine()}",
            *sections,
        ]
    )
    OUTPUT.write_text(page + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
