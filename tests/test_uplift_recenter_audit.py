"""Audit of ``UpliftModel(recenter=True)``: each arm's mean effect over the training rows should be the
augmented IPW estimate (model's mean effect + Hajek-weighted mean residual of the arm minus the
control's, weights = sample_weight / propensity).

Every expected value here is computed independently with NumPy from a ``recenter=False`` twin (same
seed, so the same underlying learner) or from the data-generating truth. Four tests were confirmed
defects, now fixed: the X-learner's shift was computed with per-row propensities that prediction does
not use; clipping broke the binary mean (the baseline is now re-centred too, and the constants are
solved under the clipping); an offer first sent in a busy campaign was credited with the season (the
shift compares within campaigns, ``fit(groups=)``); an arm with one positive-weight row was accepted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import DataError, DataQualityWarning
from loyalty_ml.models._uplift_learners import arm_keys_of
from loyalty_ml.models._uplift_rows import stratified_resample
from loyalty_ml.models.uplift import UpliftModel
from loyalty_ml.tracking._offers import _design_weights, _fit

FAST = {"n_estimators": 30, "random_state": 0}


def _aipw(
    plain: UpliftModel,
    X: pd.DataFrame,
    y: np.ndarray,
    t: np.ndarray,
    *,
    control: str = "control",
    weight: np.ndarray | None = None,
    propensity: pd.DataFrame | None = None,
) -> dict[str, float]:
    """Independent AIPW estimate per arm from a recenter=False model's *predicted* effects."""
    y = np.asarray(y, dtype=float)
    t = np.asarray(t).astype(str)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    base = plain.predict_baseline(X).to_numpy()
    effects = plain.predict_effects(X)
    out = {}
    for arm in plain.arms_:
        tau = effects[arm].to_numpy()
        if propensity is None:
            p_arm = p_control = np.ones(len(y))
        else:
            p_arm, p_control = propensity[arm].to_numpy(), propensity[control].to_numpy()
        w_arm = w * (t == arm) / p_arm
        w_control = w * (t == control) / p_control
        gap = (
            np.sum(w_arm * (y - base - tau)) / w_arm.sum()
            - np.sum(w_control * (y - base)) / w_control.sum()
        )
        out[arm] = float(tau.mean() + gap)
    return out


def _three_arm_binary(n: int = 3_000, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"spend": rng.normal(size=n), "store": rng.choice(["a", "b", "c"], n)})
    s = X["spend"].to_numpy()
    t = rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2])
    p = 0.3 + 0.1 * np.tanh(s) + 0.05 * (t == 1) + 0.1 * (t == 2) * (s > 0)
    return X, (rng.uniform(size=n) < p).astype(int), t


# -- guards: behaviour checked and found correct ------------------------------------------------------
@pytest.mark.parametrize("learner", ["S", "T", "X", "DR"])
def test_guard_aipw_with_weights_integer_arms_and_design_shares(learner: str) -> None:
    """sample_weight + integer arm labels + a known design Series: mean effect == AIPW to 1e-9."""
    X, y, t = _three_arm_binary()
    w = np.random.default_rng(1).choice([0.5, 1.0, 3.0], len(X))
    shares = pd.Series({0: 0.5, 1: 0.3, 2: 0.2})
    kw = {"learner": learner, **FAST}
    fit = {"treatment": t, "control": 0, "sample_weight": w, "propensity": shares}
    plain = UpliftModel(recenter=False, **kw).fit(X, y, **fit)
    model = UpliftModel(**kw).fit(X, y, **fit)
    assert model.arms_ == ("1", "2")
    expected = _aipw(plain, X, y, t, control="0", weight=w)
    observed = model.predict_effects(X).mean()
    for arm in model.arms_:
        assert observed[arm] == pytest.approx(expected[arm], abs=1e-9)


def test_guard_aipw_with_estimated_propensities() -> None:
    """propensity="estimate": the shift uses the clipped (0.01) and renormalised in-sample
    propensities; recomputed independently it matches to 1e-9."""
    rng = np.random.default_rng(5)
    n = 3_000
    X = pd.DataFrame({"spend": rng.normal(size=n), "age": rng.normal(size=n)})
    s = X["spend"].to_numpy()
    coupon = rng.uniform(size=n) < 1 / (1 + np.exp(-2.5 * s))
    t = np.where(coupon, "coupon", "control")
    y = 5 + 2 * s + coupon * (1.0 + 1.5 * s.clip(0)) + rng.normal(0, 3, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t, propensity="estimate")
        model = UpliftModel(**FAST).fit(X, y, treatment=t, propensity="estimate")
    arm = (t == "coupon").astype(np.int64)  # the model's arm codes: control 0, coupon 1
    raw = model.propensity_model_.out_of_fold(model.encoding_.transform(X, owner="test"), arm)
    clipped = np.clip(raw, 0.01, 1.0)
    clipped /= clipped.sum(axis=1, keepdims=True)
    prop = pd.DataFrame({"control": clipped[:, 0], "coupon": clipped[:, 1]}, index=X.index)
    expected = _aipw(plain, X, y, t, propensity=prop)["coupon"]
    assert model.predict_effects(X)["coupon"].mean() == pytest.approx(expected, abs=1e-9)


