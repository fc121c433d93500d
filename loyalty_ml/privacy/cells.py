"""Small cells in published aggregates: figures about a handful of customers are not published.

A cohort of one customer, or a campaign arm of three, shows those customers' own purchases to
whoever reads the report or the training run. Every output that publishes per-group figures
(the HTML report, the training run's plots, the fairness tables logged to MLflow) keeps only the
count of a group smaller than :data:`MIN_CELL_SIZE` customers and blanks its figures.
"""

from __future__ import annotations

import pandas as pd

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
    under ``min_count``; ``sizes`` is aligned with ``frame``'s rows.

    Examples
    --------
    >>> arms = pd.DataFrame({"rows": [1, 50], "response_rate": [1.0, 0.2]}, index=["vip", "a"])
    >>> blank_small_rows(arms, arms["rows"], keep=("rows",))["response_rate"].tolist()
    [nan, 0.2]
    """
    out = frame.copy()
    small = pd.Series(sizes).to_numpy() < min_count
    figures = [c for c in out.columns if c not in keep]
    if small.any() and figures:
        out[figures] = out[figures].astype(float)
        out.loc[small, figures] = float("nan")
    return out


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
