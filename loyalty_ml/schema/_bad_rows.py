"""The first offending rows of a column and their values, for error messages that name them (ids
withheld inside a job)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import SHOW_IDS_ENV, format_examples, ids_withheld
from loyalty_ml.schema import columns as C

__all__ = ["bad_rows"]


def bad_rows(series: pd.Series, mask: np.ndarray | pd.Series, *, ids: bool = False) -> str:
    """The first offending rows and their values.

    Rows are named by their index labels, or "customer <id>" when the index holds customer ids.
    Inside a job (:func:`~loyalty_ml.exceptions.withhold_ids`) customer ids are not quoted: a
    customer-indexed series names row positions instead, and with ``ids`` (the values are ids)
    the values are left out.
    """
    mask = np.asarray(mask, dtype=bool)
    idx = series.index[mask]
    vals = series[mask]
    by_customer = series.index.name == C.CUSTOMER_ID
    withheld = ids_withheld()
    if by_customer and withheld:
        labels = [f"row {i}" for i in np.flatnonzero(mask)[:5]]
    else:
        labels = [f"{'customer' if by_customer else 'row'} {i}" for i in idx[:5]]
    note = f" (ids withheld from job logs; set {SHOW_IDS_ENV}=1 to show them)"
    if ids and withheld:
        return format_examples(labels, total=int(mask.sum())).replace("'", "") + note
    shown = [f"{label}: {v!r}" for label, v in zip(labels, vals.iloc[:5], strict=False)]
    text = format_examples(shown, total=int(mask.sum())).replace('"', "")
    return text + (note if by_customer and withheld else "")
