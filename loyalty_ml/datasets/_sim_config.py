"""The knobs of the loyalty simulator, checked once in ``__post_init__``."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import pandas as pd

from loyalty_ml._checks import is_int, is_real
from loyalty_ml.exceptions import ConfigError

__all__ = ["SimulationConfig"]


def _check(ok: bool, name: str, rule: str, value: object) -> None:
    if not ok:
        raise ConfigError(
            f"The {name!r} parameter of SimulationConfig must be {rule}. Got {value!r} instead."
        )


def _is_number(value: object) -> bool:
    """A finite real number, NumPy's included (not a boolean): inf would fail deep inside numpy's
    draws."""
    return is_real(value, finite=True)


@dataclass(frozen=True, kw_only=True)
class SimulationConfig:
    """Behavioural and campaign parameters of :func:`~loyalty_ml.datasets.simulate`.

    Parameters
    ----------
    mean_orders_per_week : float
        Mean of the customers' base purchase rates (orders per week, before seasonality); each
        rate is capped at 7 orders a day.
    rate_shape : float
        Shape of the gamma distribution of base rates; below 1 gives many rare shoppers and a few
        heavy (cafe-like) users.
    first_order_dropout, second_order_dropout : float
        Mean probability that a customer drops out right after the first (second) order: the
        frequency boundary. Each customer draws their own probability from a beta distribution.
    mean_lifetime_days : float
        Mean time from the first purchase to the start of the fade that ends in dropout, for
        customers who survive the first two orders (exponential, with a per-customer mean).
    fade_days : tuple of int
        Range of the length of the fade before dropout, during which visits thin out and baskets
        shrink (the early signs of churn).
    fade_floor : float
        Purchase-rate multiplier reached at the end of the fade (the rate falls linearly from 1).
    dormancy_share : float
        Share of customers who go dormant once (a long gap at a reduced rate) and then return.
    dormancy_days : tuple of int
        Range of the length of a dormant spell.
    dormant_rate_factor : float
        Purchase-rate multiplier while dormant (0 = no purchases at all).
    acquisition_decay : float
        How strongly sign-ups concentrate early in the period (0 = uniform sign-ups).
    mean_lines_per_order : float
        Mean number of lines of an order (between 1 and ``max_lines_per_order``), approximately:
        the chance of a further line is kept inside [0.01, 0.95] and falls as a customer fades
        (1.0 gives about 1.04 lines, 5.5 about 5.34, the default 2.6 about 2.59).
    max_lines_per_order : int
        Largest number of lines of an order.
    no_marketing_consent_share, no_profiling_consent_share : float
        Shares of customers without marketing (profiling) consent.
    n_stores : int
        Number of stores (spread over the regions).
    first_campaign_after_days : int
        Days of history before the first campaign.
    campaign_interval_days : int
        Days between campaigns (at least ``response_window_days``, so response windows never overlap).
    max_campaigns : int or None
        Upper bound on the number of campaigns (None: as many as fit in the period).
    campaign_dates : tuple of str or None
        Explicit send dates, overriding the three parameters above.
    campaign_reach : float
        Share of the eligible customers (marketing consent and a purchase in the preceding year)
        drawn into each campaign.
    control_share : float or None
        Share of each campaign's sample kept as control (None: ``1 / (n_offers + 1)``).
    response_window_days : int
        Length of the response window after ``sent_at``.
    nonresponsive_share : float
        Share of customers whom no offer persuades.

    Examples
    --------
    >>> config = SimulationConfig(mean_orders_per_week=1.0, control_share=0.5)
    >>> config.response_window_days
    30
    >>> SimulationConfig(campaign_reach=0)
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.ConfigError: The 'campaign_reach' parameter of SimulationConfig must be a number in (0, 1]. Got 0 instead.
    """

    mean_orders_per_week: float = 0.5
    rate_shape: float = 0.9
    first_order_dropout: float = 0.3
    second_order_dropout: float = 0.15
    mean_lifetime_days: float = 540.0
    fade_days: tuple[int, int] = (60, 90)
    fade_floor: float = 0.15
    dormancy_share: float = 0.15
    dormancy_days: tuple[int, int] = (60, 200)
    dormant_rate_factor: float = 0.03
    acquisition_decay: float = 1.5
    mean_lines_per_order: float = 2.6
    max_lines_per_order: int = 6
    no_marketing_consent_share: float = 0.12
    no_profiling_consent_share: float = 0.06
    n_stores: int = 40
    first_campaign_after_days: int = 182
    campaign_interval_days: int = 75
    max_campaigns: int | None = None
    campaign_dates: tuple[str, ...] | None = None
    campaign_reach: float = 0.5
    control_share: float | None = None
    response_window_days: int = 30
    nonresponsive_share: float = 0.3

    def __post_init__(self) -> None:
        positive = ("mean_orders_per_week", "rate_shape", "mean_lifetime_days")
        for name in positive:
            value = getattr(self, name)
            _check(_is_number(value) and value > 0, name, "a number > 0", value)
        probabilities = (
            "first_order_dropout",
            "second_order_dropout",
            "dormancy_share",
            "no_marketing_consent_share",
            "no_profiling_consent_share",
            "nonresponsive_share",
        )
        for name in probabilities:
            value = getattr(self, name)
            _check(_is_number(value) and 0 <= value < 1, name, "a number in [0, 1)", value)
        for name in ("fade_floor", "dormant_rate_factor"):
            value = getattr(self, name)
            _check(_is_number(value) and 0 <= value <= 1, name, "a number in [0, 1]", value)
        _check(
            _is_number(self.campaign_reach) and 0 < self.campaign_reach <= 1,
            "campaign_reach",
            "a number in (0, 1]",
            self.campaign_reach,
        )
        _check(
            self.control_share is None
            or (_is_number(self.control_share) and 0 < self.control_share < 1),
            "control_share",
            "None or a number in (0, 1)",
            self.control_share,
        )
        _check(
            _is_number(self.acquisition_decay) and self.acquisition_decay >= 0,
            "acquisition_decay",
            "a number >= 0",
            self.acquisition_decay,
        )
        for name in ("fade_days", "dormancy_days"):
            value = getattr(self, name)
            _check(
                isinstance(value, tuple)
                and len(value) == 2
                and all(is_int(v) for v in value)
                and 1 <= value[0] <= value[1],
                name,
                "a pair of whole numbers (low, high) with 1 <= low <= high",
                value,
            )
        for name in ("max_lines_per_order", "n_stores", "response_window_days"):
            value = getattr(self, name)
            _check(is_int(value) and value >= 1, name, "an int >= 1", value)
        _check(
            _is_number(self.mean_lines_per_order)
            and 1 <= self.mean_lines_per_order <= self.max_lines_per_order,
            "mean_lines_per_order",
            f"a number between 1 and max_lines_per_order ({self.max_lines_per_order})",
            self.mean_lines_per_order,
        )
        _check(
            is_int(self.first_campaign_after_days) and self.first_campaign_after_days >= 0,
            "first_campaign_after_days",
            "an int >= 0",
            self.first_campaign_after_days,
        )
        _check(
            is_int(self.campaign_interval_days)
            and self.campaign_interval_days >= self.response_window_days,
            "campaign_interval_days",
            f"an int >= response_window_days ({self.response_window_days}) so that response "
            "windows do not overlap",
            self.campaign_interval_days,
        )
        _check(
            self.max_campaigns is None or (is_int(self.max_campaigns) and self.max_campaigns >= 0),
            "max_campaigns",
            "None or an int >= 0",
            self.max_campaigns,
        )
        if self.campaign_dates is not None:
            self._check_campaign_dates(self.campaign_dates)

    def _check_campaign_dates(self, dates: object) -> None:
        rule = "None or a tuple of dates (e.g. ('2023-07-01', '2023-10-01'))"
        _check(isinstance(dates, tuple), "campaign_dates", rule, dates)
        try:
            parsed = [pd.Timestamp(d) for d in dates]  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            _check(False, "campaign_dates", rule, dates)
            return
        if any(p is pd.NaT for p in parsed):
            _check(False, "campaign_dates", rule, dates)
        # a zoned date keeps its wall-clock date, as start and end do
        parsed = [p.tz_localize(None) if p.tzinfo is not None else p for p in parsed]
        gaps = [(b - a).days for a, b in pairwise(parsed)]
        _check(
            all(g >= self.response_window_days for g in gaps),
            "campaign_dates",
            f"increasing and at least response_window_days ({self.response_window_days}) apart "
            "so that response windows do not overlap",
            dates,
        )
