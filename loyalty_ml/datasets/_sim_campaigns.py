"""Randomised campaigns of the simulator: samples, arms, exact baselines, and real responses.

For customer i in a campaign sent at ``s`` with window ``w``:

- ``p0`` = P(an organic purchase in ``[s, s + w)``) = 0 if i has dropped out by ``s``, else
  ``1 - exp(-Lambda)`` with ``Lambda`` the integral of i's purchase intensity over the window (exact:
  dropout coins are tossed after orders, so they cannot stop the first order of the window).
- a treated customer without an organic purchase in the window places a response order in it with
  probability ``tau_i(o)``, so P(purchase | o) = p0 + (1 - p0) tau_i(o) and the true uplift is
  ``(1 - p0) tau_i(o)``. Responses do not change the latent state (a dropped-out customer who
  responds to a win-back offer stays dropped out).
- a treated customer with any purchase in the window redeems at the first one; controls never do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalty_ml.datasets._sim_calendar import intensity_integral, profile, to_process
from loyalty_ml.datasets._sim_config import SimulationConfig
from loyalty_ml.datasets._sim_customers import Population
from loyalty_ml.datasets._sim_offers import OFFER_IDS, persuasion
from loyalty_ml.datasets._sim_purchases import OrganicOrders

__all__ = ["CampaignHistory", "run_campaigns"]

_LOOKBACK_DAYS = 365.0
_MEAN_RESPONSE_DELAY = 5.0


@dataclass(frozen=True, eq=False)
class CampaignHistory:
    """One row per (campaign, customer); arm 0 is control, arm k is ``OFFER_IDS[k - 1]``."""

    campaign: np.ndarray
    customer: np.ndarray
    arm: np.ndarray
    sent_at: np.ndarray  # clock days
    redeemed_at: np.ndarray  # clock days, nan when not redeemed
    baseline: np.ndarray
    uplift: np.ndarray  # (rows, n_offers)
    response_customer: np.ndarray
    response_time: np.ndarray  # clock days
    response_campaign: np.ndarray


class _Purchases:
    """Purchase times sorted by (customer, time), searchable per customer.

    Keys are ``customer * stride + time`` with ``stride`` longer than the period, so one sorted
    array answers "the last purchase before t" and "the first purchase in [lo, hi)" for every
    customer at once.
    """

    def __init__(self, customer: np.ndarray, time: np.ndarray, stride: float) -> None:
        order = np.lexsort((time, customer))
        # a sentinel row (customer -1) keeps every lookup in bounds, even when there is no purchase
        self.customer = np.concatenate([[-1], customer[order]])
        self.time = np.concatenate([[np.nan], time[order]])
        self.stride = stride
        self.key = np.concatenate([[-np.inf], self.customer[1:] * stride + self.time[1:]])

    def last_before(self, customers: np.ndarray, t: float) -> np.ndarray:
        """Time of each customer's last purchase before ``t`` (-inf when none)."""
        idx = np.searchsorted(self.key, customers * self.stride + t, side="left") - 1
        return np.where(self.customer[idx] == customers, self.time[idx], -np.inf)

    def first_in(self, customers: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """Time of each customer's first purchase in ``[lo, hi)`` (nan when none)."""
        left = np.searchsorted(self.key, customers * self.stride + lo, side="left")
        right = np.searchsorted(self.key, customers * self.stride + hi, side="left")
        found = right > left
        return np.where(found, self.time[np.where(found, left, 0)], np.nan)


def run_campaigns(
    rng: np.random.Generator,
    pop: Population,
    orders: OrganicOrders,
    day_mult: np.ndarray,
    send_times: list[float],
    *,
    organic_clock: np.ndarray,
    basket_percentile: np.ndarray,
    config: SimulationConfig,
) -> CampaignHistory:
    """Run every campaign in date order; responses of one campaign are history for the next.

    ``send_times`` and ``organic_clock`` (the organic orders' clock times, whole seconds) are in
    days since the start; response times are rounded down to whole seconds too.
    """
    n_days = len(day_mult)
    stride = float(n_days + 2)
    organic = _Purchases(orders.customer, organic_clock, stride)
    window = float(config.response_window_days)
    n_offers = len(OFFER_IDS)
    control = 1.0 / (n_offers + 1) if config.control_share is None else config.control_share
    arm_p = np.array([control] + [(1.0 - control) / n_offers] * n_offers)
    everyone = np.arange(pop.n)
    parts: list[dict[str, np.ndarray]] = []
    responses = _Purchases(np.zeros(0, dtype=np.int64), np.zeros(0), stride)

    for k, s in enumerate(send_times):
        last = np.maximum(organic.last_before(everyone, s), responses.last_before(everyone, s))
        eligible = pop.consent_marketing & (last >= s - _LOOKBACK_DAYS)
        ids = np.flatnonzero(eligible & (rng.random(pop.n) < config.campaign_reach))
        arm = rng.choice(n_offers + 1, len(ids), p=arm_p)
        baseline = _baseline(pop, orders, day_mult, ids, s, window, config)
        tau = persuasion(
            price_sensitivity=pop.price_sensitivity[ids],
            basket_percentile=basket_percentile[ids],
            days_since_last=s - last[ids],
            responsive=pop.responsive[ids],
        )
        tau_matrix = np.column_stack([tau[o] for o in OFFER_IDS])
        first_organic = organic.first_in(ids, s, s + window)
        treated = arm > 0
        tau_arm = np.where(treated, tau_matrix[np.arange(len(ids)), np.maximum(arm - 1, 0)], 0.0)
        respond = treated & np.isnan(first_organic) & (rng.random(len(ids)) < tau_arm)
        delay = _truncated_exponential(rng, len(ids), _MEAN_RESPONSE_DELAY, window)
        response_time = np.floor((s + delay) * 86_400.0) / 86_400.0
        redeemed_at = np.where(treated, first_organic, np.nan)
        redeemed_at = np.where(respond, response_time, redeemed_at)
        parts.append(
            {
                "campaign": np.full(len(ids), k),
                "customer": ids,
                "arm": arm,
                "sent_at": np.full(len(ids), s),
                "redeemed_at": redeemed_at,
                "baseline": baseline,
                "uplift": (1.0 - baseline)[:, None] * tau_matrix,
                "response_customer": ids[respond],
                "response_time": response_time[respond],
                "response_campaign": np.full(int(respond.sum()), k),
            }
        )
        responses = _Purchases(
            np.concatenate([p["response_customer"] for p in parts]),
            np.concatenate([p["response_time"] for p in parts]),
            stride,
        )

    def cat(name: str, empty: np.ndarray) -> np.ndarray:
        return np.concatenate([p[name] for p in parts]) if parts else empty

    ints, floats = np.zeros(0, dtype=np.int64), np.zeros(0)
    return CampaignHistory(
        campaign=cat("campaign", ints),
        customer=cat("customer", ints),
        arm=cat("arm", ints),
        sent_at=cat("sent_at", floats),
        redeemed_at=cat("redeemed_at", floats),
        baseline=cat("baseline", floats),
        uplift=cat("uplift", np.zeros((0, n_offers))),
        response_customer=cat("response_customer", ints),
        response_time=cat("response_time", floats),
        response_campaign=cat("response_campaign", ints),
    )


def _truncated_exponential(
    rng: np.random.Generator, size: int, mean: float, upper: float
) -> np.ndarray:
    """Exponential delays conditioned on being below ``upper`` (inverse CDF), in [0, upper)."""
    u = rng.random(size)
    delay = -mean * np.log1p(-u * (1.0 - np.exp(-upper / mean)))
    return np.minimum(delay, np.nextafter(upper, 0.0))


def _baseline(
    pop: Population,
    orders: OrganicOrders,
    day_mult: np.ndarray,
    ids: np.ndarray,
    s: float,
    window: float,
    config: SimulationConfig,
) -> np.ndarray:
    """Exact P(an organic purchase in the clock window [s, s + window)) for customers ``ids``."""
    lo = np.full(len(ids), to_process(np.array([s]))[0])
    hi = np.full(len(ids), to_process(np.array([s + window]))[0])
    sub = {
        "dorm_from": pop.dorm_from[ids][:, None],
        "dorm_until": pop.dorm_until[ids][:, None],
        "fade_start": pop.fade_start[ids][:, None],
        "life_end": pop.life_end[ids][:, None],
    }

    def shape(t: np.ndarray) -> np.ndarray:
        return profile(
            t, dorm_factor=config.dormant_rate_factor, fade_floor=config.fade_floor, **sub
        )

    lam = intensity_integral(
        lo,
        hi,
        rate=pop.rate[ids],
        day_mult=day_mult,
        breakpoints=[v[:, 0] for v in sub.values()],
        profile_at=shape,
    )
    alive = lo < orders.churn_at[ids]
    return np.where(alive, -np.expm1(-lam), 0.0)
