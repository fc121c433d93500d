"""UpliftModel(recenter=True): each arm's mean effect is the AIPW estimate of its average effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loyalty_ml.exceptions import ConfigError
from loyalty_ml.models.uplift import UpliftModel

FAST = {"n_estimators": 30, "random_state": 0}


def _experiment(
    n: int = 3_000, seed: int = 0, continuous: bool = True
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Two offers on a noisy outcome: ``coupon`` adds 1.0 (0.1 as a probability) to every row,
    ``points`` adds 2.0 * spend_z where spend is high and nothing elsewhere."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "spend": rng.normal(0, 1, n),
            "visits": rng.poisson(3, n).astype(float),
            "store": rng.choice(["north", "south"], n),
        }
    )
    t = rng.choice(["control", "coupon", "points"], n)
    spend = X["spend"].to_numpy()
    if continuous:
        effect = np.where(t == "coupon", 1.0, 0.0) + np.where(
            t == "points", 2.0 * spend.clip(0), 0.0
        )
        y = 5 + 2 * spend + effect + rng.normal(0, 6, n)
        return X, y, t
    p = 0.3 + 0.05 * np.tanh(spend) + np.where(t == "coupon", 0.1, 0.0)
    return X, (rng.uniform(size=n) < p).astype(int), t


def test_mean_effect_is_the_aipw_estimate_on_a_randomised_design() -> None:
    X, y, t = _experiment()
    plain = UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t)
    model = UpliftModel(**FAST).fit(X, y, treatment=t)
    base = plain.predict_baseline(X).to_numpy()
    raw = plain.predict_effects(X)
    for arm in ("coupon", "points"):
        treated = base + raw[arm].to_numpy()
        in_arm, in_control = t == arm, t == "control"
        expected = float(raw[arm].mean()) + (
            (y[in_arm] - treated[in_arm]).mean() - (y[in_control] - base[in_control]).mean()
        )
        assert model.predict_effects(X)[arm].mean() == pytest.approx(expected, abs=1e-9)
        assert model.effect_shift_[arm] == pytest.approx(expected - raw[arm].mean(), abs=1e-9)


def test_the_shift_is_one_constant_per_arm_so_rankings_are_unchanged() -> None:
    X, y, t = _experiment()
    plain = UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t)
    model = UpliftModel(**FAST).fit(X, y, treatment=t)
    diff = model.predict_effects(X) - plain.predict_effects(X)
    for arm in ("coupon", "points"):
        assert np.ptp(diff[arm].to_numpy()) < 1e-9
        assert diff[arm].iloc[0] == pytest.approx(model.effect_shift_[arm], abs=1e-9)
        assert model.effect_shift_[arm] != 0.0
    # the baseline moves by the control rows' mean residual, one constant too
    moved = (model.predict_baseline(X) - plain.predict_baseline(X)).to_numpy()
    assert np.ptp(moved) < 1e-9
    control = t == "control"
    residual = y[control] - plain.predict_baseline(X).to_numpy()[control]
    assert moved[0] == pytest.approx(residual.mean(), abs=1e-9)
    assert model.baseline_shift_ == pytest.approx(residual.mean(), abs=1e-9)
    assert (plain.effect_shift_ == 0.0).all() and plain.baseline_shift_ == 0.0


def test_recentred_effects_are_closer_to_the_true_average_on_a_shrinking_learner() -> None:
    """Noise 6x the signal: the S-learner with the linear blend shrinks the coupon's +1.0 towards 0
    (over 8 seeds its mean effect averages well below 1); re-centred, the average is unbiased."""
    plain_means, centred_means = [], []
    for seed in range(8):
        X, y, t = _experiment(seed=seed)
        plain_means.append(
            UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t).predict_effects(X)["coupon"]
        )
        centred_means.append(
            UpliftModel(**FAST).fit(X, y, treatment=t).predict_effects(X)["coupon"]
        )
    plain = float(np.mean([m.mean() for m in plain_means]))
    centred = float(np.mean([m.mean() for m in centred_means]))
    # one seed's standard error of the coupon's average effect is about 6 * sqrt(2 / 1000) = 0.27;
    # eight seeds' mean about 0.095
    assert abs(centred - 1.0) < 0.3
    assert abs(centred - 1.0) < abs(plain - 1.0)


def test_known_per_row_propensities_weight_the_residuals() -> None:
    """An unbalanced design with known per-row propensities: the shift uses Hajek-weighted means."""
    X, y, t = _experiment(n=4_000, seed=3)
    rng = np.random.default_rng(1)
    share = np.where(X["store"] == "north", 0.6, 0.2)
    coupon = rng.uniform(size=len(X)) < share
    t = np.where(coupon, "coupon", "control")
    propensity = pd.DataFrame({"coupon": share, "control": 1 - share}, index=X.index)
    plain = UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t, propensity=propensity)
    model = UpliftModel(**FAST).fit(X, y, treatment=t, propensity=propensity)
    base = plain.predict_baseline(X).to_numpy()
    treated = base + plain.predict_effects(X)["coupon"].to_numpy()
    w_arm = coupon / share
    w_control = ~coupon / (1 - share)
    expected = (
        np.sum(w_arm * (y - treated)) / w_arm.sum()
        - np.sum(w_control * (y - base)) / w_control.sum()
    )
    assert model.effect_shift_["coupon"] == pytest.approx(expected, abs=1e-9)


def test_binary_effects_stay_probabilities() -> None:
    X, y, t = _experiment(continuous=False)
    model = UpliftModel(**FAST).fit(X, y, treatment=t)
    base = model.predict_baseline(X).to_numpy()
    effects = model.predict_effects(X).to_numpy()
    assert (base[:, None] + effects >= 0).all() and (base[:, None] + effects <= 1).all()
    # the coupon's true average effect is +0.10; 1,000 rows per arm give a standard error of 0.02
    assert model.predict_effects(X)["coupon"].mean() == pytest.approx(0.10, abs=0.06)


def test_bootstrap_refits_are_recentred_on_their_own_resample() -> None:
    X, y, t = _experiment(n=1_500)
    model = UpliftModel(n_bootstrap=4, **FAST).fit(X, y, treatment=t)
    shifts = [b.effect_shift for b in model.bootstrap_learners_]
    assert all(s is not None for s in shifts)
    assert len({round(float(s[0]), 9) for s in shifts if s is not None}) == 4
    _, std = model.predict_effects(X, return_std=True)
    assert (std.to_numpy() > 0).all()


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_recenter_must_be_a_bool(bad: object) -> None:
    X, y, t = _experiment(n=600)
    with pytest.raises(ConfigError, match="'recenter' parameter"):
        UpliftModel(recenter=bad, **FAST).fit(X, y, treatment=t)  # type: ignore[arg-type]


def test_clone_keeps_the_parameter() -> None:
    assert UpliftModel().get_params()["recenter"] is True
    assert clone(UpliftModel(recenter=False)).get_params()["recenter"] is False


def test_a_model_pickled_before_recenter_loads_as_it_was_fitted() -> None:
    """A registered model from before ``recenter`` existed has no such attribute: unpickled, its
    repr and get_params crashed (AttributeError); it now reads ``recenter=False`` and predicts as
    it did (checked against a real pickle from the previous commit, cedc06a, during development)."""
    import pickle

    X, y, t = _experiment(n=1_500)
    model = UpliftModel(recenter=False, **FAST).fit(X, y, treatment=t)
    expected = model.predict_effects(X)
    state = model.__getstate__()
    for name in ("recenter", "effect_shift_", "baseline_shift_"):
        del state[name]
    learner = state["learner_"]
    for name in ("effect_shift", "baseline_shift"):
        learner.__dict__.pop(name, None)  # the dataclass defaults (None, 0.0) stand in for them
    old = UpliftModel.__new__(UpliftModel)
    old.__setstate__(state)
    loaded = pickle.loads(pickle.dumps(old))
    assert "recenter=False" in repr(loaded)
    assert loaded.get_params()["recenter"] is False
    assert loaded.baseline_shift_ == 0.0 and (loaded.effect_shift_ == 0.0).all()
    pd.testing.assert_frame_equal(loaded.predict_effects(X), expected)
    assert clone(loaded).get_params()["recenter"] is False
