"""Inputs of the churn and uplift metrics: pandas inputs aligned on their index, numbers, missing rows.

The metrics take arrays by position, as scikit-learn does. Series and DataFrames carry customer ids,
so when several are given they are matched by id (a shuffled or filtered Series would otherwise pair
one customer's score with another's outcome without a sound).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import DataError, format_examples, format_ids

__all__ = [
    "align_on_index",
    "arm_labelled",
    "as_float_array",
    "refuse_missing_arms",
    "refuse_not_finite",
]


def align_on_index(inputs: dict[str, Any], *, where: str) -> tuple[dict[str, Any], pd.Index | None]:
    """``inputs`` with every Series/DataFrame in the order of the first one, and that index.

    Arrays and lists are left as they are (taken by position). The index is None when no input is
    indexed.

    Raises
    ------
    DataError
        When two indexed inputs do not hold the same ids, or one repeats an id.
    """
    indexed = {name: v for name, v in inputs.items() if isinstance(v, pd.Series | pd.DataFrame)}
    if not indexed:
        return inputs, None
    first, reference = next((name, v.index) for name, v in indexed.items())
    positional = [
        name
        for name, v in inputs.items()
        if name not in indexed and v is not None and np.ndim(v) > 0
    ]
    reordered = [name for name, v in indexed.items() if not v.index.equals(reference)]
    if positional and reordered:
        # the arrays' rows follow one order or the other: matched by position, they would pair
        # some customers' outcomes with other customers' arms or scores
        raise DataError(
            f"{where}: {', '.join(positional)} {'is a plain array' if len(positional) == 1 else 'are plain arrays'} "
            f"but {first} and {reordered[0]} are indexed in different orders, so which rows the "
            "arrays' values belong to is ambiguous. Pass every input as a Series indexed by "
            f"customer id, or put the indexed ones in one order first (e.g. "
            f"{reordered[0]}.loc[{first}.index])."
        )
    out = dict(inputs)
    for name, values in indexed.items():
        if values.index.equals(reference):
            continue
        for owner, index in ((first, reference), (name, values.index)):
            repeated = index[index.duplicated()].unique()
            if len(repeated):
                raise DataError(
                    f"{where}: {owner} has repeated index values "
                    f"{format_examples(repeated.tolist(), total=len(repeated))}, so it cannot be "
                    f"matched with {name if owner == first else first} by id. Keep one row per "
                    "customer, or pass plain arrays in the same order."
                )
        missing = reference.difference(values.index, sort=False)
        extra = values.index.difference(reference, sort=False)
        if len(missing) or len(extra):
            parts = [
                f"{len(ids)} id(s) {label} {format_ids(ids.tolist(), total=len(ids))}"
                for ids, label in ((missing, f"of {first} are missing"), (extra, "are extra"))
                if len(ids)
            ]
            raise DataError(
                f"{where}: {name} is not indexed by the same ids as {first}: "
                + "; ".join(parts)
                + f". Restrict both to the same customers (e.g. {name}.loc[{first}.index]), or "
                "pass plain arrays if the rows are already in the same order."
            )
        out[name] = values.reindex(reference)
    return out, reference


def as_float_array(values: Any, *, name: str, where: str) -> np.ndarray:
    """``values`` flattened to float64; missing values become NaN, text is refused with examples."""
    if values is None or np.ndim(values) == 0:
        raise DataError(
            f"{where}: {name} must be one value per row (an array, list or Series); got {values!r}."
        )
    if isinstance(values, pd.Series | pd.DataFrame):
        try:
            return values.to_numpy(dtype=np.float64, na_value=np.nan).ravel()
        except (TypeError, ValueError):
            values = values.to_numpy(dtype=object)
    array = np.asarray(values)
    if array.dtype.kind in "biuf":
        return array.astype(np.float64).ravel()
    flat = pd.Series(array.ravel(), dtype=object)
    numbers = pd.to_numeric(flat, errors="coerce")
    bad = (numbers.isna() & flat.notna()).to_numpy()
    if bad.any():
        shown = flat[bad].unique().tolist()
        raise DataError(
            f"{where}: {name} must hold numbers; {int(bad.sum())} value(s) are not, e.g. "
            f"{format_examples(shown)}. Convert it first, e.g. with pd.to_numeric or, for yes/no "
            "labels, .map({'Y': 1, 'N': 0})."
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def refuse_not_finite(array: np.ndarray, *, name: str, where: str, index: pd.Index | None) -> None:
    """DataError naming the rows (ids when ``index`` is given) where ``array`` is NaN or infinite."""
    bad = ~np.isfinite(array)
    if bad.any():
        rows = index[bad].tolist() if index is not None else np.flatnonzero(bad).tolist()
        raise DataError(
            f"{where}: {name} is missing or infinite at {'ids' if index is not None else 'rows'} "
            f"{format_examples(rows, total=int(bad.sum()))}. Drop those rows from every input, or "
            "fill them."
        )


def refuse_missing_arms(values: np.ndarray, *, where: str, index: pd.Index | None) -> None:
    """DataError naming the rows of ``t`` without an arm (they would become an arm named "nan")."""
    missing = np.asarray(pd.isna(values), dtype=bool)
    if missing.any():
        rows = index[missing] if index is not None else np.flatnonzero(missing)
        raise DataError(
            f"{where}: t has missing arm labels at {'ids' if index is not None else 'rows'} "
            f"{format_examples(rows.tolist(), total=int(missing.sum()))}; every row needs the arm "
            "it received. Drop those rows from every input."
        )


def arm_labelled(values: pd.DataFrame | pd.Series, *, name: str, where: str) -> Any:
    """``values`` with its arm labels (a DataFrame's columns, a Series' index) as text, as arms are
    named everywhere (``1``, ``1.0`` and ``"1"`` are the arm ``"1"``); a label that then names two
    columns or entries is refused (which of the two is the arm's?)."""
    from loyalty_ml.models._uplift_rows import label_text

    out: pd.DataFrame | pd.Series
    if isinstance(values, pd.DataFrame):
        out = values.rename(columns=label_text)
        labels = out.columns
    else:
        out = values.rename(index=label_text)
        labels = out.index
    if labels.has_duplicates:
        twice = sorted(set(labels[labels.duplicated()]))
        raise DataError(
            f"{where}: {name} names the arm(s) {format_examples(twice)} more than once (a repeated "
            "label, or 1 and '1', which are one arm); give each arm one column."
        )
    return out
