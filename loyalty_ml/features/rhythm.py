"""Purchase rhythm: inter-purchase intervals and how overdue a customer is against their own rhythm."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.features._prepared import Snapshot, per_customer_sum
from loyalty_ml.features._time import NS_PER_DAY

__all__ = ["gap_days", "group_median", "rhythm_features"]


def gap_days(snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """Inter-purchase intervals in days between consecutive orders, and the customer of each gap."""
    same = snap.o_cust[1:] == snap.o_cust[:-1]
    gaps = np.diff(snap.o_ts)[same].astype("float64") / NS_PER_DAY
    return gaps, snap.o_cust[1:][same]


def group_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` by integer group in ``[0, n_groups)`` (NaN for empty groups).

    pandas' grouped median selects within each group instead of sorting every value by (group,
    value): exact, and about 7x faster than a lexsort on millions of intervals.
    """
    out = np.full(n_groups, np.nan)
    if len(values) == 0:
        return out
    medians = pd.Series(values).groupby(groups, sort=False).median()
    out[medians.index.to_numpy(dtype=np.int64)] = medians.to_numpy(dtype=np.float64)
    return out


def rhythm_features(snap: Snapshot, recency_days: np.ndarray) -> dict[str, np.ndarray]:
    """Rhythm features of every customer in ``snap``.

    ``ipi_mean``, ``ipi_median`` and ``ipi_std`` (population standard deviation, ddof=0) summarise the
    intervals in days between consecutive distinct orders; they are NaN with fewer than 2 orders.
    ``ipi_cv`` (std / mean) measures regularity: 0 is clockwork. ``overdue_ratio`` is
    ``recency_days / ipi_median`` (NaN when the median interval is 0, i.e. all orders at one time) and
    ``days_overdue`` is ``recency_days - ipi_median``: positive when the next purchase is late.
    """
    n = snap.n_customers
    gaps, who = gap_days(snap)
    count = per_customer_sum(snap, who)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = per_customer_sum(snap, who, gaps) / count
        # deviations from the customer's own mean, not E[x^2] - E[x]^2, which cancels badly
        dev = gaps - mean[who]
        std = np.sqrt(per_customer_sum(snap, who, dev * dev) / count)
        median = group_median(gaps, who, n)
        cv = np.where(mean > 0, std / mean, np.nan)
        ratio = np.where(median > 0, recency_days / median, np.nan)
    return {
        "ipi_mean": mean,
        "ipi_median": median,
        "ipi_std": std,
        "ipi_cv": cv,
        "overdue_ratio": ratio,
        "days_overdue": recency_days - median,
    }
