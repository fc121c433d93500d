"""Per-cutoff intercepts for the churn booster: learn who churns more, not which date churns more.

Every customer of one cutoff shares its label window, and so its season, campaigns and stock-outs:
things that move everyone's risk at once and that no feature of the cutoff can foresee. Trained on a
table of several cutoffs, a booster explains those moves with whatever feature grows with the date
(``tenure_days`` counted from the start of the data, cumulative spend, the spend of the last 90 days
in a slow summer) and carries them into the future. Starting each row's boosting from an intercept of
its cutoff (LightGBM's ``init_score``) leaves the trees only the differences *within* a cutoff.

The intercept of a cutoff is not the log-odds of its churn rate: averaging probabilities over
customers of different risk shrinks the differences between cutoffs (the logit is not linear), so
rate log-odds leave part of the season to the trees. :func:`conditional_intercepts` solves for the
intercepts given a booster's scores instead, which is what the final fit starts from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from loyalty_ml.models._split import cutoff_values

__all__ = ["conditional_intercepts", "cutoff_codes", "log_odds", "rate_intercepts"]


def log_odds(positives: Any, n: Any) -> Any:
    """Log-odds of churn rates, smoothed by one row of each class so that they stay finite.

    Examples
    --------
    >>> float(log_odds(1.0, 2.0))
    0.0
    """
    return np.log((positives + 1.0) / (n - positives + 1.0))


def cutoff_codes(index: pd.Index) -> np.ndarray | None:
    """Cutoff number (0 = earliest) of every row; ``None`` without an ``as_of`` level or with one cutoff.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([(2, "a"), (1, "a"), (2, "b")], names=["as_of", "customer_id"])
    >>> cutoff_codes(idx).tolist()
    [1, 0, 1]
    """
    cutoffs = cutoff_values(index)
    if cutoffs is None:
        return None
    distinct, codes = np.unique(cutoffs, return_inverse=True)
    return codes.astype(np.intp) if distinct.size >= 2 else None


def rate_intercepts(
    codes: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Per cutoff, the log-odds of its (weighted) churn rate: the starting point before any tree.

    Examples
    --------
    >>> rate_intercepts(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])).round(3).tolist()
    [0.0, 1.099]
    """
    k = int(codes.max()) + 1
    w = np.ones(codes.size) if weight is None else weight
    n = np.bincount(codes, weights=w, minlength=k)
    positives = np.bincount(codes, weights=target * w, minlength=k)
    return np.asarray(log_odds(positives, n), dtype=np.float64)


def conditional_intercepts(
    scores: np.ndarray,
    codes: np.ndarray,
    target: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    iterations: int = 25,
) -> np.ndarray:
    """Per cutoff, the intercept ``b`` at which ``sigmoid(scores + b)`` matches the cutoff's churn count.

    The maximum-likelihood intercepts of a logistic model with fixed ``scores`` (log-odds of the
    trees), found by Newton's method, one cutoff at a time in a single vectorised pass; smoothed like
    :func:`log_odds` (one row of each class per cutoff) so that a cutoff of one class stays finite.
    Given ``weight`` (``ChurnModel.fit``'s ``sample_weight``, scaled to a mean of 1), the likelihood
    and the churn count are weighted.

    Examples
    --------
    >>> b = conditional_intercepts(np.array([-2.0, 2.0, -2.0, 2.0]), np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    >>> bool(b[1] > b[0])
    True
    """
    target = np.asarray(target, dtype=np.float64)
    w = np.ones(codes.size) if weight is None else weight
    b = rate_intercepts(codes, target, w)
    k = b.size
    # one pseudo-row of each class at score 0 per cutoff keeps a one-class cutoff finite
    positives = np.bincount(codes, weights=target * w, minlength=k) + 1.0
    for _ in range(iterations):
        p = expit(scores + b[codes])
        p0 = expit(b)
        gradient = positives - np.bincount(codes, weights=w * p, minlength=k) - 2.0 * p0
        curvature = np.bincount(codes, weights=w * p * (1.0 - p), minlength=k) + 2.0 * p0 * (
            1.0 - p0
        )
        step = gradient / curvature
        b += np.clip(step, -2.0, 2.0)
        if np.abs(step).max() < 1e-10:
            break
    return b
