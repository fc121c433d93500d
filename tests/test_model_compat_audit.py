"""Models pickled (registered) by older versions of loyalty_ml, loaded by the current code.

Each test rebuilds the shape of an old pickle without git: a current model is fitted so that it
predicts what the old code predicted, then the attributes the old version did not have are
stripped from its state (``__getstate__``) and it is restored with ``cls.__new__`` +
``__setstate__``, as tests/test_uplift_recenter.py::
test_a_model_pickled_before_recenter_loads_as_it_was_fitted does. Every shape was checked during
the audit against real pickles (and MLflow registries) written by the old commits named in each
test, loaded by this code. All six were defects, now fixed by ``__setstate__`` of UpliftModel,
ChurnModel and the linear arm model: parameters and fitted attributes added since are filled with
the values the old model was fitted with, and the first linear blend's level layout is converted
(its models crashed every nightly path with a numpy broadcasting error).
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.models.uplift import UpliftModel

FAST: dict[str, Any] = {"n_estimators": 20, "random_state": 0}

#: Attributes UpliftModel and its fitted learner gained with ``recenter`` (aa28ada/c6f3319).
_RECENTER = ("recenter", "effect_shift_", "baseline_shift_")
_LEARNER_RECENTER = ("effect_shift", "baseline_shift")


def _experiment(n: int = 1_500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A binary outcome, two offers, a numeric and a text feature whose most frequent level is
    also its first (sorted) level, code 0."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "spend": rng.normal(0, 1, n),
            "visits": rng.poisson(3, n).astype(float),
            "store": rng.choice(["a_north", "b_south", "c_east"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    t = rng.choice(["control", "coupon", "points"], n)
    p = 0.3 + 0.05 * np.tanh(X["spend"].to_numpy()) + np.where(t == "coupon", 0.1, 0.0)
    return X, (rng.uniform(size=n) < p).astype(int), t


def _restore(cls: Any, state: dict[str, Any]) -> Any:
    """Unpickle ``state`` as ``cls`` the way pickle does, then round-trip it once more."""
    old = cls.__new__(cls)
    old.__setstate__(state)
    return pickle.loads(pickle.dumps(old))


def _strip_uplift(
    model: UpliftModel, names: tuple[str, ...], learner_names: tuple[str, ...]
) -> dict[str, Any]:
    state = pickle.loads(pickle.dumps(model)).__getstate__()
    for name in names:
        state.pop(name, None)
    for learner in [state["learner_"], *state["bootstrap_learners_"]]:
        for name in learner_names:
            learner.__dict__.pop(name, None)  # the dataclass defaults stand in for them
    return state


# -- UpliftModel -------------------------------------------------------------------------------
def test_uplift_model_pickled_before_the_linear_blend_reads_as_fitted() -> None:
    X, y, t = _experiment()
    model = UpliftModel(linear_weight=0.0, recenter=False, **FAST).fit(X, y, treatment=t)
    expected = model.predict_effects(X)
    state = _strip_uplift(
        model,
        (*_RECENTER, "linear_weight", "linear_weight_", "progress"),
        (*_LEARNER_RECENTER, "linear", "linear_weight"),
    )
    loaded = _restore(UpliftModel, state)
    pd.testing.assert_frame_equal(loaded.predict_effects(X), expected)  # predictions are fine
    assert "UpliftModel(" in repr(loaded)
    params = loaded.get_params()
    assert params["linear_weight"] == 0.0 and params["progress"] is None
    assert loaded.linear_weight_ == 0.0
    assert clone(loaded).get_params()["linear_weight"] == 0.0


def test_uplift_model_pickled_with_the_first_linear_blend_predicts_as_fitted() -> None:
    X, y, t = _experiment()
    model = UpliftModel(linear_weight=0.5, recenter=False, **FAST).fit(X, y, treatment=t)
    expected_effects = model.predict_effects(X)
    expected_baseline = model.predict_baseline(X)
    state = _strip_uplift(model, _RECENTER, _LEARNER_RECENTER)
    for learner in [state["learner_"], *state["bootstrap_learners_"]]:
        linear = learner.linear
        assert linear is not None
        # The old layout: every level seen at fit, the first (here also the most frequent, code 0)
        # dropped when predicting; the current layout keeps the same indicators without it.
        assert all(0.0 not in levels for levels in linear.levels)
        linear.levels = [np.concatenate([[0.0], levels]) for levels in linear.levels]
    loaded = _restore(UpliftModel, state)
    pd.testing.assert_frame_equal(loaded.predict_effects(X), expected_effects)
    pd.testing.assert_series_equal(loaded.predict_baseline(X), expected_baseline)


def test_uplift_model_pickled_before_auto_tree_size_has_its_fitted_tree_size() -> None:
    X, y, t = _experiment()
    model = UpliftModel(
        num_leaves=15, min_child_samples=100, linear_weight=0.0, recenter=False, **FAST
    ).fit(X, y, treatment=t)
    state = _strip_uplift(
        model,
        (
            *_RECENTER,
            "linear_weight",
            "linear_weight_",
            "num_leaves_",
            "min_child_samples_",
        ),
        (*_LEARNER_RECENTER, "linear", "linear_weight"),
    )
    loaded = _restore(UpliftModel, state)
    assert (loaded.num_leaves_, loaded.min_child_samples_) == (15, 100)


def test_uplift_model_pickled_by_the_first_recenter_has_a_baseline_shift() -> None:
    X, y, t = _experiment()
    model = UpliftModel(linear_weight=0.0, recenter=True, **FAST).fit(X, y, treatment=t)
    state = _strip_uplift(model, ("baseline_shift_",), ("baseline_shift",))
    loaded = _restore(UpliftModel, state)
    assert loaded.get_params()["recenter"] is True
    assert loaded.baseline_shift_ == 0.0


# -- ChurnModel --------------------------------------------------------------------------------
def _churn_fit() -> tuple[ChurnModel, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 2_000
    X = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, n),
            "n_orders": rng.integers(1, 20, n).astype(float),
            "spend": rng.gamma(2.0, 40.0, n),
        }
    )
    logit = -1 + X["recency_days"] / 100 - X["n_orders"] / 10
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int))
    model = ChurnModel(n_estimators=40, cutoff_offsets=False, random_state=0).fit(X, y)
    return model, X


def test_churn_model_pickled_before_cutoff_offsets_reads_as_fitted() -> None:
    model, X = _churn_fit()
    expected = model.predict_proba(X)
    state: dict[str, Any] = dict(model.__getstate__())  # type: ignore[call-overload]
    for name in ("cutoff_offsets", "base_score_"):
        del state[name]
    state["validation_"] = {k: v for k, v in state["validation_"].items() if k != "cutoff_offsets"}
    loaded = _restore(ChurnModel, state)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)  # predictions are fine
    assert "ChurnModel(" in repr(loaded)
    assert loaded.get_params()["cutoff_offsets"] is False
    assert clone(loaded).get_params()["cutoff_offsets"] is False


def test_churn_model_pickled_before_monotone_and_horizon_days_reads_as_fitted() -> None:
    model, X = _churn_fit()
    expected = model.predict_proba(X)
    state: dict[str, Any] = dict(model.__getstate__())  # type: ignore[call-overload]
    for name in ("cutoff_offsets", "base_score_", "monotone", "horizon_days"):
        del state[name]
    state["validation_"] = {
        k: v for k, v in state["validation_"].items() if k not in ("cutoff_offsets", "refit")
    }
    loaded = _restore(ChurnModel, state)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    params = loaded.get_params()
    assert params["monotone"] is False and params["cutoff_offsets"] is False
    assert isinstance(params["horizon_days"], int)
    assert clone(loaded) is not None
