"""Small value checks shared by the parameter validation of every module."""

from __future__ import annotations

import math
import numbers
from typing import TypeGuard

__all__ = ["MAX_MONEY", "MAX_WINDOW_DAYS", "check_seed", "check_window_days", "is_int", "is_real"]

#: Longest window (days) a response window, a label horizon or a report may span: ten years. A
#: longer one runs past the dates int64 nanoseconds hold (2262) and no programme needs it.
MAX_WINDOW_DAYS = 3650

#: Largest amount of money (a line's amount or margin, an offer's cost, the margin of one
#: conversion) any input may hold: no basket line or reward is worth this much in any currency,
#: and sums of larger ones over a table's rows or a plan's customers overflow.
MAX_MONEY = 1e15


def is_real(value: object, *, finite: bool = False) -> TypeGuard[float]:
    """True for a real number (numpy scalars included) that is not a bool; ``finite`` also refuses
    NaN and infinities.

    Examples
    --------
    >>> is_real(0.5), is_real(True), is_real("0.5"), is_real(float("nan"), finite=True)
    (True, False, False, False)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return not finite or math.isfinite(value)


def is_int(value: object) -> TypeGuard[int]:
    """True for a Python or NumPy integer that is not a bool (True is 1 to Python).

    Examples
    --------
    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_seed(value: object, *, owner: str, name: str = "random_state") -> None:
    """ConfigError unless ``value`` can seed NumPy: None, an int (not a bool), a Generator or a
    RandomState. Text such as ``"x"`` otherwise fails deep inside NumPy's SeedSequence."""
    import numpy as np

    if value is None or isinstance(value, np.random.Generator | np.random.RandomState):
        return
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return
    from loyalty_ml.exceptions import ConfigError

    raise ConfigError(
        f"The {name!r} parameter of {owner} must be None, an int or a numpy Generator. "
        f"Got {value!r} instead."
    )


def check_window_days(window_days: object, *, owner: str) -> int:
    """``window_days`` as an int, or ConfigError naming ``owner`` when it is not an int from 1 to
    :data:`MAX_WINDOW_DAYS` (ten years)."""
    if not is_int(window_days) or not 1 <= window_days <= MAX_WINDOW_DAYS:
        from loyalty_ml.exceptions import ConfigError

        raise ConfigError(
            f"The 'window_days' parameter of {owner} must be an int from 1 to "
            f"{MAX_WINDOW_DAYS:,} (ten years). Got {window_days!r} instead."
        )
    return int(window_days)
