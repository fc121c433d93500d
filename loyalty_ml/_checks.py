"""Small value checks shared by the parameter validation of every module."""

from __future__ import annotations

import math
import numbers

__all__ = ["MAX_WINDOW_DAYS", "check_seed", "is_real"]

#: Longest window (days) a response window, a label horizon or a report may span: ten years. A
#: longer one runs past the dates int64 nanoseconds hold (2262) and no programme needs it.
MAX_WINDOW_DAYS = 3650


def is_real(value: object, *, finite: bool = False) -> bool:
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
