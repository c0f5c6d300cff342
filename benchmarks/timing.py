"""Timing helper shared by the benchmark scripts (run them as ``python benchmarks/NAME.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_times(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """Median wall time of each function; runs are interleaved so load changes hit all alike."""
    for fn in fns:
        fn()  # warm-up (lazy imports, FFT plans, caches)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in times]
