"""The pattern-table TreeSHAP gives LightGBM's own pred_contrib values, and falls back when unsure."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from loyalty_ml.models import _pattern_shap
from loyalty_ml.models._pattern_shap import pattern_values, tree_shap


def _data(n: int = 3_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    X[:, 0] = np.round(X[:, 0], 1)  # ties at split thresholds
    X[rng.random(n) < 0.1, 1] = np.nan  # missing values
    X[rng.random(n) < 0.2, 2] = 0.0  # zeros (missing under zero_as_missing)
    X[:, 3] = rng.integers(0, 6, n)  # a categorical code
    X[rng.random(n) < 0.05, 3] = np.nan
    logit = X[:, 0] + np.nan_to_num(X[:, 1]) - (X[:, 3] % 2) + 0.5 * X[:, 4] * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _booster(**params: Any) -> lgb.Booster:
    X, y = _data()
    train = lgb.Dataset(X[:2_000], y[:2_000], categorical_feature=[3], free_raw_data=False)
    valid = lgb.Dataset(X[2_000:], y[2_000:], reference=train)
    return lgb.train(
        {"objective": "binary", "num_leaves": 7, "verbosity": -1, "seed": 0, **params},
        train,
        num_boost_round=200,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(10, verbose=False)],
        keep_training_booster=True,  # keeps the trees after the best iteration
    )


@pytest.mark.parametrize(
    "params",
    [
        {},  # missing values as NaN
        {"zero_as_missing": True},
        {"use_missing": False},
        {"learning_rate": 0.3, "min_data_per_group": 5, "cat_smooth": 1},
    ],
)
def test_pattern_values_equal_lightgbm_pred_contrib(params: dict[str, Any]) -> None:
    booster = _booster(**params)
    assert 0 < booster.best_iteration < booster.num_trees()  # only the best iterations count
    X, _ = _data(n=5_000, seed=1)
    X[:7, 3] = [-1, 7, 2.5, -0.5, 1e6, np.inf, np.nan]  # codes never seen in training
    expected = booster.predict(X, pred_contrib=True, num_iteration=booster.best_iteration)
    got = pattern_values(booster, X)
    assert got is not None, "the pattern table should apply to trees of 6 splits"
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_big_trees_fall_back_to_lightgbm() -> None:
    booster = _booster(num_leaves=63, min_data_in_leaf=5)
    X, _ = _data(n=2_000, seed=2)
    assert pattern_values(booster, X) is None
    expected = booster.predict(X, pred_contrib=True, num_iteration=booster.best_iteration)
    np.testing.assert_allclose(tree_shap(booster, X), expected)


def test_a_decision_that_disagrees_with_lightgbm_is_caught(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    booster = _booster()
    X, _ = _data(n=2_000, seed=3)
    original = _pattern_shap._Split.goes_left

    def off_by_one(self: _pattern_shap._Split, x: np.ndarray, nan: np.ndarray | None) -> np.ndarray:
        left = original(self, x, nan)
        left[0] = ~left[0]
        return left

    monkeypatch.setattr(_pattern_shap._Split, "goes_left", off_by_one)
    with caplog.at_level("WARNING", logger=_pattern_shap.__name__):
        assert pattern_values(booster, X) is None
    assert "split decisions differ from LightGBM's in tree 0" in caplog.text
    monkeypatch.setattr(_pattern_shap, "MIN_ROWS", 1)
    expected = booster.predict(X, pred_contrib=True, num_iteration=booster.best_iteration)
    np.testing.assert_allclose(tree_shap(booster, X), expected)
