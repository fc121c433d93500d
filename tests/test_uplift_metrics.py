"""Tests of loyalty_ml.evaluation.uplift_metrics on hand-computed examples and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from loyalty_ml.evaluation.uplift_metrics import (
    plot_uplift_curves,
    policy_value,
    qini_auc_score,
    qini_curve,
    uplift_at_k,
    uplift_auc_score,
    uplift_curve,
    uplift_report,
)
from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning

Y = np.array([1, 0, 1, 0])
W = np.array([1, 0, 0, 1])
S = np.array([0.9, 0.8, 0.2, 0.1])


def test_uplift_at_k_by_hand() -> None:
    # top 2 rows: a treated responder and a control non-responder
    assert uplift_at_k(Y, W, S, k=0.5) == 1.0
    # by_group: top half of the treated (row 0: 1) and of the control (row 1: 0)
    assert uplift_at_k(Y, W, S, k=0.5, strategy="by_group") == 1.0
    # all rows: treated 1/2 vs control 1/2
    assert uplift_at_k(Y, W, S, k=1.0) == 0.0


def test_qini_and_uplift_curves_by_hand() -> None:
    qini = qini_curve(Y, W, S)
    assert qini["n"].tolist() == [0, 1, 2, 3, 4]
    assert qini["qini"].tolist() == [0.0, 1.0, 1.0, 0.5, 0.0]
    assert set(qini["offer_id"]) == {"treatment"}
    assert uplift_curve(Y, W, S)["uplift"].tolist() == [0.0, 1.0, 2.0, 1.5, 0.0]
    # area 2.5 of the perfect curve's 3.0 (baseline 0 here)
    assert qini_auc_score(Y, W, S) == pytest.approx(2.5 / 3.0)


def test_ties_are_scored_together() -> None:
    curve = qini_curve(Y, W, np.array([0.5, 0.5, 0.2, 0.1]))
    assert curve["n"].tolist() == [0, 2, 3, 4]


def test_perfect_score_has_qini_one_and_labels_work() -> None:
    rng = np.random.default_rng(0)
    w = rng.integers(0, 2, 400)
    y = rng.integers(0, 2, 400)
    perfect = y * w - y * (1 - w)
    assert qini_auc_score(y, w, perfect) == pytest.approx(1.0)
    labels = np.where(w == 1, "coupon", "control")
    assert qini_auc_score(y, labels, perfect) == pytest.approx(1.0)
    score = rng.normal(size=400)
    by_frame = uplift_auc_score(y, labels, pd.DataFrame({"coupon": score}))
    assert by_frame["coupon"] == pytest.approx(uplift_auc_score(y, w, score))


def test_multi_arm_scores_each_arm_on_its_rows() -> None:
    rng = np.random.default_rng(1)
    n = 600
    t = rng.choice(["control", "a", "b"], n)
    y = rng.integers(0, 2, n)
    effects = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    per_arm = qini_auc_score(y, t, effects)
    assert isinstance(per_arm, pd.Series) and per_arm.index.tolist() == ["a", "b"]
    rows = np.isin(t, ["control", "a"])
    assert per_arm["a"] == pytest.approx(
        qini_auc_score(y[rows], (t[rows] == "a").astype(int), effects["a"].to_numpy()[rows])
    )
    at_k = uplift_at_k(y, t, effects, k=0.3)
    assert at_k["b"] == pytest.approx(
        uplift_at_k(
            y[t != "a"], (t[t != "a"] == "b").astype(int), effects["b"].to_numpy()[t != "a"], k=0.3
        )
    )
    report = uplift_report(y, t, effects)
    assert report.columns.tolist() == ["uplift_at_k", "qini_auc", "uplift_auc"]
    assert report.loc["a", "qini_auc"] == pytest.approx(per_arm["a"])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000))
def test_scores_depend_only_on_the_ranking(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 2, 60)
    w[:2] = [0, 1]
    y = rng.integers(0, 2, 60)
    s = rng.normal(size=60)
    assert qini_auc_score(y, w, s) == pytest.approx(qini_auc_score(y, w, np.exp(s) * 3 + 1))
    assert uplift_at_k(y, w, s, k=0.5) == pytest.approx(uplift_at_k(y, w, 2 * s - 5, k=0.5))


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
# -- policy value --------------------------------------------------------------------------------------
def test_ipw_by_hand() -> None:
    y = np.array([3.0, 1.0, 0.0, 2.0])
    t = np.array(["a", "control", "a", "control"])
    everyone_a = policy_value(y, t, ["a"] * 4)
    assert everyone_a.value == pytest.approx((3.0 / 0.5 + 0.0 / 0.5) / 4)
    # the plan "a for the first two, nothing for the rest" (NA = control)
    mixed = policy_value(y, t, pd.Series(["a", "a", None, None]))
    assert mixed.value == pytest.approx((3.0 / 0.5 + 2.0 / 0.5) / 4)
    assert mixed.ci_low < mixed.value < mixed.ci_high
    design = policy_value(y, t, ["a"] * 4, propensity=pd.Series({"a": 0.25, "control": 0.75}))
    assert design.value == pytest.approx(3.0 / 0.25 / 4)


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_dr_by_hand() -> None:
    y = np.array([3.0, 1.0, 0.0, 2.0])
    t = np.array(["a", "control", "a", "control"])
    mu = pd.DataFrame({"control": [1.0, 1.0, 1.0, 1.0], "a": [2.0, 2.0, 2.0, 2.0]})
    result = policy_value(y, t, ["a"] * 4, method="dr", mu=mu)
    # mu_a + match * (y - mu_a) / 0.5: 2 + 2, 2, 2 - 4, 2
    assert result.value == pytest.approx((4.0 + 2.0 - 2.0 + 2.0) / 4)
    assert result.method == "dr" and result.n == 4


def test_ipw_recovers_a_known_policy_value_with_bootstrap_ci() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    x = rng.uniform(size=n)
    t = rng.choice(["control", "a"], n)
    y = 2 * x + rng.normal(0, 0.3, size=n) + np.where(t == "a", x - 0.5, 0.0)
    # treat only those with x > 0.5: true value E[2x] + E[(x - 0.5) 1{x > 0.5}] = 1.125
    plan = np.where(x > 0.5, "a", "control")
    ipw = policy_value(y, t, plan, n_bootstrap=200, random_state=0)
    assert ipw.ci_low < 1.125 < ipw.ci_high
    mu = pd.DataFrame({"control": 2 * x, "a": 3 * x - 0.5})
    dr = policy_value(y, t, plan, method="dr", mu=mu)
    assert dr.ci_low < 1.125 < dr.ci_high
    # a good outcome model removes the variance the covariates explain
    assert dr.std_error < 0.7 * ipw.std_error
    assert "dr" in str(dr)


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_policy_value_errors() -> None:
    y = np.array([1.0, 0.0])
    t = np.array(["a", "control"])
    with pytest.raises(DataError, match=r"assigns arms \['b'\] that no row received"):
        policy_value(y, t, ["b", "a"])
    with pytest.raises(ConfigError, match="needs mu"):
        policy_value(y, t, ["a", "a"], method="dr")
    with pytest.raises(ConfigError, match="'method' parameter of policy_value"):
        policy_value(y, t, ["a", "a"], method="magic")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="same length"):
        policy_value(y, t, ["a"])
    with pytest.raises(DataError, match=r"propensity > 0"):
        policy_value(y, t, ["a", "a"], propensity=pd.Series({"control": 1.0}))
    with pytest.raises(DataError, match=r"mu lacks columns for arms \['a'\]"):
        policy_value(y, t, ["a", "a"], method="dr", mu=pd.DataFrame({"control": [0.0, 0.0]}))


def test_metric_errors() -> None:
    with pytest.raises(ConfigError, match="'k' parameter of uplift_at_k"):
        uplift_at_k(Y, W, S, k=0.0)
    with pytest.raises(ConfigError, match="'strategy' parameter of uplift_at_k"):
        uplift_at_k(Y, W, S, strategy="top")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="same length"):
        qini_auc_score(Y, W, S[:3])
    with pytest.raises(DataError, match="no control rows"):
        qini_auc_score(Y, np.array(["a"] * 4), S)
    with pytest.raises(DataError, match="a 1-D score needs exactly one treatment arm"):
        qini_auc_score(Y, np.array(["a", "b", "control", "control"]), S)
    with pytest.raises(DataError, match=r"no column for arms \['b'\]"):
        qini_auc_score(Y, np.array(["a", "b", "control", "control"]), pd.DataFrame({"a": S}))
    with pytest.raises(DataError, match="holds no control rows"):
        uplift_at_k(Y, W, S, k=0.25)


def test_scikit_uplift_argument_order_is_named_in_the_error() -> None:
    # sklift writes uplift_at_k(y_true, uplift, treatment): scores passed as t were read as arms
    rng = np.random.default_rng(3)
    y, w = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    scores = pd.Series(rng.normal(0.05, 0.05, 200))
    for metric in (uplift_at_k, qini_auc_score):
        with pytest.raises(DataError, match=r"look swapped\. The order is \(y, t, score\)"):
            metric(y, scores, w)
    # a text arm without a control row is not a swapped call
    with pytest.raises(DataError, match=r"no control rows \(label 'control'\) in t; arms "):
        qini_auc_score(y, np.array(["a"] * 200), w)
    assert uplift_at_k(y, w, scores) == uplift_at_k(y, w, scores.to_numpy())


def test_plot_returns_a_figure_with_a_curve_per_arm() -> None:
    rng = np.random.default_rng(2)
    t = rng.choice(["control", "a", "b"], 300)
    y = rng.integers(0, 2, 300)
    effects = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    fig = plot_uplift_curves(y, t, effects)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["a", "b"]
    assert len(ax.lines) == 4
    assert isinstance(plot_uplift_curves(y, t, effects, kind="uplift"), Figure)
    with pytest.raises(ConfigError, match="'kind' parameter"):
        plot_uplift_curves(y, t, effects, kind="gain")  # type: ignore[arg-type]


@pytest.mark.parametrize("score", [qini_auc_score, uplift_auc_score])
@pytest.mark.parametrize("outcome", [0, 1])
def test_areas_of_a_constant_outcome_are_nan_with_a_warning(score, outcome: int) -> None:
    # nobody (or everybody) converted: there is nothing to rank, so no number that looks like a score
    with pytest.warns(DataQualityWarning, match=f"every outcome is {outcome}"):
        assert np.isnan(score(np.full(4, outcome), W, S))


def test_a_constant_outcome_in_one_arm_leaves_the_other_arms_scored() -> None:
    t = np.array(["a", "a", "b", "b", "control", "control"])
    y = np.array([1, 1, 1, 0, 1, 1])
    effects = pd.DataFrame(
        {"a": [0.9, 0.1, 0.5, 0.5, 0.2, 0.3], "b": [0.1, 0.2, 0.9, 0.1, 0.3, 0.2]}
    )
    with pytest.warns(DataQualityWarning, match="arm 'a'"):
        areas = qini_auc_score(y, t, effects)
    assert np.isnan(areas["a"]) and np.isfinite(areas["b"])


def test_flag_labels_without_control_zero_say_so() -> None:
    """0/1 labels scored against a model fitted with control=0 (its column is '1') named an arm
    'treatment' the user never had, and not the missing control=0."""
    rng = np.random.default_rng(0)
    t = np.tile([0, 1], 50)
    y = rng.integers(0, 2, 100)
    scores = pd.DataFrame({"1": rng.uniform(size=100)})
    with pytest.raises(DataError, match=r"read as a treatment flag .* pass control=0"):
        qini_auc_score(y, t, scores)
    assert np.isfinite(qini_auc_score(y, t, scores, control=0)["1"])


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_policy_value_of_a_whole_plan_frame_names_the_column_to_pass() -> None:
    # plan instead of plan["offer_id"]: a raw pandas "Buffer has wrong number of dimensions"
    from loyalty_ml.evaluation.uplift_metrics import policy_value

    idx = pd.Index([1, 2, 3, 4], name="customer_id")
    y = pd.Series([1.0, 0.0, 0.0, 1.0], index=idx)
    t = pd.Series(["a", "control", "a", "control"], index=idx)
    plan = pd.DataFrame({"offer_id": ["a", None, "a", None], "expected_uplift": 0.1}, index=idx)
    with pytest.raises(ConfigError, match=r"plan\['offer_id'\]"):
        policy_value(y, t, plan)
    with pytest.raises(ConfigError, match=r"shape \(4, 2\)"):
        policy_value(y, t, np.zeros((4, 2)))
    assert np.isfinite(policy_value(y, t, plan["offer_id"]).value)
