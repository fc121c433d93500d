"""Parsing of ``as_of`` dates and day arithmetic on int64 nanoseconds."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import ConfigError

__all__ = ["NS_PER_DAY", "days_between", "to_as_of"]

NS_PER_DAY = 86_400 * 10**9


def to_as_of(value: object, *, name: str = "as_of") -> pd.Timestamp:
    """Parse a date-like ``as_of`` (str, date, datetime, Timestamp) to a tz-naive Timestamp.

    Time-zone aware values are converted to UTC and the zone dropped, the convention of the canonical
    transactions table.
    """
    # numbers (numpy's too) would be read as nanoseconds since 1970
    if value is None or isinstance(value, numbers.Number | np.bool_):
        raise ConfigError(
            f"The '{name}' parameter must be a date (str, date or Timestamp). Got {value!r} instead."
        )
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"The '{name}' parameter must be a date (str, date or Timestamp). Got {value!r} "
            f"instead ({exc})."
        ) from None
    if ts is pd.NaT:
        raise ConfigError(
            f"The '{name}' parameter must be a date. Got a missing value ({value!r})."
        )
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    try:
        return ts.as_unit("ns")
    except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
        raise ConfigError(
            f"The '{name}' parameter must be a date between 1677 and 2262 (nanosecond timestamps). "
            f"Got {value!r} instead."
        ) from None


def days_between(start_ns: np.ndarray, end_ns: int) -> np.ndarray:
    """Days (float64) from each ``start_ns`` to ``end_ns``, all int64 nanoseconds since the epoch."""
    return (end_ns - start_ns).astype("float64") / NS_PER_DAY
