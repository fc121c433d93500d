"""Tests of loyalty_ml.models.uplift (UpliftModel) on small synthetic experiments with known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    NotFittedError,
    SchemaError,
)
from loyalty_ml.models.uplift import PoorOverlapWarning, UpliftModel, auto_tree_size

ARMS = ("control", "coupon", "points")
FAST = {"n_estimators": 40, "min_child_samples": 40, "n_jobs": 1}


def _experiment(
    n: int, seed: int, *, confounded: bool = False
) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.DataFrame]:
    """Randomised 3-arm experiment; coupon helps high-x customers, points help urban ones."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    region = rng.choice(["urban", "rural", "suburb"], n)
    noise = rng.normal(size=n)
    if confounded:
        # High-x customers were mostly given the coupon: overlap is poor for them.
        p_coupon = np.clip(x**4 * 1.2, 0.001, 0.995)
        arm = np.where(
            rng.uniform(size=n) < p_coupon, "coupon", rng.choice(["control", "points"], n)
        )
    else:
        arm = rng.choice(ARMS, n)
    base = 0.15 + 0.1 * x
    effect = pd.DataFrame(
        {"coupon": 0.3 * x, "points": np.where(region == "urban", 0.2, 0.0)},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    p = base + np.select(
        [arm == "coupon", arm == "points"], [effect["coupon"], effect["points"]], 0.0
    )
    y = (rng.uniform(size=n) < p).astype(int)
    X = pd.DataFrame({"x": x, "region": pd.Categorical(region), "noise": noise}, index=effect.index)
    return X, pd.Series(y, index=X.index, name="y"), pd.Series(arm, index=X.index), effect


@pytest.fixture(scope="module")
def experiment() -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.DataFrame]:
    return _experiment(6000, seed=1)


@pytest.fixture(scope="module")
def fitted(experiment: tuple) -> dict[str, UpliftModel]:
    X, y, t, _ = experiment
    return {
        learner: UpliftModel(learner=learner, random_state=0, **FAST).fit(X, y, treatment=t)
        for learner in ("S", "T", "X", "DR")
    }


@pytest.mark.parametrize("learner", ["S", "T", "X", "DR"])
def test_effects_recover_the_true_effects(fitted: dict, experiment: tuple, learner: str) -> None:
    X, _, _, truth = experiment
    effects = fitted[learner].predict_effects(X)
    assert list(effects.columns) == ["coupon", "points"]
    assert effects.index.equals(X.index)
    for arm in ("coupon", "points"):
        corr = np.corrcoef(effects[arm], truth[arm])[0, 1]
        assert corr > 0.6, (learner, arm, corr)
        assert abs(effects[arm].mean() - truth[arm].mean()) < 0.04


def test_baseline_is_the_control_probability(fitted: dict, experiment: tuple) -> None:
    X, y, t, _ = experiment
    baseline = fitted["T"].predict_baseline(X)
    assert baseline.index.equals(X.index)
    assert baseline.between(0, 1).all()
    assert abs(baseline.mean() - y[t == "control"].mean()) < 0.02


def test_binary_effects_keep_probabilities_in_range(fitted: dict, experiment: tuple) -> None:
    X = experiment[0]
    for model in fitted.values():
        total = model.predict_effects(X).add(model.predict_baseline(X), axis=0)
        assert total.ge(0).all().all() and total.le(1).all().all()


def test_fitted_attributes_and_clone(fitted: dict) -> None:
    model = fitted["X"]
    assert model.control_ == "control"
    assert model.arms_ == ("coupon", "points")
    assert model.outcome_ == "binary"
    assert model.arm_summary_.index.tolist() == list(ARMS)
    assert model.arm_summary_["rows"].sum() == 6000
    assert model.arm_summary_["share"].sum() == pytest.approx(1.0)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "learner_")


def test_auto_tree_size_follows_the_smallest_arm() -> None:
    # the two measured ends (README, "Measured results"), and geometric steps in between
    assert auto_tree_size(2_000, 10_000) == (4, 1000)
    # never more than half the smallest arm: its own model (T, X, DR) and the S-learner's split
    # on the arm need that many rows on each side
    assert auto_tree_size(1_600, 8_000) == (4, 800)
    assert auto_tree_size(586, 6_000) == (4, 293)
    assert auto_tree_size(10_000, 20_000) == auto_tree_size(500_000, 2_000_000) == (15, 100)
    sizes = [auto_tree_size(m, 10 * m) for m in (2_000, 3_000, 4_500, 6_500, 10_000)]
    leaves, child = zip(*sizes, strict=True)
    assert list(leaves) == sorted(leaves) and len(set(leaves)) == len(leaves)
    assert list(child) == sorted(child, reverse=True) and len(set(child)) == len(child)
    # a leaf never needs more than an eighth of all rows, so tiny experiments still split
    assert auto_tree_size(300, 600) == (4, 75)
    assert auto_tree_size(0, 3) == (4, 1)


