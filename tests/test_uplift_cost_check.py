"""The held-out check of each arm's purchase probabilities (UpliftModel(cost_folds=), cost_calibration_)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loyalty_ml.exceptions import ConfigError
from loyalty_ml.models._uplift_cost_check import COST_CHECK_BANDS, calibration_attrs, cost_check
from loyalty_ml.models._uplift_learners import ArmData
from loyalty_ml.models.uplift import UpliftModel


def _stub_data(n: int = 12_000, seed: int = 0) -> tuple[ArmData, np.ndarray]:
    """Arms 0-2; the stub model below says P(y | arm, x) = 0.2 + effect, with effect = 0.2 x for
    arm 1 and 0.1 x for arm 2, while arm 1 truly buys 1.5 times that and arm 2 half of it."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=n)
    arm = rng.integers(0, 3, size=n)
    said = 0.2 + np.select([arm == 1, arm == 2], [0.2 * x, 0.1 * x], 0.0)
    truth = said * np.select([arm == 1, arm == 2], [1.5, 0.5], 1.0)
    y = (rng.uniform(size=n) < truth).astype(float)
    matrix = np.column_stack([x, np.arange(n, dtype=float)])  # column 1: the row's position
    data = ArmData(matrix, arm, y, np.ones(n), np.full((n, 3), 1 / 3), True)
    return data, x


def _stub_fit(part: ArmData, seed: int) -> set[int]:
    return set(part.matrix[:, 1].astype(int).tolist())  # the rows the "model" saw


def _stub_predict(seen: object, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    assert isinstance(seen, set)
    assert not seen & set(matrix[:, 1].astype(int).tolist()), "a row scored by a model that saw it"
    x = matrix[:, 0]
    return np.full(len(x), 0.2), np.column_stack([0.2 * x, 0.1 * x])


def test_the_check_measures_each_arms_error_on_rows_no_refit_saw() -> None:
    data, _ = _stub_data()
    check = cost_check(
        data,
        ("a", "b"),
        folds=3,
        seed=0,
        fit=_stub_fit,
        predict=_stub_predict,  # type: ignore[arg-type]
    )
    assert list(check.index.get_level_values(0).unique()) == ["a", "b"]
    for offer, truth_ratio in (("a", 1.5), ("b", 0.5)):
        bands = check.loc[offer]
        assert len(bands) == COST_CHECK_BANDS
        assert bands["rows"].sum() == int((data.arm == (1 if offer == "a" else 2)).sum())
        assert np.isinf(bands["effect_to"].iloc[-1])
        assert bands["effect_to"].is_monotonic_increasing
        assert bands["predicted"].is_monotonic_increasing  # the bands follow the effect
        ratio = bands["observed"] / bands["predicted"]
        assert np.all(np.abs(ratio - truth_ratio) < 4 * bands["observed_se"] / bands["predicted"])
    attrs = calibration_attrs(check)
    assert attrs is not None and set(attrs) == {"a", "b"}
    assert attrs["a"]["observed"] == pytest.approx(check.loc["a", "observed"].tolist())
    assert calibration_attrs(None) is None


def test_a_band_without_purchases_is_not_certain() -> None:
    data, _ = _stub_data(n=600)
    quiet = ArmData(
        data.matrix, data.arm, np.zeros_like(data.y), data.weight, data.propensity, True
    )
    check = cost_check(quiet, ("a", "b"), folds=2, seed=0, fit=_stub_fit, predict=_stub_predict)  # type: ignore[arg-type]
    assert (check["observed"] == 0).all()
    assert (check["observed_se"] > 0).all()


# -- through UpliftModel --------------------------------------------------------------------------
def _experiment(n: int = 6_000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.uniform(size=n), "noise": rng.normal(size=n)})
    t = rng.choice(["control", "coupon", "gift"], n)
    p = 0.1 + 0.5 * X["x"].to_numpy() * (t == "coupon") + 0.1 * (t == "gift")
    return X, (rng.uniform(size=n) < p).astype(int), t


