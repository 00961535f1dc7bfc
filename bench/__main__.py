"""Run every benchmark module of this package: each has `main(argv) -> int`."""

import importlib
import pkgutil
import sys

import bench


def run_all() -> int:
    failures = 0
    for module in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        failures += bool(importlib.import_module(f"bench.{module.name}").main([]))
    return 1 if failures else 0


sys.exit(run_all())
