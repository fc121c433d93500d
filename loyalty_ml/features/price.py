"""Price sensitivity: how much of a customer's spend is on discount, and how deep the discounts are."""

from __future__ import annotations

import numpy as np

from loyalty_ml.features._prepared import Snapshot, per_customer_sum
from loyalty_ml.schema import columns as C

__all__ = ["price_features"]


def price_features(snap: Snapshot) -> dict[str, np.ndarray]:
    """Price features of every customer in ``snap`` (only when ``discount`` exists).

    ``discount_share`` is the share of purchase spend (lines with ``amount > 0``, so that returns
    kept by validation cannot push it outside [0, 1]) on discounted lines (``discount > 0``) and
    ``discount_depth`` the money given away relative to the undiscounted price of what was bought,
    ``sum(discount) / (sum(amount) + sum(discount))`` over lines with ``amount >= 0`` (a kept return
    line, with its discount unsigned or reversed, would otherwise count a discount twice or net it
    away: a line bought at 20% off and returned read 1.0). Missing discounts count as no discount;
    both are NaN when their denominator is 0.
    """
    if C.DISCOUNT not in snap.r_numeric:
        return {}
    discount = np.nan_to_num(snap.r_numeric[C.DISCOUNT])
    bought = snap.r_amount > 0
    gross = per_customer_sum(snap, snap.r_cust[bought], snap.r_amount[bought])
    on_deal = bought & (discount > 0)
    deal_spend = per_customer_sum(snap, snap.r_cust[on_deal], snap.r_amount[on_deal])
    paid = snap.r_amount >= 0  # purchase lines, free ones included
    given = per_customer_sum(snap, snap.r_cust[paid], discount[paid])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(gross != 0, deal_spend / gross, np.nan)
        list_price = gross + given  # free lines (amount 0) add only their discount
        depth = np.where(list_price != 0, given / list_price, np.nan)
    return {"discount_share": share, "discount_depth": depth}