def test_guard_design_weighted_campaigns_with_every_arm_in_every_campaign() -> None:
    """The offer path's design weights (20% treated in a quiet season, 80% in a busy one): the
    re-centred mean is the campaign-balanced estimate, not the season-confounded pooled one (0.17)."""
    rng = np.random.default_rng(0)
    n = 2_000
    key = np.repeat([0, 1], n)
    coupon = rng.uniform(size=2 * n) < np.where(key == 0, 0.2, 0.8)
    X = pd.DataFrame(
        {"spend": rng.normal(size=2 * n), "visits": rng.poisson(3, 2 * n).astype(float)}
    )
    p = np.where(key == 0, 0.2, 0.4) + 0.05 * np.tanh(X["spend"].to_numpy()) + 0.05 * coupon
    y = pd.Series((rng.uniform(size=2 * n) < p).astype(int))
    t = pd.Series(np.where(coupon, "coupon", "control"))
    model = UpliftModel(**FAST).fit(X, y, treatment=t, sample_weight=_design_weights(t, key))
    # within-campaign differences in means, averaged: SE = sqrt(sum of 4 binomial variances) / 2
    yy, tt = y.to_numpy(), t.to_numpy()
    se = 0.5 * np.sqrt(
        sum(
            yy[(key == c) & (tt == a)].var() / ((key == c) & (tt == a)).sum()
            for c in (0, 1)
            for a in ("control", "coupon")
        )
    )  # about 0.018
    assert abs(model.predict_effects(X)["coupon"].mean() - 0.05) < 4 * se


def test_guard_bootstrap_refits_are_the_aipw_of_their_resample_and_carry_the_level_se() -> None:
    rng = np.random.default_rng(0)
    n = 3_000
    X = pd.DataFrame({"spend": rng.normal(size=n), "visits": rng.poisson(3, n).astype(float)})
    t = rng.choice(["control", "coupon"], n)
    y = 5 + 2 * X["spend"].to_numpy() + (t == "coupon") * 1.0 + rng.normal(0, 6, n)
    model = UpliftModel(n_bootstrap=20, **FAST).fit(X, y, treatment=t)
    # replay the bootstrap's resamples: the seed draw, then one stratified resample per refit
    replay = np.random.RandomState(0)
    replay.randint(0, 2**31 - 1)
    arm = (t == "coupon").astype(np.int64)
    matrix = model.encoding_.transform(X, owner="test")
    keys = arm_keys_of(arm, y, np.ones(n), 2, matrix)  # each arm's own stream (session 42)
    levels = []
    for learner in model.bootstrap_learners_:
        rows = stratified_resample(arm, replay, keys=keys)
        shift = learner.effect_shift
        learner.effect_shift = None
        base, tau = learner.predict(matrix[rows], np.full((len(rows), 2), 0.5))
        learner.effect_shift = shift
        a, yr = arm[rows], y[rows]
        gap = (yr[a == 1] - base[a == 1] - tau[a == 1, 0]).mean() - (
            yr[a == 0] - base[a == 0]
        ).mean()
        assert shift[0] == pytest.approx(gap, abs=1e-9)
        levels.append(model._predict(learner, matrix)[1][:, 0].mean())
    se = np.sqrt(
        y[t == "coupon"].var() / (t == "coupon").sum()
        + y[t == "control"].var() / (t == "control").sum()
    )
    # 20 refits estimate a standard deviation to about +/- 16% (1 / sqrt(2 * 19))
    assert 0.6 * se < np.std(levels, ddof=1) < 1.5 * se


