"""Tests of loyalty_ml.evaluation.churn_metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from loyalty_ml.evaluation.churn_metrics import (
    ChurnEvaluation,
    calibration_table,
    evaluate_churn,
    lift_table,
)
from loyalty_ml.exceptions import ConfigError, DataError


def test_exact_values_on_a_hand_written_case() -> None:
    y = [0, 0, 1, 1]
    p = [0.1, 0.4, 0.35, 0.8]
    ev = evaluate_churn(y, p, n_bins=2)
    assert ev.roc_auc == pytest.approx(0.75)
    assert ev.brier == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    # bins: {0.1, 0.35} -> mean p 0.225, rate 0.5; {0.4, 0.8} -> mean p 0.6, rate 0.5
    assert ev.ece == pytest.approx(0.5 * 0.275 + 0.5 * 0.1)
    assert ev.calibration["count"].tolist() == [2, 2]
    assert ev.base_rate == 0.5
    assert ev.n == 4


def test_top_decile_lift_and_capture() -> None:
    # 100 customers, 10 churners, all ranked on top: lift 10, capture 1
    y = np.r_[np.ones(10), np.zeros(90)]
    p = np.r_[np.full(10, 0.9), np.full(90, 0.05)]
    ev = evaluate_churn(y, p)
    assert ev.lift_top_decile == pytest.approx(10.0)
    assert ev.capture_top_decile == pytest.approx(1.0)
    assert ev.lift.loc[1, "churners"] == 10
    assert ev.lift["cumulative_capture"].iloc[-1] == pytest.approx(1.0)
    assert ev.lift["cumulative_lift"].iloc[-1] == pytest.approx(1.0)


def test_perfectly_calibrated_bins_have_zero_ece() -> None:
    # two groups whose observed rate equals the predicted probability exactly
    y = np.r_[np.ones(2), np.zeros(8), np.ones(8), np.zeros(2)]
    p = np.r_[np.full(10, 0.2), np.full(10, 0.8)]
    assert evaluate_churn(y, p, n_bins=2).ece == pytest.approx(0.0)


def test_as_dict_has_the_scalar_metrics() -> None:
    ev = evaluate_churn([0, 1, 0, 1], [0.2, 0.7, 0.3, 0.9])
    metrics = ev.as_dict()
    assert set(metrics) >= {
        "roc_auc",
        "pr_auc",
        "brier",
        "ece",
        "lift_top_decile",
        "capture_top_decile",
    }
    assert all(isinstance(v, float) for v in metrics.values())
    assert metrics["roc_auc"] == pytest.approx(1.0)


def test_plots_are_figures() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200)
    y = (rng.uniform(size=200) < p).astype(int)
    ev = evaluate_churn(y, p)
    for fig in (ev.plot_calibration(), ev.plot_lift()):
        assert isinstance(fig, Figure)
        assert fig.axes[0].get_title()


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 1, 1], [0.1, 0.2], "y_true has 3 values but p has 2"),
        ([1, 1, 1], [0.1, 0.2, 0.3], "only one class"),
        ([0, 1, 1], [0.1, 1.2, -0.1], r"p must be probabilities in \[0, 1\]; found \[1.2, -0.1\]"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "p must be probabilities"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "y_true must be 0/1; found"),
        ([], [], "empty"),
    ],
)
def test_bad_inputs_are_refused(y, p, message) -> None:
    with pytest.raises(DataError, match=message):
        evaluate_churn(y, p)


def test_bad_n_bins_is_refused() -> None:
    with pytest.raises(ConfigError, match="'n_bins' parameter of evaluate_churn"):
        evaluate_churn([0, 1], [0.1, 0.9], n_bins=0)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.floats(0, 1, allow_nan=False)), min_size=2, max_size=60
    ),
    n_bins=st.integers(1, 12),
)
def test_tables_cover_every_row_and_ece_is_bounded(data, n_bins) -> None:
    y = np.array([d[0] for d in data])
    p = np.array([d[1] for d in data])
    calib = calibration_table(y, p, n_bins=n_bins)
    lift = lift_table(y, p)
    assert calib["count"].sum() == y.size
    assert lift["count"].sum() == y.size
    assert calib["count"].max() - calib["count"].min() <= 1
    assert (calib["p_min"].diff().dropna() >= 0).all()
    if np.unique(y).size == 2:
        ev = evaluate_churn(y, p, n_bins=n_bins)
        assert 0.0 <= ev.ece <= 1.0
        assert 0.0 <= ev.capture_top_decile <= 1.0
        assert isinstance(ev, ChurnEvaluation)


def test_metrics_do_not_depend_on_the_row_order_to_the_last_bit() -> None:
    """The same (outcome, score) pairs in another order give bitwise the same metrics and tables.

    Float sums taken in row order moved Brier, ECE and the tied scores' fractional churners by an
    ulp (the training job's backtest gave other last bits for integer and text ids of the same
    customers, whose rows come sorted differently)."""
    rng = np.random.default_rng(0)
    p = np.round(rng.uniform(0.02, 0.6, 502), 2)  # step-shaped scores: many ties
    y = (rng.uniform(size=502) < p).astype(int)
    first = evaluate_churn(y, p)
    for seed in range(50):  # before, 12 of these orders moved Brier and 5 the ECE by an ulp
        order = np.random.default_rng(seed + 1).permutation(502)
        again = evaluate_churn(y[order], p[order])
        assert again.as_dict() == first.as_dict()
        assert again.calibration.equals(first.calibration)
        assert again.lift.equals(first.lift)
