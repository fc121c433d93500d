"""Trends: the latest window against the one before it (fewer visits, smaller baskets)."""

from __future__ import annotations

import numpy as np

from loyalty_ml.features._prepared import Snapshot, net_per_customer, per_customer_sum
from loyalty_ml.features._time import NS_PER_DAY
from loyalty_ml.features.config import FeatureConfig

__all__ = ["trend_features"]


#: Relative change below which two windows count as equal (float sums carry ~1e-16 of noise).
_FLAT = 1e-12


def _symmetric_ratio(latest: np.ndarray, previous: np.ndarray) -> np.ndarray:
    # (a - b) / (a + b) is a monotone map of a / b onto [-1, 1] that stays defined when b == 0;
    # a window whose returns outweigh its purchases (returns kept by validation) counts as 0, not
    # as a negative amount that would push the ratio outside [-1, 1]
    latest, previous = np.maximum(latest, 0.0), np.maximum(previous, 0.0)
    total = latest + previous
    change = latest - previous
    # equal windows summed in another order differ in the last bits (15.3 against 10.1 + 5.2):
    # flat is exactly 0, or LightGBM, which keeps 0 in a bin of its own, would split on the noise
    # (a shop's money in yen instead of in dollars once moved churn scores by up to 0.09)
    change[np.abs(change) <= _FLAT * total] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total != 0, change / total, np.nan)


def trend_features(snap: Snapshot, config: FeatureConfig) -> dict[str, np.ndarray]:
    """Trend features of every customer in ``snap``.

    With ``T = config.trend_window_days``, the latest window is ``[as_of - T, as_of)`` and the
    preceding one ``[as_of - 2T, as_of - T)``. Each trend is the symmetric ratio
    ``(latest - previous) / (latest + previous)`` in [-1, 1]: -1 means everything was in the previous
    window (the customer stopped), +1 everything in the latest (new or returning), 0 flat; it is a
    monotone function of ``latest / previous`` that stays defined when the previous window is empty.
    A window with net negative spend (returns kept by validation outweighing purchases) counts as 0.
    ``freq_trend`` compares order counts, ``spend_trend`` spend, and ``aov_trend`` the average order
    value (NaN unless both windows have orders). ``n_orders_prev_{T}d`` is the previous window's count.
    """
    t = config.trend_window_days * NS_PER_DAY
    latest = snap.o_ts >= snap.as_of_ns - t
    previous = (snap.o_ts >= snap.as_of_ns - 2 * t) & ~latest
    n_latest = per_customer_sum(snap, snap.o_cust[latest])
    n_prev = per_customer_sum(snap, snap.o_cust[previous])
    s_latest = net_per_customer(snap, snap.o_cust[latest], snap.o_amount[latest])
    s_prev = net_per_customer(snap, snap.o_cust[previous], snap.o_amount[previous])
    with np.errstate(invalid="ignore", divide="ignore"):
        aov_latest = np.where(n_latest > 0, s_latest / n_latest, np.nan)
        aov_prev = np.where(n_prev > 0, s_prev / n_prev, np.nan)
    return {
        f"n_orders_prev_{config.trend_window_days}d": n_prev,
        "freq_trend": _symmetric_ratio(n_latest, n_prev),
        "spend_trend": _symmetric_ratio(s_latest, s_prev),
        "aov_trend": _symmetric_ratio(aov_latest, aov_prev),
    }
