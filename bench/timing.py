"""The timing rule of the bench scripts: the median wall time of repeated calls, after warm-up calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_ms(step: Callable[..., Any], repeats: int, warmup: int = 1, prepare: Callable[[], Any] | None = None) -> float:
    """Median milliseconds of ``repeats`` calls of ``step()`` after ``warmup`` untimed ones;
    with ``prepare``, each call is ``step(prepare())`` and ``prepare`` is not timed."""
    times = []
    for i in range(warmup + repeats):
        arg = () if prepare is None else (prepare(),)
        start = time.perf_counter()
        step(*arg)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