def test_auto_tree_size_is_resolved_at_fit(experiment: tuple) -> None:
    X, y, t, _ = experiment
    model = UpliftModel(n_estimators=5, random_state=0).fit(X, y, treatment=t)
    assert (model.num_leaves, model.min_child_samples) == ("auto", "auto")
    smallest = int(model.arm_summary_["rows"].min())
    assert (model.num_leaves_, model.min_child_samples_) == auto_tree_size(smallest, len(X))
    booster = model.learner_.baseline_models[0].model.get_params()
    assert (booster["num_leaves"], booster["min_child_samples"]) == auto_tree_size(smallest, len(X))
    fixed = UpliftModel(n_estimators=5, num_leaves=9, random_state=0).fit(X, y, treatment=t)
    assert (fixed.num_leaves_, fixed.min_child_samples_) == (9, auto_tree_size(smallest, len(X))[1])


def test_trees_sized_for_decisions_keep_the_small_experiment_end(experiment: tuple) -> None:
    # every size gets the small end, with the same limits as "ranking"
    assert auto_tree_size(10_700, 32_000, purpose="decisions") == (4, 1000)
    assert auto_tree_size(500_000, 2_000_000, purpose="decisions") == (4, 1000)
    assert auto_tree_size(586, 6_000, purpose="decisions") == auto_tree_size(586, 6_000)
    assert auto_tree_size(3_000, 9_000, purpose="decisions", per_arm_models=True) == (4, 750)
    X, y, t, _ = experiment
    model = UpliftModel(n_estimators=5, purpose="decisions", random_state=0).fit(X, y, treatment=t)
    smallest = int(model.arm_summary_["rows"].min())
    expected = auto_tree_size(smallest, len(X), purpose="decisions")
    assert (model.num_leaves_, model.min_child_samples_) == expected
    assert model.get_params()["purpose"] == "decisions"
    assert clone(model).purpose == "decisions"
    with pytest.raises(ConfigError, match=r"'purpose' parameter of UpliftModel must be one of"):
        UpliftModel(purpose="ranking ").fit(X, y, treatment=t)
    # a model pickled before the parameter existed sized its trees for ranking
    old = UpliftModel(n_estimators=5, random_state=0).fit(X, y, treatment=t)
    state = old.__getstate__()
    del state["purpose"]
    again = UpliftModel.__new__(UpliftModel)
    again.__setstate__(state)
    assert again.purpose == "ranking"


def test_same_seed_same_effects(experiment: tuple) -> None:
    X, y, t, _ = experiment
    a = UpliftModel(learner="X", random_state=3, **FAST).fit(X, y, treatment=t).predict_effects(X)
    b = UpliftModel(learner="X", random_state=3, **FAST).fit(X, y, treatment=t).predict_effects(X)
    pd.testing.assert_frame_equal(a, b)


def test_unseen_category_and_extra_columns_at_predict(fitted: dict, experiment: tuple) -> None:
    X = experiment[0].head(3).copy()
    X["region"] = pd.Categorical(["mars", "urban", None])
    X["extra"] = 1.0
    effects = fitted["T"].predict_effects(X[["extra", "noise", "region", "x"]])
    assert effects.notna().all().all()


def test_continuous_outcome_is_detected(experiment: tuple) -> None:
    X, _, t, truth = experiment
    rng = np.random.default_rng(5)
    spend = 10 + 20 * truth["coupon"].where(t == "coupon", 0.0) + rng.normal(0, 1, len(X))
    model = UpliftModel(learner="T", random_state=0, **FAST).fit(X, spend, treatment=t)
    assert model.outcome_ == "continuous"
    effects = model.predict_effects(X)
    assert np.corrcoef(effects["coupon"], truth["coupon"])[0, 1] > 0.8
    assert abs(effects["points"].mean()) < 0.3


def test_sample_weight_changes_the_fit(experiment: tuple) -> None:
    X, y, t, _ = experiment
    w = np.where(X["x"] > 0.5, 5.0, 1.0)
    plain = UpliftModel(learner="T", random_state=0, **FAST).fit(X, y, treatment=t)
    weighted = UpliftModel(learner="T", random_state=0, **FAST).fit(
        X, y, treatment=t, sample_weight=w
    )
    assert weighted.arm_summary_["share"].sum() == pytest.approx(1.0)
    assert not np.allclose(plain.predict_effects(X), weighted.predict_effects(X))
    # each arm's mean outcome and its standard error, weighted (Kish's effective rows)
    for arm in ARMS:
        yy, ww = np.asarray(y)[np.asarray(t) == arm], w[np.asarray(t) == arm]
        mean = np.average(yy, weights=ww)
        se = np.sqrt(np.average((yy - mean) ** 2, weights=ww) / (ww.sum() ** 2 / (ww**2).sum()))
        row = weighted.arm_summary_.loc[arm]
        assert row["mean_outcome"] == pytest.approx(mean)
        assert row["mean_outcome_se"] == pytest.approx(se)
        assert plain.arm_summary_.loc[arm, "mean_outcome_se"] == pytest.approx(
            np.asarray(y)[np.asarray(t) == arm].std() / np.sqrt((np.asarray(t) == arm).sum())
        )
    assert (
        weighted.arm_summary_["mean_outcome_se"].gt(plain.arm_summary_["mean_outcome_se"]).all()
    )  # unequal weights leave fewer effective rows


