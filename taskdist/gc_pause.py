"""Pausing Python's cyclic garbage collector around bulk work that creates no reference cycles.

Loading and scoring 100,000 tickets allocates millions of small containers; each automatic
collection would walk all of them again, for nothing (they hold no cycles, and reference counting
frees them). Pausing the collector there saves about a fifth of the time. `freeze` afterwards moves
everything alive into the permanent generation, out of later collections' sight.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(freeze: bool = False) -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        if freeze:
            gc.freeze()
