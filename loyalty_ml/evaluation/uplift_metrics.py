"""Uplift evaluation for any number of arms: uplift@k, Qini and uplift curves, and policy value.

The metrics match scikit-uplift's definitions (``sklift.metrics``: ``uplift_at_k``, ``qini_curve``,
``qini_auc_score``, ``uplift_curve``, ``uplift_auc_score``) so numbers are comparable with published
results. With several arms, each arm is scored against the control on the rows of that arm and the
control, using the arm's own column of the effects frame; results come back as a Series per arm.

``t`` is either arm labels (``control`` marks the control rows) or sklift's 0/1 convention (1 = treated).
When several of ``y``, ``t`` and the scores are Series or DataFrames they are matched by index (the
same ids are required); arrays are taken by position.
:func:`policy_value` (from :mod:`.policy_value`, re-exported here) estimates what any assignment of arms
would have earned, from randomised (or known-propensity) data, by inverse propensity weighting or the
doubly robust estimator, with a CI.
"""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import auc

from loyalty_ml._plot_text import legend
from loyalty_ml._warn import warn_user
from loyalty_ml.evaluation._metric_inputs import (
    align_on_index,
    arm_labelled,
    as_float_array,
    refuse_missing_arms,
    refuse_not_finite,
)
from loyalty_ml.evaluation.policy_value import PolicyValue, policy_value
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
    refuse_missing_arms(values, where=where, index=index)
    texts = label_texts(values)
    control = label_text(control)
    is_flag = values.dtype.kind in "biuf" and bool(np.isin(values, (0, 1)).all())
    if is_flag and not (texts == control).any():
        return np.where(values == 1, "treatment", control).astype(object), control
    return texts, control


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
            f"{format_examples(sorted(set(labels)))}.{_swapped_hint(t, score)}"
        )
    arms = sorted(set(labels) - {control})
    if not arms:
        raise DataError(
            f"{where}: t holds control rows only (label {control!r}); there is no treated row to "
            "compare them with."
        )
    if isinstance(score, pd.DataFrame):
        frame: pd.DataFrame = arm_labelled(score, name="the score frame", where=where)
        missing = [a for a in arms if a not in frame.columns]
        if missing:
            # 0/1 labels read as scikit-uplift's treatment flag name their arm "treatment"; a
            # model fitted with control=0 names it "1"
            flag = (
                " The 0/1 labels of t were read as a treatment flag (arm 'treatment'); for arms "
                "named by number (an UpliftModel fitted with control=0), pass control=0."
                if missing == ["treatment"] and control != 0
                else ""
            )
            raise DataError(
                f"uplift metrics: the score frame has no column for arms {format_examples(missing)}; "
                f"it has {format_examples(list(frame.columns))}.{flag}"
            )
        columns = {a: as_float_array(frame[a], name=f"score[{a!r}]", where=where) for a in arms}
        unscored = [c for c in frame.columns if c not in set(arms) and c != control]
        if unscored:
            # e.g. an offer the model knows that the evaluation rows never sent: its figures would
            # be missing from the result, and res[offer] a KeyError later
            warn_user(
                f"uplift metrics: the score frame has columns {format_examples(unscored)} for "
                f"arms no row of t received (t holds {format_examples(arms)} and the control "
                f"{control!r}); they are left out of the result. Evaluate them on rows that were "
                "sent them.",
                DataQualityWarning,
            )
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


def _swapped_hint(t: Any, score: Score) -> str:
    """A hint when ``t`` looks like scores and ``score`` like a 0/1 treatment flag.

    scikit-uplift's metrics take ``(y_true, uplift, treatment)``; ours take ``(y, t, score)``, so
    a call written in its order reads every score as an arm and reports no control rows.
    """
    if isinstance(score, pd.DataFrame):
        return ""
    t_values, s_values = np.asarray(t), np.asarray(score)
    if t_values.dtype.kind != "f" or s_values.dtype.kind not in "biuf":
        return ""
    finite = t_values[np.isfinite(t_values)]
    many_scores = len(np.unique(finite)) > 2 and bool((finite != np.round(finite)).any())
    if not many_scores or not np.isin(s_values, (0, 1)).all():
        return ""
    return (
        " t holds fractional numbers and score only 0 and 1: the arguments look swapped. The "
        "order is (y, t, score), treatment before the scores (scikit-uplift's is y_true, uplift, "
        "treatment)."
    )


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
    the top share count in it by the share of their block that fits (a block of 10 tied rows of
    which 4 fit counts each at 0.4: the chance it would be taken in a random order of the block),
    so the answer never depends on the order of the rows and the top share is exactly ``k``
    (counting the whole block, coarse scores such as few-leaf trees could stretch a top 1% to 10%
    of the rows); without ties this is scikit-uplift's figure.

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
            top_t, top_c = top * (w == 1), top * (w == 0)
        else:
            top_t, top_c = np.zeros(len(s)), np.zeros(len(s))
            top_t[w == 1] = _top_share(s[w == 1], k)
            top_c[w == 0] = _top_share(s[w == 0], k)
        if not top_t.sum() > 0 or not top_c.sum() > 0:
            group = "treated" if not top_t.sum() > 0 else "control"
            # the rows k is a share of: all of them, or (by_group) the empty group's
            rows = len(s) if strategy == "overall" else int((w == (group == "treated")).sum())
            raise DataError(
                f"uplift_at_k: the top {k:.0%} by score holds no {group} rows for arm {arm!r}"
                + (
                    f" (k = {k:g} of {rows:,} {'' if strategy == 'overall' else group + ' '}rows "
                    "is less than one row)"
                    if int(rows * k) == 0
                    else ""
                )
                + "; raise k."
            )
        results[arm] = float(np.average(y_a, weights=top_t) - np.average(y_a, weights=top_c))
    return _per_arm(results, score)


def _top_share(score: np.ndarray, k: float) -> np.ndarray:
    """Weight of each row in the top ``int(n * k)`` by score: 1 above the last row taken, 0 below
    it, and for the rows tied with it the share of their block that fits (rows tied at the cut are
    alike, so each counts by the chance it would be taken in a random order of the block)."""
    size = int(len(score) * k)
    weight = np.zeros(len(score))
    if size == 0:
        return weight
    cut = np.sort(score)[::-1][size - 1]
    above, tied = score > cut, score == cut
    weight[above] = 1.0
    weight[tied] = (size - above.sum()) / tied.sum()
    return weight


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
    for an arm whose overall gain is negative), and a ranking whose curve rises above that
    capped ideal on the way (a small overall gain made of large effects both ways) scores above
    1, as sklift's does: read "1 perfect" with ``negative_effect=True`` only. An arm whose outcomes are all equal gives NaN with a
    :class:`DataQualityWarning`. Returns a float for one arm, a Series by ``offer_id`` for a
    DataFrame ``score``.

    Examples
    --------
    >>> round(qini_auc_score([1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.2, 0.1]), 4)
    0.8333
    """
    if not isinstance(negative_effect, bool | np.bool_):
        # "no" is truthy: read as it is, it would pick the curve the caller turned down
        raise ConfigError(
            f"qini_auc_score: negative_effect must be True or False; got {negative_effect!r}."
        )
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
