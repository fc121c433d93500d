"""A budget's prudent purchase probabilities from the model's own held-out check.

``UpliftModel`` (``cost_folds``) records in the effects' ``attrs["cost_calibration"]``, per offer
and band of estimated effect, how often the offer's held-out experiment rows bought against the
probability the cross-fitted model gave them (:mod:`loyalty_ml.models._uplift_cost_check`). A
budget then prices customer i's offer o at p_i(o) times the band's upper ratio,
(observed + z * se) / predicted with z = :data:`CHECK_Z`, never below p_i(o) itself: the plan's
expected cost stays within the budget, and where the check finds the model's probabilities too
low among the customers a plan picks (it shrinks the largest effects), the budget holds more back.
A band measured on fewer than :data:`MIN_CHECK_PURCHASES` purchases does not price: its customers
keep the factor rule (``budget_uplift_factor``).
"""

from __future__ import annotations

import numpy as np

from loyalty_ml.exceptions import DataError
from loyalty_ml.schema._coerce import format_examples

__all__ = [
    "CHECK_Z",
    "MIN_CHECK_PURCHASES",
    "band_purchases",
    "calibrated_probability",
    "cheapest_offers",
    "read_cost_calibration",
]

#: Standard errors of a band's purchase rate added to it (see the module docstring).
CHECK_Z = 3.0
#: Fewest held-out purchases a band's check needs to price a budget (see calibrated_probability).
MIN_CHECK_PURCHASES = 20.0

_FIELDS = ("effect_to", "predicted", "observed", "observed_se")
_MAX_FACTOR = 1e6


def read_cost_calibration(attrs: dict, ids: list[str]) -> list[dict[str, np.ndarray]] | None:
    """The check recorded in ``attrs["cost_calibration"]`` for offers ``ids``, in their order, or
    None when it is absent or lacks one of them (effects not from an ``UpliftModel``, or one fitted
    with ``cost_folds=0``). A malformed record raises ``DataError``."""
    recorded = attrs.get("cost_calibration")
    if recorded is None:
        return None
    if not isinstance(recorded, dict):
        raise DataError(
            "choose_offers: effects.attrs['cost_calibration'] must map offer ids to their bands; "
            f"got {type(recorded).__name__}. Remove it, or pass cost_calibration=None."
        )
    if any(i not in recorded for i in ids):
        return None  # offers the model was not fitted on (e.g. effects joined from two models)
    out = []
    for offer in ids:
        bands = recorded[offer]
        try:
            arrays = {name: np.asarray(bands[name], dtype=np.float64) for name in _FIELDS}
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(
                f"choose_offers: effects.attrs['cost_calibration'][{offer!r}] must hold the lists "
                f"{format_examples(list(_FIELDS))} ({error}). Remove it, or pass "
                "cost_calibration=None."
            ) from error
        sizes = {a.shape for a in arrays.values()}
        values = np.concatenate([arrays[n] for n in _FIELDS[1:]])
        if len(sizes) != 1 or arrays["predicted"].size == 0 or np.isnan(values).any():
            raise DataError(
                f"choose_offers: effects.attrs['cost_calibration'][{offer!r}] must hold one number "
                "per band in each of its lists, none missing. Remove it, or pass "
                "cost_calibration=None."
            )
        out.append(arrays)
    return out


def band_purchases(bands: dict[str, np.ndarray]) -> np.ndarray:
    """The (weighted) purchases each band's check was measured on: its observed rate times its
    effective rows, which the recorded standard error gives (``sqrt(s (1 - s) / n)`` with ``s`` the
    rate smoothed by one purchase and one non-purchase, solved for ``n`` by fixed point); infinite
    where the standard error is 0."""
    observed, se = bands["observed"], bands["observed_se"]
    # no standard error: a rate known exactly (a check written by hand), as if from endless rows
    variance = np.where(se > 0, se, 1.0) ** 2
    n = np.maximum(observed * (1.0 - observed), 1e-12) / np.maximum(variance, 1e-300)
    for _ in range(30):
        smoothed = (observed * n + 1.0) / (n + 2.0)
        n = smoothed * (1.0 - smoothed) / np.maximum(variance, 1e-300)
    return np.where(se > 0, observed * n, np.inf)


def calibrated_probability(
    p_offer: np.ndarray, uplift: np.ndarray, check: list[dict[str, np.ndarray]]
) -> np.ndarray:
    """Each customer's P(buy | offer) as a budget prices it: ``p_offer`` (customers x offers) times
    the upper ratio of the band its ``uplift`` falls in, at least 1; clipped to [0, 1].

    NaN where the band's check rests on fewer than :data:`MIN_CHECK_PURCHASES` purchases: a rate
    measured on a handful of events cannot certify a price (the caller prices those customers by
    the factor rule instead). With purchases at 0.5-1%, the customers a budget picked from such a
    band bought 40% more than its upper ratio allowed, and a plan cost 1.03x its budget.
    """
    factor = np.ones_like(p_offer)
    for j, bands in enumerate(check):
        upper = bands["observed"] + CHECK_Z * bands["observed_se"]
        predicted = bands["predicted"]
        # a band the model gave (next to) no purchase: at most _MAX_FACTOR, so never inf * 0
        ratio = upper / np.maximum(
            predicted, upper / _MAX_FACTOR, where=upper > 0, out=np.ones_like(upper)
        )
        ratio = np.where(band_purchases(bands) < MIN_CHECK_PURCHASES, np.nan, ratio)
        band = np.searchsorted(bands["effect_to"][:-1], uplift[:, j], side="left")
        factor[:, j] = np.clip(ratio[band], 1.0, _MAX_FACTOR)  # NaN stays NaN
    return np.clip(p_offer * factor, 0.0, 1.0)


def cheapest_offers(cost: np.ndarray) -> np.ndarray:
    """Per customer (row), the offers of least expected cost at face value (ties all count); a NaN
    cost (an offer unavailable to the customer) is never the cheapest."""
    face = np.where(np.isnan(cost), np.inf, cost)
    return face == face.min(axis=1, keepdims=True)
