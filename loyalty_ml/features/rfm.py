"""Recency, tenure, frequency and monetary features, all-time and over look-back windows."""

from __future__ import annotations

import numpy as np

from loyalty_ml.features._prepared import Snapshot, net_per_customer, per_customer_sum
from loyalty_ml.features._time import NS_PER_DAY, days_between
from loyalty_ml.features.config import FeatureConfig

__all__ = ["rfm_features"]


def rfm_features(snap: Snapshot, config: FeatureConfig) -> dict[str, np.ndarray]:
    """RFM features of every customer in ``snap``.

    ``recency_days`` is the time from the last order to ``as_of`` and ``tenure_days`` from the first,
    in (fractional) days. ``n_orders``, ``spend`` (sum of ``amount``) and ``aov`` (spend per order) are
    all-time before ``as_of``. For each window ``w`` in ``config.windows``, ``n_orders_{w}d`` and
    ``spend_{w}d`` count the orders placed in ``[as_of - w days, as_of)`` and their spend.
    """
    first = snap.c_first_order
    last = first + snap.c_n_orders - 1
    n_orders = snap.c_n_orders.astype("float64")
    spend = net_per_customer(snap, snap.r_cust, snap.r_amount)
    out = {
        "recency_days": days_between(snap.o_ts[last], snap.as_of_ns),
        "tenure_days": days_between(snap.o_ts[first], snap.as_of_ns),
        "n_orders": n_orders,
        "spend": spend,
        "aov": spend / n_orders,
    }
    for w in config.windows:
        inside = snap.o_ts >= snap.as_of_ns - w * NS_PER_DAY
        out[f"n_orders_{w}d"] = per_customer_sum(snap, snap.o_cust[inside])
        out[f"spend_{w}d"] = net_per_customer(snap, snap.o_cust[inside], snap.o_amount[inside])
    return out