def test_known_design_shares_are_used(experiment: tuple) -> None:
    X, y, t, _ = experiment
    shares = pd.Series({"control": 0.5, "coupon": 0.25, "points": 0.25})
    model = UpliftModel(learner="X", random_state=0, **FAST).fit(
        X, y, treatment=t, propensity=shares
    )
    assert model.arm_summary_["share"].tolist() == [0.5, 0.25, 0.25]


def test_estimated_propensity_warns_on_poor_overlap() -> None:
    X, y, t, _ = _experiment(3000, seed=2, confounded=True)
    with pytest.warns(PoorOverlapWarning, match="propensity below"):
        model = UpliftModel(learner="DR", random_state=0, **FAST).fit(
            X, y, treatment=t, propensity="estimate"
        )
    assert model.propensity_model_ is not None
    assert model.predict_effects(X.head(5)).shape == (5, 2)


def test_estimated_propensity_on_randomised_data_is_quiet(experiment: tuple) -> None:
    X, y, t, _ = experiment
    model = UpliftModel(learner="X", random_state=0, **FAST).fit(
        X, y, treatment=t, propensity="estimate"
    )
    assert model.predict_effects(X.head(5)).shape == (5, 2)


def test_bootstrap_std(experiment: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    X, y, t, _ = experiment
    model = UpliftModel(learner="T", n_bootstrap=3, random_state=0, progress=True, **FAST)
    model.fit(X, y, treatment=t)
    assert "UpliftModel bootstrap: 100%" in capsys.readouterr().err  # 3 refits, with a bar
    effects, std = model.predict_effects(X.head(50), return_std=True)
    assert std.shape == effects.shape and list(std.columns) == ["coupon", "points"]
    assert (std > 0).all().all()


def test_return_std_without_bootstrap_is_refused(fitted: dict, experiment: tuple) -> None:
    with pytest.raises(ConfigError, match="n_bootstrap >= 2"):
        fitted["T"].predict_effects(experiment[0].head(2), return_std=True)


# -- errors ------------------------------------------------------------------------------------------
def test_unknown_control_label(experiment: tuple) -> None:
    X, y, t, _ = experiment
    with pytest.raises(DataError, match="control label 'holdout' does not occur"):
        UpliftModel(**FAST).fit(X, y, treatment=t, control="holdout")


def test_arm_with_too_few_rows(experiment: tuple) -> None:
    X, y, t, _ = experiment
    t = t.copy()
    t.iloc[:3] = "rare"
    with pytest.raises(DataError, match=r"\('rare', 3\).*min_arm_rows=50"):
        UpliftModel(**FAST).fit(X, y, treatment=t)


def test_misaligned_series(experiment: tuple) -> None:
    X, y, t, _ = experiment
    with pytest.raises(DataError, match="y is a Series whose index does not match"):
        UpliftModel(**FAST).fit(X, y.iloc[::-1], treatment=t)
    with pytest.raises(DataError, match="treatment must be 1-D with one value per row"):
        UpliftModel(**FAST).fit(X, y, treatment=t.to_numpy()[:-1])


def test_missing_treatment_and_only_control(experiment: tuple) -> None:
    X, y, t, _ = experiment
    with pytest.raises(DataError, match="treatment is missing on 1 rows"):
        UpliftModel(**FAST).fit(X, y, treatment=t.where(t.index != 0, None))
    with pytest.raises(DataError, match="only the control arm"):
        UpliftModel(**FAST).fit(X, y, treatment=pd.Series("control", index=X.index))


def test_missing_feature_columns_at_predict(fitted: dict, experiment: tuple) -> None:
    with pytest.raises(SchemaError, match=r"lacks feature columns \['noise', 'region'\]"):
        fitted["T"].predict_effects(experiment[0][["x"]])


def test_missing_campaign_features_at_predict_name_the_campaigns_argument(
    experiment: tuple,
) -> None:
    """A model fitted on experiment_table's rows (which carry the campaign-response features) and
    asked about build_features(tx, as_of=...) without campaigns= (DESIGN.md's example): the error
    says which argument builds them; other missing columns get no such hint."""
    from loyalty_ml.features.campaign import CAMPAIGN_FEATURES

    X, y, t, _ = experiment
    rng = np.random.default_rng(0)
    with_campaigns = X.assign(**{c: rng.uniform(size=len(X)) for c in CAMPAIGN_FEATURES})
    model = UpliftModel(**FAST).fit(with_campaigns, y, treatment=t)
    with pytest.raises(SchemaError, match=r"campaign-response features.*campaigns=\.\.\."):
        model.predict_effects(X)
    with pytest.raises(SchemaError) as refused:
        model.predict_effects(with_campaigns.drop(columns=["x"]))
    assert "campaign-response" not in str(refused.value)


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        UpliftModel().predict_baseline(pd.DataFrame({"x": [1.0]}))


def test_binary_outcome_refuses_other_values(experiment: tuple) -> None:
    X, y, t, _ = experiment
    with pytest.raises(DataError, match="outcome='binary' needs y in"):
        UpliftModel(outcome="binary", **FAST).fit(X, y * 2, treatment=t)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"learner": "Z"}, "'learner' parameter of UpliftModel must be one of"),
        ({"outcome": "ordinal"}, "'outcome' parameter"),
        ({"n_estimators": 0}, "'n_estimators' parameter of UpliftModel must be an int >= 1"),
        ({"n_bootstrap": 1}, "'n_bootstrap' parameter"),
        ({"learning_rate": 2.0}, "'learning_rate' parameter"),
        ({"reg_lambda": -1.0}, "'reg_lambda' parameter"),
        ({"num_leaves": "big"}, "'num_leaves' parameter of UpliftModel must be 'auto' or an int"),
        ({"min_child_samples": 0}, "'min_child_samples' parameter of UpliftModel must be an int"),
    ],
)
def test_bad_parameters(experiment: tuple, params: dict, match: str) -> None:
    X, y, t, _ = experiment
    with pytest.raises(ConfigError, match=match):
        UpliftModel(**params).fit(X, y, treatment=t)


