"""Uplift evaluation for any number of arms: uplift@k, Qini and uplift curves, and policy value.

The metrics match scikit-uplift's definitions (``sklift.metrics``: ``uplift_at_k``, ``qini_curve``,
``qini_auc_score``, ``uplift_curve``, ``uplift_auc_score``) so numbers are comparable with published
results. With several arms, each arm is scored against the control on the rows of that arm and the
control, using the arm's own column of the effects frame; results come back as a Series per arm.

``t`` is either arm labels (``control`` marks the control rows) or sklift's 0/1 convention (1 = treated).
When several of ``y``, ``t`` and the scores are Series or DataFrames they are matched by index (the
same ids are required); arrays are taken by position.
:func:`policy_value` estimates what any assignment of arms would have earned, from randomised (or known-
propensity) data, by inverse propensity weighting or the doubly robust estimator, with a CI.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.metrics import auc

from loyalty_ml._checks import check_seed, is_real
from loyalty_ml._plot_text import legend
from loyalty_ml._warn import warn_user
from loyalty_ml.evaluation._metric_inputs import (
    align_on_index,
    as_float_array,
    refuse_not_finite,
)
from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, format_examples
from loyalty_ml.schema import columns as C

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PolicyValue",
    "plot_uplift_curves",
    "policy_value",
    "qini_auc_score",
    "qini_curve",
    "uplift_at_k",
    "uplift_auc_score",
    "uplift_curve",
    "uplift_report",
]

Strategy = Literal["overall", "by_group"]
ArrayLike = pd.Series | np.ndarray
Score = pd.Series | np.ndarray | pd.DataFrame


# -- arms ----------------------------------------------------------------------------------------------
def _labels(t: Any, control: Any, *, where: str, index: pd.Index | None) -> tuple[np.ndarray, str]:
    """Arm labels and the control as text, as ``UpliftModel`` names its effect columns (so
    ``control=0`` finds the integer arm ``0``, and ``1.0`` is the arm ``"1"``).

    A 0/1 (or boolean) treatment flag whose values do not include ``control`` is scikit-uplift's
    flag: 0 becomes ``control`` and 1 ``"treatment"``. Missing labels are refused, naming their ids
    (``index``) or row positions.
    """
    from loyalty_ml.models._uplift_rows import label_text, label_texts

    values = np.asarray(t)
    _refuse_missing_arms(values, where=where, index=index)
    texts = label_texts(values)
    control = label_text(control)
    is_flag = values.dtype.kind in "biuf" and bool(np.isin(values, (0, 1)).all())
    if is_flag and not (texts == control).any():
        return np.where(values == 1, "treatment", control).astype(object), control
    return texts, control


def _refuse_missing_arms(values: np.ndarray, *, where: str, index: pd.Index | None) -> None:
    """DataError naming the rows of ``t`` without an arm (they would become an arm named "nan")."""
    missing = np.asarray(pd.isna(values), dtype=bool)
    if missing.any():
        rows = index[missing] if index is not None else np.flatnonzero(missing)
        raise DataError(
            f"{where}: t has missing arm labels at {'ids' if index is not None else 'rows'} "
            f"{format_examples(rows.tolist(), total=int(missing.sum()))}; every row needs the arm "
            "it received. Drop those rows from every input."
        )


def _pairs(
    y: ArrayLike, t: ArrayLike, score: Score, control: Any
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """``(arm, y, treated 0/1, score)`` per treatment arm, on that arm's and the control's rows.

    Series and DataFrames among ``y``, ``t`` and ``score`` are matched by index; arrays by position.
    """
    where = "uplift metrics"
    aligned, index = align_on_index({"y": y, "t": t, "score": score}, where=where)
    y, t, score = aligned["y"], aligned["t"], aligned["score"]
    y_arr = as_float_array(y, name="y", where=where)
    refuse_not_finite(y_arr, name="y", where=where, index=index)
    labels, control = _labels(t, control, where=where, index=index)
    n = len(y_arr)
    if len(labels) != n or len(score) != n:
        raise DataError(
            f"uplift metrics: y, t and score must have the same length; got {n}, {len(labels)} and "
            f"{len(score)}."
        )
    if not (labels == control).any():
        raise DataError(
            f"uplift metrics: no control rows (label {control!r}) in t; arms present: "
            f"{format_examples(sorted(set(labels)))}."
        )
    arms = sorted(set(labels) - {control})
    if not arms:
        raise DataError(
            f"{where}: t holds control rows only (label {control!r}); there is no treated row to "
            "compare them with."
        )
    if isinstance(score, pd.DataFrame):
        score = score.rename(columns=str)
        missing = [a for a in arms if a not in score.columns]
        if missing:
            raise DataError(
                f"uplift metrics: the score frame has no column for arms {format_examples(missing)}; "
                f"it has {format_examples(list(score.columns))}."
            )
        columns = {a: as_float_array(score[a], name=f"score[{a!r}]", where=where) for a in arms}
    else:
        if len(arms) != 1 or np.ndim(score) != 1:
            raise DataError(
                f"uplift metrics: a 1-D score needs exactly one treatment arm; t has {arms} and the "
                f"score has shape {np.shape(score)}. Pass a DataFrame with one score column per arm."
            )
        columns = {arms[0]: as_float_array(score, name="score", where=where)}
    for arm, values in columns.items():
        # A missing score would sort to one end and be ranked there without a word.
        refuse_not_finite(values, name=f"the score of arm {arm!r}", where=where, index=index)
    out = []
    for arm in arms:
        rows = (labels == arm) | (labels == control)
        out.append((arm, y_arr[rows], (labels[rows] == arm).astype(np.float64), columns[arm][rows]))
    return out


def _per_arm(results: dict[str, float], score: Score) -> float | pd.Series:
    if isinstance(score, pd.DataFrame):
        return pd.Series(results, name="score").rename_axis(C.OFFER_ID)
    return next(iter(results.values()))


# -- uplift@k ------------------------------------------------------------------------------------------
def uplift_at_k(
    y: ArrayLike,
    t: ArrayLike,
    score: Score,
    *,
    k: float = 0.3,
    strategy: Strategy = "overall",
    control: str = C.CONTROL,
) -> float | pd.Series:
    """Response rate of treated minus control among the top ``k`` share by score (sklift's definition).

    ``strategy="overall"`` takes the top ``int(n * k)`` rows and compares the two groups inside them;
    ``"by_group"`` takes the top ``k`` share of each group separately. Rows tied with the last row of
    the top share are all in it (as the Qini curves score tied rows together), so the answer never
    depends on the order of the rows.

    Parameters
    ----------
    y : Series or array
        Outcome of each row: 0/1 (a purchase) or continuous (spend, margin).
    t : Series or array
        Arm of each row: labels with ``control`` marking the control rows, or sklift's 0/1.
    score : Series, array or DataFrame
        Estimated uplift, higher = target first; a DataFrame holds one column per treatment arm,
        each scored on that arm's rows and the control's.
    k : float in (0, 1]
        Share of rows (``"overall"``) or of each group (``"by_group"``) taken from the top.
    strategy : {"overall", "by_group"}
        How the top share is taken (above).
    control : str
        Label of the control arm in ``t``; a 0/1 ``t`` without that label is sklift's flag (0 is
        the control).

    Returns
    -------
    float or Series
        The figure for one arm; with a DataFrame ``score``, a Series indexed by ``offer_id``.

    Examples
    --------
    >>> uplift_at_k([1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.2, 0.1], k=0.5)
    1.0
    """
    if isinstance(k, bool) or not isinstance(k, Real) or not 0 < k <= 1:
        raise ConfigError(f"The 'k' parameter of uplift_at_k must be in (0, 1]. Got {k!r} instead.")
    if strategy not in ("overall", "by_group"):
        raise ConfigError(
            f"The 'strategy' parameter of uplift_at_k must be 'overall' or 'by_group'. "
            f"Got {strategy!r} instead."
        )
    results = {}
    for arm, y_a, w, s in _pairs(y, t, score, control):
        if strategy == "overall":
            top = _top_share(s, k)
            treated, ctrl = y_a[top & (w == 1)], y_a[top & (w == 0)]
        else:
            treated = y_a[w == 1][_top_share(s[w == 1], k)]
            ctrl = y_a[w == 0][_top_share(s[w == 0], k)]
        if len(treated) == 0 or len(ctrl) == 0:
            raise DataError(
                f"uplift_at_k: the top {k:.0%} by score holds no {'treated' if len(treated) == 0 else 'control'}"
                f" rows for arm {arm!r}; raise k."
            )
        results[arm] = float(treated.mean() - ctrl.mean())
    return _per_arm(results, score)


def _top_share(score: np.ndarray, k: float) -> np.ndarray:
    """Rows in the top ``int(n * k)`` by score, with every row tied with the last of them."""
    size = int(len(score) * k)
    if size == 0:
        return np.zeros(len(score), dtype=bool)
    cut = np.sort(score)[::-1][size - 1]
    return np.asarray(score >= cut, dtype=bool)


# -- curves --------------------------------------------------------------------------------------------
def _cumulative(y: np.ndarray, w: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(s, kind="mergesort")[::-1]
    y, w, s = y[order], w[order], s[order]
    # One point per distinct score, as sklift does: ties are scored together.
    ends = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    n_all = ends + 1.0
    n_t = np.cumsum(w)[ends]
    y_t = np.cumsum(y * w)[ends]
    y_c = np.cumsum(y * (1 - w))[ends]
    return n_all, n_t, n_all - n_t, y_t, y_c


def _qini(y: np.ndarray, w: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_all, n_t, n_c, y_t, y_c = _cumulative(y, w, s)
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c != 0)
    return np.r_[0.0, n_all], np.r_[0.0, y_t - y_c * ratio]


def _uplift(y: np.ndarray, w: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_all, n_t, n_c, y_t, y_c = _cumulative(y, w, s)
    rate_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t != 0)
    rate_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c != 0)
    return np.r_[0.0, n_all], np.r_[0.0, (rate_t - rate_c) * n_all]


def _curve_frame(pairs: list, fn: object, name: str) -> pd.DataFrame:
    frames = []
    for arm, y_a, w, s in pairs:
        x, v = fn(y_a, w, s)  # type: ignore[operator]
        frames.append(pd.DataFrame({C.OFFER_ID: arm, "n": x, name: v}))
    return pd.concat(frames, ignore_index=True)


def qini_curve(
    y: ArrayLike, t: ArrayLike, score: Score, *, control: str = C.CONTROL
) -> pd.DataFrame:
    """Qini curve per arm: ``offer_id``, ``n`` (rows targeted), ``qini`` (incremental responders).

    ``y``, ``t``, ``score`` and ``control`` as for :func:`uplift_at_k`; rows are taken in decreasing
    ``score``, tied rows together. Any outcome works (the curve counts incremental outcome), and
    :func:`plot_uplift_curves` draws it.
    """
    return _curve_frame(_pairs(y, t, score, control), _qini, "qini")


def uplift_curve(
    y: ArrayLike, t: ArrayLike, score: Score, *, control: str = C.CONTROL
) -> pd.DataFrame:
    """Uplift curve per arm: ``offer_id``, ``n``, ``uplift`` ((rate_t - rate_c) * n).

    ``y``, ``t``, ``score`` and ``control`` as for :func:`uplift_at_k`: the treated rate minus the
    control rate among the top ``n`` rows by score, times ``n``.
    """
    return _curve_frame(_pairs(y, t, score, control), _uplift, "uplift")


def _normalised_area(
    x: np.ndarray, v: np.ndarray, x_best: np.ndarray, v_best: np.ndarray, *, arm: str, y: np.ndarray
) -> float:
    """Area between the curve and the random line over the perfect model's; NaN when undefined.

    A constant outcome on the arm's and the control's rows (nobody, or everybody, converted) leaves
    nothing to rank, and a perfect curve on the random line leaves nothing to normalise by: both give
    NaN with a :class:`DataQualityWarning` rather than a number that looks like a score.
    """
    base = auc(np.array([0.0, x_best[-1]]), np.array([0.0, v_best[-1]]))
    best = auc(x_best, v_best) - base
    if np.ptp(y) == 0 or best == 0:
        why = (
            f"every outcome is {y[0]:g}" if np.ptp(y) == 0 else "the perfect ranking gains nothing"
        )
        warn_user(
            f"uplift metrics: the area for arm {arm!r} is undefined ({why} on its and the control's "
            f"{len(y)} rows); it is NaN. Score on a sample where outcomes vary.",
            DataQualityWarning,
        )
        return float("nan")
    return float((auc(x, v) - base) / best)


def _refuse_non_binary(y: np.ndarray, name: str) -> None:
    """DataError for a continuous outcome: the areas are normalised by a perfect ranking of 0/1."""
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataError(
            f"{name} needs a binary outcome (0/1): its area is normalised by the perfect ranking of "
            "converters, which a continuous outcome such as spend does not have (the ratio could "
            "exceed 1). Use qini_curve/uplift_curve, uplift_at_k or policy_value for it."
        )


def qini_auc_score(
    y: ArrayLike,
    t: ArrayLike,
    score: Score,
    *,
    negative_effect: bool = True,
    control: str = C.CONTROL,
) -> float | pd.Series:
    """Normalised area under the Qini curve (sklift's ``qini_auc_score``): 0 random, 1 perfect.

    ``y`` must be 0/1 (a perfect ranking of converters normalises the area; a continuous outcome
    raises :class:`DataError`); ``t``, ``score`` and ``control`` as for :func:`uplift_at_k`.
    ``negative_effect=True`` (sklift's default) lets the perfect curve put the control's
    converters last, so it can dip; False caps it at the arm's overall gain (NaN, with a warning,
    for an arm whose overall gain is negative). An arm whose outcomes are all equal gives NaN with a
    :class:`DataQualityWarning`. Returns a float for one arm, a Series by ``offer_id`` for a
    DataFrame ``score``.

    Examples
    --------
    >>> round(qini_auc_score([1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.2, 0.1]), 4)
    0.8333
    """
    results = {}
    for arm, y_a, w, s in _pairs(y, t, score, control):
        _refuse_non_binary(y_a, "qini_auc_score")
        x, v = _qini(y_a, w, s)
        if negative_effect:
            x_best, v_best = _qini(y_a, w, y_a * w - y_a * (1 - w))
        else:
            gain = y_a[w == 1].sum() - (w == 1).sum() * y_a[w == 0].sum() / max((w == 0).sum(), 1)
            if gain < 0:
                # the ideal curve without negative effects climbs to the overall gain; an arm that
                # lowers responses overall has none (scikit-uplift fails here with sklearn's error)
                warn_user(
                    f"qini_auc_score: arm {arm!r} lowers responses overall (gain {gain:.1f}), so "
                    "the ideal curve without negative effects is undefined; the area is NaN. Use "
                    "negative_effect=True.",
                    DataQualityWarning,
                )
                results[arm] = float("nan")
                continue
            x_best, v_best = np.array([0.0, gain, len(y_a)]), np.array([0.0, gain, gain])
        results[arm] = _normalised_area(x, v, x_best, v_best, arm=arm, y=y_a)
    return _per_arm(results, score)


def uplift_auc_score(
    y: ArrayLike, t: ArrayLike, score: Score, *, control: str = C.CONTROL
) -> float | pd.Series:
    """Normalised area under the uplift curve (sklift's ``uplift_auc_score``).

    As :func:`qini_auc_score` (a 0/1 ``y``, NaN with a warning when nothing can be ranked), on the
    uplift curve; a float for one arm, a Series by ``offer_id`` for a DataFrame ``score``. ``y``,
    ``t`` (each row's arm), ``score`` (one column per arm, or a 1-D score with one treatment arm)
    and ``control`` (the control arm's label in ``t``) are as for :func:`uplift_at_k`.
    """
    results = {}
    for arm, y_a, w, s in _pairs(y, t, score, control):
        _refuse_non_binary(y_a, "uplift_auc_score")
        x, v = _uplift(y_a, w, s)
        control_responders = np.sum((y_a == 1) & (w == 0))
        treated_non_responders = np.sum((y_a == 0) & (w == 1))
        summand = y_a if control_responders > treated_non_responders else w
        x_best, v_best = _uplift(y_a, w, 2.0 * (y_a == w) + summand)
        results[arm] = _normalised_area(x, v, x_best, v_best, arm=arm, y=y_a)
    return _per_arm(results, score)


def uplift_report(
    y: ArrayLike, t: ArrayLike, effects: pd.DataFrame, *, k: float = 0.3, control: str = C.CONTROL
) -> pd.DataFrame:
    """One row per arm: ``uplift_at_k`` (overall), ``qini_auc`` and ``uplift_auc``.

    ``effects`` has one column per arm (e.g. ``UpliftModel.predict_effects``); with a single
    treatment arm a 1-D score will do. ``y`` must be 0/1 (for the areas); ``t``, ``k`` and
    ``control`` as for :func:`uplift_at_k`. Indexed by ``offer_id``.
    """
    metrics = {
        "uplift_at_k": uplift_at_k(y, t, effects, k=k, control=control),
        "qini_auc": qini_auc_score(y, t, effects, control=control),
        "uplift_auc": uplift_auc_score(y, t, effects, control=control),
    }
    if not isinstance(effects, pd.DataFrame):  # one arm (the metrics checked it): name its row
        labels, control = _labels(t, control, where="uplift_report", index=None)
        arm = next(iter(set(labels) - {control}))
        return pd.DataFrame(metrics, index=pd.Index([arm], name=C.OFFER_ID))
    return pd.DataFrame(metrics)


# -- policy value --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyValue:
    """Estimated mean reward per customer of an assignment policy, with a confidence interval."""

    value: float
    std_error: float
    ci_low: float
    ci_high: float
    method: str
    n: int

    def __str__(self) -> str:
        return (
            f"{self.value:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}] ({self.method}, n={self.n})"
        )


def policy_value(
    y: ArrayLike,
    t: ArrayLike,
    assignment: ArrayLike,
    *,
    propensity: pd.Series | pd.DataFrame | None = None,
    method: Literal["ipw", "dr"] = "ipw",
    mu: pd.DataFrame | None = None,
    control: str = C.CONTROL,
    confidence: float = 0.95,
    n_bootstrap: int = 0,
    random_state: int | None = None,
) -> PolicyValue:
    """Mean reward per customer had every row received the arm ``assignment`` gives it.

    Parameters
    ----------
    y : array
        Observed reward per row (e.g. margin of a conversion minus the cost of the arm received).
    t : array of str
        Arm each row received.
    assignment : array or Series of str
        Arm the policy gives each row; a missing value (no offer, as in a plan's ``offer_id``) means
        ``control``.
    propensity : Series or DataFrame, optional
        P(arm) per arm (Series: a randomised design) or per row (DataFrame, one column per arm).
        Default: the observed arm shares (a randomised experiment); the standard error and the
        bootstrap then treat each arm's part as a mean within the rows that received it
        (stratified by arm), as the shares make it. Per-row propensities that give the policy's
        arm to rows with almost no chance of it warn (:class:`PoorOverlapWarning`).
    method : {"ipw", "dr"}
        Inverse propensity weighting (Horvitz-Thompson), or doubly robust (needs ``mu``).
    mu : DataFrame, optional
        Predicted reward per row and arm (one column per arm, control included), for ``"dr"``.
    control : str
        Label of the control arm in ``t``, ``assignment``, ``propensity`` and ``mu``; a missing
        assignment means this arm.
    confidence : float
        Level of the interval.
    n_bootstrap : int
        0: normal interval from the per-row terms' standard error; else a percentile bootstrap.
        When every term is the same (e.g. no matched row of an assigned arm had a reward), the
        standard error is 0: that warns and the interval is NaN. The normal interval needs
        several events in each assigned arm.
    random_state : int, optional
        Seed of the bootstrap.

    Examples
    --------
    >>> y = np.array([1.0, 0.0, 0.0, 1.0]); t = np.array(["a", "control", "a", "control"])
    >>> policy_value(y, t, ["a", "a", "a", "a"]).value
    0.5
    """
    if method not in ("ipw", "dr"):
        raise ConfigError(
            f"The 'method' parameter of policy_value must be 'ipw' or 'dr'. Got {method!r}."
        )
    if not is_real(confidence) or not 0 < confidence < 1:
        raise ConfigError(
            f"The 'confidence' parameter of policy_value must be in (0, 1). Got {confidence!r}."
        )
    if (
        isinstance(n_bootstrap, bool)
        or not isinstance(n_bootstrap, int | np.integer)
        or n_bootstrap < 0
        or n_bootstrap == 1
    ):
        raise ConfigError(
            "The 'n_bootstrap' parameter of policy_value must be 0 (a normal interval) or an int "
            f">= 2 (bootstrap resamples). Got {n_bootstrap!r} instead."
        )
    check_seed(random_state, owner="policy_value")
    if propensity is not None and not isinstance(propensity, pd.Series | pd.DataFrame):
        raise ConfigError(
            "The 'propensity' parameter of policy_value must be None, a Series of arm shares or "
            f"a DataFrame of per-row propensities. Got {type(propensity).__name__} instead."
        )
    if mu is not None and not isinstance(mu, pd.DataFrame):
        raise ConfigError(
            "The 'mu' parameter of policy_value must be a DataFrame of predicted rewards (one "
            f"column per arm). Got {type(mu).__name__} instead."
        )
    where = "policy_value"
    per_row = {"propensity": propensity} if isinstance(propensity, pd.DataFrame) else {}
    aligned, index = align_on_index(
        {"y": y, "t": t, "assignment": assignment, **per_row, "mu": mu}, where=where
    )
    y_arr = as_float_array(aligned["y"], name="y", where=where)
    refuse_not_finite(y_arr, name="y", where=where, index=index)
    received = np.asarray(aligned["t"], dtype=object)
    _refuse_missing_arms(received, where=where, index=index)
    labels = received.astype(str)
    assigned = (
        pd.Series(np.asarray(aligned["assignment"], dtype=object))
        .fillna(control)
        .astype(str)
        .to_numpy()
    )
    n = len(y_arr)
    if not len(labels) == len(assigned) == n:
        raise DataError(
            f"policy_value: y, t and assignment must have the same length; got {n}, {len(labels)} "
            f"and {len(assigned)}."
        )
    if n == 0:
        raise DataError(
            "policy_value: y, t and assignment are empty; there is nothing to estimate."
        )
    propensity, mu = aligned.get("propensity", propensity), aligned["mu"]
    for name, frame in (("propensity", propensity), ("mu", mu)):
        if isinstance(frame, pd.DataFrame) and len(frame) != n:
            raise DataError(
                f"policy_value: {name} has {len(frame)} rows but y has {n}; pass one row per "
                "customer, one column per arm."
            )
    arms = sorted(set(labels.tolist()))
    never_seen = sorted(set(assigned) - set(arms))
    if never_seen:
        raise DataError(
            f"policy_value: the policy assigns arms {format_examples(never_seen)} that no row "
            f"received (t holds {format_examples(arms)}); their value cannot be estimated from "
            "this data."
        )
    p = _propensity_of_assigned(labels, assigned, propensity, arms)
    if isinstance(propensity, pd.DataFrame):
        _warn_if_weights_explode(p, assigned)
    match = (labels == assigned).astype(np.float64)
    baseline = np.zeros(n)  # the outcome model's part of each term (DR), 0 for IPW
    if method == "ipw":
        terms = match * y_arr / p
    else:
        if mu is None:
            raise ConfigError(
                "policy_value(method='dr') needs mu: predicted rewards per row and arm."
            )
        mu = mu.rename(columns=str)
        missing = [a for a in set(assigned) if a not in mu.columns]
        if missing:
            raise DataError(
                f"policy_value: mu lacks columns for arms {format_examples(sorted(missing))}."
            )
        mu_arr = _float_columns(mu, name="mu", where=where)
        cols = mu.columns.get_indexer(pd.Index(assigned))
        mu_a = mu_arr[np.arange(n), cols]
        refuse_not_finite(mu_a, name="mu (of the assigned arm)", where=where, index=index)
        terms = mu_a + match * (y_arr - mu_a) / p
        baseline = mu_a
    value = float(terms.mean())
    z = float(norm.ppf(0.5 + confidence / 2))
    # With the observed arm shares as propensities (the default) the weighted part of each term is
    # a mean within the arm the row received, so its noise is the within-arm spread: treating the
    # shares as known counted the spread between arms too (4.5x too wide on a reward far from 0).
    strata = labels if propensity is None else np.zeros(n, dtype=object)
    if n_bootstrap:
        rng = np.random.default_rng(random_state)
        # resampled by position within each stratum: the rows' order must not matter
        groups = [np.sort(terms[strata == s]) for s in sorted(set(strata.tolist()))]
        draws = np.array(
            [
                sum(g[rng.integers(0, g.size, g.size)].sum() for g in groups) / n
                for _ in range(n_bootstrap)
            ]
        )
        low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
        se = float(draws.std(ddof=1))
    elif n > 1:
        if propensity is None:
            weighted = terms - baseline
            centred = pd.Series(weighted).groupby(strata).transform("mean").to_numpy()
            influence = (baseline - baseline.mean()) + (weighted - centred)
        else:
            influence = terms - value
        se = float(np.sqrt((influence**2).sum() / (n - 1)) / np.sqrt(n))
        low, high = value - z * se, value + z * se
    else:
        se, low, high = float("nan"), float("nan"), float("nan")
    if n > 1 and not se > 0:
        warn_user(
            "policy_value: every row's term is the same (e.g. no matched row of an assigned arm "
            "had a nonzero reward), so the standard error is 0 and the interval says nothing; "
            "it is returned as NaN. The estimate needs several events in each assigned arm.",
            DataQualityWarning,
        )
        low = high = float("nan")
    return PolicyValue(value, se, float(low), float(high), method, n)


def _warn_if_weights_explode(p: np.ndarray, assigned: np.ndarray) -> None:
    """PoorOverlapWarning when the policy gives rows an arm they had almost no chance of.

    Such rows carry weights of 1 / p: a handful of them decide the value, and the normal interval
    undercovers badly (47% of 400 simulations with P(arm) = 0.001 on a fifth of the rows). The
    limit per arm is that of ``UpliftModel``'s overlap check.
    """
    from loyalty_ml.models._uplift_propensity import OVERLAP_THRESHOLD, PoorOverlapWarning

    arms, code = np.unique(assigned, return_inverse=True)
    share = (np.bincount(code, weights=p) / np.bincount(code))[code]
    limit = np.minimum(min(OVERLAP_THRESHOLD, 0.2 / max(len(arms), 1)), share / 5)
    poor = p < limit
    if poor.mean() > 0.01:
        counts = pd.Series(assigned[poor]).value_counts()
        weight = 1.0 / p
        effective = weight.sum() ** 2 / (weight**2).sum()
        warn_user(
            f"policy_value: the policy gives {int(poor.sum()):,} rows ({poor.mean():.1%}) an arm "
            f"they had almost no chance of receiving (propensity below {limit.min():.3g}; by arm "
            f"{format_examples(list(counts.items()), total=len(counts))}); their weights reach "
            f"{weight.max():,.0f} and the effective sample is {effective:,.0f} of {len(p):,} rows, "
            "so a few rows decide the value and its interval is too narrow. Evaluate policies "
            "that stay where each arm was given, or collect randomised data.",
            PoorOverlapWarning,
        )


def _propensity_of_assigned(
    labels: np.ndarray,
    assigned: np.ndarray,
    propensity: pd.Series | pd.DataFrame | None,
    arms: list[str],
) -> np.ndarray:
    if propensity is None:
        shares = pd.Series(labels).value_counts(normalize=True)
        return shares.reindex(assigned).to_numpy(dtype=np.float64)
    if isinstance(propensity, pd.Series):
        given = as_float_array(propensity, name="propensity", where="policy_value")
        p = pd.Series(given, index=propensity.index.map(str)).reindex(assigned).to_numpy()
    else:
        frame = propensity.rename(columns=str)
        missing = [a for a in set(assigned) if a not in frame.columns]
        if missing:
            raise DataError(
                f"policy_value: propensity lacks arms {format_examples(sorted(missing))}."
            )
        p = _float_columns(frame, name="propensity", where="policy_value")[
            np.arange(len(assigned)), frame.columns.get_indexer(pd.Index(assigned))
        ]
    bad = ~((p > 0) & (p <= 1))  # NaN too
    if bad.any():
        raise DataError(
            "policy_value: every assigned arm needs a propensity > 0 (an arm nobody could receive "
            "cannot be evaluated) and <= 1; arms "
            f"{format_examples(sorted(set(assigned[bad])))} have "
            f"{format_examples(pd.unique(p[bad]).tolist())} at {int(bad.sum())} row(s)."
        )
    return p


def _float_columns(frame: pd.DataFrame, *, name: str, where: str) -> np.ndarray:
    """``frame`` as a float64 (rows, columns) array; text is refused naming the column."""
    if frame.shape[1] == 0:
        return np.zeros((len(frame), 0))
    return np.column_stack(
        [as_float_array(frame[c], name=f"{name}[{c!r}]", where=where) for c in frame.columns]
    )


# -- plots ---------------------------------------------------------------------------------------------
def _arm_colours(n: int) -> list[str]:
    """``n`` distinct colours: the default cycle up to 10 arms, tab20 (dark shades first) up to 20,
    evenly spaced turbo colours beyond."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    if n <= 10:
        return [f"C{i}" for i in range(n)]
    if n <= 20:
        tab20 = colormaps["tab20"].colors  # type: ignore[attr-defined]
        return [to_hex(tab20[i]) for i in [*range(0, 20, 2), *range(1, 20, 2)][:n]]
    return [to_hex(c) for c in colormaps["turbo"](np.linspace(0.05, 0.95, n))]


def plot_uplift_curves(
    y: ArrayLike,
    t: ArrayLike,
    effects: Score,
    *,
    kind: Literal["qini", "uplift"] = "qini",
    control: str = C.CONTROL,
    outcome: str | None = None,
) -> Figure:
    """Qini (or uplift) curve of each arm against random targeting, on one Figure (no pyplot).

    ``y``, ``t``, ``effects`` (one score column per arm) and ``control`` as for :func:`qini_curve`.
    Each arm has its own colour, its random line (dashed) drawn in that colour; amounts are ticked
    in full (``12,500,000``), without a ``1e7`` offset. ``outcome`` names what ``y`` measures (e.g.
    ``"spend (¥)"``) for the y-axis label; by default a 0/1 outcome is counted as responders and
    any other as "outcome (sum)".
    """
    from matplotlib.figure import Figure

    from loyalty_ml._plot_text import legend_placement, literal, plain_numbers

    if kind not in ("qini", "uplift"):
        raise ConfigError(
            f"The 'kind' parameter of plot_uplift_curves must be 'qini' or 'uplift'. Got {kind!r}."
        )
    if outcome is not None and not isinstance(outcome, str):
        raise ConfigError(
            "The 'outcome' parameter of plot_uplift_curves must be a str or None. "
            f"Got {outcome!r} instead."
        )
    pairs = _pairs(y, t, effects, control)
    binary = all(np.isin(y_arm, (0.0, 1.0)).all() for _, y_arm, _, _ in pairs)
    curves = _curve_frame(pairs, _qini if kind == "qini" else _uplift, kind)
    groups = list(curves.groupby(C.OFFER_ID, sort=True))
    arms = [arm for arm, _ in groups]
    extra, placement = legend_placement(arms, max_inside=3, per_column=20)
    fig = Figure(figsize=(6 + extra, 4), layout="constrained")
    ax = fig.subplots()
    handles = []
    for (_, curve), colour in zip(groups, _arm_colours(len(groups)), strict=True):
        line = ax.plot(curve["n"], curve[kind], color=colour)[0]
        handles.append(line)
        ax.plot(
            [0, curve["n"].iloc[-1]],
            [0, curve[kind].iloc[-1]],
            linestyle="--",
            color=colour,
            alpha=0.6,
        )
    what = literal(outcome) if outcome is not None else None
    if kind == "qini":
        ylabel = f"incremental {what or ('responders' if binary else 'outcome (sum)')}"
    else:
        ylabel = (
            "uplift x customers"
            if binary and what is None
            else (f"uplift in {what or 'mean outcome'} x customers")
        )
    ax.set_xlabel("customers targeted (by predicted uplift)")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_formatter(plain_numbers())
    ax.yaxis.set_major_formatter(plain_numbers())
    ax.set_title(f"{kind.capitalize()} curves per arm (dashed: random)")
    # offer ids drawn as written ("$5 off", "_vip"), long ones that share a start kept apart
    legend(ax, handles, arms, **placement)
    return fig
