"""A regularised linear S-learner with arm x feature interactions, blended into small experiments.

Trees need many rows per arm to find where an effect differs; with a few thousand they split on noise
or (with ``num_leaves="auto"``) barely split at all. A linear model of the outcome with one set of
feature slopes per arm borrows strength across all rows: one baseline, plus per arm an intercept and
slopes, fitted together under an L2 penalty. ``UpliftModel(linear_weight="auto")`` averages its
baseline and effects with the meta-learner's when the smallest arm has fewer than 10,000 rows
(experiments/RESULTS.md: on the known response surfaces the blend lifted capture from 65% to 73% on the
hold-out surface and cut the cells under 60% from 19 to 7; on Hillstrom's 10,700 rows per arm the
trees alone rank better, and the simulator's budgeted plans preferred them too).

Design, on the encoded float matrix of :class:`~loyalty_ml.models._uplift_encoding.FeatureEncoding`:

- numeric columns: quantile-normal scores (robust to heavy-tailed spend and counts; infinities count
  as the extremes), missing values as 0 plus a missing indicator for each column that had any at fit
  (columns with no value at all are dropped);
- categorical codes: one indicator per level among the ``MAX_LEVELS`` most frequent at fit but the
  most frequent one, the reference; missing, unseen and rarer levels are read as that reference;
- every column standardised (a column constant at fit is dropped);
- design = ``[F, 1{arm=k}, 1{arm=k} * F for k = 1..K]``;
- binary outcomes: L1-penalised ``LogisticRegression(C=LINEAR_C)`` (liblinear); continuous ones:
  ``Lasso`` on the standardised outcome with the same threshold on the score (``alpha = 1 / (C n)``).

The penalty is L1 because real feature tables carry columns that say nothing about the effects. Each
such column adds one slope per arm, and an L2 penalty keeps every slope, so their noise adds up in
the effects: with 16 irrelevant columns next to Hillstrom's 8 covariates the L2 blend's plans fell
from 83% to 73% of the oracle's net value on ``experiments/bench_offer_surface.py`` (32,000
customers; 3 seeds), the L1 blend's from 84% to 78%, and L1 did as well or better without them at
16,000-64,000 customers and on the simulator's 40 features (experiments/RESULTS.md).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.preprocessing import QuantileTransformer

__all__ = ["LINEAR_C", "MAX_LEVELS", "LinearArmModel", "fit_linear"]

#: Inverse L1 penalty of the logistic model (scikit-learn's ``C``): a slope enters the model when
#: its score, the weighted sum of feature x residual over the rows, exceeds ``1 / C``. Chosen on
#: the offer surfaces with and without irrelevant columns (0.04 held up best with them, 0.08
#: without; 0.08 is ahead of the earlier L2 penalty in both) and checked on the simulator.
LINEAR_C = 0.08
#: scikit-learn 1.8 deprecated ``penalty`` for ``l1_ratio``; older releases need ``penalty="l1"``.
_L1 = (
    {"l1_ratio": 1.0}
    if inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated"
    else {"penalty": "l1"}
)
#: Levels per categorical column that the model tells apart: its most frequent ones (a store id or
#: postcode with thousands of levels would make the dense design rows x levels x arms); the rest are
#: read as the most frequent level.
MAX_LEVELS = 20
#: Designs of more cells than this are built sparse (see ``_design``).
_DENSE_DESIGN_CELLS = 20_000_000
_MAX_QUANTILES = 200
#: liblinear's synthetic intercept feature: its weight is penalised, so a large value keeps the
#: intercept (the baseline's level) almost free.
_INTERCEPT_SCALING = 100.0
#: liblinear's stopping tolerance: 1e-4 (its default) left coefficients 2e-5 to 2e-3 apart when only
#: the order of the arms' columns changed; 1e-8 leaves them 1e-7 apart for about twice the time
#: (0.3 s on 16,000 rows, 8 s on 200,000 with 5 arms and 40 features).
_LIBLINEAR_TOL = 1e-8


@dataclass
class LinearArmModel:
    """A fitted linear arm model: baseline and per-arm effects for rows of the encoded matrix."""

    numeric: np.ndarray
    categorical: np.ndarray
    levels: list[np.ndarray]
    missing_columns: np.ndarray
    quantiles: QuantileTransformer | None
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    n_arms: int
    binary: bool
    y_mean: float = 0.0
    y_scale: float = 1.0

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; a model pickled by the first linear blend (2026-12-01) stored every level of
        a categorical feature and dropped the first when predicting: read it in today's layout."""
        self.__dict__.update(state)
        numeric = 0 if self.quantiles is None else len(self.numeric)
        missing = int(np.sum(self.missing_columns))
        stored = sum(len(levels) for levels in self.levels)
        arms = self.n_arms - 1

        def coefficients(width: int) -> int:
            return width + arms * (width + 1)

        width = numeric + missing + stored
        old_width = width - sum(1 for levels in self.levels if len(levels))
        if len(self.coef) != coefficients(width) and len(self.coef) == coefficients(old_width):
            self.levels = [levels[1:] for levels in self.levels]

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        """Quantile scores, missing indicators and level indicators, before standardisation."""
        parts = []
        if self.quantiles is not None:  # there are numeric columns
            values = _finite(matrix[:, self.numeric])
            parts.append(np.nan_to_num(self.quantiles.transform(values), nan=0.0))
            parts.append(np.isnan(values[:, self.missing_columns]).astype(np.float64))
        for column, levels in zip(self.categorical, self.levels, strict=True):
            if len(levels):
                codes = matrix[:, column]
                parts.append(np.column_stack([codes == lv for lv in levels]).astype(float))
        return np.hstack(parts) if parts else np.zeros((len(matrix), 0))

    def features(self, matrix: np.ndarray) -> np.ndarray:
        """The standardised feature block ``F`` of the design for the rows of ``matrix``."""
        return (self.raw(matrix) - self.mean) / self.scale

    def predict(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(baseline (n,), effects (n, K))``: P(y | control, x) and the per-arm differences."""
        block = self.features(matrix)
        width = block.shape[1]
        base = self.intercept + block @ self.coef[:width]
        arms = []
        for k in range(1, self.n_arms):
            start = width + (k - 1) * (width + 1)
            arms.append(base + self.coef[start] + block @ self.coef[start + 1 : start + 1 + width])
        linear = np.column_stack(arms) if arms else np.zeros((len(matrix), 0))
        if self.binary:
            baseline = expit(base)
            return baseline, expit(linear) - baseline[:, None]
        baseline = self.y_mean + self.y_scale * base
        return baseline, self.y_scale * (linear - base[:, None])


def _frequent_levels(codes: np.ndarray) -> np.ndarray:
    """Category codes that get an indicator: the 2nd to ``MAX_LEVELS``-th most frequent (ties by code).

    The most frequent level is the reference (no indicator), so missing, unseen and rarer levels,
    which have no indicator either, are read as the most common level.
    """
    present = codes[~np.isnan(codes)]
    levels, counts = np.unique(present, return_counts=True)
    order = np.lexsort((levels, -counts))[1:MAX_LEVELS]
    return np.sort(levels[order])


def _finite(values: np.ndarray) -> np.ndarray:
    """Infinities as the largest finite numbers (the trees read them as "very large" too); NaN kept."""
    big = np.finfo(np.float64).max
    return np.nan_to_num(values, nan=np.nan, posinf=big, neginf=-big)


def _design(block: np.ndarray, arm: np.ndarray, n_arms: int) -> np.ndarray | sparse.csr_matrix:
    """``[F, 1_k, F 1_k for each arm k]``: dense up to ``_DENSE_DESIGN_CELLS`` cells, else sparse.

    Each row is non-zero only in the shared block and its own arm's block, so a design with many
    arms is mostly zeros: sparse, its memory grows with the rows, not with rows x arms (60 offers of
    1,000 rows and 30 features took 1.8 GB dense). Small designs stay dense (the same fits as ever).
    """
    width = block.shape[1] + (n_arms - 1) * (block.shape[1] + 1)
    if len(block) * width <= _DENSE_DESIGN_CELLS:
        columns = [block]
        for k in range(1, n_arms):
            on = (arm == k).astype(np.float64)[:, None]
            columns.append(np.hstack([on, block * on]))
        return np.hstack(columns)
    parts = [sparse.csr_matrix(block)]
    for k in range(1, n_arms):
        rows = np.flatnonzero(arm == k)
        own = np.hstack([np.ones((len(rows), 1)), block[rows]])
        parts.append(
            sparse.csr_matrix(
                (
                    own.ravel(),
                    (np.repeat(rows, own.shape[1]), np.tile(np.arange(own.shape[1]), len(rows))),
                ),
                shape=(len(block), own.shape[1]),
            )
        )
    return sparse.hstack(parts, format="csr")


def fit_linear(
    matrix: np.ndarray,
    categorical: tuple[int, ...],
    arm: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    *,
    n_arms: int,
    binary: bool,
    seed: int,
) -> LinearArmModel:
    """Fit the linear arm model on the encoded ``matrix`` (categorical codes at ``categorical``)."""
    cats = np.array(sorted(categorical), dtype=np.int64)
    # A numeric column with no value at all carries nothing (and would upset the quantiles).
    numeric = np.array(
        [
            j
            for j in range(matrix.shape[1])
            if j not in set(cats) and not np.isnan(matrix[:, j]).all()
        ],
        dtype=np.int64,
    )
    quantiles = None
    missing = np.zeros(0, dtype=bool)
    if numeric.size:
        values = _finite(matrix[:, numeric])
        missing = np.isnan(values).any(axis=0)
        quantiles = QuantileTransformer(
            n_quantiles=max(2, min(_MAX_QUANTILES, len(matrix))),
            output_distribution="normal",
            subsample=100_000,
            random_state=seed,
        ).fit(values)
    levels = [_frequent_levels(matrix[:, c]) for c in cats]
    model = LinearArmModel(
        numeric=numeric,
        categorical=cats,
        levels=levels,
        missing_columns=missing,
        quantiles=quantiles,
        mean=np.zeros(0),
        scale=np.ones(0),
        coef=np.zeros(0),
        intercept=0.0,
        n_arms=n_arms,
        binary=binary,
    )
    # Weights as multiples of their mean, so that the fixed penalty means the same whatever their
    # scale (weights summing to 1 would otherwise drown the data in the penalty). UpliftModel.fit
    # has checked that every arm has a positive weight.
    weight = weight / weight.mean()
    raw = model.raw(matrix)
    model.mean = raw.mean(axis=0)
    spread = raw.std(axis=0)
    # A column (nearly) constant at fit carries nothing: an infinite scale zeroes it at predict too,
    # whatever value it then takes (its std is float noise, e.g. 4e-15, not 0).
    model.scale = np.where(spread > 1e-9, spread, np.inf)
    design = _design((raw - model.mean) / model.scale, arm, n_arms)
    if binary and np.unique(y).size == 2:
        # liblinear's coordinate descent: 3.5 s on 200,000 rows x 5 arms x 40 features where saga
        # took 120 s for the same zeros. It penalises the intercept as a feature of value
        # ``intercept_scaling``: a large value makes that penalty negligible.
        fitted = LogisticRegression(
            C=LINEAR_C,
            solver="liblinear",
            intercept_scaling=_INTERCEPT_SCALING,
            tol=_LIBLINEAR_TOL,
            max_iter=5_000,
            random_state=seed,
            **_L1,
        ).fit(design, y, sample_weight=weight)
        model.coef, model.intercept = fitted.coef_[0], float(fitted.intercept_[0])
        return model
    model.binary = False
    model.y_mean = float(np.average(y, weights=weight))
    spread_y = float(np.sqrt(np.average((y - model.y_mean) ** 2, weights=weight)))
    if not spread_y > 0:  # one outcome value (e.g. no conversions): that value, no effects
        model.coef, model.y_scale = np.zeros(design.shape[1]), 0.0
        return model
    # A continuous outcome: the lasso on the standardised outcome. Its objective is the mean of
    # half the squared residuals plus alpha |w|, so a slope enters when its score exceeds
    # alpha n: the logistic model's threshold 1 / C.
    model.y_scale = spread_y
    lasso = Lasso(alpha=1.0 / (LINEAR_C * len(y)), max_iter=10_000, tol=1e-6).fit(
        design, (y - model.y_mean) / spread_y, sample_weight=weight
    )
    model.coef, model.intercept = np.asarray(lasso.coef_), float(lasso.intercept_)
    return model