def test_bad_inputs(experiment: tuple) -> None:
    X, y, t, _ = experiment
    with pytest.raises(SchemaError, match="X must be a pandas DataFrame"):
        UpliftModel(**FAST).fit(X.to_numpy(), y, treatment=t)
    with pytest.raises(SchemaError, match="not numeric, boolean, text or category"):
        UpliftModel(**FAST).fit(X.assign(when=pd.Timestamp("2024-01-01")), y, treatment=t)
    with pytest.raises(ConfigError, match="propensity must be None, 'estimate'"):
        UpliftModel(**FAST).fit(X, y, treatment=t, propensity="guess")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="propensity lacks arms"):
        UpliftModel(**FAST).fit(X, y, treatment=t, propensity=pd.Series({"coupon": 0.5}))
    with pytest.raises(DataError, match="sample_weight must be finite"):
        UpliftModel(**FAST).fit(X, y, treatment=t, sample_weight=-np.ones(len(X)))


# -- against the simulator's ground truth ----------------------------------------------------------------
@pytest.fixture(scope="module")
def simulated() -> dict:
    """Campaign rows of a simulated programme: features at each send, responses, truth, last campaign."""
    from loyalty_ml.datasets.simulator import simulate
    from loyalty_ml.features import experiment_table

    data = simulate(n_customers=12_000, start="2023-01-01", end="2024-06-30", seed=3)
    X, y, t = experiment_table(
        data.transactions, data.campaigns, window_days=data.truth.response_window_days
    )
    rows = data.campaigns.loc[X.index]
    last = rows["campaign_id"].max()
    return {
        "X": X,
        "y": y,
        "t": t,
        "train": (rows["campaign_id"] != last).to_numpy(),
        "customers": rows.loc[rows["campaign_id"] == last, "customer_id"].to_numpy(),
        "truth": data.truth.campaign_effects(last),
    }


def test_simulated_effects_correlate_with_the_truth(simulated: dict) -> None:
    X, y, t, train = simulated["X"], simulated["y"], simulated["t"], simulated["train"]
    model = UpliftModel(random_state=0, n_jobs=1).fit(X[train], y[train], treatment=t[train])
    effects = model.predict_effects(X[~train]).set_axis(simulated["customers"])
    baseline = model.predict_baseline(X[~train]).set_axis(simulated["customers"])
    truth = simulated["truth"].loc[effects.index]
    assert set(effects.columns) == set(truth.columns) - {"baseline"}
    for arm in effects.columns:
        # The simulated offers move purchase odds by 2-3 points on average: a weak, noisy signal
        # with ~2,400 training rows per arm, so the bar is a positive correlation. "auto" gives
        # this size large leaves (5 leaves, 785 rows): 0.09-0.23 for the four small offers on this
        # seed, against 0.20-0.31 with 15 leaves of 100 rows; over five seeds the lowest values are
        # 0.087 and 0.090 (README, "Measured results").
        assert np.corrcoef(effects[arm], truth[arm])[0, 1] > 0.05, arm
    assert np.corrcoef(effects["free_item"], truth["free_item"])[0, 1] > 0.35
    assert np.corrcoef(baseline, truth["baseline"])[0, 1] > 0.8
    # The default S-learner shrinks effects towards 0 (trees split on the arm only where it pays):
    # it ranks best, but its mean effect here is ~0.03 vs the true ~0.05.
    bias = effects.mean().mean() - truth[effects.columns].mean().mean()
    assert -0.03 < bias < 0.01


