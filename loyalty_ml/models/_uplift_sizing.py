"""How big ``UpliftModel``'s trees are, and how much of the linear arm model it blends in, when
they are ``"auto"``: both from the size of the experiment, the blend also from the table's width
(experiments/RESULTS.md)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from loyalty_ml.exceptions import ConfigError
from loyalty_ml.models._uplift_linear import WIDE_BLOCK

__all__ = [
    "PURPOSES",
    "Purpose",
    "auto_linear_weight",
    "auto_tree_size",
    "counts_columns",
    "linear_rows",
]

Purpose = Literal["ranking", "decisions"]
PURPOSES = ("ranking", "decisions")

# ``num_leaves="auto"`` / ``min_child_samples="auto"``: tree size by the rows of the smallest arm,
# from (_SMALL_LEAVES, _SMALL_CHILD) at or below _SMALL_ARM_ROWS to (_LARGE_LEAVES, _LARGE_CHILD) at or
# above _LARGE_ARM_ROWS, geometrically in between (experiments/RESULTS.md: the heavy end won the
# offer-surface benchmark at 1,600-2,000 rows per arm, the light end Hillstrom's ranking at 10,700).
_SMALL_ARM_ROWS, _LARGE_ARM_ROWS = 2_000, 10_000

_SMALL_LEAVES, _LARGE_LEAVES = 4, 15

_SMALL_CHILD, _LARGE_CHILD = 1_000, 100

# A leaf never needs more than this share of all training rows (tiny experiments still get splits).
_MAX_CHILD_SHARE = 1 / 8

# ``linear_weight="auto"``: below _LARGE_ARM_ROWS rows in the smallest arm, or on a wide table (more
# than WIDE_BLOCK effectively independent columns), average the meta-learner with the linear arm
# model (loyalty_ml.models._uplift_linear) with _SMALL_LINEAR_WEIGHT, else _LARGE_LINEAR_WEIGHT;
# above _LINEAR_MAX_ROWS rows the linear model is fitted on a sample of that many (its dense design
# has a column block per arm: memory and time).
_SMALL_LINEAR_WEIGHT = 0.5

_LARGE_LINEAR_WEIGHT = 0.25

_LINEAR_MAX_ROWS = 200_000


def auto_linear_weight(
    smallest_arm_rows: int, n_rows: int, table_columns: float | None = None
) -> float:
    """Weight of the linear arm model in the blend, from the rows of the smallest arm and the
    table's effectively independent columns (``table_columns``, see
    :func:`loyalty_ml.models._uplift_linear.table_columns`; None: not counted). ``n_rows`` is
    not used since session 60: above 200,000 rows the linear model is fitted on a sample of that
    many (:func:`linear_rows`), where it was left out before.

    0.5 below 10,000 rows in the smallest arm (the trees alone find too little there) and, at
    any size, on a wide table of more than ``WIDE_BLOCK`` (40) effectively independent columns,
    whose S-learner trees rarely split on the arm, one column among hundreds (a Lenta-shaped table
    of 200 columns, 129 independent, and 100,000 training rows, a quarter of them control: the
    trees' effects had a standard deviation of 0.0006 against the truth's 0.011 and correlated
    with it at 0.06, blended at 0.5 at 0.55). Otherwise 0.25: with 20,000 rows per arm on the
    known response surfaces of ``experiments/bench_offer_surface.py`` (Hillstrom's 8
    covariates) the trees alone captured 70.7% of the oracle's net value, blended at 0.25 76.1%
    and at 0.5 79.3%, but at 0.5 Hillstrom's own ranking (10,700 rows per arm) fell below the
    peers' (uplift@30% 0.0756 against scikit-uplift's 0.0775), at 0.25 it held (0.0776; the trees
    alone 0.0793; experiments/RESULTS.md, "The blend at every size").

    Examples
    --------
    >>> auto_linear_weight(1_600, 8_000), auto_linear_weight(10_700, 32_000)
    (0.5, 0.25)
    >>> auto_linear_weight(25_000, 100_000, table_columns=129)
    0.5
    """
    wide = table_columns is not None and table_columns > WIDE_BLOCK
    if smallest_arm_rows < _LARGE_ARM_ROWS or wide:
        return _SMALL_LINEAR_WEIGHT
    return _LARGE_LINEAR_WEIGHT


def counts_columns(smallest_arm_rows: int) -> bool:
    """Whether :func:`auto_linear_weight` reads the table's width for an experiment of this size
    (from 10,000 rows in the smallest arm; below, the blend is half whatever the width)."""
    return smallest_arm_rows >= _LARGE_ARM_ROWS


def linear_rows(arm: np.ndarray, seed: int) -> np.ndarray | None:
    """Rows the linear arm model is fitted on when there are more than ``_LINEAR_MAX_ROWS``: a
    sample of that many, each arm in proportion to its rows (at least one each), sorted; None:
    every row."""
    n = len(arm)
    if n <= _LINEAR_MAX_ROWS:
        return None
    rng = np.random.default_rng(seed)
    arms, counts = np.unique(arm, return_counts=True)
    # each arm's share of the sample, in whole rows that add up (largest remainders)
    quota = counts * _LINEAR_MAX_ROWS / n
    take = np.floor(quota).astype(np.int64)
    take[np.argsort(take - quota, kind="stable")[: _LINEAR_MAX_ROWS - int(take.sum())]] += 1
    take = np.maximum(take, 1)
    picked = [
        rng.choice(np.flatnonzero(arm == k), size, replace=False)
        for k, size in zip(arms, take, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def auto_tree_size(
    smallest_arm_rows: int,
    n_rows: int,
    *,
    per_arm_models: bool = False,
    purpose: Purpose = "ranking",
) -> tuple[int, int]:
    """``(num_leaves, min_child_samples)`` that ``"auto"`` resolves to for an experiment's size.

    Uplift is a small signal in noisy outcomes, and the fewer rows an arm has the noisier each
    arm's contrast: small experiments get few, large leaves; large ones the finer trees that rank
    best. Up to 2,000 rows in the smallest arm: 4 leaves and ``min_child_samples`` 1,000; from
    10,000: 15 leaves and 100; geometric steps in between. (LightGBM counts a leaf's rows by their
    hessian weight, so with sample weights, or probabilities near 0 or 1, a leaf can hold fewer
    rows than ``min_child_samples``: 656-940 where 1,000 was asked.) A leaf is never asked for
    more than an eighth of all rows, so that tiny experiments still split, nor for more than half
    the smallest arm (a quarter with ``per_arm_models``, the T, X and DR learners, which fit a
    model on each arm's rows), so that an arm much smaller than the others (a 10% offer next to a 60% control) can still be split off
    by the S-learner and its own model can split (with 750-row leaves, a 586-row arm got an effect
    of exactly 0 from the S-learner, and a 957-row arm one that mirrored the baseline from the T).

    With ``purpose="decisions"`` every experiment gets the small end, 4 leaves and
    ``min_child_samples`` 1,000 (with the same limits): finer trees rank customers better, but a
    plan compares each customer's effect with a cost, and where many customers' true effects sit
    near it, the finer trees' noise sends the offer to a random part of them (experiments/RESULTS.md).

    Parameters
    ----------
    smallest_arm_rows : int
        Training rows of the smallest arm (control included).
    n_rows : int
        All training rows.
    per_arm_models : bool
        True for learners that fit a model per arm (T, X, DR).
    purpose : {"ranking", "decisions"}
        What the model is for (see ``UpliftModel(purpose=)``).

    Examples
    --------
    >>> auto_tree_size(2_000, 10_000), auto_tree_size(10_700, 21_400), auto_tree_size(586, 6_000)
    ((4, 1000), (15, 100), (4, 293))
    >>> auto_tree_size(10_700, 32_000, purpose="decisions")
    (4, 1000)
    """
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise ConfigError(
            f"auto_tree_size: purpose must be one of {list(PURPOSES)}. Got {purpose!r} instead."
        )
    span = np.log(_LARGE_ARM_ROWS / _SMALL_ARM_ROWS)
    t = float(np.clip(np.log(max(smallest_arm_rows, 1) / _SMALL_ARM_ROWS) / span, 0.0, 1.0))
    if purpose == "decisions":
        t = 0.0
    leaves = round(_SMALL_LEAVES * (_LARGE_LEAVES / _SMALL_LEAVES) ** t)
    child = round(_SMALL_CHILD * (_LARGE_CHILD / _SMALL_CHILD) ** t)
    cap = min(
        int(n_rows * _MAX_CHILD_SHARE), max(smallest_arm_rows, 0) // (4 if per_arm_models else 2)
    )
    return leaves, max(1, min(child, cap))
