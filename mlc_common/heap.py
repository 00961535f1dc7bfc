"""How a long-lived process of ours sets up Python's garbage collector once it has started.

Reference counting frees nearly everything a poll or a listing makes; the cyclic collector only
has to find the rare cycle. Left at its defaults it does far more: a young collection every
700 new containers (a record read is a few dozen of them), which promotes the records in
flight to the older generations, whose full collections then walk every object alive, the
thousands of modules, classes and functions loaded at start-up included. Measured on a poll of
100,000 invoices: 4.5 s of 28 s of CPU (docs/benchmarks.md).
"""

from __future__ import annotations

import gc

# Young collections once per this many new containers (default 700): a few hundred records
# apart, a few megabytes of garbage cycles at most between them.
YOUNG_COLLECTION_EVERY = 20_000


def settle_start_up() -> None:
    """Call once start-up is done: what exists now lives as long as the process, so it is
    frozen out of every later collection, and young collections are made rarer."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)
