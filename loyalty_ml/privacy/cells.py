"""Small cells in published aggregates: figures about a handful of customers are not published.

A cohort of one customer, or a campaign arm of three, shows those customers' own purchases to
whoever reads the report or the training run. Every output that publishes per-group figures
(the HTML report, the training run's plots, the fairness tables logged to MLflow) keeps only the
count of a group smaller than :data:`MIN_CELL_SIZE` customers and blanks its figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import DataError

__all__ = ["MIN_CELL_SIZE", "blank_small_cohorts", "blank_small_rows"]

#: Groups (cohorts, arms, fairness groups) with fewer customers are published as a count only.
MIN_CELL_SIZE = 10


def blank_small_rows(
    frame: pd.DataFrame,
    sizes: pd.Series,
    *,
    keep: tuple[str, ...] = (),
    min_count: int = MIN_CELL_SIZE,
) -> pd.DataFrame:
    """A copy of ``frame`` with every column but ``keep`` blanked (NaN) on rows whose size is
    under ``min_count``, or unknown (a missing size is not a large one).

    ``sizes`` is a Series indexed like ``frame`` (matched by label, in any order) or an array of
    one size per row, in ``frame``'s order. Text columns are blanked too (the column becomes
    ``object``).

    Raises
    ------
    DataError
        ``sizes`` does not give one size to each row of ``frame``.

    Examples
    --------
    >>> arms = pd.DataFrame({"rows": [1, 50], "response_rate": [1.0, 0.2]}, index=["vip", "a"])
    >>> blank_small_rows(arms, arms["rows"], keep=("rows",))["response_rate"].tolist()
    [nan, 0.2]
    """
    values = _sizes_by_row(frame, sizes)
    small = ~(values >= min_count)  # NaN compares False: an unknown size is blanked
    out = frame.copy()
    figures = [c for c in out.columns if c not in keep]
    if small.any() and figures:
        for column in figures:
            numeric = pd.api.types.is_numeric_dtype(out[column].dtype)
            out[column] = out[column].astype(float if numeric else object)
            out.loc[small, column] = np.nan
    return out


def _sizes_by_row(frame: pd.DataFrame, sizes: object) -> np.ndarray:
    if isinstance(sizes, pd.Series):
        if not sizes.index.equals(frame.index):
            if sizes.index.has_duplicates or not frame.index.isin(sizes.index).all():
                raise DataError(
                    "blank_small_rows: sizes must be indexed like the frame (one size per row, "
                    f"matched by label); {int((~frame.index.isin(sizes.index)).sum())} row(s) have "
                    "no size"
                    + (", and sizes repeats a label" if sizes.index.has_duplicates else "")
                    + "."
                )
            sizes = sizes.reindex(frame.index)
        return pd.to_numeric(sizes, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = pd.to_numeric(pd.Series(np.asarray(sizes).ravel()), errors="coerce")
    if len(values) != len(frame):
        raise DataError(
            f"blank_small_rows: got {len(values)} sizes for {len(frame)} rows; pass one per row, "
            "or a Series indexed like the frame."
        )
    return values.to_numpy(dtype=float, na_value=np.nan)


def blank_small_cohorts(
    retention: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    freq: str = "M",
    as_of: object = None,
    min_count: int = MIN_CELL_SIZE,
) -> pd.DataFrame:
    """``retention`` (from :func:`loyalty_ml.kpis.cohort_retention`) with the rows of cohorts of
    fewer than ``min_count`` customers blanked: their cells are those customers' own months."""
    from loyalty_ml.kpis import cohort_counts

    sizes = cohort_counts(transactions, freq=freq, as_of=as_of).iloc[:, 0]  # type: ignore[arg-type]
    return blank_small_rows(
        retention, sizes.reindex(retention.index).fillna(0), min_count=min_count
    )
