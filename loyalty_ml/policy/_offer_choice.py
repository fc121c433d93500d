"""Which of its candidate offers each customer gets, and why (:func:`.offers.choose_offers`): the
strategy's pick, the rules for noise, and the budget's knapsack.
"""

from __future__ import annotations

import math

import numpy as np

from loyalty_ml.policy._knapsack import solve_knapsack
from loyalty_ml.policy._plan_reasons import (
    BETTER_ON_AVERAGE,
    BUDGET_CHEAPER,
    BUDGET_OUT,
    CHEAPEST,
    CLEAR_OF_NOISE,
    MAX_VALUE,
)

__all__ = ["cheapest_candidate", "choose"]


def choose(
    candidate: np.ndarray,
    cost: np.ndarray,
    prudent: np.ndarray | None,
    net: np.ndarray,
    strategy: str,
    budget: float | None,
    *,
    level_sd: np.ndarray | None = None,
    average: np.ndarray | None = None,
    clear: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Column chosen per customer (-1 = none), its reason, and the budget's LP bound (else NaN).

    ``cost`` ranks offers under ``cheapest_effective``; ``prudent`` is what a budget binds (None
    without one); ``level_sd`` (customer x offer, money) lets ``max_net_value`` without a budget
    take, among the candidates exactly as dear as the best and within one standard error of it
    (see ``arm_mean_se``), the one of largest ``average`` effect (per offer), if given;
    ``clear`` (customer x offer, a subset of ``candidate``) lets ``cheapest_effective`` take the
    cheapest candidate whose net value clears the noise in its effect, where the customer has one.
    """
    n = len(candidate)
    rows = np.arange(n)
    if strategy == "cheapest_effective":
        preferred, label = cheapest_candidate(candidate, cost, net), CHEAPEST
    else:
        masked = np.where(candidate, net, -np.inf)
        preferred = np.where(candidate.any(axis=1), masked.argmax(axis=1), -1)
        label = MAX_VALUE
    reason = np.full(n, label, dtype=object)
    if clear is not None:  # the caller passes it for cheapest_effective only
        sure = cheapest_candidate(clear, cost, net)
        moved = (sure >= 0) & (sure != preferred)
        reason[moved] = CLEAR_OF_NOISE
        preferred = np.where(sure >= 0, sure, preferred)
    if level_sd is not None:  # the caller passes it for max_net_value without a budget only
        best = np.maximum(preferred, 0)
        # standard error of the difference in level between each offer and the customer's best
        gap = np.sqrt(level_sd[rows, best][:, None] ** 2 + level_sd**2)
        gap[rows, best] = 0.0
        # among the offers as dear as the best (e-mails of one send cost; equal up to float
        # rounding, e.g. 0.1 + 0.05) and within the noise of it, the one better on average; never
        # a cheaper one (experiments/RESULTS.md, "Max net value keeps its best offer")
        same_cost = np.isclose(cost, cost[rows, best][:, None], rtol=1e-9, atol=1e-12)
        close = candidate & same_cost & (net >= net[rows, best][:, None] - gap)
        better = cheapest_candidate(close, np.zeros_like(cost), net, average=average)
        reason[better != preferred] = BETTER_ON_AVERAGE
        preferred = better
    if budget is None or prudent is None:
        return preferred, reason, math.nan
    if strategy == "cheapest_effective":
        # The knapsack may only keep or drop each customer's cheapest effective offer.
        menu = np.zeros_like(candidate)
        offered = np.flatnonzero(preferred >= 0)
        menu[offered, preferred[offered]] = True
    else:
        menu = candidate
    result = solve_knapsack(
        np.where(menu, prudent, np.nan), np.where(menu, net, np.nan), float(budget)
    )
    reason[(result.choice != preferred) & (result.choice >= 0)] = BUDGET_CHEAPER
    reason[result.choice < 0] = BUDGET_OUT
    return result.choice, reason, result.upper_bound


def cheapest_candidate(
    candidate: np.ndarray,
    cost: np.ndarray,
    net: np.ndarray,
    *,
    average: np.ndarray | None = None,
) -> np.ndarray:
    """Per row, the candidate column of smallest cost (ties: larger ``average`` effect of the
    offer if given, then larger net value, then column order); -1 where there is none."""
    n = len(candidate)
    keys = (-net, cost) if average is None else (-net, np.broadcast_to(-average, cost.shape), cost)
    key = np.lexsort(keys) if n else np.zeros((0, cost.shape[1]), dtype=int)
    key_ok = np.take_along_axis(candidate, key, axis=1)
    return np.where(key_ok.any(axis=1), key[np.arange(n), key_ok.argmax(axis=1)], -1)
