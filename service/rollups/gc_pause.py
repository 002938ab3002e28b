"""Pause Python's cyclic garbage collector while a roll-up builds and evaluates its scope.

A company-level roll-up allocates a few hundred thousand small objects that are acyclic
(reference counting frees them); the generational collector would still rescan the growing
heap again and again, costing more than the roll-up itself
(docs/decisions/0013-garbage-collector-settings.md). Concurrent roll-ups in one process share
one counter; the collector runs again once the last of them finishes (and never gets enabled
if something else disabled it).
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _depth, _was_enabled
    if _depth == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _was_enabled:
            gc.enable()
