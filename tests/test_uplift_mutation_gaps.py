"""Tests that kill mutants which survived the suite (session 44's mutation run of the uplift model,
its learners, cost check, sizing, encoding and linear blend, the churn model's splits and cutoff
offsets, explain and training_table). Each test names the mutant it kills. Small synthetic data with
known effects; small n_estimators, cost_folds=0 where the check is not under test.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.models.uplift import UpliftModel


def _experiment(
    n: int = 1200, *, seed: int = 0, arms: tuple[str, ...] = ("control", "coupon"), p=None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A randomised binary experiment: the first treatment arm raises the purchase rate by 0.2."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"recency": rng.uniform(0, 1, n), "spend": rng.uniform(0, 1, n)})
    t = rng.choice(list(arms), n, p=p)
    lift = np.where(t == arms[1], 0.2, 0.0)
    y = (rng.uniform(size=n) < 0.2 + lift).astype(int)
    return X, y, t


def _model(**kw: object) -> UpliftModel:
    params: dict[str, object] = {
        "n_estimators": 10,
        "cost_folds": 0,
        "linear_weight": 0.0,
        "random_state": 0,
    }
    params.update(kw)
    return UpliftModel(**params)


# -- uplift.py: arm_summary_["share"] ----------------------------------------------------------------
def test_share_of_per_row_propensities_is_their_mean() -> None:
    """Kills U03 (``shares = row_propensity[0]``): with known per-row propensities of 0.2 or 0.8,
    arm_summary_["share"] is their mean (0.5), not the first row's."""
    X, y, _ = _experiment(1200)
    high = (X["recency"] > 0.5).to_numpy()
    p_coupon = np.where(high, 0.8, 0.2)
    rng = np.random.default_rng(1)
    t = np.where(rng.uniform(size=len(X)) < p_coupon, "coupon", "control")
    prop = pd.DataFrame({"coupon": p_coupon}, index=X.index)
    model = _model().fit(X, y, treatment=t, propensity=prop)
    share = model.arm_summary_["share"]
    assert share["coupon"] == pytest.approx(p_coupon.mean(), abs=1e-9)
    assert share["control"] == pytest.approx(1 - p_coupon.mean(), abs=1e-9)


def test_known_design_shares_are_the_shares_used() -> None:
    """Kills U22 (known Series shares replaced by the observed ones): a 50/50 design whose sample
    came out 55/45 keeps its known 0.5 shares in arm_summary_."""
    X, y, t = _experiment(1000, p=[0.55, 0.45])
    known = pd.Series({"control": 0.5, "coupon": 0.5})
    model = _model().fit(X, y, treatment=t, propensity=known)
    assert model.arm_summary_["share"].tolist() == pytest.approx([0.5, 0.5], abs=1e-12)


