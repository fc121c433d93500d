"""Two independent pieces of work on the two cores most machines here have: feature builders,
and the two halves of the linear uplift model's columns (``_uplift_linear._quantile_scores``).

numpy and pandas release the GIL in their sorts, gathers and grouped reductions, so two threads
over the same read-only arrays run side by side. Small tables stay on one thread (starting a
thread costs more than it saves), as does a machine with one core.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["PARALLEL_MIN_ROWS", "run_both"]

#: Fewest transaction lines for which two threads pay off.
PARALLEL_MIN_ROWS = 500_000

T = TypeVar("T")
U = TypeVar("U")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_both(
    first: Callable[[], T],
    second: Callable[[], U],
    *,
    rows: int,
    min_rows: int = PARALLEL_MIN_ROWS,
) -> tuple[T, U]:
    """``(first(), second())``, in two threads for ``rows >= min_rows`` on 2+ cores."""
    if rows < min_rows or _cores() < 2:
        return first(), second()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="loyalty_ml-worker") as pool:
        other = pool.submit(second)
        result = first()
        return result, other.result()