# -- score: what GridSearchCV and cross_val_score use without a scoring ---------------------------
def test_score_is_the_mean_qini_auc_of_the_effects_over_the_arms(
    fitted: dict, experiment: tuple
) -> None:
    from loyalty_ml import qini_auc_score

    X_new, y_new, t_new, truth = _experiment(4000, seed=7)
    model = fitted["S"]
    by_arm = qini_auc_score(y_new, t_new, model.predict_effects(X_new))
    assert model.score(X_new, y_new, treatment=t_new) == pytest.approx(by_arm.mean(), abs=1e-12)
    # higher for the model than for effects that ignore the customer
    flat = qini_auc_score(
        y_new, t_new, truth * 0 + np.random.default_rng(0).normal(size=truth.shape)
    )
    assert model.score(X_new, y_new, treatment=t_new) > flat.mean() + 0.02


def test_score_on_rows_of_one_arm_scores_that_arm(fitted: dict, experiment: tuple) -> None:
    from loyalty_ml import qini_auc_score

    X, y, t, _ = experiment
    keep = (t != "points").to_numpy()
    model = fitted["S"]
    got = model.score(X[keep], y[keep], treatment=t[keep])
    expected = qini_auc_score(y[keep], t[keep], model.predict_effects(X[keep])[["coupon"]])
    assert got == pytest.approx(float(np.mean(expected)), abs=1e-12)


def test_score_of_a_continuous_outcome_is_the_mean_uplift_at_30(experiment: tuple) -> None:
    from loyalty_ml import uplift_at_k

    X, y, t, _ = experiment
    spend = y * (10.0 + X["x"] * 20)
    model = UpliftModel(random_state=0, **FAST).fit(X, spend, treatment=t)
    expected = uplift_at_k(spend, t, model.predict_effects(X), k=0.3)
    assert model.score(X, spend, treatment=t) == pytest.approx(expected.mean(), abs=1e-12)


def test_score_with_integer_arms_and_control(experiment: tuple) -> None:
    X, y, t, _ = experiment
    codes = t.map({"control": 0, "coupon": 1, "points": 2})
    model = UpliftModel(random_state=0, **FAST).fit(X, y, treatment=codes, control=0)
    assert np.isfinite(model.score(X, y, treatment=codes))
    assert model.score(X, y, treatment=codes.astype(float)) == model.score(X, y, treatment=codes)


def test_score_refuses_missing_unknown_or_control_free_treatment(
    fitted: dict, experiment: tuple
) -> None:
    X, y, t, _ = experiment
    model = fitted["S"]
    with pytest.raises(DataError, match=r"set_score_request\(treatment=True\)"):
        model.score(X, y)
    with pytest.raises(DataError, match=r"arms \['sms'\] the model was not fitted on"):
        model.score(X, y, treatment=t.replace("points", "sms"))
    with pytest.raises(DataError, match=r"UpliftModel\.score: the control label 'control'"):
        model.score(X, y, treatment=t.replace("control", "coupon"))
    with pytest.raises(DataError, match=r"UpliftModel\.score: treatment is a Series whose index"):
        model.score(X, y, treatment=t.iloc[:10])
    with pytest.raises(DataError, match=r"UpliftModel\.score: y has 1 missing"):
        model.score(X, y.astype(float).where(y.index != X.index[3]), treatment=t)
    with pytest.raises(NotFittedError):
        UpliftModel().score(X, y, treatment=t)


def test_grid_search_selects_by_score_with_metadata_routing(experiment: tuple) -> None:
    import sklearn
    from sklearn.model_selection import GridSearchCV

    X, y, t, _ = experiment
    with sklearn.config_context(enable_metadata_routing=True):
        model = (
            UpliftModel(random_state=0, **FAST)
            .set_fit_request(treatment=True)
            .set_score_request(treatment=True)
        )
        grid = GridSearchCV(model, {"learner": ["S", "T"]}, cv=2, error_score="raise")
        grid.fit(X, y, treatment=t)
    scores = grid.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and grid.best_score_ == scores.max()
    assert grid.best_score_ > 0.05  # both arms' effects depend on the features


