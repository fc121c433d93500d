"""Warnings for churn labels that are correct by definition but mislead a model trained on them.

``churn_labels`` says "no purchase in ``[as_of, as_of + horizon)``", whatever the business. These
shapes make that label say something else, and each is silent otherwise:

- a cut-off before the first purchase: no customer, no row (a young business on a fixed schedule of
  cut-offs);
- a cut-off where every customer is labelled churned: nobody bought in its window, which is a gap in
  the data (an outage, a missing month of the extract), a closure, or a horizon shorter than the
  purchase cycle, far more often than a real mass departure;
- a cut-off where no customer is labelled churned: everyone bought in its window, which is a horizon
  longer than anyone stays away, or an extract of the customers still active at its end (a members
  list drawn from recent buyers, Instacart's users whose last orders close the extract), far more
  often than a business nobody leaves; the model learns nothing about leaving from it;
- a label window that overlaps a stretch of busy-looking days with no purchase at all
  (:func:`loyalty_ml.schema._gaps.find_gaps`): its labels count the hole as customers not buying;
- a horizon shorter than the typical gap between a repeat customer's orders (an annual garden
  centre with ``horizon_days=90``, a monthly subscription with 14): most customers who keep buying
  are labelled churned, and the triggers act on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.features._prepared import Prepared
from loyalty_ml.features._time import NS_PER_DAY
from loyalty_ml.schema._gaps import find_gaps

__all__ = ["typical_repeat_gap", "warn_if_labels_mislead"]

#: Below this many labelled customers a cut-off where everyone churned (or nobody did) can be
#: chance.
MIN_CUSTOMERS_ALL_CHURNED = 100
#: Fewest customers with two or more orders for their typical gap to be worth a warning.
MIN_REPEAT_CUSTOMERS = 30


def typical_repeat_gap(prepared: Prepared, before: pd.Timestamp) -> tuple[float, int]:
    """Median, over customers with 2+ orders before ``before``, of their median gap in days.

    Each customer counts once (a weekly regular does not outvote a hundred annual buyers). Returns
    ``(nan, 0)`` when no customer has two orders.
    """
    starts = _order_starts(prepared)
    starts = starts[prepared.order_ts[starts] < before.value]
    cust, ts = prepared.cust[starts], prepared.order_ts[starts]
    same = cust[1:] == cust[:-1]  # rows are sorted by customer, then order time
    if not same.any():
        return math.nan, 0
    gaps = (ts[1:] - ts[:-1])[same] / NS_PER_DAY
    per_customer = pd.Series(gaps).groupby(cust[1:][same]).median()
    return float(per_customer.median()), len(per_customer)


def _one_class(labels: Sequence[tuple[pd.Timestamp, pd.Series]], label: int) -> str:
    """The cut-offs whose customers (``MIN_CUSTOMERS_ALL_CHURNED`` or more) all have ``label``,
    as ``"2024-01-01 (120 customers), ..."``; empty when there are none."""
    return ", ".join(
        f"{as_of.date()} ({len(y)} customers)"
        for as_of, y in labels
        if len(y) >= MIN_CUSTOMERS_ALL_CHURNED and bool((y == label).all())
    )


def warn_if_labels_mislead(
    prepared: Prepared,
    labels: Sequence[tuple[pd.Timestamp, pd.Series]],
    horizon_days: int,
    *,
    caller: str,
    observation_end: pd.Timestamp | None = None,
) -> None:
    """Warn (DataQualityWarning) about empty, all-churned or all-retained cut-offs, label windows
    over a hole in the data and a too-short horizon.

    ``labels`` holds each cut-off with its labels (``labels_at``), in date order.
    ``observation_end``: the caller's stated end of the data; the days from the last purchase to
    it are checked for a hole as the days between purchases are.
    """
    empty = [as_of for as_of, y in labels if len(y) == 0]
    if empty and len(prepared.order_ts):
        # the first purchase: first_ts also spans refunds set aside before it
        first_purchase = pd.Timestamp(int(prepared.order_ts.min()), unit="ns")
        warn_user(
            f"{caller}: no customer has a purchase before the cut-off(s) "
            f"{_dates(empty)}, so they add no rows (the first purchase is on "
            f"{first_purchase.date()}). Use cut-offs after it.",
            DataQualityWarning,
        )
    elif empty and prepared.first_ts is not None:  # rows, all refunds set aside
        warn_user(
            f"{caller}: the transactions hold no purchase, only refunds (amount < 0, kept with "
            f"returns='keep'), so no customer is labelled at the cut-off(s) {_dates(empty)}. "
            "Pass the purchase lines too.",
            DataQualityWarning,
        )
    everyone = _one_class(labels, 1)
    if everyone:
        warn_user(
            f"{caller}: every customer is labelled churned at {everyone}: nobody bought in the "
            f"{horizon_days} days after it. A gap in the data (an outage, a missing month of the "
            "extract), a closure or a horizon shorter than the purchase cycle does this far more "
            "often than customers all leaving at once. Check that the transactions cover those "
            "windows, or leave those cut-offs out.",
            DataQualityWarning,
        )
    nobody = _one_class(labels, 0)
    if nobody:
        warn_user(
            f"{caller}: no customer is labelled churned at {nobody}: every one bought again in "
            f"the {horizon_days} days after it, so those cut-offs teach a model nothing about "
            "leaving. A horizon longer than any customer stays away, or an extract of only the "
            "customers still active at its end (a list of current members, users whose last "
            "orders close the extract), does this far more often than a business nobody leaves. "
            "Use a shorter horizon_days (estimate_boundaries(transactions).churn_days is a "
            "data-driven choice), or load the customers who lapsed too.",
            DataQualityWarning,
        )
    last = labels[-1][0] if labels else None
    if last is None:
        return
    horizon = pd.Timedelta(days=horizon_days)
    end_ns = None if observation_end is None else observation_end.value
    for hole in find_gaps(prepared.order_ts[_order_starts(prepared)], end_ns=end_ns):
        hit = [as_of for as_of, _ in labels if hole.overlaps(as_of, as_of + horizon)]
        if hit:
            warn_user(
                f"{caller}: the label window of the cut-off(s) {_dates(hit)} overlaps days with "
                f"no purchase at all, {hole.describe()}: customers who would have bought then are "
                "labelled churned. If the business was closed, the labels are right; if the "
                "extract misses those days, load them or move the cut-offs off the gap.",
                DataQualityWarning,
            )
    gap, n_repeat = typical_repeat_gap(prepared, last)
    if n_repeat >= MIN_REPEAT_CUSTOMERS and horizon_days < gap:
        warn_user(
            f"{caller}: horizon_days={horizon_days} is shorter than the typical gap between a "
            f"repeat customer's orders ({gap:.0f} days: the median over the {n_repeat} customers "
            f"with two or more orders before {last.date()}), so half or more of the customers who "
            f"keep buying are labelled churned. Use horizon_days of at least {math.ceil(gap)} "
            "(estimate_boundaries(transactions).churn_days is a data-driven choice), unless "
            f"churn really means no purchase within {horizon_days} days.",
            DataQualityWarning,
        )


def _order_starts(prepared: Prepared) -> np.ndarray:
    """Row of each order's first line (rows are sorted by customer, order time, order); none when
    no row is left (a table of refunds only)."""
    order = prepared.order
    return np.flatnonzero(np.r_[len(order) > 0, order[1:] != order[:-1]])


def _dates(dates: Sequence[pd.Timestamp]) -> str:
    shown = [str(d.date()) for d in dates[:5]]
    return ", ".join(shown) + (f" and {len(dates) - 5} more" if len(dates) > 5 else "")