# -- confirmed defects --------------------------------------------------------------------------------
def _per_row_design(seed: int = 3, n: int = 4_000):
    """Known per-row propensities: 70% coupon in the north stores, 15% in the south."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"spend": rng.normal(size=n), "store": rng.choice(["north", "south"], n)})
    share = np.where(X["store"] == "north", 0.7, 0.15)
    coupon = rng.uniform(size=n) < share
    t = np.where(coupon, "coupon", "control")
    s = X["spend"].to_numpy()
    y = (
        5
        + 2 * s
        + coupon * (1.0 + 1.5 * s.clip(0))
        + 3 * (X["store"] == "north")
        + rng.normal(0, 3, n)
    )
    prop = pd.DataFrame({"coupon": share, "control": 1 - share}, index=X.index)
    return X, y.to_numpy(), t, prop


def test_x_learner_with_per_row_propensities_mean_is_the_aipw_estimate() -> None:
    X, y, t, prop = _per_row_design()
    kw = {"learner": "X", "linear_weight": 0.0, **FAST}
    plain = UpliftModel(recenter=False, **kw).fit(X, y, treatment=t, propensity=prop)
    model = UpliftModel(**kw).fit(X, y, treatment=t, propensity=prop)
    expected = _aipw(plain, X, y, t, propensity=prop)["coupon"]
    assert model.predict_effects(X)["coupon"].mean() == pytest.approx(expected, abs=1e-6)


def test_guard_s_learner_with_per_row_propensities_mean_is_the_aipw_estimate() -> None:
    X, y, t, prop = _per_row_design()
    plain = UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t, propensity=prop)
    model = UpliftModel(**FAST).fit(X, y, treatment=t, propensity=prop)
    expected = _aipw(plain, X, y, t, propensity=prop)["coupon"]
    assert model.predict_effects(X)["coupon"].mean() == pytest.approx(expected, abs=1e-9)


def test_binary_all_zero_arm_mean_is_the_aipw_estimate_and_shift_is_constant() -> None:
    rng = np.random.default_rng(0)
    n = 3_000
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    t = rng.choice(["control", "coupon", "dud"], n)
    p0 = 0.02 + 0.3 / (1 + np.exp(-3 * X["z"].to_numpy()))
    y = (rng.uniform(size=n) < np.where(t == "coupon", p0 + 0.05, p0)).astype(int)
    y[t == "dud"] = 0
    with pytest.warns(DataQualityWarning, match=r"\['dud"):
        plain = UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t)
    with pytest.warns(DataQualityWarning, match=r"\['dud"):
        model = UpliftModel(**FAST).fit(X, y, treatment=t)
    expected = _aipw(plain, X, y, t)
    observed = model.predict_effects(X)
    # the unclipped arm is exact
    assert observed["coupon"].mean() == pytest.approx(expected["coupon"], abs=1e-9)
    # one constant wherever baseline + effect stays inside [0, 1]; clipped at the bounds elsewhere
    # (as without recenter), with the constant solved so that the mean is the AIPW estimate
    applied = (observed["dud"] - plain.predict_effects(X)["dud"]).to_numpy()
    base = model.predict_baseline(X).to_numpy()
    inside = observed["dud"].to_numpy() > -base + 1e-12
    assert inside.sum() > 0
    assert np.ptp(applied[inside]) < 1e-9
    assert applied[inside][0] == pytest.approx(model.effect_shift_["dud"], abs=1e-9)
    assert observed["dud"].mean() == pytest.approx(expected["dud"], abs=1e-6)


def test_offer_path_arm_new_in_a_later_campaign_is_not_credited_with_the_season() -> None:
    rng = np.random.default_rng(2)
    n = 2_000
    key = np.repeat([0, 1], n)
    t = pd.Series(
        np.concatenate(
            [rng.choice(["control", "coupon"], n), rng.choice(["control", "coupon", "points"], n)]
        )
    )
    X = pd.DataFrame(
        {"spend": rng.normal(size=2 * n), "visits": rng.poisson(3, 2 * n).astype(float)}
    )
    base = np.where(key == 0, 0.15, 0.45) + 0.05 * np.tanh(X["spend"].to_numpy())
    tt = t.to_numpy()
    y = pd.Series((rng.uniform(size=2 * n) < base + 0.05 * (tt != "control")).astype(int))
    model = _fit(X, y, t, key, catalog=None, params=dict(FAST)).uplift_model
    yy, late = y.to_numpy(), key == 1
    se = np.sqrt(
        yy[late & (tt == "points")].var() / (late & (tt == "points")).sum()
        + yy[late & (tt == "control")].var() / (late & (tt == "control")).sum()
    )  # about 0.027
    assert abs(model.predict_effects(X)["points"].mean() - 0.05) < 4 * se


def test_dr_arm_with_one_positive_weight_row_is_not_shifted_to_nonsense() -> None:
    rng = np.random.default_rng(2)
    n = 1_200
    X = pd.DataFrame({"spend": rng.normal(size=n)})
    t = rng.choice(["control", "coupon"], n).astype(object)
    t[:60] = "new"
    y = rng.normal(size=n) + 3 * (t == "new")
    w = np.ones(n)
    w[1:60] = 0.0
    # one row with a positive weight is not an arm: refused like an arm of one row
    with pytest.raises(DataError, match="positive sample_weight"):
        UpliftModel(learner="DR", **FAST).fit(X, y, treatment=t, sample_weight=w)
