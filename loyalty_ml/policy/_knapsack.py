"""Budgeted multiple-choice knapsack: at most one option per customer, total cost <= budget.

Method (Sinha & Zoltners, 1979): for each customer, the options (cost, value) plus "nothing" (0, 0) are
reduced to the upper concave hull of value against cost; its successive steps have decreasing
incremental efficiency Δvalue / Δcost. The LP relaxation of the whole problem is solved exactly by taking
all customers' steps in order of decreasing efficiency until the budget runs out (the last one
fractionally). We take the steps greedily, whole, in that order, skipping a step that no longer fits (and
any later step of that customer). Bound: the greedy value is at least ``LP - v_split``, where ``v_split``
is the value of the first step that did not fit, and the optimum is at most ``LP``; so the gap to the
optimum is at most one customer's step, negligible with many customers. ``KnapsackResult`` reports both
the greedy value and the LP upper bound.

Costs and values are non-negative and only options with positive value are passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["KnapsackResult", "solve_knapsack"]

#: Rounds of upgrades after the greedy; each is O(n * m) and takes every upgrade that fits, in
#: order of gain, so the rounds are few (a round ends at the first upgrade that no longer fits).
_MAX_FILL_ROUNDS = 200


@dataclass(frozen=True)
class KnapsackResult:
    """Chosen option per customer (-1 = none), the total value, and the LP upper bound on it."""

    choice: np.ndarray
    value: float
    cost: float
    upper_bound: float


def _hull_steps(cost: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concave-hull steps of every customer, vectorised over customers.

    ``cost`` and ``value`` are (n, m); unavailable options hold NaN. Returns the (n, m) arrays of the
    option chosen at each step (-1 after the hull ends), and the step's Δcost and Δvalue.
    """
    n, m = cost.shape
    available = np.isfinite(cost) & np.isfinite(value) & (value > 0)
    cur_c = np.zeros(n)
    cur_v = np.zeros(n)
    step_option = np.full((n, m), -1, dtype=np.int64)
    step_dc = np.zeros((n, m))
    step_dv = np.zeros((n, m))
    rows = np.arange(n)
    for s in range(m):
        dc = cost - cur_c[:, None]
        dv = value - cur_v[:, None]
        ok = available & (dv > 0) & (dc >= 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            slope = np.where(dc > 0, dv / dc, np.inf)
        slope = np.where(ok, slope, -np.inf)
        # Among equal slopes take the cheapest option: a finer step, same LP line.
        order_key = np.where(ok, cost, np.inf)
        best_slope = slope.max(axis=1)
        tie = ok & (slope == best_slope[:, None])
        pick = np.where(tie, order_key, np.inf).argmin(axis=1)
        has = (best_slope > -np.inf) & ok[rows, pick]
        if not has.any():
            break
        step_option[has, s] = pick[has]
        step_dc[has, s] = cost[rows[has], pick[has]] - cur_c[has]
        step_dv[has, s] = value[rows[has], pick[has]] - cur_v[has]
        cur_c[has] = cost[rows[has], pick[has]]
        cur_v[has] = value[rows[has], pick[has]]
    return step_option, step_dc, step_dv


def solve_knapsack(cost: np.ndarray, value: np.ndarray, budget: float) -> KnapsackResult:
    """Choose at most one option per customer (row) with total cost <= ``budget``, maximising value.

    Parameters
    ----------
    cost, value : ndarray of shape (n, m)
        Cost (>= 0) and value of option j for customer i; NaN where unavailable. Options with
        value <= 0 are never chosen.
    budget : float
        Total cost allowed (>= 0); never exceeded.
    """
    n, m = cost.shape
    choice = np.full(n, -1, dtype=np.int64)
    if n == 0 or m == 0:
        return KnapsackResult(choice, 0.0, 0.0, 0.0)
    option, dc, dv = _hull_steps(cost, value)
    cust, step = np.nonzero(option >= 0)
    dc_flat, dv_flat = dc[cust, step], dv[cust, step]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        eff = np.where(dc_flat > 0, dv_flat / dc_flat, np.inf)
    # Decreasing efficiency; ties by customer then step, so a customer's steps stay in hull order and
    # the result does not depend on anything but the rows' order (which the caller fixes).
    order = np.lexsort((step, cust, -eff))
    cust, step, dc_flat, dv_flat = cust[order], step[order], dc_flat[order], dv_flat[order]

    taken_steps = np.zeros(n, dtype=np.int64)
    blocked = np.zeros(n, dtype=bool)
    # What is spent, as an unevaluated sum hi + lo (lo holds hi's rounding error), so that a step
    # that fits exactly (four sends of 0.1 in a budget of 0.4) is not refused by float rounding.
    spent_hi, spent_lo = 0.0, 0.0
    upper = 0.0
    split_found = False
    # A vectorised prefix first (the bulk of the steps), then a careful loop over the tail.
    cum = np.cumsum(dc_flat)
    prefix = int(np.searchsorted(cum, budget * (1 - 1e-12), side="right"))
    # The prefix needs no per-step checks: every earlier step of its customers comes before it.
    if prefix:
        np.add.at(taken_steps, cust[:prefix], 1)
        spent_hi = math.fsum(dc_flat[:prefix])
        spent_lo = math.fsum([*dc_flat[:prefix], -spent_hi])
        upper = math.fsum(dv_flat[:prefix])
    todo = np.arange(prefix, len(cust))
    i = 0
    while i < len(todo):
        k = int(todo[i])
        i += 1
        c = cust[k]
        fits = math.fsum((spent_hi, spent_lo, dc_flat[k])) <= budget
        if fits and not blocked[c] and taken_steps[c] == step[k]:
            taken_steps[c] += 1
            total = spent_hi + dc_flat[k]  # two-sum: total + error is exact
            back = total - spent_hi
            spent_lo += (spent_hi - (total - back)) + (dc_flat[k] - back)
            spent_hi = total
            if not split_found:
                upper += dv_flat[k]
        else:
            if not split_found:
                split_found = True
                remaining = budget - math.fsum((spent_hi, spent_lo))
                frac = remaining / dc_flat[k] if dc_flat[k] > 0 else 1.0
                upper += max(0.0, min(1.0, frac)) * dv_flat[k]
                # What is spent only grows: a later step dearer than what is left never fits, so
                # only the others are walked (a tiny budget no longer loops over every step). The
                # bound is loose by float rounding; each step left is tested exactly above. A
                # customer whose step is dropped here takes no later step either (their steps
                # must be taken in order).
                rest = todo[i:]
                todo = rest[dc_flat[rest] <= remaining + 1e-9 * max(1.0, abs(budget))]
                i = 0
            blocked[c] = True
    has = taken_steps > 0
    choice[has] = option[np.flatnonzero(has), taken_steps[has] - 1]
    remaining = budget - math.fsum(np.where(has, cost[np.arange(n), np.maximum(choice, 0)], 0.0))
    _fill(choice, cost, value, remaining)
    has = choice >= 0
    chosen_cost = np.where(has, cost[np.arange(n), np.maximum(choice, 0)], 0.0)
    chosen_value = np.where(has, value[np.arange(n), np.maximum(choice, 0)], 0.0)
    # Float sums of steps and of final costs can differ by an ulp: drop picks until the exact total
    # fits, so the budget is never exceeded (the pick of least value that covers the excess, or
    # else the least efficient), then spend what that freed on whatever fits (an upgrade).
    total = math.fsum(chosen_cost)
    if total > budget:
        while total > budget:
            picked = (choice >= 0) & (chosen_cost > 0)
            if not picked.any():  # only below a budget < 0, which callers refuse
                break
            covers = picked & (chosen_cost >= total - budget)
            if covers.any():  # the least value, of equal values the dearest (frees the most)
                i = int(np.lexsort((-chosen_cost, np.where(covers, chosen_value, np.inf)))[0])
            else:
                ratio = chosen_value / np.where(picked, chosen_cost, 1.0)
                i = int(np.argmin(np.where(picked, ratio, np.inf)))
            choice[i] = -1
            chosen_cost[i] = chosen_value[i] = 0.0
            total = math.fsum(chosen_cost)
        repaired = choice.copy()
        _fill(choice, cost, value, budget - total)
        has = choice >= 0
        chosen_cost = np.where(has, cost[np.arange(n), np.maximum(choice, 0)], 0.0)
        if math.fsum(chosen_cost) > budget:  # the fill's own rounding: keep the repair
            choice[:] = repaired
            has = choice >= 0
            chosen_cost = np.where(has, cost[np.arange(n), np.maximum(choice, 0)], 0.0)
        chosen_value = np.where(has, value[np.arange(n), np.maximum(choice, 0)], 0.0)
        total = math.fsum(chosen_cost)
    value_total = math.fsum(chosen_value)
    return KnapsackResult(choice, value_total, total, max(upper, value_total))


def _fill(choice: np.ndarray, cost: np.ndarray, value: np.ndarray, remaining: float) -> None:
    """Spend what the greedy left: upgrade customers to any option (hull or not) that still fits.

    Hull steps skip options below the hull that may fit a small remainder (a cheap offer of a customer
    whose dearer offer is more efficient). Each round gives every customer the upgrade of largest value
    gain that fits what is left, and takes them in order of decreasing gain while their summed cost
    fits (at least the first, which fits alone), so the value only grows and the budget holds. Rounds
    repeat until nothing fits: one upgrade a round (the first version) left 895 of 1,000 customers
    without the 1-cent send that the remainder could pay for.
    """
    n = len(choice)
    rows = np.arange(n)
    usable = np.isfinite(cost) & np.isfinite(value) & (value > 0)
    for _ in range(_MAX_FILL_ROUNDS):
        current_c = np.where(choice >= 0, cost[rows, np.maximum(choice, 0)], 0.0)
        current_v = np.where(choice >= 0, value[rows, np.maximum(choice, 0)], 0.0)
        extra_c = cost - current_c[:, None]
        gain = np.where(usable & (extra_c <= remaining), value - current_v[:, None], 0.0)
        best = np.argmax(gain, axis=1)
        best_gain = gain[rows, best]
        who = np.flatnonzero(best_gain > 0)
        if who.size == 0:
            return
        # largest gain first; ties by row, as the rows' order is fixed by the caller
        who = who[np.lexsort((who, -best_gain[who]))]
        extra = extra_c[who, best[who]]
        # each upgrade's own cost must fit what is left after the ones before it
        fits = np.cumsum(extra) <= remaining * (1 - 1e-12)
        fits[0] = True  # the first fits alone (extra_c <= remaining)
        take = who[: int(np.argmin(fits)) if not fits.all() else who.size]
        remaining -= math.fsum(extra_c[take, best[take]])
        choice[take] = best[take]
