"""Small value checks shared by the parameter validation of every module."""

from __future__ import annotations

import math
import numbers

__all__ = ["is_real"]


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
