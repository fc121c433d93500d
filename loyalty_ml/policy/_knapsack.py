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

#: Rounds of upgrades after the greedy that end at the first upgrade that no longer fits (each is
#: O(n * m) and takes every upgrade before it, in order of gain, so they are usually few); later
#: rounds walk on past it (see ``_fill``).
_PREFIX_ROUNDS = 200


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
    fits (at least the first, which fits alone), so the value only grows and the budget holds. One
    upgrade a round (the first version) left 895 of 1,000 customers without the 1-cent send that the
    remainder could pay for.

    Rounds repeat until no upgrade fits. A round that stops at its first upgrade that does not fit
    can take one upgrade a round on an adversarial catalogue (200 rounds left 200 of 400 affordable
    1-cent sends out), so after :data:`_PREFIX_ROUNDS` such rounds each round walks on past an
    upgrade that does not fit and takes every later one that does (:func:`_first_fit`). The first
    rounds are unchanged, so the plan is never worth less than with them alone. It ends: every
    round takes at least one upgrade and each raises a customer's value, among finitely many
    options; and with the walk a customer passed over is passed for good (what is left only
    shrinks), so only about m^2 walking rounds can come for m options.
    """
    rows = np.arange(len(choice))
    usable = np.isfinite(cost) & np.isfinite(value) & (value > 0)
    # customers with an upgrade that may fit: one without gets none later either (what is left
    # only shrinks and their option does not change), so later rounds skip them
    active = rows
    rounds = 0
    while active.size:
        now = choice[active]
        current_c = np.where(now >= 0, cost[active, np.maximum(now, 0)], 0.0)
        current_v = np.where(now >= 0, value[active, np.maximum(now, 0)], 0.0)
        whole = active.size == rows.size  # the first round: no copies of the whole tables
        c, v, ok = (cost, value, usable) if whole else (cost[active], value[active], usable[active])
        extra_c = c - current_c[:, None]
        gain = np.where(ok & (extra_c <= remaining), v - current_v[:, None], 0.0)
        best = np.argmax(gain, axis=1)
        local = np.arange(active.size)
        best_gain = gain[local, best]
        keep = best_gain > 0
        if not keep.any():
            return
        active, best, best_gain = active[keep], best[keep], best_gain[keep]
        extra = extra_c[local[keep], best]
        # largest gain first; ties by row, as the rows' order is fixed by the caller
        order = np.lexsort((active, -best_gain))
        who, best, extra = active[order], best[order], extra[order]
        taken = (
            _prefix(extra, remaining) if rounds < _PREFIX_ROUNDS else _first_fit(extra, remaining)
        )
        remaining -= math.fsum(extra[taken])
        choice[who[taken]] = best[taken]
        rounds += 1
        if (extra[taken] < 0).any():  # a cheaper and better option (never after the greedy)
            active = rows  # freed budget: everyone may fit again


def _prefix(extra: np.ndarray, remaining: float) -> np.ndarray:
    """The upgrades (in the order given) before the first whose cost no longer fits with theirs.

    The first is always taken: the caller passes only upgrades that fit alone.
    """
    fits = np.cumsum(extra) <= remaining * (1 - 1e-12)
    fits[0] = True
    taken = np.zeros(extra.size, dtype=bool)
    taken[: int(np.argmin(fits)) if not fits.all() else extra.size] = True
    return taken


def _first_fit(extra: np.ndarray, remaining: float) -> np.ndarray:
    """The upgrades (in the order given) that each fit what those taken before them left.

    The prefix of :func:`_prefix`, then a walk over the rest that skips an upgrade too dear for
    what is left instead of stopping there. What is spent is kept as an unevaluated sum (as in
    :func:`solve_knapsack`) so a sum that fits exactly is not refused by float rounding.
    """
    taken = _prefix(extra, remaining)
    spent_hi = math.fsum(extra[taken])
    spent_lo = math.fsum([*extra[taken], -spent_hi])
    left = remaining - spent_hi
    rest = np.flatnonzero(~taken)
    rest = rest[extra[rest] <= left + 1e-9 * max(1.0, abs(remaining))]  # the others never fit
    ahead = extra[rest].tolist()
    # the cheapest upgrade still ahead: once that is too dear, none is left to take
    cheapest = [*np.minimum.accumulate(extra[rest][::-1])[::-1].tolist(), math.inf]
    chosen = []
    for j, e in enumerate(ahead):
        if math.fsum((spent_hi, spent_lo, e)) <= remaining:
            chosen.append(j)
            total = spent_hi + e  # two-sum: total + error is exact
            back = total - spent_hi
            spent_lo += (spent_hi - (total - back)) + (e - back)
            spent_hi = total
        elif math.fsum((spent_hi, spent_lo, cheapest[j + 1])) > remaining:
            break
    taken[rest[chosen]] = True
    return taken
