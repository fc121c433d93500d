"""The simulator's offers catalog and the true persuasion probability of each reward.

Who each reward persuades (``tau``), from behaviour that features built on past transactions can
see; a share of customers (``responsive == False``) is persuaded by nothing:

========================  ===============================================  ==================
offer                     persuades                                        tau at the extreme
========================  ===============================================  ==================
``disc5``                 price-sensitive customers, weakly                0.12 * ps
``disc15``                price-sensitive customers, strongly              0.40 * ps**2
``free_item``             lapsed customers (days since the last purchase)  0.30 * lapse
``double_points``         customers with large baskets                     0.20 * basket**2
``early_access``          customers with large baskets (non-monetary)      0.12 * basket**2
========================  ===============================================  ==================

``ps`` is the price sensitivity (seen as the share of discounted lines), ``lapse`` rises from 0 at
21 days since the last purchase to 1 at 81 days, ``basket`` is the percentile of the customer's
expected basket value. Protected attributes never enter ``tau`` directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.schema import columns as C

__all__ = ["OFFER_IDS", "offers_frame", "persuasion"]

OFFER_IDS = ("disc5", "disc15", "free_item", "double_points", "early_access")


def offers_frame() -> pd.DataFrame:
    """The rewards catalog (costs in the currency of ``amount``; baskets average about 16).

    ``min_basket`` is catalog information: the simulator's customers redeem an offer with any
    purchase in the response window, whatever its basket, and ``choose_offers`` does not read it.
    """
    return pd.DataFrame(
        {
            C.OFFER_ID: pd.Series(OFFER_IDS, dtype="str"),
            C.OFFER_NAME: pd.Series(
                [
                    "5% off the next basket",
                    "15% off the next basket",
                    "A free coffee and pastry",
                    "Double points on the next basket",
                    "Early access to the seasonal range",
                ],
                dtype="str",
            ),
            C.KIND: pd.Series(
                ["discount", "discount", "free_item", "points", "non_monetary"], dtype="str"
            ),
            C.COST_PER_REDEMPTION: np.array([1.0, 3.0, 1.5, 0.25, 0.05]),
            C.COST_PER_SEND: np.array([0.02, 0.02, 0.02, 0.02, 0.02]),
            C.OFFER_CHANNEL: pd.Series(["app", "app", "app", "email", "email"], dtype="str"),
            C.MIN_BASKET: np.array([15.0, 25.0, 0.0, 0.0, 0.0]),
            C.MAX_PER_MONTH: np.array([2, 1, 1, 2, 4], dtype=np.int64),
        }
    )


def persuasion(
    *,
    price_sensitivity: np.ndarray,
    basket_percentile: np.ndarray,
    days_since_last: np.ndarray,
    responsive: np.ndarray,
) -> dict[str, np.ndarray]:
    """True persuasion probability ``tau`` of each offer, keyed by ``offer_id``."""
    ps = price_sensitivity
    basket = basket_percentile
    lapse = np.clip((days_since_last - 21.0) / 60.0, 0.0, 1.0)
    on = responsive.astype(float)
    return {
        "disc5": on * 0.12 * ps,
        "disc15": on * 0.40 * ps**2,
        "free_item": on * 0.30 * lapse,
        "double_points": on * 0.20 * basket**2,
        "early_access": on * 0.12 * basket**2,
    }
