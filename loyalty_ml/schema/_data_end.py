"""Where the data ends: its last timestamp, or the end of its last day for dates without times.

An export of dates (H&M's ``t_dat``, X5's and Ta Feng's days, dunnhumby's ``DAY`` added to a first
day) dates every purchase at midnight, so its last timestamp is the START of the last day it
covers. Read as the end of the data, it leaves that day out of every window that must fit inside
the data (a churn label's, a campaign's response window): the latest allowed cut-off comes a day
early. When every timestamp is a midnight, the data covers its last day to the end, the midnight
after it. A single purchase with a time makes it timed data, whose end stays its last timestamp:
the rule never moves the end past a purchase's time.

A stated end (``observation_end``) is the last instant observed, as ``validate_transactions``
reads it (rows after it are removed, rows at it kept). On date-only data a midnight there names a
day whose purchases are all observed, so the data are complete to the end of that day
(:func:`stated_end`): ``observation_end="2020-09-22"`` on H&M's dates includes the 22nd. On
timed data it stays the instant: a purchase at 10:00 on the 22nd is after it. Every function that
takes a user's ``observation_end`` reads it so (``churn_labels``, ``training_table``,
``experiment_table``, ``campaign_responses``, ``kpis.measure_campaign``). A caller of the library's
own that passes an end-exclusive cut-off (a job's ``as_of``, a report's ``period_end``) states it
with :func:`stated_before`, which reads back as that cut-off and claims none of its day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.schema._coerce_time import plus_days
from loyalty_ml.schema._gaps import NS_PER_DAY

__all__ = [
    "covered_until",
    "covered_until_ns",
    "is_dates_only",
    "series_dates_only",
    "stated_before",
    "stated_end",
]


def is_dates_only(ns: np.ndarray) -> bool:
    """Whether every one of ``ns`` (int64 nanoseconds of naive timestamps) is a midnight; False
    when there are none."""
    if len(ns) == 0 or int(ns.max()) % NS_PER_DAY:  # the usual timed table stops here
        return False
    return not bool((ns % NS_PER_DAY).any())  # numpy's % keeps days before 1970 non-negative


def covered_until_ns(ns: np.ndarray) -> int | None:
    """The end of the period ``ns`` covers (int64 nanoseconds): the last one, or the midnight
    after it when every one is a midnight; None when there are none."""
    if len(ns) == 0:
        return None
    last = int(ns.max())
    return last + NS_PER_DAY if is_dates_only(ns) else last


def covered_until(timestamps: pd.Series) -> pd.Timestamp | None:
    """:func:`covered_until_ns` of a datetime64 Series (naive or zone-aware; a zone's midnights
    are its own); None when it holds no timestamp."""
    stamps = pd.DatetimeIndex(timestamps.dropna())
    if len(stamps) == 0:
        return None
    last = stamps.max()
    if not _at_midnights(stamps):
        return last
    # the next midnight on the data's clock, across a change of clocks too
    return plus_days(last, 1)


def series_dates_only(timestamps: pd.Series) -> bool:
    """:func:`is_dates_only` of a datetime64 Series (naive or zone-aware; a zone's midnights are
    its own, missing values skipped): whether it holds timestamps, every one a midnight."""
    return _at_midnights(pd.DatetimeIndex(timestamps.dropna()))


def _at_midnights(stamps: pd.DatetimeIndex) -> bool:
    if len(stamps) == 0:
        return False
    last = stamps.max()
    return bool(last == last.normalize() and (stamps == stamps.normalize()).all())


def stated_end(end: pd.Timestamp, *, dates_only: bool) -> pd.Timestamp:
    """Where a stated ``observation_end`` leaves the data complete until: on date-only data
    (``dates_only``) a midnight names a day, observed to its end (the next midnight on the
    data's clock); any other value, and any value on timed data, is the instant itself."""
    if dates_only and end == end.normalize():
        return plus_days(end, 1)
    return end


def stated_before(cutoff: pd.Timestamp, timestamps: pd.Series) -> pd.Timestamp:
    """The ``observation_end`` that states a history cut before ``cutoff`` (its rows
    ``timestamp < cutoff``, as the jobs cut theirs) complete up to the cut, no further.

    On timed data that is ``cutoff``. On dates without times a stated midnight names a day observed
    to its end (:func:`stated_end`), so ``cutoff`` would claim the cutoff's own day, whose rows the
    cut removed: the day before a midnight ``cutoff`` is stated instead, which reads back as
    ``cutoff``."""
    if cutoff != cutoff.normalize() or not series_dates_only(timestamps):
        return cutoff
    return plus_days(cutoff, -1)
