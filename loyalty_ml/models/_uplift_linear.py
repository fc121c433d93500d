"""A regularised linear S-learner with arm x feature interactions, blended into the meta-learner.

Trees need many rows per arm to find where an effect differs; with a few thousand they split on noise
or (with ``num_leaves="auto"``) barely split at all. A linear model of the outcome with one set of
feature slopes per arm borrows strength across all rows: one baseline, plus per arm an intercept and
slopes, fitted together under an L1 penalty. ``UpliftModel(linear_weight="auto")`` averages its
baseline and effects with the meta-learner's (``_uplift_sizing.auto_linear_weight``): half and
half when the smallest arm has fewer than 10,000 rows or the table holds more than ``WIDE_BLOCK``
effectively independent columns, a quarter otherwise, and above 200,000 rows fitted on a sample
of them (experiments/RESULTS.md: on the known response surfaces
the blend lifted capture from 65% to 73% on the hold-out surface and cut the cells under 60% from
19 to 7; at 20,000 rows per arm a quarter lifted it from 70.7% to 76.1%, where on Hillstrom's
10,700 rows per arm the trees alone rank better and half would fall below the peers).

Design, on the encoded float matrix of :class:`~loyalty_ml.models._uplift_encoding.FeatureEncoding`:

- numeric columns: quantile-normal scores (robust to heavy-tailed spend and counts; infinities count
  as the extremes), missing values as 0 plus a missing indicator for each column that had any at fit
  (columns with no value at all are dropped);
- categorical codes: one indicator per level among the ``MAX_LEVELS`` most frequent at fit but the
  most frequent one, the reference; missing, unseen and rarer levels are read as that reference;
- every column standardised (a column constant at fit is dropped);
- design = ``[F, 1{arm=k}, 1{arm=k} * F for k = 1..K]``;
- binary outcomes: L1-penalised logistic regression, liblinear's objective for
  ``LogisticRegression(C=linear_c(m), intercept_scaling=100)`` solved by :func:`_l1_logistic`,
  whose penalty grows once the block holds more than ``WIDE_BLOCK`` effectively independent
  columns ``m`` (:func:`effective_columns`, :func:`linear_c`); continuous ones: ``Lasso`` on the
  standardised outcome with the same threshold on the score (``alpha = 1 / (C n)``).

The penalty is L1 because real feature tables carry columns that say nothing about the effects. Each
such column adds one slope per arm, and an L2 penalty keeps every slope, so their noise adds up in
the effects: with 16 irrelevant columns next to Hillstrom's 8 covariates the L2 blend's plans fell
from 83% to 73% of the oracle's net value on ``experiments/bench_offer_surface.py`` (32,000
customers; 3 seeds), the L1 blend's from 84% to 78%, and L1 did as well or better without them at
16,000-64,000 customers and on the simulator's 40 features (experiments/RESULTS.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, ndtri
from sklearn.linear_model import Lasso, lars_path_gram
from sklearn.preprocessing import QuantileTransformer
from threadpoolctl import threadpool_limits

from loyalty_ml._parallel import run_both

__all__ = [
    "LINEAR_C",
    "MAX_LEVELS",
    "WIDE_BLOCK",
    "LinearArmModel",
    "effective_columns",
    "fit_linear",
    "linear_c",
    "table_columns",
]

#: Inverse L1 penalty of the logistic model (scikit-learn's ``C``): a slope enters the model when
#: its score, the weighted sum of feature x residual over the rows, exceeds ``1 / C``. Chosen on
#: the offer surfaces with and without irrelevant columns (0.04 held up best with them, 0.08
#: without; 0.08 is ahead of the earlier L2 penalty in both) and checked on the simulator.
LINEAR_C = 0.08
#: Effectively independent columns of the standardised block (:func:`effective_columns`) up to
#: which ``LINEAR_C`` applies as chosen; past it the penalty grows with their number
#: (:func:`linear_c`). Every table the defaults were measured on stays below it: Hillstrom's
#: covariates, Online Retail II's features (18; 27 with 42 look-back windows, 110 columns) and
#: the simulator's (29; 34 with 15 windows, 76 columns).
WIDE_BLOCK = 40
#: Rows of the sample whose correlation matrix :func:`effective_columns` reads.
_EFFECTIVE_ROWS = 10_000
#: Levels per categorical column that the model tells apart: its most frequent ones (a store id or
#: postcode with thousands of levels would make the dense design rows x levels x arms); the rest are
#: read as the most frequent level.
MAX_LEVELS = 20
#: Designs of more cells than this are built sparse (see ``_design``).
_DENSE_DESIGN_CELLS = 20_000_000
_MAX_QUANTILES = 200
# sklearn's BOUNDS_THRESHOLD: values this close to the outer quantiles score as the extremes
_BOUNDS = 1e-7
# what the transformer clips its scores to (its bounds' normal quantiles)
_LOWEST_SCORE = float(ndtri(_BOUNDS - np.spacing(1)))
_HIGHEST_SCORE = float(ndtri(1 - (_BOUNDS - np.spacing(1))))
# rows of each column-major block the quantile scores are computed on (_quantile_scores)
_SCORE_ROWS = 100_000
# cells of a block from which two threads score it (_quantile_scores)
_PARALLEL_CELLS = 1_000_000
#: The intercept is the weight of a synthetic feature of this value (liblinear's
#: ``intercept_scaling``): its weight is penalised, so a large value keeps the intercept (the
#: baseline's level) almost free.
_INTERCEPT_SCALING = 100.0
#: Proximal Newton steps of :func:`_l1_logistic`: it stops when a step would lower the objective by
#: less than ``_NEWTON_TOL`` of it (5-8 steps on the simulator's designs).
_NEWTON_MAX_ITER = 100
#: Corrected guesses of a Newton step's columns before :func:`_lasso_gram` walks the LARS path.
_GUESSES = 10
_NEWTON_TOL = 1e-12
#: Relative (and, squared, absolute) addition to the Hessian's diagonal in the Newton steps.
_RIDGE = 1e-8


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
    #: the logistic model's ``C`` (:func:`linear_c`; models pickled before it read LINEAR_C)
    c: float = LINEAR_C

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
            scores = _quantile_scores(self.quantiles, values)
            scores[np.isnan(scores)] = 0.0  # missing: the middle, and its indicator below
            parts.append(scores)
            parts.append(np.isnan(values[:, self.missing_columns]).astype(np.float64))
        for column, levels in zip(self.categorical, self.levels, strict=True):
            if len(levels):
                codes = matrix[:, column]
                parts.append(np.column_stack([codes == lv for lv in levels]).astype(float))
        return np.hstack(parts) if parts else np.zeros((len(matrix), 0))

    def features(self, matrix: np.ndarray) -> np.ndarray:
        """The standardised feature block ``F`` of the design for the rows of ``matrix``."""
        block = self.raw(matrix)  # a new array: standardised in place
        block -= self.mean
        block /= self.scale
        return block

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


def _quantile_scores(quantiles: QuantileTransformer, values: np.ndarray) -> np.ndarray:
    """``quantiles.transform(values)`` for a transformer fitted with
    ``output_distribution="normal"``: the same numbers to float rounding (1e-12), several times
    faster on many rows.

    The transformer reads one column at a time, interpolates each value between the quantiles
    twice (upwards and downwards, whose mean places a value equal to several tied quantiles in
    their middle) and maps the result through ``scipy.stats.norm.ppf``. Here a column whose
    quantiles all differ is interpolated once (the two directions agree there), the normal
    quantile is :func:`scipy.special.ndtri` (what ``norm.ppf`` computes, without its generic
    argument checks), and columns are read from column-major blocks of ``_SCORE_ROWS`` rows.
    Two threads each score half the columns of a block of more than ``_PARALLEL_CELLS`` cells.
    The fit scores its training rows several times (re-centring, each cost-check fold), so this
    time counts: a million rows of 200 columns took about 50 s through the transformer.
    """
    out = np.empty(values.shape, dtype=np.float64)
    half = values.shape[1] // 2
    for start in range(0, len(values), _SCORE_ROWS):
        part = np.asfortranarray(values[start : start + _SCORE_ROWS])
        # numpy's interpolation releases the GIL: two threads, each on half the columns
        left, right = run_both(
            partial(_score_columns, quantiles, part, range(half)),
            partial(_score_columns, quantiles, part, range(half, part.shape[1])),
            rows=part.size,
            min_rows=_PARALLEL_CELLS,
        )
        out[start : start + _SCORE_ROWS, :half] = left
        out[start : start + _SCORE_ROWS, half:] = right
    return out


def _score_columns(quantiles: QuantileTransformer, part: np.ndarray, columns: range) -> np.ndarray:
    """The normal scores of ``part[:, columns]`` (see :func:`_quantile_scores`)."""
    references = quantiles.references_
    scores = np.empty((len(part), len(columns)), dtype=np.float64, order="F")
    for i, j in enumerate(columns):
        column, edges = part[:, j], quantiles.quantiles_[:, j]
        with np.errstate(invalid="ignore"):  # NaN compares False, as in the transformer
            below = column - _BOUNDS < edges[0]
            above = column + _BOUNDS > edges[-1]
        u = np.interp(column, edges, references)  # NaN stays NaN
        if np.any(edges[1:] == edges[:-1]):
            u = 0.5 * (u - np.interp(-column, -edges[::-1], -references[::-1]))
        u[above] = 1.0
        u[below] = 0.0
        scores[:, i] = np.clip(ndtri(u), _LOWEST_SCORE, _HIGHEST_SCORE)
    return scores


def _finite(values: np.ndarray) -> np.ndarray:
    """Infinities as the largest finite numbers (the trees read them as "very large" too); NaN kept."""
    big = np.finfo(np.float64).max
    # np.clip keeps NaN (and is several times faster than np.nan_to_num on wide tables)
    return np.clip(values, -big, big)


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
    # Built straight into CSR (8x faster than stacking a sparse matrix per arm): each row holds
    # the shared block's columns, then, in a treated arm k's rows, [1, F] at that arm's offset.
    n, own = len(block), block.shape[1]
    treated = arm > 0
    content = np.empty((n, 2 * own + 1))
    content[:, :own] = block
    content[:, own] = 1.0
    content[:, own + 1 :] = block
    index = np.empty((n, 2 * own + 1), dtype=np.int64)
    index[:, :own] = np.arange(own)
    index[:, own:] = (own + (arm[:, None] - 1) * (own + 1)) + np.arange(own + 1)
    keep = np.ones((n, 2 * own + 1), dtype=bool)
    keep[~treated, own:] = False  # a control row has the shared block only
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.where(treated, 2 * own + 1, own), out=indptr[1:])
    return sparse.csr_matrix((content[keep], index[keep], indptr), shape=(n, width))


def _identical_columns(design: np.ndarray | sparse.csr_matrix) -> np.ndarray:
    """For each column the index of the first column equal to it (itself if none is).

    Missing-value indicators of features that are missing together are identical, in the shared
    block and in each arm's. Candidates share a random projection; equality is then checked exactly.
    """
    n, width = design.shape
    key = np.asarray(design.T @ np.random.default_rng(0).standard_normal(n)).ravel()
    order = np.argsort(key, kind="stable")
    by_column = sparse.csc_matrix(design) if sparse.issparse(design) else None
    first = np.arange(width)
    for a, b in itertools.pairwise(order):
        if not np.isclose(key[a], key[b], rtol=1e-9, atol=1e-9):
            continue
        if by_column is not None:
            same = (by_column[:, [a]] != by_column[:, [b]]).nnz == 0
        else:
            same = np.array_equal(design[:, a], design[:, b])
        if same:
            first[b] = first[a]
    # a chain of equal columns points at its first member in key order: point at the smallest index
    lowest = np.full(width, width)
    np.minimum.at(lowest, first, np.arange(width))
    return lowest[first]


def _arm_hessian(
    block: np.ndarray, arm: np.ndarray, n_arms: int, curvature: np.ndarray, scaling: float
) -> np.ndarray:
    """``X' diag(curvature) X`` for ``X = [_design(block, arm, n_arms), scaling]``, arm by arm.

    A row is non-zero only in the shared block, its own arm's block and the intercept, so every
    entry is a sum over one arm's rows of ``[1, F]' D [1, F]``: rows x (features + 1)^2 products
    instead of rows x columns^2 (the arms' blocks of one another are 0).
    """
    width = block.shape[1]
    size = width + (n_arms - 1) * (width + 1)
    hessian = np.zeros((size + 1, size + 1))
    for k in range(n_arms):
        rows = np.flatnonzero(arm == k)
        scaled = (
            np.hstack([np.ones((len(rows), 1)), block[rows]]) * np.sqrt(curvature[rows])[:, None]
        )
        gram = scaled.T @ scaled  # [1, F]' D_k [1, F] over arm k's rows
        hessian[:width, :width] += gram[1:, 1:]
        hessian[size, :width] += scaling * gram[0, 1:]
        hessian[size, size] += scaling**2 * gram[0, 0]
        if k:
            own = slice(width + (k - 1) * (width + 1), width + k * (width + 1))
            hessian[own, own] = gram
            hessian[:width, own] = gram[1:, :]
            hessian[own, :width] = gram[:, 1:]
            hessian[size, own] = hessian[own, size] = scaling * gram[0, :]
    hessian[:width, size] = hessian[size, :width]
    return hessian


def _lasso_gram(gram: np.ndarray, xy: np.ndarray, lam: float, signs: np.ndarray) -> np.ndarray:
    """``argmin_b b'(gram)b / 2 - b'xy + lam |b|_1``, exactly; ``signs``: those of the last ``b``.

    First guesses: the columns and signs of the last solution, one linear solve, kept if it meets
    the optimality conditions (a Newton step near the optimum changes neither), else corrected
    (columns whose sign turned out, columns scoring past ``lam`` in) a few times. Else LARS, which
    walks the whole path from the largest score down to ``lam``, one step per column entering or
    leaving: over every column of a wide design (60 offers x 30 features: 1,890) that path is long.
    It starts from the columns in the last solution and those scoring above ``lam / 2``, and adds
    any column whose score exceeds ``lam`` at the solution, until none does.
    """
    active = signs != 0
    guessed = signs.copy()
    for _ in range(_GUESSES):
        index = np.flatnonzero(guessed)
        solution = np.zeros(len(xy))
        try:
            solution[index] = np.linalg.solve(
                gram[np.ix_(index, index)], xy[index] - lam * guessed[index]
            )
        except np.linalg.LinAlgError:
            break
        score = xy - gram @ solution
        wrong = np.sign(solution[index]) != guessed[index]
        outside = (guessed == 0) & (np.abs(score) > lam * (1 + 1e-9))
        if not wrong.any() and not outside.any():
            return solution
        # drop the columns whose sign turned, add those scoring past lam (with that sign)
        guessed[index[wrong]] = 0
        guessed[outside] = np.sign(score[outside])
    work = active | (np.abs(xy) > lam / 2)
    while True:
        solution = np.zeros(len(xy))
        if work.any():
            index = np.flatnonzero(work)
            _, _, path = lars_path_gram(
                Xy=xy[index],
                Gram=gram[np.ix_(index, index)],
                n_samples=1,
                alpha_min=lam,
                method="lasso",
                # a step per column entering or leaving (its default, 500, cut wide paths short)
                max_iter=10 * len(index) + 100,
            )
            solution[index] = path[:, -1]
        outside = ~work & (np.abs(xy - gram @ solution) > lam)
        if not outside.any():
            return solution
        work |= outside


def _l1_logistic(
    design: np.ndarray | sparse.csr_matrix,
    block: np.ndarray,
    arm: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    *,
    n_arms: int,
    c: float,
    intercept_scaling: float,
) -> tuple[np.ndarray, float, int]:
    """liblinear's L1 logistic regression, by proximal Newton steps solved exactly (LARS).

    Minimises ``|w|_1 + c * sum_i weight_i * log(1 + exp(-s_i x_i'w))`` (``s_i = +-1``) over
    ``design = _design(block, arm, n_arms)`` plus a constant column ``intercept_scaling``; returns
    ``(coef, intercept, steps)``. liblinear (newGLMNET) solves each Newton step's L1 problem by
    coordinate descent over the rows: on the simulator's 37,911 rows x 365 columns, whose quantile
    scores of related features correlate at 0.9997 in every arm's block, that descent crawled
    (188-353 s at tol 1e-8, 103 Newton steps). Here each step's problem is solved on the
    (columns x columns) Hessian by LARS, exactly, whatever the conditioning: 7 steps, 0.4-1.1 s, a lower
    objective than liblinear's and baselines and effects within 1e-5 of its (experiments/RESULTS.md
    "Scale"). Identical columns (whose split of a coefficient the L1 penalty leaves open) are
    fitted as one and share it evenly.
    """
    # its products are small (an arm's rows x features^2): threads of BLAS only fight over the
    # cores (on 2 shared cores 3.5x slower than one thread on 60 arms x 40 features)
    with threadpool_limits(limits=1, user_api="blas"):
        lam = 1.0 / c
        first = _identical_columns(design)
        kept, merged = np.unique(first, return_inverse=True)
        share = np.bincount(merged).astype(np.float64)
        kept_all = np.r_[kept, design.shape[1]]  # and the intercept
        sign = np.where(y == np.max(y), 1.0, -1.0)
        positive = (sign > 0).astype(np.float64)

        def objective(beta: np.ndarray, eta: np.ndarray) -> float:
            return float(-np.dot(weight, log_expit(sign * eta)) + lam * np.abs(beta).sum())

        def linear(beta: np.ndarray) -> np.ndarray:
            """``X beta`` of the merged columns (each identical column carries its share)."""
            coef = beta[:-1][merged] / share[merged]
            return np.asarray(design @ coef).ravel() + intercept_scaling * beta[-1]

        beta = np.zeros(len(kept) + 1)
        eta = np.zeros(design.shape[0])
        value = objective(beta, eta)
        steps = 0
        while steps < _NEWTON_MAX_ITER:
            steps += 1
            p = expit(eta)
            residual = weight * (p - positive)
            gradient = np.r_[
                np.asarray(design.T @ residual).ravel()[kept], intercept_scaling * residual.sum()
            ]
            full = _arm_hessian(block, arm, n_arms, weight * p * (1.0 - p), intercept_scaling)
            hessian = full[np.ix_(kept_all, kept_all)]
            # Columns can be dependent without being equal (an experiment's indicator and its arms'),
            # which leaves the Hessian singular (LARS then drops columns with a warning). A step taken
            # with H + a tiny diagonal has the same fixed point, the optimum: only its length changes.
            hessian[np.diag_indices_from(hessian)] += _RIDGE * np.diag(hessian) + _RIDGE**2
            target = _lasso_gram(hessian, hessian @ beta - gradient, lam, np.sign(beta))
            direction = target - beta
            decrease = float(
                gradient @ direction + lam * (np.abs(target).sum() - np.abs(beta).sum())
            )
            if not decrease < -_NEWTON_TOL * abs(value):
                break
            # merged columns are identical: moving their shares moves X beta by the merged step
            moved = linear(direction)
            step = 1.0
            while True:  # backtracking (Armijo), as liblinear's newGLMNET
                candidate = objective(beta + step * direction, eta + step * moved)
                if candidate <= value + 0.01 * step * decrease or step < 1e-10:
                    break
                step /= 2
            beta, eta, value = beta + step * direction, eta + step * moved, candidate
        coef = beta[:-1][merged] / share[merged]
        return coef, float(beta[-1] * intercept_scaling), steps


def effective_columns(block: np.ndarray, seed: int) -> float:
    """How many independent columns ``block`` holds: Li and Ji's (2005) effective number of tests,
    ``sum over the eigenvalues l of its correlation matrix of 1{l >= 1} + (l - floor(l))``, on a
    sample of up to ``_EFFECTIVE_ROWS`` rows (constant columns left out).

    Independent columns count one each; a column that nearly repeats others (the same spend over
    a 28- and a 30-day window) counts for little. Measured on the blocks of
    ``experiments/bench_offer_surface.py``: 64 independent columns of noise beside Hillstrom's
    covariates (143 columns) 142; 64 noisy functions of those covariates (123 columns) 85; Online
    Retail II's 32 feature columns 18, and 27 with 42 look-back windows (110 columns).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(2_000, 1))
    >>> round(effective_columns(rng.normal(size=(2_000, 20)), seed=0))
    20
    >>> round(effective_columns(a + 0.01 * rng.normal(size=(2_000, 20)), seed=0))  # near-copies
    2
    """
    varying = block[:, block.std(axis=0) > 1e-9]
    if varying.shape[1] < 2:
        return float(varying.shape[1])
    if len(varying) > _EFFECTIVE_ROWS:
        rows = np.random.default_rng(seed).choice(len(varying), _EFFECTIVE_ROWS, replace=False)
        varying = varying[np.sort(rows)]
    eigen = np.abs(np.linalg.eigvalsh(np.corrcoef(varying, rowvar=False)))
    return float(np.sum((eigen >= 1.0) + (eigen - np.floor(eigen))))


def linear_c(columns: float) -> float:
    """The linear model's ``C`` for a block of ``columns`` effectively independent columns
    (:func:`effective_columns`): ``LINEAR_C`` up to ``WIDE_BLOCK``, then
    ``LINEAR_C * WIDE_BLOCK / columns`` (a threshold ``1 / C`` on a slope's score that grows in
    proportion).

    Each column brings one slope per arm, and the largest score among columns that carry nothing
    grows with how many independent ones there are, so a fixed threshold lets more of them in the
    wider the table. With 64 columns no surface reads beside Hillstrom's covariates the blend's
    plans captured 68.1% (independent columns) and 73.9% (noisy functions of the covariates) of
    the oracle's net value at the fixed ``C``, and 72.8% and 77.4% with this ``C``
    (experiments/RESULTS.md, "The linear model's penalty and the table's width"). Counting raw
    columns instead lost 2.9 points on Online Retail II's features over 42 look-back windows,
    whose 110 columns are 27 effectively independent ones; this count leaves them alone.

    Examples
    --------
    >>> [round(linear_c(m), 3) for m in (15, 40, 85, 142)]
    [0.08, 0.08, 0.038, 0.023]
    """
    if columns <= WIDE_BLOCK:
        return LINEAR_C
    return LINEAR_C * WIDE_BLOCK / columns


def _encoder(
    matrix: np.ndarray,
    categorical: tuple[int, ...],
    *,
    n_arms: int,
    binary: bool,
    seed: int,
) -> tuple[LinearArmModel, np.ndarray]:
    """An unfitted linear arm model whose encoding (quantile scores, missing and level indicators,
    standardisation) is fitted on ``matrix``, and ``matrix``'s standardised block."""
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
    raw = model.raw(matrix)
    model.mean = raw.mean(axis=0)
    spread = raw.std(axis=0)
    # A column (nearly) constant at fit carries nothing: an infinite scale zeroes it at predict too,
    # whatever value it then takes (its std is float noise, e.g. 4e-15, not 0).
    model.scale = np.where(spread > 1e-9, spread, np.inf)
    raw -= model.mean
    raw /= model.scale
    return model, raw


def table_columns(matrix: np.ndarray, categorical: tuple[int, ...], seed: int) -> float:
    """:func:`effective_columns` of the linear model's block for the encoded ``matrix`` (its
    encoding fitted on a sample of up to ``_EFFECTIVE_ROWS`` rows): how wide the table is, for
    :func:`loyalty_ml.models._uplift_sizing.auto_linear_weight`."""
    if len(matrix) > _EFFECTIVE_ROWS:
        rows = np.random.default_rng(seed).choice(len(matrix), _EFFECTIVE_ROWS, replace=False)
        matrix = matrix[np.sort(rows)]
    _, block = _encoder(matrix, categorical, n_arms=1, binary=True, seed=seed)
    return effective_columns(block, seed)


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
    model, block = _encoder(matrix, categorical, n_arms=n_arms, binary=binary, seed=seed)
    # Weights as multiples of their mean, so that the fixed penalty means the same whatever their
    # scale (weights summing to 1 would otherwise drown the data in the penalty). UpliftModel.fit
    # has checked that every arm has a positive weight.
    weight = weight / weight.mean()
    design = _design(block, arm, n_arms)
    model.c = linear_c(effective_columns(block, seed))
    if binary and np.unique(y).size == 2:
        # liblinear's objective (saga took 120 s on 200,000 rows x 5 arms x 40 features where
        # liblinear took 3.5 s; liblinear took minutes on collinear designs, see _l1_logistic)
        model.coef, model.intercept, _ = _l1_logistic(
            design,
            block,
            arm,
            y,
            weight,
            n_arms=n_arms,
            c=model.c,
            intercept_scaling=_INTERCEPT_SCALING,
        )
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
    lasso = Lasso(alpha=1.0 / (model.c * len(y)), max_iter=10_000, tol=1e-6).fit(
        design, (y - model.y_mean) / spread_y, sample_weight=weight
    )
    model.coef, model.intercept = np.asarray(lasso.coef_), float(lasso.intercept_)
    return model