# -- uplift.py: _warn_arms_without_control ------------------------------------------------------------
def test_arm_sent_with_a_control_in_one_group_is_not_warned_about() -> None:
    """Kills U18 (``.any()`` -> ``.all()``): an arm sent in two campaigns, one of them with control
    rows, is compared within that campaign; the 'only in groups without control rows' warning is
    for arms that no group sent next to a control."""
    X, y, t = _experiment(1200)
    groups = np.where(np.arange(len(X)) < 600, "spring", "autumn")
    # autumn sends only the coupon: its control rows become coupon rows (no control in autumn)
    t = np.where((groups == "autumn"), "coupon", t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = _model().fit(X, y, treatment=t, groups=groups)
    assert model.arms_ == ("coupon",)


# -- _uplift_learners.py: average_effects and its standard error -------------------------------------
def _by_hand_se(y: np.ndarray, t: np.ndarray, arm: str, control: str = "control") -> float:
    """sqrt(var_arm / n_arm + var_control / n_control) (population variances), the Hajek
    difference's standard error for a randomised design with unit weights."""
    a, c = y[t == arm].astype(float), y[t == control].astype(float)
    return float(np.sqrt(a.var() / a.size + c.var() / c.size))


def test_average_effect_se_is_the_difference_of_two_means_se() -> None:
    """Kills L13 (``/ total`` for ``/ effective``: the inverse-propensity total, 1/share times the
    rows, taken for the effective number of rows) and L18 (spread around the grand mean): on a
    randomised design with unit weights the error is the textbook one."""
    X, y, t = _experiment(1500)
    model = _model().fit(X, y, treatment=t)
    summary = model.arm_summary_
    a, c = y[t == "coupon"], y[t == "control"]
    assert summary.loc["coupon", "average_effect"] == pytest.approx(a.mean() - c.mean(), abs=1e-12)
    assert summary.loc["coupon", "average_effect_se"] == pytest.approx(
        _by_hand_se(y, t, "coupon"), rel=1e-9
    )


def test_average_effect_se_within_two_like_groups_matches_the_pooled_one() -> None:
    """Kills L11 (groups averaged with weights w instead of w**2 in the variance): splitting a
    randomised experiment into two random halves as groups leaves the error about where it was
    (with w the variance doubled)."""
    X, y, t = _experiment(2000)
    groups = np.random.default_rng(5).choice(["a", "b"], len(X))
    pooled = _model().fit(X, y, treatment=t).arm_summary_.loc["coupon", "average_effect_se"]
    grouped = (
        _model()
        .fit(X, y, treatment=t, groups=groups)
        .arm_summary_.loc["coupon", "average_effect_se"]
    )
    assert grouped / pooled == pytest.approx(1.0, abs=0.1)


def test_arm_without_any_control_group_gets_the_pooled_se_of_both_means() -> None:
    """Kills L12 (the pooled fallback's error without the control's variance): an arm that no
    group sent next to a control is compared pooled, and its error is that of the ungrouped fit."""
    from loyalty_ml.exceptions import DataQualityWarning

    X, y, t = _experiment(1800, arms=("control", "coupon", "sms"))
    groups = np.where(t == "sms", "autumn", "spring")
    plain = _model().fit(X, y, treatment=t).arm_summary_
    with pytest.warns(DataQualityWarning, match="without control rows"):
        split = _model().fit(X, y, treatment=t, groups=groups).arm_summary_
    assert split.loc["sms", "average_effect_se"] == pytest.approx(
        plain.loc["sms", "average_effect_se"], rel=1e-9
    )
    assert split.loc["sms", "average_effect_se"] == pytest.approx(
        _by_hand_se(y, t, "sms"), rel=1e-9
    )


def test_grouped_average_effect_weighs_groups_by_their_rows() -> None:
    """Kills L14 (groups' differences averaged unweighted): a big campaign with effect ~0.1 and a
    small one with ~0.3 average to their row-weighted mean, computed here by hand."""
    rng = np.random.default_rng(3)
    n_big, n_small = 2000, 500
    groups = np.r_[np.full(n_big, "big"), np.full(n_small, "small")]
    X = pd.DataFrame({"recency": rng.uniform(0, 1, n_big + n_small)})
    t = rng.choice(["control", "coupon"], len(X))
    lift = np.where(t == "coupon", np.where(groups == "big", 0.1, 0.3), 0.0)
    y = (rng.uniform(size=len(X)) < 0.2 + lift).astype(int)
    model = _model().fit(X, y, treatment=t, groups=groups)
    diffs, sizes = [], []
    for g in ("big", "small"):
        m = groups == g
        diffs.append(y[m & (t == "coupon")].mean() - y[m & (t == "control")].mean())
        sizes.append(m.sum())
    expected = np.average(diffs, weights=sizes)
    assert model.arm_summary_.loc["coupon", "average_effect"] == pytest.approx(expected, abs=1e-12)


def test_known_shares_are_renormalised_to_sum_to_one() -> None:
    """Kills U21 (a Series of shares used as given): shares that sum to 0.995 (rounding in a
    design document, within the tolerance) are the propensities divided by their sum."""
    X, y, t = _experiment(1000)
    model = _model().fit(X, y, treatment=t, propensity=pd.Series({"control": 0.5, "coupon": 0.495}))
    share = model.arm_summary_["share"]
    assert share.sum() == pytest.approx(1.0, abs=1e-12)
    assert share["coupon"] == pytest.approx(0.495 / 0.995, abs=1e-12)


# -- uplift.py: predict_effects(return_std=True) -------------------------------------------------------
def test_bootstrap_std_is_the_sample_standard_deviation_of_the_refits() -> None:
    """Kills U09 (``ddof=0``): the std is the sample standard deviation (ddof=1) of the refits'
    effects, each refit read as the model's learner; with 3 refits ddof=0 is 18% smaller."""
    import copy

    X, y, t = _experiment(800)
    model = _model(n_bootstrap=3).fit(X, y, treatment=t)
    _, std = model.predict_effects(X.head(50), return_std=True)
    draws = []
    for learner in model.bootstrap_learners_:
        refit = copy.copy(model)
        refit.learner_ = learner
        draws.append(refit.predict_effects(X.head(50)).to_numpy())
    expected = np.std(np.stack(draws), axis=0, ddof=1)
    assert expected.max() > 0
    np.testing.assert_allclose(std.to_numpy(), expected, rtol=1e-9, atol=1e-12)


def test_x_learner_weighs_its_two_effect_models_by_the_arm_shares() -> None:
    """Kills U12 (even shares for P(arm | x) at prediction) and L03 (g = P(control) share for
    g = P(arm) share): on an 80/20 design the X-learner's effect is g * tau_control + (1 - g) *
    tau_treated with g = 0.2 / (0.2 + 0.8) (causalml's weighting); with 50/50 shares both mutants
    are equivalent, which is all the causalml parity test has."""
    rng = np.random.default_rng(7)
    n = 1500
    X = pd.DataFrame({"x": rng.uniform(-1, 1, n)})
    t = rng.choice(["control", "coupon"], n, p=[0.8, 0.2])
    y = 2.0 * X["x"].to_numpy() + np.where(t == "coupon", 1.0 + X["x"].to_numpy() ** 2, 0.0)
    y = y + rng.normal(0, 0.5, n)
    model = _model(learner="X", recenter=False, outcome="continuous").fit(X, y, treatment=t)
    share = model.arm_summary_["share"]
    g = share["coupon"] / (share["coupon"] + share["control"])
    assert g == pytest.approx(0.2, abs=0.03)
    matrix = model.encoding_.transform(X, owner="test")
    tau_c, tau_t = model.learner_.effect_models[0]
    tc, tt = tau_c.predict(matrix), tau_t.predict(matrix)
    assert np.abs(tc - tt).max() > 0.05  # the two models differ, so the weights matter
    np.testing.assert_allclose(
        model.predict_effects(X)["coupon"].to_numpy(), g * tc + (1 - g) * tt, rtol=1e-9, atol=1e-12
    )


# -- _uplift_sizing.py ---------------------------------------------------------------------------------
def test_auto_linear_weight_edges() -> None:
    """Kills S01 (``<=`` at 10,000 rows in the smallest arm): half the blend is for arms below
    10,000 rows (and wide tables), a quarter above; since session 60 an experiment of more than
    200,000 rows keeps it (its linear model fitted on a sample) instead of dropping it."""
    from loyalty_ml.models.uplift import auto_linear_weight

    assert auto_linear_weight(9_999, 30_000) == 0.5
    assert auto_linear_weight(10_000, 30_000) == 0.25
    assert auto_linear_weight(5_000, 200_000) == 0.5
    assert auto_linear_weight(5_000, 200_001) == 0.5


def test_auto_tree_size_caps_a_leaf_by_the_smallest_arm_and_all_rows() -> None:
    """Kills S02 (the per-arm cap's 1/4 and the S-learner's 1/2 swapped) and S03 (no cap at an
    eighth of all rows)."""
    from loyalty_ml.models.uplift import auto_tree_size

    assert auto_tree_size(800, 100_000) == (4, 400)
    assert auto_tree_size(800, 100_000, per_arm_models=True) == (4, 200)
    assert auto_tree_size(1_900, 4_000) == (4, 500)


# -- _uplift_cost_check.py -----------------------------------------------------------------------------
def _cost_data(n_per_arm: int = 400, n_arms: int = 3, seed: int = 0):
    from loyalty_ml.models._uplift_learners import ArmData

    rng = np.random.default_rng(seed)
    arm = np.repeat(np.arange(n_arms), n_per_arm)
    n = arm.size
    # column 0: the baseline; column k: arm k's effect (distinct per arm, a few repeated values)
    matrix = np.column_stack(
        [np.full(n, 0.2)] + [rng.choice([0.01, 0.02, 0.03, 0.04], n) * k for k in range(1, n_arms)]
    )
    y = (rng.uniform(size=n) < 0.3).astype(float)
    weight = rng.uniform(0.2, 3.0, n)
    prop = np.full((n, n_arms), 1.0 / n_arms)
    return ArmData(matrix, arm, y, weight, prop, True)


def _cost_table(data):
    from loyalty_ml.models._uplift_cost_check import cost_check

    arms = tuple(f"arm{k}" for k in range(1, data.n_arms))
    return cost_check(
        data,
        arms,
        folds=2,
        seed=0,
        fit=lambda part, seed: None,
        predict=lambda learner, matrix: (matrix[:, 0], matrix[:, 1:]),
    )


def test_cost_check_bands_each_arm_by_its_own_effect_with_upper_edges_inclusive() -> None:
    """Kills C02 (every arm read in the first arm's effect column) and C03 (``side="right"``: a
    row whose effect equals a band's upper edge put in the next band): each band holds the rows
    whose effect is above the previous edge and at most its own, of that arm's effects."""
    data = _cost_data()
    table = _cost_table(data)
    for k in (1, 2):
        effect = data.matrix[data.arm == k, k]
        bands = table.loc[f"arm{k}"]
        edges = np.r_[-np.inf, bands["effect_to"].to_numpy()]
        for b, (lo, hi) in enumerate(itertools.pairwise(edges)):
            in_band = (effect > lo) & (effect <= hi)
            assert bands["rows"].iloc[b] == in_band.sum()
            # every row predicted at baseline + its effect
            assert bands["predicted"].iloc[b] == pytest.approx(
                np.average(0.2 + effect[in_band], weights=data.weight[data.arm == k][in_band])
            )


def test_cost_check_observed_rate_and_se_are_weighted() -> None:
    """Kills C05 (rows for Kish's effective number) and C07 (unweighted observed rate)."""
    data = _cost_data()
    table = _cost_table(data)
    k = 1
    rows = data.arm == k
    effect, y, w = data.matrix[rows, k], data.y[rows], data.weight[rows]
    bands = table.loc["arm1"]
    edges = np.r_[-np.inf, bands["effect_to"].to_numpy()]
    for b, (lo, hi) in enumerate(itertools.pairwise(edges)):
        m = (effect > lo) & (effect <= hi)
        observed = np.average(y[m], weights=w[m])
        effective = w[m].sum() ** 2 / (w[m] ** 2).sum()
        smoothed = (observed * effective + 1) / (effective + 2)
        assert bands["observed"].iloc[b] == pytest.approx(observed, rel=1e-12)
        assert bands["observed_se"].iloc[b] == pytest.approx(
            np.sqrt(smoothed * (1 - smoothed) / effective), rel=1e-12
        )


def test_cost_check_refits_leave_each_folds_rows_out() -> None:
    """Kills C06 (every fold's refit trained on all rows): the check is held-out only if each
    refit sees the other folds' rows alone; with 2 folds each sees half of every arm."""
    from loyalty_ml.models._uplift_cost_check import cost_check

    data = _cost_data()
    seen: list[np.ndarray] = []

    def fit(part, seed):
        seen.append(np.bincount(part.arm, minlength=data.n_arms))
        return None

    cost_check(
        data,
        ("arm1", "arm2"),
        folds=2,
        seed=0,
        fit=fit,
        predict=lambda learner, matrix: (matrix[:, 0], matrix[:, 1:]),
    )
    assert len(seen) == 2
    assert all((counts == 200).all() for counts in seen)


# -- uplift.py: the attrs predict_effects records ------------------------------------------------------
def test_effects_attrs_carry_each_arms_summary_values() -> None:
    """Kills U13 (the control's mean_outcome_se read from the last arm) and U14 (arm_effect_se
    filled with the average effects): every entry is the arm_summary_ value it names."""
    X, y, t = _experiment(1500, arms=("control", "coupon", "sms"))
    model = _model().fit(X, y, treatment=t)
    s = model.arm_summary_
    attrs = model.predict_effects(X.head(5)).attrs
    assert attrs["outcome"] == "binary"
    assert attrs["control_mean_se"] == pytest.approx(s.loc["control", "mean_outcome_se"], rel=1e-12)
    assert s.loc["control", "mean_outcome_se"] != pytest.approx(s.loc["sms", "mean_outcome_se"])
    for arm in ("coupon", "sms"):
        assert attrs["arm_mean_se"][arm] == pytest.approx(s.loc[arm, "mean_outcome_se"], rel=1e-12)
        assert attrs["arm_average_effect"][arm] == pytest.approx(
            s.loc[arm, "average_effect"], rel=1e-12
        )
        assert attrs["arm_effect_se"][arm] == pytest.approx(
            s.loc[arm, "average_effect_se"], rel=1e-12
        )


# -- _uplift_learners.py: residual_shift (recenter) ----------------------------------------------------
def test_recentring_weighs_residuals_by_the_known_propensities() -> None:
    """Kills L06 (residuals averaged without 1 / P(arm | x)): with known per-row propensities of
    0.2 / 0.8 (continuous outcome, so nothing is clipped) the baseline's shift is the Hajek mean
    residual of the control rows and the arm's shift the gap between its and the control's."""
    rng = np.random.default_rng(11)
    n = 2000
    X = pd.DataFrame({"x": rng.uniform(-1, 1, n)})
    p = np.where(X["x"] > 0, 0.8, 0.2)
    t = np.where(rng.uniform(size=n) < p, "coupon", "control")
    y = 1.0 + 2.0 * X["x"].to_numpy() + np.where(t == "coupon", 1.5, 0.0) + rng.normal(0, 1, n)
    prop = pd.DataFrame({"control": 1 - p, "coupon": p}, index=X.index)
    model = _model(outcome="continuous", n_estimators=5).fit(X, y, treatment=t, propensity=prop)
    raw_base = model.predict_baseline(X).to_numpy() - model.baseline_shift_
    raw_effect = model.predict_effects(X)["coupon"].to_numpy() - model.effect_shift_["coupon"]
    treated = t == "coupon"
    residual = y - raw_base - np.where(treated, raw_effect, 0.0)
    ipw = 1.0 / np.where(treated, p, 1 - p)

    def hajek(mask: np.ndarray) -> float:
        return float(np.sum(ipw[mask] * residual[mask]) / np.sum(ipw[mask]))

    m0, m1 = hajek(~treated), hajek(treated)
    assert model.baseline_shift_ == pytest.approx(m0, abs=1e-6)
    assert model.effect_shift_["coupon"] == pytest.approx(m1 - m0, abs=1e-6)
    # and the unweighted means differ enough for the weights to matter
    assert abs(residual[treated].mean() - m1) + abs(residual[~treated].mean() - m0) > 1e-3


# -- uplift.py: known propensities and control labels ---------------------------------------------------
def test_a_known_propensity_of_zero_is_refused() -> None:
    """Kills U15 (``full < 0``): a customer who could not get the control (P = 0) is no experiment;
    1 / P would be infinite."""
    from loyalty_ml.exceptions import DataError

    X, y, t = _experiment(600)
    p = np.full(len(X), 0.5)
    p[0] = 1.0  # the control's propensity 1 - 1 = 0 on the first row
    prop = pd.DataFrame({"coupon": p}, index=X.index)
    with pytest.raises(DataError, match=r"must lie in \(0, 1\]"):
        _model().fit(X, y, treatment=t, propensity=prop)


def test_per_row_propensities_are_learned_for_new_customers_only_when_they_vary() -> None:
    """Kills U16 (the ``allclose`` test inverted): the X-learner needs P(arm | x) of new customers
    when the given propensities vary by customer; constant ones are the shares."""
    X, y, _ = _experiment(1200)
    p = np.where(X["recency"] > 0.5, 0.7, 0.3)
    t = np.where(np.random.default_rng(2).uniform(size=len(X)) < p, "coupon", "control")
    varying = _model().fit(X, y, treatment=t, propensity=pd.DataFrame({"coupon": p}, index=X.index))
    assert varying.propensity_model_ is not None
    flat = pd.DataFrame({"coupon": np.full(len(X), 0.5)}, index=X.index)
    constant = _model().fit(X, y, treatment=t, propensity=flat)
    assert constant.propensity_model_ is None


def test_propensity_frame_follows_rows_put_in_index_order() -> None:
    """Kills U17 (the propensity frame not reordered with X): rows in a shuffled index order with a
    propensity frame indexed like X fit, and fit as the sorted rows do."""
    X, y, t = _experiment(800)
    p = np.where(X["recency"] > 0.5, 0.6, 0.4)
    prop = pd.DataFrame({"coupon": p}, index=X.index)
    order = np.random.default_rng(4).permutation(len(X))
    shuffled = _model().fit(
        X.iloc[order], y[order], treatment=t[order], propensity=prop.iloc[order]
    )
    plain = _model().fit(X, y, treatment=t, propensity=prop)
    pd.testing.assert_frame_equal(shuffled.arm_summary_, plain.arm_summary_)
    pd.testing.assert_frame_equal(
        shuffled.predict_effects(X.head(20)), plain.predict_effects(X.head(20))
    )


def test_control_is_the_control_whatever_its_name_sorts_as() -> None:
    """Kills U19 (arms sorted with the control among them): with an arm named 'apple' (sorting
    before 'control') the control stays the reference and 'apple' its arm."""
    X, y, t = _experiment(1200, arms=("control", "apple"))
    model = _model().fit(X, y, treatment=t)
    assert model.control_ == "control"
    assert model.arms_ == ("apple",)
    assert list(model.arm_summary_.index) == ["control", "apple"]
    assert model.arm_summary_.loc["apple", "average_effect"] == pytest.approx(
        y[t == "apple"].mean() - y[t == "control"].mean(), abs=1e-12
    )


# -- _uplift_linear.py ---------------------------------------------------------------------------------
def test_linear_levels_leave_the_most_frequent_level_as_the_reference() -> None:
    """Kills N01 (``[0:MAX_LEVELS]``): the most frequent level gets no indicator (missing and unseen
    levels read as it)."""
    from loyalty_ml.models._uplift_linear import _frequent_levels

    codes = np.array([2.0, 2, 2, 2, 0, 0, 1, np.nan])
    assert _frequent_levels(codes).tolist() == [0.0, 1.0]


def test_linear_arm_model_gives_each_arm_its_own_slopes() -> None:
    """Kills N02 (the arm's slope block not multiplied by its indicator): an arm that reverses the
    outcome's slope on x has an effect of about -2x."""
    from loyalty_ml.models._uplift_linear import fit_linear

    rng = np.random.default_rng(0)
    n = 2000
    x = rng.uniform(-1, 1, n)
    arm = rng.integers(0, 2, n)
    y = np.where(arm == 1, -x, x) + rng.normal(0, 0.1, n)
    model = fit_linear(x[:, None], (), arm, y, np.ones(n), n_arms=2, binary=False, seed=0)
    grid = np.linspace(-0.9, 0.9, 7)
    _, effects = model.predict(grid[:, None])
    # the quantile transform bends the slope; the sign and size must follow the arm's own slope
    assert np.corrcoef(effects[:, 0], grid)[0, 1] < -0.95
    assert effects[0, 0] > 1.0 and effects[-1, 0] < -1.0


# -- _uplift_encoding.py -------------------------------------------------------------------------------
def test_categorical_positions_are_the_text_columns_in_sorted_order() -> None:
    """Kills E03 (positions 0..n_categorical-1): the learners' categorical columns are where the
    text columns sit once the columns are sorted by name."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "zone": rng.choice(["north", "south"], 600),
            "a_spend": rng.uniform(0, 1, 600),
            "m_recency": rng.uniform(0, 1, 600),
        }
    )
    t = rng.choice(["control", "coupon"], 600)
    y = (rng.uniform(size=600) < 0.3).astype(int)
    model = _model().fit(X, y, treatment=t)
    assert model.encoding_.feature_names == ("a_spend", "m_recency", "zone")
    assert model.encoding_.categorical_positions == [2]


# -- _uplift_learners.py: DR cross-fitting -------------------------------------------------------------
def test_dr_outcome_models_never_see_their_held_out_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills L17 (each fold's outcome models fitted on all of the arm's rows): with 3 cross-fitting
    folds every outcome model is fitted on about two thirds of its arm's rows, so that a row's
    pseudo-outcome is built on a model that did not see it."""
    import loyalty_ml.models._uplift_learners as learners

    sizes: list[int] = []
    real_fit = learners._fit

    def recording_fit(params, matrix, target, weight, **kw):
        if kw.get("classifier"):
            sizes.append(len(target))
        return real_fit(params, matrix, target, weight, **kw)

    monkeypatch.setattr(learners, "_fit", recording_fit)
    X, y, t = _experiment(900)
    _model(learner="DR", recenter=False).fit(X, y, treatment=t)
    assert len(sizes) == 3 * 2  # 3 folds x 2 arms, control first in each fold
    for k, arm in enumerate(("control", "coupon")):
        per_fold = np.array(sizes[k::2])
        n_arm = int((t == arm).sum())
        assert per_fold.sum() == 2 * n_arm  # each row in the training part of 2 of the 3 folds
        assert per_fold.max() < 0.75 * n_arm


# -- _split.py, _cutoff_offsets.py (the churn model's time split and cutoff intercepts) -----------------
def test_time_split_fallback_keeps_customers_on_one_side() -> None:
    """Kills P02 (training keeps the hold-out customers' earlier rows): when no cutoff is a full
    label window before the hold-out, no customer is on both sides."""
    from loyalty_ml.models._split import time_split

    cutoffs = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
    idx = pd.MultiIndex.from_product([cutoffs, np.arange(40)], names=["as_of", "customer_id"])
    train, held, text = time_split(idx, n_cutoffs=1, gap_days=90, seed=0)
    assert "disjoint customers" in text
    customers = idx.get_level_values("customer_id")
    assert held.sum() == 20 and train.sum() == 2 * 20
    assert not set(customers[train]) & set(customers[held])


def test_time_split_training_cutoff_exactly_a_window_back_is_kept() -> None:
    """Kills P01 (``<``): a cutoff exactly gap_days before the hold-out has labels up to the
    hold-out's cutoff, not past it: it trains."""
    from loyalty_ml.models._split import time_split

    cutoffs = pd.to_datetime(["2024-01-01", "2024-03-01", "2024-05-30"])  # 90 days apart
    idx = pd.MultiIndex.from_product([cutoffs, ["a"]], names=["as_of", "customer_id"])
    train, held, _ = time_split(idx, n_cutoffs=1, gap_days=90, seed=0)
    assert train.tolist() == [True, True, False]
    assert held.tolist() == [False, False, True]


def test_conditional_intercepts_at_zero_scores_are_the_smoothed_rate_log_odds() -> None:
    """Kills O01 (one pseudo-row's weight for the two): with scores 0 the maximum-likelihood
    intercept with one pseudo-row of each class is log((pos + 1) / (neg + 1)), as rate_intercepts."""
    from loyalty_ml.models._cutoff_offsets import conditional_intercepts, rate_intercepts

    codes = np.repeat([0, 1, 2], [10, 30, 5])
    target = np.r_[np.zeros(10), np.ones(20), np.zeros(10), np.ones(5)]
    b = conditional_intercepts(np.zeros(codes.size), codes, target)
    np.testing.assert_allclose(b, rate_intercepts(codes, target), atol=1e-9)
    np.testing.assert_allclose(b, np.log([1 / 11, 21 / 11, 6 / 1]), atol=1e-9)


def test_rate_intercepts_weigh_positives() -> None:
    """Kills O02 (positives counted unweighted): the weighted churn count."""
    from loyalty_ml.models._cutoff_offsets import rate_intercepts

    codes = np.array([0, 0, 0, 0])
    target = np.array([1.0, 1.0, 0.0, 0.0])
    weight = np.array([3.0, 1.0, 1.0, 1.0])
    assert rate_intercepts(codes, target, weight)[0] == pytest.approx(np.log((4 + 1) / (2 + 1)))


def test_dr_pseudo_outcome_weighs_the_control_residual_by_its_propensity() -> None:
    """Kills L16 (the control's residual not divided by P(control)): with a constant effect of 1,
    an 80/20 design and outcome models too coarse to follow y = 3x, the AIPW correction must undo
    the control model's error; without 1 / 0.2 the effects follow the sawtooth of that error
    (RMSE about 0.42 against 0.07-0.12)."""
    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame({"x": rng.uniform(-1, 1, n)})
    t = rng.choice(["control", "coupon"], n, p=[0.2, 0.8])
    y = 3 * X["x"].to_numpy() + np.where(t == "coupon", 1.0, 0.0) + rng.normal(0, 0.3, n)
    model = _model(
        learner="DR",
        outcome="continuous",
        n_estimators=30,
        learning_rate=0.1,
        num_leaves=8,
        min_child_samples=150,
        recenter=False,
    ).fit(X, y, treatment=t)
    effects = model.predict_effects(X)["coupon"].to_numpy()
    assert np.sqrt(np.mean((effects - 1.0) ** 2)) < 0.25


def test_unseen_level_is_missing_in_the_matrix() -> None:
    """E02 (unseen level left as code -1) is equivalent for the learners (LightGBM reads negative
    categorical values as missing; the linear blend's indicators match neither), but the
    propensity models read the codes as numbers; the documented contract is NaN."""
    from loyalty_ml.models._uplift_encoding import FeatureEncoding

    X = pd.DataFrame({"zone": ["north", "south", "north"], "x": [1.0, 2.0, 3.0]})
    enc = FeatureEncoding.fit(X, owner="test")
    matrix = enc.transform(pd.DataFrame({"zone": ["west", "south"], "x": [1.0, 2.0]}), owner="test")
    assert np.isnan(matrix[0, enc.feature_names.index("zone")])
    assert matrix[1, enc.feature_names.index("zone")] == 1.0
