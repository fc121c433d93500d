"""One canonical row order for training, whatever order the rows arrived in.

LightGBM's bagging, cross-fitting folds and bootstrap resamples pick rows by position, so the same
table shuffled, or with its customer ids read as text instead of integers, would train another
model. Estimators therefore put their rows in the order of their index labels first: dates by
time, ids by number when every id is a whole number (13085, "13085" and 13085.0 alike), else by
their text. Rows with equal labels keep their relative order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.schema._id_text import id_texts


def canonical_row_order(index: pd.Index) -> np.ndarray:
    """Positions that sort ``index`` by its labels (all levels, the outermost first), stably.

    Examples
    --------
    >>> canonical_row_order(pd.Index(["10", "2", "1"], name="customer_id")).tolist()
    [2, 1, 0]
    """
    levels = (
        [index.get_level_values(i) for i in range(index.nlevels)]
        if isinstance(index, pd.MultiIndex)
        else [index]
    )
    keys = [_sort_key(pd.Index(level)) for level in levels]
    # np.lexsort sorts by the last key first; a trailing position keeps ties stable
    return np.lexsort((np.arange(len(index)), *reversed(keys)))


def _sort_key(level: pd.Index) -> np.ndarray:
    if isinstance(level.dtype, pd.CategoricalDtype):
        level = pd.Index(np.asarray(level, dtype=object))
    if pd.api.types.is_datetime64_any_dtype(level.dtype):
        return np.asarray(level.to_numpy(dtype="datetime64[ns]").astype(np.int64))
    if pd.api.types.is_bool_dtype(level.dtype):
        return np.asarray(level, dtype=np.int64)
    if pd.api.types.is_numeric_dtype(level.dtype):
        values = np.asarray(level, dtype=np.float64)
        return np.where(np.isnan(values), np.inf, values)
    texts = pd.Series(id_texts(level, caller="canonical_row_order"), dtype=object)
    numbers = pd.to_numeric(texts, errors="coerce")
    if numbers.notna().all() and bool((numbers == np.floor(numbers)).all()):
        return numbers.to_numpy(dtype=np.float64)
    return pd.factorize(texts.fillna(""), sort=True)[0]
