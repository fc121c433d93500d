"""Short reprs for result objects that hold tables, so that a notebook cell shows a summary.

A dataclass's default repr prints every DataFrame field in full; ``summary_repr`` prints scalars as
they are and tables by their shape.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["summary_repr"]


def _short(value: Any) -> str:
    if isinstance(value, pd.DataFrame):
        return f"<DataFrame: {value.shape[0]:,} rows x {value.shape[1]} columns>"
    if isinstance(value, pd.Series):
        return f"<Series: {len(value):,} rows>"
    if isinstance(value, pd.Index):
        return f"<Index: {len(value):,} values>"
    if isinstance(value, np.ndarray):
        return f"<ndarray: shape {value.shape}>"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def summary_repr(self: Any) -> str:
    """``Name(field=value, ...)`` with tables as their shapes (use as a dataclass's ``__repr__``).

    Examples
    --------
    >>> @dataclasses.dataclass
    ... class Result:
    ...     level: float
    ...     table: pd.DataFrame
    ...     __repr__ = summary_repr
    >>> Result(0.25, pd.DataFrame({"a": [1, 2]}))
    Result(level=0.25, table=<DataFrame: 2 rows x 1 columns>)
    """
    parts = (
        f"{f.name}={_short(getattr(self, f.name))}" for f in dataclasses.fields(self) if f.repr
    )
    return f"{type(self).__name__}({', '.join(parts)})"
