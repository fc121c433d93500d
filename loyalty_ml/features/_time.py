"""Day arithmetic on int64 nanoseconds (dates are parsed by ``schema._coerce_time.to_timestamp``)."""

from __future__ import annotations

import numpy as np

__all__ = ["NS_PER_DAY", "days_between"]

NS_PER_DAY = 86_400 * 10**9


def days_between(start_ns: np.ndarray, end_ns: int) -> np.ndarray:
    """Days (float64) from each ``start_ns`` to ``end_ns``, all int64 nanoseconds since the epoch."""
    return (end_ns - start_ns).astype("float64") / NS_PER_DAY
