"""Basket breadth: how many categories and products a customer buys, and the margin mix."""

from __future__ import annotations

import numpy as np

from loyalty_ml.features._prepared import (
    Snapshot,
    bought_codes,
    distinct_counts,
    n_distinct,
    per_customer_sum,
)
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.schema import columns as C

__all__ = ["basket_features"]


def category_margin_rates(
    codes: np.ndarray, margin: np.ndarray, amount: np.ndarray, n_labels: int
) -> np.ndarray:
    """Margin / amount of each category over the given rows (rows without a category or a margin
    ignored); NaN for a category without spend on lines of known margin."""
    valid = (codes >= 0) & np.isfinite(margin)
    if not bool(valid.all()):
        codes, margin, amount = codes[valid], margin[valid], amount[valid]
    cat_margin = np.bincount(codes, weights=margin, minlength=n_labels)
    cat_amount = np.bincount(codes, weights=amount, minlength=n_labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cat_amount != 0, cat_margin / cat_amount, np.nan)


def basket_features(
    snap: Snapshot, config: FeatureConfig, category_rates: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Basket features of every customer in ``snap``, for the optional columns that exist.

    With ``category``: ``n_categories`` (distinct categories bought) and ``category_entropy`` (Shannon
    entropy in nats of the customer's purchase lines over categories: 0 for a one-category
    customer, ``log k`` for even use of ``k`` categories; NaN without categorised purchase lines);
    these and ``n_products`` count purchase lines (``amount >= 0``) only, so a refund kept by
    validation and booked in another category or product adds no breadth. With ``category`` and ``margin``:
    ``high_margin_share``, the share of purchase spend (lines with ``amount > 0``) in high-margin
    categories, where a category is high-margin
    when its margin rate over all customers' rows before ``as_of`` is at least
    ``config.high_margin_threshold``. With ``margin``: ``margin_rate`` (margin / spend). With
    ``product_id``: ``n_products``. With ``quantity``: ``items_per_order``. Ratios are NaN when the
    denominator is 0. A line without a margin is left out of the margin rates (its spend
    included, it would read as sold at no margin), and a line without a quantity out of
    ``items_per_order``, which counts the items of the orders with a known quantity (NaN for a
    customer with none). ``category_rates``: the categories' margin rates over every customer's
    rows, when ``snap`` holds some customers only.
    """
    n = snap.n_customers
    out: dict[str, np.ndarray] = {}
    if C.CATEGORY in snap.r_codes:
        codes, labels = snap.r_codes[C.CATEGORY]
        who, _, counts = distinct_counts(snap, bought_codes(snap, codes), len(labels))
        out["n_categories"] = np.bincount(who, minlength=n).astype("float64")
        total = np.bincount(who, weights=counts, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = counts / total[who]
            entropy = -np.bincount(who, weights=p * np.log(p), minlength=n)
            out["category_entropy"] = np.where(total > 0, entropy + 0.0, np.nan)
        if C.MARGIN in snap.r_numeric:
            # margin rate of each category over every row before as_of (rows without one ignored)
            k = len(labels)
            rate = (
                category_margin_rates(codes, snap.r_numeric[C.MARGIN], snap.r_amount, k)
                if category_rates is None
                else category_rates
            )
            high = np.zeros(k + 1, dtype=bool)  # last slot: missing category, never high
            high[:k] = rate >= config.high_margin_threshold
            # over purchase lines: a return kept by validation cannot push the share out of [0, 1]
            bought = snap.r_amount > 0
            gross = per_customer_sum(snap, snap.r_cust[bought], snap.r_amount[bought])
            in_high = high[codes] & bought
            high_spend = per_customer_sum(snap, snap.r_cust[in_high], snap.r_amount[in_high])
            with np.errstate(invalid="ignore", divide="ignore"):
                out["high_margin_share"] = np.where(gross != 0, high_spend / gross, np.nan)
    if C.MARGIN in snap.r_numeric:
        margin = snap.r_numeric[C.MARGIN]
        known = np.isfinite(margin)
        margin_sum = per_customer_sum(snap, snap.r_cust[known], margin[known])
        known_spend = per_customer_sum(snap, snap.r_cust[known], snap.r_amount[known])
        with np.errstate(invalid="ignore", divide="ignore"):
            out["margin_rate"] = np.where(known_spend != 0, margin_sum / known_spend, np.nan)
    if C.PRODUCT_ID in snap.r_codes:
        codes, labels = snap.r_codes[C.PRODUCT_ID]
        out["n_products"] = n_distinct(snap, bought_codes(snap, codes), len(labels))
    if C.QUANTITY in snap.r_numeric:
        quantity = snap.r_numeric[C.QUANTITY]
        known = np.isfinite(quantity)
        qty = per_customer_sum(snap, snap.r_cust[known], quantity[known])
        if len(quantity):
            counted = np.logical_or.reduceat(known, snap.o_first_row)  # orders with a quantity
            n_orders = per_customer_sum(snap, snap.o_cust[counted])
        else:
            n_orders = np.zeros(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["items_per_order"] = np.where(n_orders > 0, qty / n_orders, np.nan)
    return out
