"""Churn metrics: ranking (ROC/PR AUC), calibration (Brier, ECE, reliability table) and lift by decile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import average_precision_score, roc_auc_score

from loyalty_ml.evaluation._metric_inputs import align_on_index, as_float_array
from loyalty_ml.exceptions import ConfigError, DataError, format_examples

__all__ = ["ChurnEvaluation", "calibration_table", "evaluate_churn", "lift_table"]


@dataclass(frozen=True, kw_only=True)
class ChurnEvaluation:
    """The scores of churn probabilities against observed outcomes.

    Attributes
    ----------
    roc_auc, pr_auc : float
        Area under the ROC curve and average precision (area under the precision-recall curve).
    brier : float
        Mean squared error of the probabilities.
    ece : float
        Expected calibration error over equal-frequency bins: ``sum_b n_b / n * |mean p_b - rate_b|``.
    lift_top_decile : float
        Churn rate among the 10% highest scores divided by the overall churn rate.
    capture_top_decile : float
        Share of all churners found in the 10% highest scores.
    base_rate : float
        Overall churn rate.
    n : int
        Number of customers scored.
    calibration : DataFrame
        One row per bin: ``bin``, ``p_min``, ``p_max``, ``mean_predicted``, ``observed_rate``, ``count``.
    lift : DataFrame
        One row per decile (1 = highest scores): ``count``, ``churners``, ``rate``, ``lift``,
        ``cumulative_capture``, ``cumulative_lift``.
    """

    roc_auc: float
    pr_auc: float
    brier: float
    ece: float
    lift_top_decile: float
    capture_top_decile: float
    base_rate: float
    n: int
    calibration: pd.DataFrame = field(repr=False)
    lift: pd.DataFrame = field(repr=False)

    def as_dict(self) -> dict[str, float]:
        """The scalar metrics, ready for ``mlflow.log_metrics``."""
        return {
            "roc_auc": self.roc_auc,
            "pr_auc": self.pr_auc,
            "brier": self.brier,
            "ece": self.ece,
            "lift_top_decile": self.lift_top_decile,
            "capture_top_decile": self.capture_top_decile,
            "base_rate": self.base_rate,
            "n": float(self.n),
        }

    def plot_calibration(self) -> Figure:
        """Reliability diagram: observed churn rate against mean predicted probability per bin."""
        fig = Figure(figsize=(5, 5), layout="constrained")
        ax = fig.subplots()
        table = self.calibration
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label="model")
        ax.set_xlabel("mean predicted churn probability")
        ax.set_ylabel("observed churn rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(f"Calibration (ECE {self.ece:.3f}, Brier {self.brier:.3f})")
        ax.legend(loc="upper left")
        predicted = table["mean_predicted"].to_numpy(dtype=float)
        if len(predicted) and np.nanmax(predicted) <= 0.25:
            self._zoom_on_calibration(ax)
        return fig

    def _zoom_on_calibration(self, ax: Any) -> None:
        """An inset on the data range when every bin predicts at most 25%: the curve of a rare
        event otherwise sits in the corner of the diagonal. The inset lies under the diagonal, to
        the right of every bin (x > 0.55), so it covers neither."""
        table = self.calibration
        values = table[["mean_predicted", "observed_rate"]].to_numpy(dtype=float)
        top = float(min(1.0, max(np.nanmax(values), 0.01) * 1.15))
        inset = ax.inset_axes((0.6, 0.1, 0.36, 0.36))
        inset.plot([0, top], [0, top], linestyle="--", color="grey")
        inset.plot(table["mean_predicted"], table["observed_rate"], marker="o", markersize=3)
        inset.set_xlim(0, top)
        inset.set_ylim(0, top)
        inset.set_xlabel("predicted (zoom)", fontsize="x-small")
        inset.set_ylabel("observed", fontsize="x-small")
        inset.tick_params(labelsize="x-small")
        for axis in (inset.xaxis, inset.yaxis):
            axis.set_major_locator(MaxNLocator(3))

    def plot_lift(self) -> Figure:
        """Lift per decile (bars, dashed line at 1 = the base rate) with the cumulative capture of
        churners (line) against random targeting (dotted: the share of customers contacted)."""
        fig = Figure(figsize=(6, 4.4), layout="constrained")
        ax = fig.subplots()
        table = self.lift
        bars = ax.bar(table.index, table["lift"], color="tab:blue", label="lift")
        base = ax.axhline(1.0, color="grey", linestyle="--", label="base rate (lift 1)")
        ax.set_xlabel("decile of churn score (1 = highest)")
        ax.set_ylabel("lift over the base rate")
        ax.set_xticks(list(table.index))
        twin = ax.twinx()
        (capture,) = twin.plot(
            table.index,
            table["cumulative_capture"],
            color="tab:orange",
            marker="o",
            label="churners captured (cumulative)",
        )
        # random targeting captures churners in proportion to the customers contacted: decile d
        # (equal-frequency groups) holds d/10 of them
        (random,) = twin.plot(
            [0, table.index.max()],
            [0.0, 1.0],
            color="tab:orange",
            linestyle=":",
            alpha=0.8,
            label="captured at random",
        )
        twin.set_ylabel("cumulative share of churners captured")
        twin.set_ylim(0, 1.05)
        ax.set_xlim(0.4, table.index.max() + 0.6)
        ax.set_title(f"Lift (top decile {self.lift_top_decile:.2f}x)")
        handles: list[Any] = [bars, base, capture, random]
        fig.legend(
            handles,
            [str(h.get_label()) for h in handles],
            loc="outside lower center",
            ncols=2,
            fontsize="small",
        )
        return fig


def evaluate_churn(y_true: Any, p: Any, *, n_bins: int = 10) -> ChurnEvaluation:
    """Score churn probabilities: ranking, calibration and lift.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome, 1 = churned. When both ``y_true`` and ``p`` are Series they are matched by
        index (the same ids are required); arrays are taken in order.
    p : array-like of shape (n,)
        Predicted churn probability in [0, 1].
    n_bins : int
        Number of equal-frequency bins of the calibration table and the ECE.

    Returns
    -------
    ChurnEvaluation

    Examples
    --------
    >>> ev = evaluate_churn([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n_bins=2)
    >>> round(ev.roc_auc, 2), round(ev.brier, 4)
    (0.75, 0.1581)
    """
    y, prob = _check_inputs(y_true, p)
    _check_count(n_bins, name="n_bins", function="evaluate_churn")
    calibration = _calibration(y, prob, n_bins)
    lift = _lift(y, prob, 10)
    gaps = (calibration["mean_predicted"] - calibration["observed_rate"]).abs()
    ece = float((gaps * calibration["count"]).sum() / y.size)
    top = lift.iloc[0]
    return ChurnEvaluation(
        roc_auc=float(roc_auc_score(y, prob)),
        pr_auc=float(average_precision_score(y, prob)),
        brier=float(np.mean((prob - y) ** 2)),
        ece=ece,
        lift_top_decile=float(top["lift"]),
        capture_top_decile=float(top["cumulative_capture"]),
        base_rate=float(y.mean()),
        n=int(y.size),
        calibration=calibration,
        lift=lift,
    )


def calibration_table(y_true: Any, p: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability and observed rate per equal-frequency bin of ``p``.

    Rows are sorted by ``p`` and cut into ``n_bins`` bins of (nearly) equal count; tied scores
    may straddle a bin edge, so every bin has ``n // n_bins`` or one more rows. As in
    :func:`lift_table`, rows with the same score carry their tie's observed rate, so a bin edge
    through tied scores (a constant or step-shaped score, e.g. isotonic calibration) does not split
    their outcomes by row order.

    Examples
    --------
    >>> table = calibration_table([0, 1, 0, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> table["mean_predicted"].round(2).tolist(), table["observed_rate"].tolist()
    ([0.15, 0.8], [0.5, 0.5])
    """
    y, prob = _check_inputs(y_true, p, require_both_classes=False)
    _check_count(n_bins, name="n_bins", function="calibration_table")
    return _calibration(y, prob, n_bins)


def _calibration(y: np.ndarray, prob: np.ndarray, n_bins: int) -> pd.DataFrame:
    """:func:`calibration_table` of checked inputs."""
    order = np.argsort(prob, kind="stable")
    bins = np.empty(y.size, dtype=np.int64)
    bins[order] = np.arange(y.size) * n_bins // y.size + 1
    frame = pd.DataFrame({"bin": bins, "p": prob, "y": _tie_rates(y, prob)})
    table = frame.groupby("bin").agg(
        p_min=("p", "min"),
        p_max=("p", "max"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
        count=("y", "size"),
    )
    return table


def lift_table(y_true: Any, p: Any, *, n_groups: int = 10) -> pd.DataFrame:
    """Churn rate and lift per group of scores, highest scores first (group 1 = top decile).

    Rows with the same score carry their tie's churn rate (``churners`` may then be fractional): a
    group boundary that cuts through tied scores would otherwise split them by row order, and a
    constant score could show a lift of 3 or of 0.

    Examples
    --------
    >>> lift_table([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], n_groups=2)["lift"].tolist()
    [2.0, 0.0]
    """
    y, prob = _check_inputs(y_true, p, require_both_classes=False)
    _check_count(n_groups, name="n_groups", function="lift_table")
    return _lift(y, prob, n_groups)


def _lift(y: np.ndarray, prob: np.ndarray, n_groups: int) -> pd.DataFrame:
    """:func:`lift_table` of checked inputs."""
    order = np.argsort(-prob, kind="stable")
    groups = np.empty(y.size, dtype=np.int64)
    groups[order] = np.arange(y.size) * n_groups // y.size + 1
    frame = pd.DataFrame({"decile": groups, "y": _tie_rates(y, prob)})
    table = frame.groupby("decile").agg(count=("y", "size"), churners=("y", "sum"))
    base = y.mean()
    table["rate"] = table["churners"] / table["count"]
    table["lift"] = table["rate"] / base if base > 0 else np.nan
    total = table["churners"].sum()
    table["cumulative_capture"] = table["churners"].cumsum() / total if total > 0 else np.nan
    table["cumulative_lift"] = (
        (table["churners"].cumsum() / table["count"].cumsum()) / base if base > 0 else np.nan
    )
    return table


def _tie_rates(y: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Each row's outcome replaced by the mean outcome of the rows with its score."""
    _, tie = np.unique(prob, return_inverse=True)
    rates: np.ndarray = np.bincount(tie, weights=y) / np.bincount(tie)
    return rates[tie]


def _check_inputs(
    y_true: Any, p: Any, *, require_both_classes: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    aligned, _ = align_on_index({"y_true": y_true, "p": p}, where="evaluate_churn")
    y = as_float_array(aligned["y_true"], name="y_true", where="evaluate_churn")
    prob = as_float_array(aligned["p"], name="p", where="evaluate_churn")
    if y.size != prob.size:
        raise DataError(
            f"evaluate_churn: y_true has {y.size} values but p has {prob.size}; pass one score per outcome."
        )
    if y.size == 0:
        raise DataError("evaluate_churn: y_true and p are empty.")
    bad_y = ~np.isin(y, (0.0, 1.0))
    if bad_y.any():
        raise DataError(
            f"evaluate_churn: y_true must be 0/1; found {format_examples(np.unique(y[bad_y]).tolist(), total=int(bad_y.sum()))}."
        )
    bad_p = ~((prob >= 0) & (prob <= 1))  # also catches NaN
    if bad_p.any():
        raise DataError(
            "evaluate_churn: p must be probabilities in [0, 1]; found "
            f"{format_examples(prob[bad_p].tolist(), total=int(bad_p.sum()))}. Use predict_proba(X)[:, 1]."
        )
    if require_both_classes and np.unique(y).size < 2:
        raise DataError(
            f"evaluate_churn: y_true has only one class ({int(y[0])}); ROC AUC and lift need churners and "
            "non-churners. Evaluate on a longer window or more customers."
        )
    # Every metric here is a function of the set of (outcome, score) pairs, but float sums are
    # not associative: taken in the caller's row order, Brier, ECE and the fractional churners of
    # tied scores moved by an ulp when the same rows came in another order (the training job's
    # backtest rows come sorted by id, so integer and text ids of the same customers gave
    # different last bits). One canonical order makes them exact.
    order = np.lexsort((y, prob))
    return y[order], prob[order]


def _check_count(value: Any, *, name: str, function: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(
            f"The {name!r} parameter of {function} must be an int >= 1. Got {value!r} instead."
        )