def test_model_records_the_check_and_its_effects_carry_it() -> None:
    X, y, t = _experiment()
    model = UpliftModel(n_estimators=20, random_state=0).fit(X, y, treatment=t)
    check = model.cost_calibration_
    assert check is not None
    assert list(check.index.get_level_values(0).unique()) == ["coupon", "gift"]
    for offer in ("coupon", "gift"):
        assert check.loc[offer, "rows"].sum() == int((t == offer).sum())
    effects = model.predict_effects(X.head(3))
    assert effects.attrs["cost_calibration"] == calibration_attrs(check)
    assert model.get_params()["cost_folds"] == 2
    assert clone(model).cost_folds == 2


def test_a_model_that_shrinks_its_effects_is_caught_in_the_top_band() -> None:
    """Five trees at a low learning rate barely leave the mean: the customers with the largest
    effects buy far more than the model says, those with the smallest less."""
    X, y, t = _experiment(n=20_000)
    shrunk = UpliftModel(n_estimators=5, learning_rate=0.05, linear_weight=0.0, random_state=0)
    check = shrunk.fit(X, y, treatment=t).cost_calibration_
    assert check is not None
    ratio = check.loc["coupon", "observed"] / check.loc["coupon", "predicted"]
    assert ratio.iloc[-1] > 1.1, ratio
    assert ratio.iloc[0] < 0.95, ratio


def test_no_check_for_a_continuous_outcome_or_without_folds() -> None:
    X, y, t = _experiment(n=1_500)
    spend = y * 10.0 + np.random.default_rng(0).uniform(size=len(y))
    continuous = UpliftModel(n_estimators=5, random_state=0).fit(X, spend, treatment=t)
    assert continuous.cost_calibration_ is None
    off = UpliftModel(n_estimators=5, cost_folds=0, random_state=0).fit(X, y, treatment=t)
    assert off.cost_calibration_ is None
    assert "cost_calibration" not in off.predict_effects(X.head(2)).attrs


@pytest.mark.parametrize("folds", [1, -1, 2.0, True, "2"])
def test_cost_folds_is_validated(folds: object) -> None:
    X, y, t = _experiment(n=600)
    with pytest.raises(ConfigError, match=r"'cost_folds' parameter of UpliftModel must be 0"):
        UpliftModel(cost_folds=folds).fit(X, y, treatment=t)  # type: ignore[arg-type]


def test_a_model_pickled_before_the_check_loads_without_it() -> None:
    X, y, t = _experiment(n=1_500)
    model = UpliftModel(n_estimators=5, random_state=0).fit(X, y, treatment=t)
    state = model.__getstate__()
    del state["cost_folds"], state["cost_calibration_"]
    old = UpliftModel.__new__(UpliftModel)
    old.__setstate__(state)
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.cost_folds == 0
    assert loaded.cost_calibration_ is None
    assert "cost_calibration" not in loaded.predict_effects(X.head(2)).attrs


def test_the_check_changes_no_estimate() -> None:
    """The refits are extra: effects, baseline and bootstrap spread are those of cost_folds=0."""
    X, y, t = _experiment(n=2_000)
    options = {"n_estimators": 10, "n_bootstrap": 2, "random_state": 0}
    checked = UpliftModel(**options).fit(X, y, treatment=t)  # type: ignore[arg-type]
    plain = UpliftModel(cost_folds=0, **options).fit(X, y, treatment=t)  # type: ignore[arg-type]
    a, a_std = checked.predict_effects(X, return_std=True)
    b, b_std = plain.predict_effects(X, return_std=True)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a_std, b_std)
    pd.testing.assert_series_equal(checked.predict_baseline(X), plain.predict_baseline(X))


def test_the_check_does_not_depend_on_the_order_of_rows_of_one_label() -> None:
    """Rows of one index label (a customer in several campaigns) keep the order they came in; the
    check deals its folds by the rows' contents, so shuffling them changes nothing."""
    X, y, t = _experiment(n=3_000)
    X = X.set_axis(pd.Index(np.arange(len(X)) // 3, name="customer_id"))  # three rows a customer
    model = UpliftModel(n_estimators=10, random_state=0)
    first = model.fit(X, y, treatment=t).cost_calibration_
    order = np.random.default_rng(5).permutation(len(X))
    again = clone(model).fit(X.iloc[order], y[order], treatment=t[order]).cost_calibration_
    assert first is not None and again is not None
    pd.testing.assert_frame_equal(first, again)
