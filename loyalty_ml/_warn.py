"""Warnings attributed to the user's line, not to the library's internals.

``warnings.warn(..., stacklevel=n)`` needs each call site to know how deep inside the package it
runs, and that number goes stale whenever a helper or a decorator (``withhold_ids``) is put in
between: the warning then points at ``loyalty_ml/exceptions.py`` instead of the notebook cell
that called ``score_customers``. :func:`warn_user` walks out of the package instead.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn_user"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` attributed to the first frame outside loyalty_ml.

    That frame is the user's code (a notebook cell, a script, a test) or, when the library is
    called back by another one (pandas, MLflow, a thread), that library's frame.
    """
    level = 2  # 1 is this function, 2 the library code that called it
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