def test_arm_summary_gives_each_arms_average_effect_on_the_experiment(
    experiment: tuple[pd.DataFrame, pd.Series, pd.Series, pd.DataFrame],
) -> None:
    X, y, t, _ = experiment
    w = np.where(X["x"] > 0.5, 3.0, 1.0)
    model = UpliftModel(learner="T", random_state=0, **FAST).fit(X, y, treatment=t, sample_weight=w)
    summary = model.arm_summary_
    # a randomised design: the (weighted) difference in mean outcomes, 0 for the control
    expected = summary["mean_outcome"] - summary.loc["control", "mean_outcome"]
    assert summary["average_effect"].to_numpy() == pytest.approx(expected.to_numpy())
    assert summary.loc["control", "average_effect"] == 0.0
    recorded = model.predict_effects(X.head(5)).attrs["arm_average_effect"]
    assert recorded == pytest.approx(expected.drop("control").to_dict())


def _two_campaigns(
    seed: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, UpliftModel, UpliftModel]:
    """Two pooled campaigns of n/2 rows: a quiet one (10% buy) with an sms arm, a busy one (40%)
    with a coupon arm, each reward +0.05. Returns y, arm, campaign and the models fitted pooled
    and within campaigns (``groups``)."""
    rng = np.random.default_rng(seed)
    campaign = np.where(np.arange(n) < n // 2, "quiet", "busy")
    arm = np.where(
        campaign == "busy", rng.choice(["control", "coupon"], n), rng.choice(["control", "sms"], n)
    )
    base = np.where(campaign == "busy", 0.4, 0.1)
    y = (rng.uniform(size=n) < base + 0.05 * (arm != "control")).astype(int)
    X = pd.DataFrame({"x": rng.uniform(size=n)}, index=pd.RangeIndex(n, name="customer_id"))
    pooled = UpliftModel(random_state=0, **FAST).fit(X, y, treatment=arm)
    grouped = UpliftModel(random_state=0, **FAST).fit(X, y, treatment=arm, groups=campaign)
    return y, arm, campaign, pooled, grouped


def test_average_effect_compares_each_arm_with_its_own_experiments_control_rows() -> None:
    """Pooled campaigns: the coupon ran only in the busy campaign, whose control rows buy more."""
    y, arm, campaign, pooled, grouped = _two_campaigns(3, 6000)
    busy = campaign == "busy"
    within = y[busy & (arm == "coupon")].mean() - y[busy & (arm == "control")].mean()
    assert grouped.arm_summary_.loc["coupon", "average_effect"] == pytest.approx(within)
    # the pooled comparison credits the coupon with the busy season's higher purchase rate
    assert pooled.arm_summary_.loc["coupon", "average_effect"] > within + 0.1


def test_an_arm_without_a_purchase_warns_and_gets_the_noise_of_a_rate_below_one_event() -> None:
    """No purchase in an arm's n rows does not make its rate exactly 0: the arm is named in a
    DataQualityWarning, and its standard error is that of a rate of half an event, about 0.7 / n,
    which the average effect's noise adds (the Wald formula gives 0)."""
    from loyalty_ml.exceptions import DataQualityWarning

    rng = np.random.default_rng(0)
    n = 1200
    X = pd.DataFrame({"x": rng.normal(size=n)}, index=pd.RangeIndex(n, name="customer_id"))
    t = pd.Series(rng.choice(["control", "sms", "gift"], n), index=X.index)
    y = pd.Series((rng.uniform(size=n) < 0.1).astype(int), index=X.index).where(t != "gift", 0)
    with pytest.warns(
        DataQualityWarning,
        match=r"arm\(s\) \['gift \(\d+ rows, 0 purchases\)'\] have fewer than 10",
    ):
        model = UpliftModel(random_state=0, **FAST).fit(X, y, treatment=t)
    summary = model.arm_summary_
    rows = int((t == "gift").sum())
    rate = 0.5 / (rows + 1)
    assert summary.loc["gift", "mean_outcome"] == 0.0
    assert summary.loc["gift", "mean_outcome_se"] == pytest.approx(
        np.sqrt(rate * (1 - rate) / rows)
    )
    control_se = summary.loc["control", "mean_outcome_se"]
    assert summary.loc["gift", "average_effect_se"] > control_se
    # arms whose outcome varies keep the Wald standard error
    sms = y[t == "sms"]
    assert summary.loc["sms", "mean_outcome_se"] == pytest.approx(
        sms.std(ddof=0) / np.sqrt(len(sms))
    )


def test_average_effect_se_is_the_noise_in_the_difference_of_the_two_means(
    experiment: tuple[pd.DataFrame, pd.Series, pd.Series, pd.DataFrame],
) -> None:
    X, y, t, _ = experiment
    model = UpliftModel(random_state=0, **FAST).fit(X, y, treatment=t)
    summary = model.arm_summary_
    se = summary["mean_outcome_se"]
    expected = np.sqrt(se.drop("control") ** 2 + se["control"] ** 2)
    assert summary["average_effect_se"].drop("control").to_numpy() == pytest.approx(
        expected.to_numpy(), rel=1e-9
    )
    assert summary.loc["control", "average_effect_se"] == 0.0
    recorded = model.predict_effects(X.head(5)).attrs["arm_effect_se"]
    assert recorded == pytest.approx(expected.to_dict())


def test_average_effect_se_counts_only_the_control_rows_of_the_arms_own_experiments() -> None:
    """The coupon ran in one campaign of two: its effect is measured against that campaign's
    control rows alone, half of all, and its standard error is larger than a pooled one."""
    y, arm, campaign, pooled, grouped = _two_campaigns(5, 8000)
    y = y.astype(float)
    coupon = y[arm == "coupon"]
    control = arm == "control"
    # the control's spread around each campaign's own mean, over the busy campaign's rows
    cell_mean = pd.Series(y[control]).groupby(campaign[control]).transform("mean").to_numpy()
    spread = np.mean((y[control] - cell_mean) ** 2)
    busy_control = int((control & (campaign == "busy")).sum())
    expected = np.sqrt(coupon.var() / len(coupon) + spread / busy_control)
    assert grouped.arm_summary_.loc["coupon", "average_effect_se"] == pytest.approx(expected)
    assert (
        grouped.arm_summary_.loc["coupon", "average_effect_se"]
        > 1.05 * pooled.arm_summary_.loc["coupon", "average_effect_se"]
    )


def test_a_complex_column_is_refused_and_a_huge_value_is_an_extreme(
    experiment: tuple[pd.DataFrame, pd.Series, pd.Series, pd.DataFrame],
) -> None:
    X, y, t, _ = experiment
    with pytest.raises(SchemaError, match=r"\('z', 'complex128'\)"):
        UpliftModel(**FAST).fit(X.assign(z=X["x"].to_numpy() * (1 + 1j)), y, treatment=t)
    # beyond float32: the largest value, not a NumPy overflow warning (errors in this suite)
    huge = X.assign(x=np.where(np.arange(len(X)) < 5, 1e300, X["x"]))
    effects = UpliftModel(**FAST).fit(huge, y, treatment=t).predict_effects(huge)
    assert np.isfinite(effects.to_numpy()).all()


def _small_experiment(n: int = 600) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    return X, (rng.uniform(size=n) < 0.3).astype(int), rng.choice(["control", "a"], n)


def test_equal_weights_near_the_float_maximum_fit_like_no_weights() -> None:
    """Only ratios of weights matter, but their mean overflowed to inf and LightGBM got NaN."""
    X, y, t = _small_experiment()
    plain = UpliftModel(n_estimators=10, random_state=0).fit(X, y, treatment=t)
    huge = UpliftModel(n_estimators=10, random_state=0).fit(
        X, y, treatment=t, sample_weight=np.full(len(X), 1e306)
    )
    pd.testing.assert_frame_equal(huge.predict_effects(X), plain.predict_effects(X))


def test_an_X_without_columns_is_a_schema_error_for_every_learner() -> None:
    """T, X and DR raised sklearn's '0 feature(s)' ValueError; S fitted constants silently."""
    X, y, t = _small_experiment()
    for learner in ("S", "T", "X", "DR"):
        with pytest.raises(SchemaError, match="X has no feature columns"):
            UpliftModel(learner=learner, n_estimators=10).fit(X[[]], y, treatment=t)


def test_a_list_in_a_numeric_cell_at_predict_is_a_schema_error() -> None:
    X, y, t = _small_experiment()
    model = UpliftModel(n_estimators=10, random_state=0).fit(X, y, treatment=t)
    cells = pd.DataFrame({"x": [[1.0], [2.0]]})
    with pytest.raises(SchemaError, match=r"'x' held numbers at fit .* \['\[1\.0\]', '\[2\.0\]'\]"):
        model.predict_effects(cells)


@pytest.mark.parametrize("scale", [1e160, 1e39, 1e16])
def test_an_outcome_too_large_for_money_is_a_data_error(scale: float) -> None:
    """|y| near 1e160 gave all-NaN effects with only NumPy's overflow warnings, and near 1e39
    NumPy's overflow warning from the float32 rounding (session 62's probe)."""
    X, _, t = _small_experiment()
    spend = np.random.default_rng(1).gamma(2.0, scale, len(X))
    with pytest.raises(DataError, match=r"y reaches .*, beyond 1e\+15: .*unit mix-up"):
        UpliftModel(n_estimators=10).fit(X, spend, treatment=t)


def test_an_arm_sent_only_in_campaigns_without_control_rows_warns() -> None:
    """groups= compares each arm with the control rows of the campaigns that sent it; an arm sent
    only in a campaign without control rows was compared with the other campaigns' pooled, and
    credited with its season, without a word."""
    rng = np.random.default_rng(0)
    n = 3000
    campaign = np.where(np.arange(n) < n // 2, "spring", "xmas")
    arm = np.where(campaign == "xmas", "gift", rng.choice(["control", "sms"], n))
    y = (rng.uniform(size=n) < np.where(campaign == "xmas", 0.3, 0.1)).astype(int)
    X = pd.DataFrame({"x": rng.uniform(size=n)}, index=pd.RangeIndex(n, name="customer_id"))
    with pytest.warns(DataQualityWarning, match=r"arm\(s\) \['gift'\] were sent only in groups"):
        UpliftModel(random_state=0, **FAST).fit(X, y, treatment=arm, groups=campaign)
    # every arm next to control rows somewhere: no warning (the suite turns warnings into errors)
    both = np.where(campaign == "xmas", rng.choice(["control", "gift"], n), arm)
    UpliftModel(random_state=0, **FAST).fit(X, y, treatment=both, groups=campaign)


def _pooled_campaigns(n: int = 3000) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Two campaigns (spring buys 10%, xmas 30%), each with control and sms rows."""
    rng = np.random.default_rng(0)
    campaign = np.where(np.arange(n) < n // 2, "spring", "xmas").astype(object)
    arm = rng.choice(["control", "sms"], n).astype(object)
    y = (rng.uniform(size=n) < np.where(campaign == "xmas", 0.3, 0.1)).astype(int)
    X = pd.DataFrame({"x": rng.uniform(size=n)}, index=pd.RangeIndex(n, name="customer_id"))
    return X, y, arm, campaign


def test_groups_missing_on_some_rows_warn_with_the_count() -> None:
    """Rows without a campaign were pooled as one group, seasons mixed, without a word (an outside
    check: every 7th row's campaign missing moved three offers' average effects by 1-3 points)."""
    X, y, arm, campaign = _pooled_campaigns()
    holes = campaign.copy()
    holes[::7] = None
    with pytest.warns(DataQualityWarning, match=r"groups is missing on 429 of 3,000 rows"):
        UpliftModel(random_state=0, **FAST).fit(X, y, treatment=arm, groups=holes)
    # every row missing is documented as one group (no campaigns to tell apart): no warning
    UpliftModel(random_state=0, **FAST).fit(X, y, treatment=arm, groups=np.full(len(X), None))


def test_groups_given_as_a_column_name_say_to_pass_the_values() -> None:
    X, y, arm, _ = _pooled_campaigns()
    with pytest.raises(DataError, match=r"not a column name; got the text 'campaign'.*X.pop"):
        UpliftModel(**FAST).fit(X, y, treatment=arm, groups="campaign")  # type: ignore[arg-type]


def test_a_control_label_spelt_in_another_case_is_refused() -> None:
    """'Control' in one campaign's export next to 'control' was fitted as an offer (effect about
    minus the season's gap), and the warning blamed a campaign without control rows."""
    X, y, arm, campaign = _pooled_campaigns()
    mixed = np.where((campaign == "xmas") & (arm == "control"), "Control", arm)
    with pytest.raises(DataError, match=r"\['Control'\] that differ from the control label"):
        UpliftModel(**FAST).fit(X, y, treatment=mixed, groups=campaign)


def test_two_arms_spelt_in_two_cases_warn() -> None:
    X, y, arm, campaign = _pooled_campaigns()
    mixed = np.where((campaign == "xmas") & (arm == "sms"), "SMS", arm)
    with pytest.warns(DataQualityWarning, match=r"arms \['SMS', 'sms'\] differ only in case"):
        UpliftModel(random_state=0, **FAST).fit(X, y, treatment=mixed, groups=campaign)


def test_arm_labels_lose_their_surrounding_blanks_as_offer_ids_do() -> None:
    """'mens_email ' next to 'mens_email' fitted two arms silently; all padded, the effects kept
    the blanks, which the catalog (which strips offer ids) could never match."""
    rng = np.random.default_rng(1)
    n = 1200
    X = pd.DataFrame({"x": rng.uniform(size=n)}, index=pd.RangeIndex(n, name="customer_id"))
    arm = rng.choice(["control", "sms", "sms "], n)
    y = rng.integers(0, 2, n)
    model = UpliftModel(random_state=0, **FAST).fit(X, y, treatment=arm)
    assert model.arms_ == ("sms",)
    padded = np.char.add(np.char.add(" ", rng.choice(["control", "sms"], n)), " ")
    again = UpliftModel(random_state=0, **FAST).fit(X, y, treatment=padded, control=" control ")
    assert again.control_ == "control" and list(again.predict_effects(X).columns) == ["sms"]
