"""Organic orders of the simulator: a thinned Poisson process per customer, stopped at dropout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalty_ml.datasets._sim_calendar import profile
from loyalty_ml.datasets._sim_customers import Population

__all__ = ["CHURN_REASONS", "OrganicOrders", "fade_factor", "simulate_orders"]

#: Why a customer dropped out (index 0: still alive at the end of the period).
CHURN_REASONS = ("", "after_first_order", "after_second_order", "lifetime")


@dataclass(frozen=True, eq=False)
class OrganicOrders:
    """Orders sorted by (customer, time); times in process days. ``churn_at`` is per customer."""

    customer: np.ndarray
    time: np.ndarray
    basket_factor: np.ndarray
    churn_at: np.ndarray  # process time of dropout, inf when alive at the end
    churn_reason: np.ndarray  # codes into CHURN_REASONS


def fade_factor(pop: Population, customer: np.ndarray, t: np.ndarray, floor: float) -> np.ndarray:
    """The fade part of the rate profile (1 before the fade), which also shrinks baskets."""
    start, end = pop.fade_start[customer], pop.life_end[customer]
    progress = np.clip((t - start) / np.maximum(end - start, 1e-12), 0.0, 1.0)
    return np.asarray(1.0 - (1.0 - floor) * progress, dtype=float)


def _sorted_uniforms(rng: np.random.Generator, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted uniforms on [0, 1), ``counts[i]`` of them for group i, without a sort.

    Uses the spacings of exponentials: with S the partial sums of k + 1 exponentials, S_j / S_{k+1}
    (j = 1..k) are the order statistics of k uniforms.
    """
    sizes = counts + 1
    group = np.repeat(np.arange(len(counts)), sizes)
    sums = np.cumsum(rng.exponential(size=int(sizes.sum())))
    ends = np.cumsum(sizes) - 1
    base = np.concatenate([[0.0], sums[ends[:-1]]]) if len(ends) else np.zeros(0)
    totals = sums[ends] - base
    keep = np.ones(len(sums), dtype=bool)
    keep[ends] = False
    values = (sums - base[group]) / totals[group]
    return group[keep], values[keep]


def simulate_orders(
    rng: np.random.Generator,
    pop: Population,
    day_mult: np.ndarray,
    *,
    dorm_factor: float,
    fade_floor: float,
) -> OrganicOrders:
    """Every customer's organic orders over ``[0, n_days)`` process days.

    The first order is at ``pop.first``. Later orders follow a Poisson process with intensity
    ``rate * day_mult[day] * profile(t)`` on ``(first, life_end)``, drawn at the maximal rate and
    thinned. Customers whose coin says so leave right after their first (or second) order.
    """
    n_days = len(day_mult)
    n = pop.n
    upper = float(day_mult.max())
    end = np.where(pop.leaves_after_first, pop.first, np.minimum(pop.life_end, n_days))
    span = np.maximum(end - pop.first, 0.0)
    counts = rng.poisson(pop.rate * upper * span)
    cust, u = _sorted_uniforms(rng, counts)
    t = pop.first[cust] + u * span[cust]
    day = np.minimum(t.astype(np.int64), n_days - 1)
    shape = profile(
        t,
        dorm_from=pop.dorm_from[cust],
        dorm_until=pop.dorm_until[cust],
        dorm_factor=dorm_factor,
        fade_start=pop.fade_start[cust],
        life_end=pop.life_end[cust],
        fade_floor=fade_floor,
    )
    accepted = rng.random(len(t)) * upper < day_mult[day] * shape
    cust, t = cust[accepted], t[accepted]

    # The second order (first accepted arrival) of a customer who leaves after it ends the process.
    is_first_arrival = np.ones(len(cust), dtype=bool)
    is_first_arrival[1:] = cust[1:] != cust[:-1]
    keep = ~pop.leaves_after_second[cust] | is_first_arrival
    cust, t = cust[keep], t[keep]

    churn_at = np.where(pop.life_end < n_days, pop.life_end, np.inf)
    reason = np.where(np.isfinite(churn_at), 3, 0)
    second = np.full(n, np.inf)
    firsts = is_first_arrival[keep]
    second[cust[firsts]] = t[firsts]
    by_second = pop.leaves_after_second & np.isfinite(second)
    churn_at = np.where(by_second, second, churn_at)
    reason = np.where(by_second, 2, reason)
    churn_at = np.where(pop.leaves_after_first, pop.first, churn_at)
    reason = np.where(pop.leaves_after_first, 1, reason)

    all_cust = np.concatenate([np.arange(n), cust])
    all_t = np.concatenate([pop.first, t])
    order = np.lexsort((all_t, all_cust))
    all_cust, all_t = all_cust[order], all_t[order]
    return OrganicOrders(
        customer=all_cust,
        time=all_t,
        basket_factor=fade_factor(pop, all_cust, all_t, fade_floor),
        churn_at=churn_at,
        churn_reason=reason.astype(np.int64),
    )
