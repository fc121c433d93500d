"""Customers of the simulator: observable attributes and latent traits, drawn once per customer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalty_ml.datasets._sim_config import SimulationConfig

__all__ = [
    "AGE_BANDS",
    "CATEGORIES",
    "CHANNELS",
    "GENDERS",
    "INCOME_BANDS",
    "REGIONS",
    "TIERS",
    "Population",
    "draw_population",
]

#: A customer's base rate is capped at this many orders a day (a mean of 7 a week loses ~1%).
_MAX_ORDERS_PER_DAY = 7.0

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("female", "male", "other")
REGIONS = ("north", "south", "east", "west", "central")
INCOME_BANDS = ("low", "middle", "high")
TIERS = ("basic", "silver", "gold")
CHANNELS = ("store", "app", "web", "delivery")
#: Categories with their margin rate, base price per unit, and base preference weight.
CATEGORIES: tuple[str, ...] = (
    "staples",
    "fresh",
    "household",
    "beverages",
    "bakery",
    "personal_care",
    "private_label",
    "prepared_food",
)
MARGIN_RATE = np.array([0.12, 0.18, 0.15, 0.25, 0.30, 0.32, 0.40, 0.45])
UNIT_PRICE = np.array([2.8, 3.4, 4.5, 2.6, 2.2, 5.5, 2.9, 6.5])
_CATEGORY_ALPHA = np.array([3.0, 3.0, 1.5, 2.0, 1.5, 1.0, 1.5, 1.5])
_CHANNEL_ALPHA = np.array([6.0, 2.0, 1.0, 1.0])
_PRIVATE_LABEL = CATEGORIES.index("private_label")
_STAPLES = CATEGORIES.index("staples")
_PREPARED = CATEGORIES.index("prepared_food")


@dataclass(frozen=True, eq=False)
class Population:
    """One array per trait, all of length ``n_customers`` (times are process days since start)."""

    age: np.ndarray  # codes into AGE_BANDS
    gender: np.ndarray
    region: np.ndarray
    income: np.ndarray
    tier: np.ndarray
    consent_marketing: np.ndarray
    consent_profiling: np.ndarray
    signup_day: np.ndarray
    first: np.ndarray  # process time of the first purchase
    rate: np.ndarray  # base orders per day
    first_dropout: np.ndarray  # probability of leaving right after order 1
    second_dropout: np.ndarray
    leaves_after_first: np.ndarray  # the realised coins
    leaves_after_second: np.ndarray
    fade_start: np.ndarray
    life_end: np.ndarray  # end of the fade: dropout unless an earlier coin fired
    dorm_from: np.ndarray  # inf when never dormant
    dorm_until: np.ndarray
    price_sensitivity: np.ndarray
    line_prob: np.ndarray  # binomial probability of each extra line of an order
    category_cum: np.ndarray  # (n, n_categories) cumulative preferences
    channel_cum: np.ndarray  # (n, n_channels)
    home_store: np.ndarray
    responsive: np.ndarray

    @property
    def n(self) -> int:
        return len(self.rate)


def _beta_with_mean(rng: np.random.Generator, mean: float, k: float, size: int) -> np.ndarray:
    if mean <= 0:
        return np.zeros(size)
    return rng.beta(k * mean, k * (1 - mean), size)


def _cumulative_dirichlet(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    weights = rng.gamma(alpha)
    weights /= weights.sum(axis=1, keepdims=True)
    cum = np.cumsum(weights, axis=1)
    cum[:, -1] = 1.0  # guard against rounding so every draw lands in a column
    return cum


def draw_population(
    rng: np.random.Generator, n: int, n_days: int, config: SimulationConfig
) -> Population:
    """Draw every customer's attributes and latent traits."""
    age = rng.choice(len(AGE_BANDS), n, p=[0.12, 0.22, 0.2, 0.18, 0.15, 0.13])
    gender = rng.choice(len(GENDERS), n, p=[0.53, 0.45, 0.02])
    region = rng.choice(len(REGIONS), n, p=[0.2, 0.25, 0.15, 0.2, 0.2])
    income = rng.choice(len(INCOME_BANDS), n, p=[0.3, 0.5, 0.2])

    # Acquisition: first purchases spread over the period, denser early on.
    u = rng.random(n)
    decay = config.acquisition_decay
    if decay > 0:
        first = -n_days / decay * np.log1p(-u * (1 - np.exp(-decay)))
    else:
        first = u * n_days
    first = np.minimum(first, n_days - 1e-6)
    signup_day = np.maximum(np.floor(first - rng.uniform(0, 7, n)), 0).astype(np.int64)

    mean_rate = config.mean_orders_per_week / 7.0
    rate = rng.gamma(config.rate_shape, mean_rate / config.rate_shape, n)
    rate *= np.where(age == len(AGE_BANDS) - 1, 1.1, 1.0)  # retirees shop a little more often
    rate = np.minimum(rate, _MAX_ORDERS_PER_DAY)

    first_dropout = _beta_with_mean(rng, config.first_order_dropout, 4.0, n)
    second_dropout = _beta_with_mean(rng, config.second_order_dropout, 4.0, n)
    leaves_after_first = rng.random(n) < first_dropout
    leaves_after_second = rng.random(n) < second_dropout
    mean_life = config.mean_lifetime_days * rng.gamma(2.0, 0.5, n)
    fade_start = first + rng.exponential(mean_life)
    low, high = config.fade_days
    life_end = fade_start + rng.uniform(low, high, n)

    dormant = rng.random(n) < config.dormancy_share
    dorm_from = np.where(dormant, first + rng.uniform(14, 300, n), np.inf)
    low, high = config.dormancy_days
    dorm_until = dorm_from + rng.uniform(low, high, n)

    # Protected attributes shift behaviour mildly (never the offer effects directly).
    income_shift = np.array([0.08, 0.0, -0.08])[income]
    price_sensitivity = np.clip(rng.beta(2.0, 3.0, n) + income_shift, 0.01, 0.99)
    extra = (config.mean_lines_per_order - 1) / max(config.max_lines_per_order - 1, 1)
    extra = min(max(extra, 0.01), 0.95)
    line_prob = _beta_with_mean(rng, extra, 6.0, n) * np.array([0.9, 1.0, 1.15])[income]
    line_prob = np.clip(line_prob, 0.0, 0.97)

    cat_alpha = np.tile(_CATEGORY_ALPHA, (n, 1))
    cat_alpha[:, _PRIVATE_LABEL] *= 0.4 + 2.0 * price_sensitivity
    cat_alpha[:, _STAPLES] *= 0.8 + 0.6 * price_sensitivity
    cat_alpha[:, _PREPARED] *= 1.4 - price_sensitivity
    chan_alpha = np.tile(_CHANNEL_ALPHA, (n, 1))
    young, old = age <= 1, age >= 4
    chan_alpha[young, 0] *= 0.8
    chan_alpha[young, 1] *= 2.0
    chan_alpha[old, 0] *= 1.4
    chan_alpha[old, 1] *= 0.5

    # Stores are dealt to regions in turn; a customer's home store is one of their region's.
    n_regions = len(REGIONS)
    per_region = np.maximum((config.n_stores - region + n_regions - 1) // n_regions, 0)
    home_store = np.where(
        per_region > 0,
        region + n_regions * np.floor(rng.random(n) * np.maximum(per_region, 1)).astype(np.int64),
        rng.integers(0, config.n_stores, n),
    )

    # The tier is chosen at sign-up: it may reflect intentions and income, never future behaviour.
    score = 0.5 * np.log(rate / mean_rate + 1e-9) + np.array([-0.3, 0.0, 0.4])[income]
    score = score + rng.normal(0.0, 1.0, n)
    tier = np.digitize(score, [0.8, 1.6])

    return Population(
        age=age,
        gender=gender,
        region=region,
        income=income,
        tier=tier,
        consent_marketing=rng.random(n) >= config.no_marketing_consent_share,
        consent_profiling=rng.random(n) >= config.no_profiling_consent_share,
        signup_day=signup_day,
        first=first,
        rate=rate,
        first_dropout=first_dropout,
        second_dropout=second_dropout,
        leaves_after_first=leaves_after_first,
        leaves_after_second=leaves_after_second,
        fade_start=fade_start,
        life_end=life_end,
        dorm_from=dorm_from,
        dorm_until=dorm_until,
        price_sensitivity=price_sensitivity,
        line_prob=line_prob,
        category_cum=_cumulative_dirichlet(rng, cat_alpha),
        channel_cum=_cumulative_dirichlet(rng, chan_alpha),
        home_store=home_store.astype(np.int64),
        responsive=rng.random(n) >= config.nonresponsive_share,
    )
