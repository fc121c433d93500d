"""Text cells a spreadsheet would run as formulas, made inert for CSV files people open.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` in an offer id or a group label becomes a
live link). :func:`spreadsheet_safe` prefixes such text cells with ``'``, which the spreadsheet
hides and reads as "text"; numbers (``-0.5``, ``+3``) and cells of numeric columns are untouched.
Report CSVs (the fairness tables logged to MLflow) are written this way; tables other systems load
(``loyalty-ml score --output x.csv``) only on request (``--excel-safe``), since the prefix changes
the value a program reads.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["spreadsheet_safe"]

_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _inert(value: object) -> object:
    if isinstance(value, str) and _FORMULA_START.match(value) and not _NUMBER.match(value):
        return "'" + value
    return value


def _column(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype(object).map(_inert)
    return values.map(_inert)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, index labels and column names cannot run as formulas.

    Examples
    --------
    >>> safe = spreadsheet_safe(pd.DataFrame({"g": ["=1+1", "-0.5", "north"], "x": [-1.0, 2.0, 3.0]}))
    >>> safe["g"].tolist(), safe["x"].tolist()
    (["'=1+1", '-0.5', 'north'], [-1.0, 2.0, 3.0])
    """
    out = frame.copy()
    for column in out.columns:
        out[column] = _column(out[column])
    if isinstance(out.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_arrays(
            [_column(out.index.get_level_values(i)) for i in range(out.index.nlevels)],
            names=out.index.names,
        )
    else:
        out.index = _column(out.index)
    out.columns = pd.Index([_inert(c) for c in out.columns])
    return out
