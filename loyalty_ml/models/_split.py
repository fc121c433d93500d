"""Hold-out splits that respect time: the latest cutoffs of a training table are the future.

A training table from :func:`loyalty_ml.features.training_table` is indexed by ``(as_of, customer_id)``.
Rows of one cutoff share a label window, so a random split across cutoffs leaks the future into the
past; these helpers hold out whole cutoffs instead, and fall back to a stratified random split (which
is *not* time-aware) only when the table has no ``as_of`` level or a single cutoff.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.models._row_order import canonical_row_order
from loyalty_ml.schema import columns as C

__all__ = [
    "cutoff_values",
    "stratified_holdout_mask",
    "time_split",
]


def cutoff_values(index: pd.Index) -> np.ndarray | None:
    """Return the ``as_of`` value of every row, or ``None`` when the index has no such level.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("2024-01-01", 1), ("2024-02-01", 1)], names=["as_of", "customer_id"])
    >>> cutoff_values(idx).tolist()
    ['2024-01-01', '2024-02-01']
    """
    if C.AS_OF not in (index.names or []):
        return None
    return np.asarray(index.get_level_values(C.AS_OF))


def time_split(
    index: pd.Index, *, n_cutoffs: int, gap_days: int, seed: int
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Training and hold-out rows for early stopping and calibration, honest about label overlap.

    The hold-out is the latest ``n_cutoffs`` cutoffs. A cutoff ``c`` has labels in
    ``[c, c + horizon)``, so cutoffs less than ``gap_days`` (the horizon) before the hold-out share
    its label period and, through the same customers, its answers; they are left out of training.
    When no cutoff is that far back, the split falls back to disjoint customers: the hold-out keeps
    a random half of the customers of the latest cutoff(s), training the other half at earlier
    cutoffs (label periods still overlap in time, but no customer is on both sides).

    Returns ``(train_mask, holdout_mask, description)``, or ``None`` without an ``as_of`` level or with
    too few cutoffs.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01"]), ["a"]], names=["as_of", "customer_id"]
    ... )
    >>> train, held, _ = time_split(idx, n_cutoffs=1, gap_days=90, seed=0)
    >>> train.tolist(), held.tolist()
    ([True, True, False], [False, False, True])
    """
    cutoffs = cutoff_values(index)
    if cutoffs is None:
        return None
    distinct = np.unique(cutoffs)
    if distinct.size <= n_cutoffs:
        return None
    first_held = distinct[-n_cutoffs]
    held = cutoffs >= first_held
    if np.issubdtype(cutoffs.dtype, np.datetime64):
        last_train = first_held - np.timedelta64(gap_days, "D")
    else:  # plain numbers are taken as days
        last_train = first_held - gap_days
    train = cutoffs <= last_train
    if train.any():
        return (
            train,
            held,
            f"time: latest {n_cutoffs} cutoff(s), training cutoffs >= {gap_days} days before",
        )
    before = cutoffs < first_held
    if C.CUSTOMER_ID not in (index.names or []):
        return (
            before,
            held,
            "time: latest cutoff(s); label periods overlap (too few cutoffs for the gap)",
        )
    customers = np.asarray(index.get_level_values(C.CUSTOMER_ID))
    # customers in one order whatever the ids' dtype ("10" after "9", as 10 after 9), so the
    # same seed holds out the same customers
    held_customers = pd.unique(customers[held])
    held_customers = held_customers[canonical_row_order(pd.Index(held_customers))]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(held_customers, size=held_customers.size // 2, replace=False)
    in_chosen = np.isin(customers, chosen)
    return (
        before & ~in_chosen,
        held & in_chosen,
        "time and disjoint customers: too few cutoffs for the gap, label periods overlap",
    )


def stratified_holdout_mask(y: np.ndarray, *, fraction: float, seed: int) -> np.ndarray:
    """Hold out ``fraction`` of each class at random (NOT time-aware; the fallback).

    Examples
    --------
    >>> stratified_holdout_mask(np.array([0, 0, 0, 0, 1, 1, 1, 1]), fraction=0.5, seed=0).sum()
    np.int64(4)
    """
    rng = np.random.default_rng(seed)
    mask = np.zeros(y.shape[0], dtype=bool)
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        n_out = round(fraction * rows.size)
        mask[rng.choice(rows, size=n_out, replace=False)] = True
    return mask
