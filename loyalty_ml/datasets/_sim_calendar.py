"""Calendar of the simulator: day multipliers, time of day, and the exact rate integral.

Time inside the simulator is a float number of days since ``start`` ("process time"). The purchase
intensity is constant within a day (weekday and season), so within a day purchases are uniform in
process time; the real clock time is obtained by the monotone warp :func:`to_clock`, which maps
the uniform position within the day onto the time-of-day distribution. Because the warp is
monotone, "a purchase in [a, b) real time" is "a purchase in [to_process(a), to_process(b)) process
time", which is what keeps the baseline probabilities exact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["day_multipliers", "intensity_integral", "profile", "to_clock", "to_process"]

# Monday .. Sunday: busier Friday/Saturday.
_WEEKDAY = np.array([0.88, 0.9, 0.95, 1.0, 1.12, 1.3, 0.85])
# Share of purchases starting in each hour (closed shops at night, online a little).
_HOURLY = np.array(
    [1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 8, 7, 6, 7, 9, 8, 6, 6, 7, 9, 9, 8, 6, 4, 3, 2], dtype=float
)
_HOUR_EDGES = np.arange(25, dtype=float) / 24.0
_HOUR_CDF = np.concatenate([[0.0], np.cumsum(_HOURLY) / _HOURLY.sum()])


def day_multipliers(start: pd.Timestamp, n_days: int) -> np.ndarray:
    """Weekday times seasonal multiplier of the purchase rate for each day of the period.

    The seasonal curve peaks in December (with an extra pre-Christmas bump) and dips in summer;
    the product averages about 1 over a year.
    """
    days = pd.date_range(start, periods=n_days, freq="D")
    doy = days.day_of_year.to_numpy(dtype=float)
    season = 1.0 + 0.12 * np.cos(2 * np.pi * (doy - 350.0) / 365.25)
    christmas = (days.month == 12) & (days.day <= 24)
    season = season * np.where(christmas, 1.25, 1.0)
    weekday = _WEEKDAY[days.day_of_week.to_numpy()]
    mult = season * weekday
    return np.asarray(mult / mult.mean(), dtype=float)


def to_clock(t: np.ndarray) -> np.ndarray:
    """Process time (days) -> clock time (days): same day, time of day from the hourly profile.

    Infinite or missing times (never) pass through unchanged.
    """
    finite = np.isfinite(t)
    day = np.floor(np.where(finite, t, 0.0))
    clock = day + np.interp(np.where(finite, t, 0.0) - day, _HOUR_CDF, _HOUR_EDGES)
    return np.asarray(np.where(finite, clock, t), dtype=float)


def to_process(t: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_clock`."""
    day = np.floor(t)
    return np.asarray(day + np.interp(t - day, _HOUR_EDGES, _HOUR_CDF), dtype=float)


def profile(
    t: np.ndarray,
    *,
    dorm_from: np.ndarray,
    dorm_until: np.ndarray,
    dorm_factor: float,
    fade_start: np.ndarray,
    life_end: np.ndarray,
    fade_floor: float,
) -> np.ndarray:
    """Customer-specific multiplier of the rate at process time ``t`` (arrays broadcast).

    1 normally, ``dorm_factor`` while dormant, falling linearly from 1 to ``fade_floor`` over the
    fade ``[fade_start, life_end)``, 0 from ``life_end`` on. Linear between breakpoints, so the
    midpoint rule integrates it exactly.
    """
    dormant = (t >= dorm_from) & (t < dorm_until)
    span = np.maximum(life_end - fade_start, 1e-12)
    progress = np.clip((t - fade_start) / span, 0.0, 1.0)
    fade = 1.0 - (1.0 - fade_floor) * progress
    alive = t < life_end
    return np.where(dormant, dorm_factor, 1.0) * fade * alive


def intensity_integral(
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    rate: np.ndarray,
    day_mult: np.ndarray,
    breakpoints: list[np.ndarray],
    profile_at: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Exact integral of ``rate * day_mult[day] * profile(t)`` over ``[lo, hi)`` per row.

    The integrand is linear between the day boundaries and the customer's breakpoints, so the sum
    of piece length times the integrand at the piece midpoint is exact.
    """
    n_days = len(day_mult)
    width = int(np.ceil(np.max(hi - lo))) + 2 if len(lo) else 1
    first_day = np.ceil(lo)
    day_points = first_day[:, None] + np.arange(width)[None, :]
    points = np.concatenate(
        [lo[:, None], hi[:, None], day_points, *(b[:, None] for b in breakpoints)], axis=1
    )
    points = np.sort(np.clip(points, lo[:, None], hi[:, None]), axis=1)
    length = np.diff(points, axis=1)
    mid = 0.5 * (points[:, 1:] + points[:, :-1])
    day = np.clip(np.floor(mid).astype(np.int64), 0, n_days - 1)
    values = day_mult[day] * profile_at(mid)
    return np.asarray(rate * np.sum(length * values, axis=1), dtype=float)
