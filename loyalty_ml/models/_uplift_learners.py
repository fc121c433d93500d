"""Multi-treatment meta-learners (S, T, X, DR) on LightGBM, on an encoded float matrix.

The definitions follow causalml's meta-learners (Künzel et al. 2019 for S/T/X; Kennedy 2020 for DR): on
the same data and LightGBM settings, T and X give causalml's ``BaseT*``/``BaseX*`` effects to 1e-9
(``tests/test_uplift_causalml_parity.py``), apart from the clipping of binary effects below and the
optional re-centring of each arm's effects (:func:`residual_shift`, ``UpliftModel(recenter=True)``). They are
written out here rather than wrapped because causalml's learners (0.18) cannot take ``sample_weight``,
its S-learner round-trips X through NumPy (losing pandas categories), its DR learner falls back to an
ElasticNet propensity model, and each learner refits shared control models per arm. What differs, on purpose:

- S: ONE model for all arms, with the arm as a categorical feature (causalml fits one model per arm pair).
- DR: multi-arm AIPW pseudo-outcomes (defined on every row, so each effect model sees all rows), with
  ``_DR_FOLDS``-fold cross-fitting of the outcome models.

Arms are integer codes here: 0 is the control, 1..K the treatment arms; names live in ``UpliftModel``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, KFold

from loyalty_ml.models._uplift_linear import LinearArmModel, fit_linear
from loyalty_ml.models._uplift_rows import rate_spread
from loyalty_ml.models._uplift_sizing import linear_rows

__all__ = [
    "ArmData",
    "BoostingParams",
    "FittedLearner",
    "Learner",
    "arm_keys_of",
    "fit_learner",
    "residual_shift",
]

# LightGBM seeds are 32-bit signed integers
_MAX_SEED = 2**31 - 1

Learner = Literal["S", "T", "X", "DR"]
_DR_FOLDS = 3


@dataclass(frozen=True, kw_only=True)
class BoostingParams:
    """LightGBM settings shared by every base learner of one uplift model."""

    n_estimators: int
    learning_rate: float
    num_leaves: int
    min_child_samples: int
    subsample: float
    colsample_bytree: float
    reg_lambda: float
    n_jobs: int | None
    categorical: tuple[int, ...]

    def make(self, *, classifier: bool, seed: int) -> lgb.LGBMModel:
        """A fresh LightGBM classifier or regressor with these settings and ``seed``."""
        kwargs: dict[str, Any] = {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": self.subsample,
            # LightGBM ignores ``subsample`` unless bagging is switched on by a frequency.
            "subsample_freq": 1 if self.subsample < 1.0 else 0,
            "colsample_bytree": self.colsample_bytree,
            "reg_lambda": self.reg_lambda,
            "random_state": seed,
            "verbose": -1,
            "deterministic": True,
            "force_row_wise": True,
        }
        if self.n_jobs is not None:
            kwargs["n_jobs"] = self.n_jobs
        return lgb.LGBMClassifier(**kwargs) if classifier else lgb.LGBMRegressor(**kwargs)


@dataclass(frozen=True)
class ArmData:
    """Training rows: features, arm codes (0 = control), outcome, weights and propensities.

    ``propensity`` has one column per arm code: P(arm | x) for every row. ``group`` (optional): the
    experiment of each row as integer codes, for pooled experiments (see :func:`residual_shift`).
    ``source`` (optional, a bootstrap sample's): the training row each row is a copy of, so that
    cross-fitting never puts copies of one row on both sides of a fold. ``arm_keys`` (optional):
    a number per arm code taken from the arm's rows (:func:`arm_keys_of`), which seeds that arm's
    base learners, so that renaming arms (which moves their codes) leaves every arm's row and
    column sampling as it was; without it, the codes seed them.
    """

    matrix: np.ndarray
    arm: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    propensity: np.ndarray
    binary: bool
    group: np.ndarray | None = None
    source: np.ndarray | None = None
    arm_keys: np.ndarray | None = None

    @property
    def n_arms(self) -> int:
        """Number of arms including the control."""
        return int(self.propensity.shape[1])

    def arm_seed(self, seed: int, k: int) -> int:
        """The seed of a base learner of arm code ``k``: ``seed`` moved by the arm's key."""
        key = k if self.arm_keys is None else int(self.arm_keys[k])
        return (seed + key) % _MAX_SEED


def arm_keys_of(
    arm: np.ndarray, y: np.ndarray, weight: np.ndarray, n_arms: int, matrix: np.ndarray
) -> np.ndarray:
    """A number per arm code from the arm's rows, not its name or position: the sum of a hash of
    each row of positive weight (its features and outcome), 28 bits. The same experiment with its
    arms renamed, its rows shuffled or rows of weight 0 dropped seeds every arm alike; two arms
    of the same size and purchase count still get their own streams.

    Examples
    --------
    >>> m = np.array([[1.0], [2.0], [3.0]])
    >>> a = arm_keys_of(np.array([0, 1, 1]), np.array([1.0, 0.0, 1.0]), np.ones(3), 2, m)
    >>> b = arm_keys_of(np.array([1, 1, 0]), np.array([1.0, 0.0, 1.0]), np.ones(3), 2, m[[2, 1, 0]])
    >>> a.tolist() == b.tolist(), bool(a[0] != a[1])
    (True, True)
    """
    content = pd.DataFrame(matrix).assign(_y=np.asarray(y, dtype=np.float64))
    digest = pd.util.hash_pandas_object(content, index=False).to_numpy(dtype=np.uint64)
    counted = weight > 0
    keys = np.zeros(n_arms, dtype=np.int64)
    taken: set[int] = set()
    for k in range(n_arms):
        total = digest[counted & (arm == k)].sum(dtype=np.uint64)  # wraps: order-free
        key = int(total % np.uint64(1 << 28))
        while key in taken:  # arms with the very same rows: which is which cannot matter
            key = (key + 7919) % (1 << 28)
        taken.add(key)
        keys[k] = key
    return keys


@dataclass
class _Constant:
    """Stands in for a base learner when its rows hold a single outcome value (e.g. no conversions)."""

    value: float

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        return np.full(len(matrix), self.value)


@dataclass
class _Outcome:
    """A fitted outcome or effect model and how to read a prediction from it."""

    model: Any
    proba: bool

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        if self.proba and not isinstance(self.model, _Constant):
            return np.asarray(self.model.predict_proba(matrix)[:, 1], dtype=np.float64)
        return np.asarray(self.model.predict(matrix), dtype=np.float64)


def _fit(
    params: BoostingParams,
    matrix: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray,
    *,
    classifier: bool,
    seed: int,
    categorical: tuple[int, ...] | None = None,
) -> _Outcome:
    if np.unique(target).size < 2:
        value = float(np.average(target, weights=weight)) if len(target) else 0.0
        return _Outcome(_Constant(value), proba=classifier)
    model = params.make(classifier=classifier, seed=seed)
    cats = params.categorical if categorical is None else categorical
    model.fit(matrix, target, sample_weight=weight, categorical_feature=list(cats) or "auto")
    return _Outcome(model, proba=classifier)


@dataclass
class FittedLearner:
    """A fitted meta-learner: predicts the control outcome and one effect per treatment arm.

    Attributes
    ----------
    kind : {"S", "T", "X", "DR"}
        The meta-learner.
    baseline_models : list
        Models averaged for the control outcome (several for DR's cross-fitted folds).
    effect_models : list of list
        For arm code ``k`` (1..K), the models whose predictions give its effect, in
        ``effect_models[k - 1]`` (X: ``[tau_control, tau_treated]``; DR: ``[tau]``; S/T: outcome models).
    """

    kind: Learner
    n_arms: int
    binary: bool
    baseline_models: list[_Outcome] = field(default_factory=list)
    effect_models: list[list[_Outcome]] = field(default_factory=list)
    linear: LinearArmModel | None = None
    linear_weight: float = 0.0
    effect_shift: np.ndarray | None = None
    baseline_shift: float = 0.0

    def predict(self, matrix: np.ndarray, propensity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(baseline (n,), effects (n, K))`` for the rows of ``matrix``."""
        baseline, effects = self.predict_unclipped(matrix, propensity)
        baseline = baseline + self.baseline_shift
        if self.effect_shift is not None:
            effects = effects + self.effect_shift[None, :]
        if self.binary:
            return _clip_probabilities(baseline, effects)
        return baseline, effects

    def predict_unclipped(
        self, matrix: np.ndarray, propensity: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The learner's (and blend's) baseline and effects, before the shift and the clipping."""
        if self.kind == "S":
            baseline = self.baseline_models[0].predict(_with_arm(matrix, 0))
            effects = np.column_stack(
                [
                    self.baseline_models[0].predict(_with_arm(matrix, k)) - baseline
                    for k in range(1, self.n_arms)
                ]
            )
        else:
            baseline = np.mean([m.predict(matrix) for m in self.baseline_models], axis=0)
            columns = []
            for k in range(1, self.n_arms):
                models = self.effect_models[k - 1]
                if self.kind == "T":
                    columns.append(models[0].predict(matrix) - baseline)
                elif self.kind == "X":
                    # causalml's weighting: g * tau_control + (1 - g) * tau_treated, g = P(k | k or c, x)
                    g = propensity[:, k] / (propensity[:, k] + propensity[:, 0])
                    columns.append(
                        g * models[0].predict(matrix) + (1 - g) * models[1].predict(matrix)
                    )
                else:
                    columns.append(models[0].predict(matrix))
            effects = np.column_stack(columns)
        if self.linear is not None:
            # Blend with the linear arm model (see loyalty_ml.models._uplift_linear).
            linear_baseline, linear_effects = self.linear.predict(matrix)
            w = self.linear_weight
            baseline = (1 - w) * baseline + w * linear_baseline
            effects = (1 - w) * effects + w * linear_effects
        return baseline, effects


def _clip_probabilities(baseline: np.ndarray, effects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(y | arm, x) = baseline + effect must be a probability: it prices redemptions."""
    baseline = np.clip(baseline, 0.0, 1.0)
    return baseline, np.clip(effects, -baseline[:, None], 1.0 - baseline[:, None])


def _with_arm(matrix: np.ndarray, arm: int | np.ndarray) -> np.ndarray:
    column = np.broadcast_to(np.asarray(arm, dtype=np.float64), (len(matrix),))
    return np.column_stack([matrix, column])


def fit_learner(
    kind: Learner,
    data: ArmData,
    params: BoostingParams,
    seed: int,
    *,
    linear_weight: float = 0.0,
    recenter_propensity: np.ndarray | None = None,
) -> FittedLearner:
    """Fit meta-learner ``kind`` on ``data``; base learners are seeded from ``seed``.

    With ``linear_weight > 0`` a linear arm model is fitted too, and predictions are
    ``(1 - linear_weight) * meta-learner + linear_weight * linear model``. With
    ``recenter_propensity`` (the propensities that prediction will use for these rows; the X-learner
    weighs its two effect models by them) each arm's effects are shifted by :func:`residual_shift`.
    """
    fitted = _fit_meta(kind, data, params, seed)
    if linear_weight > 0:
        fitted.linear_weight = float(linear_weight)
        # above 200,000 rows the linear model is fitted on a sample of them (its dense design)
        rows = linear_rows(data.arm, seed)
        part = slice(None) if rows is None else rows
        fitted.linear = fit_linear(
            data.matrix[part],
            params.categorical,
            data.arm[part],
            data.y[part],
            data.weight[part],
            n_arms=data.n_arms,
            binary=data.binary,
            seed=seed,
        )
    if recenter_propensity is not None:
        fitted.baseline_shift, fitted.effect_shift = residual_shift(
            fitted, data, recenter_propensity
        )
    return fitted


def residual_shift(
    fitted: FittedLearner, data: ArmData, predict_propensity: np.ndarray
) -> tuple[float, np.ndarray]:
    """Shifts of the baseline and of each arm's effects that re-centre every arm on its residuals.

    The augmented IPW estimate of the control's mean outcome is the (sample-weighted) mean of the
    model's baseline over the training rows plus ``m_0``, and of arm k's average effect the mean of
    its effects plus ``m_k - m_0``, where ``m_j`` is the propensity-weighted (Hajek) mean residual
    ``y - yhat_j`` of the rows in arm j (Robins, Rotnitzky and Zhao 1994; for a randomised design
    simply the mean residual of the arm's rows). A learner that shrinks effects towards 0 (the
    S-learner's shared trees, the linear blend's penalty) leaves residuals of opposite sign in the
    treated and control rows, and the shifts give the gap back. Each is one constant; for a binary
    outcome the shifted values are clipped so that the baseline and baseline + effect stay in [0, 1],
    and the constants are solved (by bisection) so that the means of the clipped values are the
    estimates. ``predict_propensity`` are the propensities prediction uses (``data.propensity``
    weighs the residuals).

    With ``data.group`` (pooled experiments, e.g. campaigns) ``m_k - m_0`` is taken within each group
    that has both arm k and control rows and averaged over those groups by their weight: an offer
    first tried in a busy season is compared with that season's control rows, not with every
    campaign's.

    Returns
    -------
    (float, ndarray)
        The baseline's shift and the effects' shifts (one per treatment arm).
    """
    raw_baseline, raw_effects = fitted.predict_unclipped(data.matrix, predict_propensity)
    baseline, effects = (
        _clip_probabilities(raw_baseline, raw_effects)
        if data.binary
        else (raw_baseline, raw_effects)
    )
    fitted_value = np.column_stack([baseline, baseline[:, None] + effects])
    rows = np.arange(len(data.y))
    residual = data.y - fitted_value[rows, data.arm]
    ipw = data.weight / data.propensity[rows, data.arm]
    control = data.arm == 0
    control_shift = float(np.sum(ipw[control] * residual[control]) / np.sum(ipw[control]))
    gap = _residual_gap(data, residual, ipw)
    if not data.binary:
        return control_shift, np.asarray(gap, dtype=np.float64)
    weight = data.weight / data.weight.sum()
    baseline_shift = _solve_shift(
        raw_baseline, 0.0, 1.0, float(weight @ baseline) + control_shift, weight
    )
    shifted = np.clip(raw_baseline + baseline_shift, 0.0, 1.0)
    # arm k's mean outcome moves by m_k = m_0 + gap_k; its effect by that less the baseline's move
    target = weight @ (baseline[:, None] + effects) + control_shift + gap - weight @ shifted
    solved = np.array(
        [
            _solve_shift(raw_effects[:, k], -shifted, 1.0 - shifted, float(target[k]), weight)
            for k in range(len(gap))
        ]
    )
    return baseline_shift, solved


def _solve_shift(
    raw: np.ndarray,
    lower: float | np.ndarray,
    upper: float | np.ndarray,
    target: float,
    weight: np.ndarray,
) -> float:
    """The constant c with ``weight @ clip(raw + c, lower, upper) == target`` (bisection; the clipped
    mean rises monotonically with c, and a target out of reach gives the nearest bound)."""
    closed = target - float(weight @ raw)
    if np.all((raw + closed >= lower) & (raw + closed <= upper)):
        return closed  # no value reaches a bound: the plain difference (no bisection on big data)
    low, high = -1.0, 1.0
    for _ in range(60):
        mid = 0.5 * (low + high)
        if weight @ np.clip(raw + mid, lower, upper) < target:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def average_effects(data: ArmData) -> tuple[np.ndarray, np.ndarray]:
    """Each treatment arm's average effect against the control, and its standard error: the
    propensity-weighted (Hajek) difference in mean outcomes, within groups if any (as
    :func:`residual_shift` compares arms). The standard error adds, in each group, the variances
    of the two means (the arm's spread within groups over the group's effective number of rows,
    Kish's), weighted as the groups are: with groups, an arm sent by one of four campaigns is
    compared with that campaign's control rows alone, and its error is theirs."""
    rows = np.arange(len(data.y))
    ipw = data.weight / data.propensity[rows, data.arm]
    y = data.y.astype(np.float64)
    gap = _residual_gap(data, y, ipw)
    n_arms = data.n_arms
    group = np.zeros(len(data.arm), dtype=np.int64) if data.group is None else data.group
    n_groups = int(group.max()) + 1 if len(group) else 1
    variance, total = _mean_variance(
        group * n_arms + data.arm, data.arm, y, ipw, n_groups, n_arms, binary=data.binary
    )
    weight = np.bincount(group, weights=data.weight, minlength=n_groups)
    se = np.zeros(n_arms - 1)
    pooled = None
    for k in range(1, n_arms):
        both = (total[:, k] > 0) & (total[:, 0] > 0)
        if not both.any():  # compared pooled, as _residual_gap does
            if pooled is None:
                pooled, _ = _mean_variance(
                    data.arm, data.arm, y, ipw, 1, n_arms, binary=data.binary
                )
            se[k - 1] = np.sqrt(pooled[0, k] + pooled[0, 0])
            continue
        w = weight[both] / weight[both].sum()
        se[k - 1] = np.sqrt(np.sum(w**2 * (variance[both, k] + variance[both, 0])))
    return gap, se


def _mean_variance(
    cell: np.ndarray,
    arm: np.ndarray,
    y: np.ndarray,
    ipw: np.ndarray,
    n_groups: int,
    n_arms: int,
    *,
    binary: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Variance of each (group, arm) cell's weighted mean, and the cells' total weights, both
    ``(n_groups, n_arms)``: the arm's weighted spread around its cells' means over the cell's
    effective number of rows (at least 1), so that a cell of a few rows borrows its arm's spread (a
    0/1 outcome that never varies in an arm gets :func:`rate_spread`'s floor)."""
    size = n_groups * n_arms
    total = np.bincount(cell, weights=ipw, minlength=size)
    mean = np.bincount(cell, weights=ipw * y, minlength=size) / np.maximum(total, 1e-300)
    arm_total = np.maximum(np.bincount(arm, weights=ipw, minlength=n_arms), 1e-300)
    spread = np.bincount(arm, weights=ipw * (y - mean[cell]) ** 2, minlength=n_arms) / arm_total
    effective = total**2 / np.maximum(np.bincount(cell, weights=ipw**2, minlength=size), 1e-300)
    arm_effective = arm_total**2 / np.maximum(
        np.bincount(arm, weights=ipw**2, minlength=n_arms), 1e-300
    )
    spread = rate_spread(spread, arm_effective, binary=binary)
    variance = np.tile(spread, n_groups) / np.maximum(effective, 1.0)
    return variance.reshape(n_groups, n_arms), total.reshape(n_groups, n_arms)


def _residual_gap(data: ArmData, residual: np.ndarray, ipw: np.ndarray) -> np.ndarray:
    """``m_k - m_0`` per treatment arm k: Hajek means of the residuals, within groups if any."""
    n_arms = data.n_arms
    group = np.zeros(len(data.arm), dtype=np.int64) if data.group is None else data.group
    n_groups = int(group.max()) + 1 if len(group) else 1
    cell = group * n_arms + data.arm
    total = np.bincount(cell, weights=ipw, minlength=n_groups * n_arms).reshape(n_groups, n_arms)
    summed = np.bincount(cell, weights=ipw * residual, minlength=n_groups * n_arms).reshape(
        n_groups, n_arms
    )
    mean = summed / np.maximum(total, 1e-300)
    size = np.bincount(group, weights=data.weight, minlength=n_groups)
    gap = np.zeros(n_arms - 1)
    for k in range(1, n_arms):
        both = (total[:, k] > 0) & (total[:, 0] > 0)
        if not both.any():  # never sent next to a control: the pooled comparison is all there is
            pooled = total.sum(axis=0)
            gap[k - 1] = summed[:, k].sum() / pooled[k] - summed[:, 0].sum() / pooled[0]
            continue
        gap[k - 1] = np.average(mean[both, k] - mean[both, 0], weights=size[both])
    return gap


def _fit_meta(kind: Learner, data: ArmData, params: BoostingParams, seed: int) -> FittedLearner:
    fitted = FittedLearner(kind=kind, n_arms=data.n_arms, binary=data.binary)
    if kind == "S":
        s_params = (*params.categorical, data.matrix.shape[1])
        fitted.baseline_models = [
            _fit(
                params,
                _with_arm(data.matrix, data.arm),
                data.y,
                data.weight,
                classifier=data.binary,
                seed=seed,
                categorical=s_params,
            )
        ]
        return fitted
    if kind == "DR":
        return _fit_dr(fitted, data, params, seed)
    outcome = [
        _fit(
            params,
            data.matrix[data.arm == k],
            data.y[data.arm == k],
            data.weight[data.arm == k],
            classifier=data.binary,
            seed=data.arm_seed(seed, k),
        )
        for k in range(data.n_arms)
    ]
    fitted.baseline_models = [outcome[0]]
    if kind == "T":
        fitted.effect_models = [[outcome[k]] for k in range(1, data.n_arms)]
        return fitted
    control = data.arm == 0
    mu_c_treated_rows = outcome[0].predict(data.matrix)
    for k in range(1, data.n_arms):
        treated = data.arm == k
        # Imputed effects: what each treated row gained over its predicted control outcome, and
        # what each control row would have gained under arm k.
        d_treated = data.y[treated] - mu_c_treated_rows[treated]
        d_control = outcome[k].predict(data.matrix[control]) - data.y[control]
        tau_c = _fit(
            params,
            data.matrix[control],
            d_control,
            data.weight[control],
            classifier=False,
            seed=data.arm_seed(seed + 100_003, k),
        )
        tau_t = _fit(
            params,
            data.matrix[treated],
            d_treated,
            data.weight[treated],
            classifier=False,
            seed=data.arm_seed(seed + 200_003, k),
        )
        fitted.effect_models.append([tau_c, tau_t])
    return fitted


def _cross_fitting_folds(data: ArmData, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``_DR_FOLDS`` (train, held-out) row splits; copies of one row (``source``) stay together.

    A bootstrap sample holds about 63% of the rows, many of them twice or more: split by row, a
    held-out row's outcome model would have been fitted on its own copy, and its residual
    (and the pseudo-outcome built on it) would shrink towards 0.
    """
    if data.source is None:
        return list(KFold(n_splits=_DR_FOLDS, shuffle=True, random_state=seed).split(data.matrix))
    splitter = GroupKFold(n_splits=_DR_FOLDS, shuffle=True, random_state=seed)
    return list(splitter.split(data.matrix, groups=data.source))


def _fit_dr(
    fitted: FittedLearner, data: ArmData, params: BoostingParams, seed: int
) -> FittedLearner:
    n = len(data.y)
    mu = np.zeros((n, data.n_arms))
    folds = _cross_fitting_folds(data, seed)
    for f, (train, test) in enumerate(folds):
        for k in range(data.n_arms):
            rows = train[data.arm[train] == k]
            model = _fit(
                params,
                data.matrix[rows],
                data.y[rows],
                data.weight[rows],
                classifier=data.binary,
                seed=data.arm_seed(seed + 300_007 * (f + 1), k),
            )
            mu[test, k] = model.predict(data.matrix[test])
            if k == 0:
                fitted.baseline_models.append(model)
    control = (data.arm == 0).astype(np.float64)
    residual_c = control * (data.y - mu[:, 0]) / data.propensity[:, 0]
    for k in range(1, data.n_arms):
        treated = (data.arm == k).astype(np.float64)
        # Multi-arm AIPW pseudo-outcome: defined on every row, unbiased for the effect of k vs control.
        pseudo = (
            mu[:, k] - mu[:, 0] + treated * (data.y - mu[:, k]) / data.propensity[:, k] - residual_c
        )
        tau_seed = data.arm_seed(seed + 1000, k)
        tau = _fit(params, data.matrix, pseudo, data.weight, classifier=False, seed=tau_seed)
        fitted.effect_models.append([tau])
    return fitted
