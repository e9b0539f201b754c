"""The garbage collector's pace in flowtape's processes (`FLOWTAPE_GC_THRESHOLD`).

A flow allocates an object or more per event and frees nearly all of them by reference counting: it makes few
reference cycles. CPython's default young-generation threshold (700 allocations) runs a collection every few
hundred events, and every full collection walks every object alive, so its cost grows with what the process holds.
Measured with `flowtape bench --input session` (120 s of firehose): under the defaults a full collection took about
0.1 s and came every 10 to 20 thousand prints, and the last third of the tape cost 1.2 to 1.35 times the first per
print. With a young threshold of 50,000 (older generations every 20 and 10 collections of the one below), the last
third costs what the first does and every third costs less.
"""

from __future__ import annotations

import gc

DEFAULT_THRESHOLD = 50_000
"""Allocations (net of frees) between two young-generation collections."""
OLDER_THRESHOLDS = (20, 10)
"""Collections of the younger generation between two of the next one (Python's defaults are 10 and 10)."""


def tune_collector(threshold: int) -> None:
    """Set the young-generation threshold of this process (0: leave Python's thresholds as they are)."""
    if threshold < 0:
        raise ValueError(f"the collector threshold must be at least 0, got {threshold}")
    if threshold:
        gc.set_threshold(threshold, *OLDER_THRESHOLDS)
