"""Stretches of days without a single transaction where the days around them are busy.

A month missing from an extract (an outage, a failed export, a file left out) reads, to every later
step, as customers not buying: recency grows, order counts over 30 or 90 days drop, and a churn label
whose window falls in the hole says "churned". Nothing downstream can tell a hole from a quiet month,
so the check is made where the data comes in (``validate_transactions``) and again where labels are
drawn (``training_table``, ``churn_labels``). A short closure (a shop shut over Christmas, 11 days in
Online Retail II) is normal and is not reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Gap", "find_gaps"]

NS_PER_DAY = 86_400 * 10**9
#: Shortest stretch of empty days reported: longer than a holiday closure.
MIN_GAP_DAYS = 14
#: Fewest purchases the stretch would have held at the pace of the days around it, and fewest in
#: the days around it that set that pace (a handful of rows says nothing about a pace).
MIN_EXPECTED = 20
#: Days on each side of a stretch that set that pace.
CONTEXT_DAYS = 28


@dataclass(frozen=True)
class Gap:
    """``days`` empty days from ``first`` to ``last`` (both included), around ``per_day`` a day."""

    first: pd.Timestamp
    last: pd.Timestamp
    days: int
    per_day: float

    def overlaps(self, start: pd.Timestamp, stop: pd.Timestamp) -> bool:
        """Whether ``[start, stop)`` shares a moment with the empty days."""
        return bool(start < self.last + pd.Timedelta(days=1) and stop > self.first)

    def describe(self) -> str:
        return (
            f"{self.first.date()} to {self.last.date()} ({self.days} days; about "
            f"{self.per_day:.0f} a day around it)"
        )


def find_gaps(times_ns: np.ndarray, end_ns: int | None = None) -> list[Gap]:
    """Runs of at least ``MIN_GAP_DAYS`` empty days that should have held ``MIN_EXPECTED`` purchases.

    ``times_ns``: the purchase times (int64 nanoseconds, one per purchase, any order). The pace is
    the purchases per day in the ``CONTEXT_DAYS`` on both sides (within the data), which must hold
    ``MIN_EXPECTED`` purchases themselves. ``end_ns``: the stated end of the observed period (the
    caller's ``observation_end``); the whole days from the last purchase to it are a stretch too,
    paced by the days before it (an extract that stopped early, read as "complete until then").

    Examples
    --------
    >>> days = np.r_[np.arange(0, 60), np.arange(90, 150)]  # days 60-89 missing
    >>> times = np.repeat(days, 5).astype("int64") * NS_PER_DAY
    >>> [g.describe() for g in find_gaps(times)]
    ['1970-03-02 to 1970-03-31 (30 days; about 5 a day around it)']
    >>> find_gaps(times, end_ns=180 * NS_PER_DAY)[-1].describe()  # observed until day 180
    '1970-05-31 to 1970-06-29 (30 days; about 5 a day around it)'
    """
    if len(times_ns) == 0:
        return []
    day, counts = np.unique(np.asarray(times_ns, dtype=np.int64) // NS_PER_DAY, return_counts=True)
    empty = np.diff(day) - 1
    gaps = []
    for i in np.flatnonzero(empty >= MIN_GAP_DAYS):
        first, last = day[i] + 1, day[i + 1] - 1
        lo, hi = max(day[0], first - CONTEXT_DAYS), min(day[-1], last + CONTEXT_DAYS)
        around = counts[((day >= lo) & (day < first)) | ((day > last) & (day <= hi))].sum()
        gaps.append(_paced(first, int(empty[i]), around, (first - lo) + (hi - last)))
    if end_ns is not None:
        # the day holding end_ns is observed only in part: the stretch stops the day before it
        trailing = int(end_ns) // NS_PER_DAY - int(day[-1]) - 1
        if trailing >= MIN_GAP_DAYS:
            first = day[-1] + 1
            lo = max(day[0], first - CONTEXT_DAYS)
            gaps.append(_paced(first, trailing, counts[day >= lo].sum(), first - lo))
    return [gap for gap in gaps if gap is not None]


def _paced(first: int, days: int, around: int, context_days: int) -> Gap | None:
    """The stretch of ``days`` empty days from day ``first`` if the ``around`` purchases of its
    ``context_days`` neighbouring days say it should have held ``MIN_EXPECTED``, else None."""
    per_day = around / context_days
    if around < MIN_EXPECTED or per_day * days < MIN_EXPECTED:
        return None
    return Gap(
        first=pd.Timestamp(int(first) * NS_PER_DAY),
        last=pd.Timestamp(int(first + days - 1) * NS_PER_DAY),
        days=days,
        per_day=float(per_day),
    )
