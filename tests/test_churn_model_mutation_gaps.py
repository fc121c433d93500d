"""Tests that kill mutants which survived the suite (session 45's second mutation run of the churn
model: _cutoff_offsets.py, churn.py's parameter checks and LightGBM parameters, _churn_encoding.py,
_churn_calibration.py). Each test names the mutant it kills. All use small hand-made inputs.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.models.churn import ChurnModel


def _small_table() -> tuple[pd.DataFrame, pd.Series]:
    """400 customers, one cutoff; churn driven by x (enough rows for the trees to split)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=400), "z": rng.normal(size=400)})
    y = (X["x"] + rng.normal(size=400) > 0.5).astype(int)
    return X, y


def _lgb_setting(model: ChurnModel, name: str) -> str:
    """The value of LightGBM parameter ``name`` as recorded in the fitted booster's model text."""
    prefix = f"[{name}: "
    found = [
        line[len(prefix) : -1]
        for line in model.booster_.model_to_string().splitlines()
        if line.startswith(prefix)
    ]
    assert len(found) == 1, name
    return found[0]


# -- parameter checks (churn.py) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": 0.0}, r"'threshold' parameter of ChurnModel must be in \(0, 1\)"),
        (
            {"validation_fraction": 0.0},
            r"'validation_fraction' parameter of ChurnModel must be in \(0, 1\)",
        ),
    ],
)
def test_open_fractions_refuse_zero(params: dict[str, Any], message: str) -> None:
    """Kills M20 (threshold and validation_fraction of 0 accepted): both live in the open
    interval (0, 1); the suite pins only the upper edge, 1."""
    X, y = _small_table()
    with pytest.raises(ConfigError, match=message):
        ChurnModel(**params).fit(X, y)


# -- LightGBM parameters (churn.py) ---------------------------------------------------------------
def test_automatic_subsample_bags_80_percent_of_rows_every_round() -> None:
    """Pins M23 (subsample="auto" read as 1.0 on tables up to 500,000 rows) and M24 (bagging
    never switched on: bagging_freq 0 makes LightGBM ignore bagging_fraction) directly; the suite
    kills both only by chance, through the no-split warning of test_typical_values_are_medians."""
    X, y = _small_table()
    model = ChurnModel(n_estimators=5, min_child_samples=10, random_state=0).fit(X, y)
    assert _lgb_setting(model, "bagging_fraction") == "0.8"
    assert _lgb_setting(model, "bagging_freq") == "1"
    full = ChurnModel(n_estimators=5, min_child_samples=10, subsample=1.0, random_state=0).fit(X, y)
    assert _lgb_setting(full, "bagging_freq") == "0"


def test_tree_parameters_reach_lightgbm_each_as_its_own() -> None:
    """Kills M25 (lambda_l1 given reg_lambda: reg_alpha is the L1 penalty, reg_lambda the L2)
    and M49 (max_depth left unlimited); also pins M47 (max_bin left at 255), M50 (LightGBM's
    "basic" monotone method, which constrains more than "advanced") and M51 (num_leaves left at
    7), which other files kill only through their side effects."""
    X, y = _small_table()
    model = ChurnModel(
        n_estimators=5,
        min_child_samples=10,
        reg_alpha=0.25,
        reg_lambda=2.0,
        max_bin=15,
        max_depth=3,
        num_leaves=5,
        random_state=0,
    ).fit(X, y)
    assert _lgb_setting(model, "lambda_l1") == "0.25"
    assert _lgb_setting(model, "lambda_l2") == "2"
    assert _lgb_setting(model, "max_bin") == "15"
    assert _lgb_setting(model, "max_depth") == "3"
    assert _lgb_setting(model, "num_leaves") == "5"
    assert _lgb_setting(model, "monotone_constraints_method") == "advanced"


def _weak_signal(seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=1000), "z": rng.normal(size=1000)})
    return X, (0.3 * X["x"] + rng.normal(size=1000) > 0.8).astype(int)


def test_early_stopping_patience_is_the_parameter_and_the_refit_keeps_the_best_rounds() -> None:
    """Kills M52 (early stopping always waits 50 rounds) and M53 (the refit trains all
    n_estimators rounds instead of the best_iteration_ found on the hold-out). On a weak signal
    the hold-out loss first fails to improve after round 2 and improves again later: a patience of 1 stops
    there, a patience of 50 goes on to a later best round. Patience can only stop earlier.
    (M53 also fails test_explain's simulator reasons, through the extra trees.)"""
    X, y = _weak_signal(1)
    params = {"n_estimators": 300, "min_child_samples": 20, "learning_rate": 0.1, "random_state": 0}
    impatient = ChurnModel(early_stopping_rounds=1, **params).fit(X, y)
    patient = ChurnModel(early_stopping_rounds=50, **params).fit(X, y)
    assert impatient.best_iteration_ < patient.best_iteration_ < 300
    assert patient.validation_["refit"] is True
    assert patient.booster_.current_iteration() == patient.best_iteration_


# -- encoding (_churn_encoding.py) ----------------------------------------------------------------
def test_duplicated_feature_columns_are_refused() -> None:
    """Kills E06 (no check for duplicated column names): two columns named "x" are refused with
    a SchemaError naming them, since predict could not tell which is which."""
    X, y = _small_table()
    X.columns = ["x", "x"]
    with pytest.raises(SchemaError, match=r"X has duplicated columns \['x'\]"):
        ChurnModel(n_estimators=5, random_state=0).fit(X, y)


def test_a_table_without_feature_columns_is_refused() -> None:
    """Kills E32 (no check for a table of no columns): X with rows but no feature columns (all
    dropped upstream) is refused with a SchemaError, not left to LightGBM."""
    X, y = _small_table()
    with pytest.raises(SchemaError, match="X has no feature columns"):
        ChurnModel(n_estimators=5, random_state=0).fit(X[[]], y)


def test_a_one_column_frame_of_weights_is_read_as_the_column() -> None:
    """Kills E33 (column vectors of weights no longer ravelled): weights passed as a one-column
    DataFrame (``table[["margin"]]``) fit the same model as the Series ``table["margin"]``."""
    X, y = _small_table()
    margin = pd.DataFrame({"margin": np.where(np.arange(400) % 3 == 0, 2.0, 1.0)}, index=X.index)
    params = {"n_estimators": 5, "min_child_samples": 10, "random_state": 0}
    as_frame = ChurnModel(**params).fit(X, y, sample_weight=margin)
    as_series = ChurnModel(**params).fit(X, y, sample_weight=margin["margin"])
    np.testing.assert_array_equal(as_frame.predict_proba(X), as_series.predict_proba(X))


def test_typical_values_leave_out_categorical_features() -> None:
    """Kills E12 (categorical columns given a typical value): a category's codes have no median
    that means anything, so typical_values_ holds the numeric feature only (median of 0..99)."""
    rng = np.random.default_rng(0)
    store = pd.Categorical(rng.choice(["a", "b", "c"], size=100), categories=["a", "b", "c"])
    X = pd.DataFrame({"spend": np.arange(100.0), "store": store})
    y = np.tile([0, 1], 50)
    with warnings.catch_warnings():  # the labels alternate: the trees may find no split
        warnings.filterwarnings("ignore", "ChurnModel.fit: the trees made no split")
        model = ChurnModel(n_estimators=5, random_state=0).fit(X, y)
    assert model.typical_values_ == {"spend": 49.5}


# -- calibration (_churn_calibration.py) ----------------------------------------------------------
def test_calibration_none_fits_no_calibrator_even_with_a_holdout() -> None:
    """Kills K25 (calibration="none" not short-circuited: "none" becomes the only candidate, and
    make_calibrator fits an isotonic regression for any kind but "sigmoid"). With a hold-out of
    enough rows the model still reports and applies no calibrator: its probabilities are the raw
    booster's, and only the raw log loss is recorded."""
    X, y = _small_table()
    model = ChurnModel(n_estimators=5, min_child_samples=10, calibration="none", random_state=0)
    model.fit(X, y)
    assert model.validation_["split"] == "stratified random (not time-aware)"
    assert (model.calibration_, model.calibrator_) == ("none", None)
    assert [k for k in model.validation_ if k.startswith("log_loss")] == ["log_loss_raw"]
    np.testing.assert_array_equal(model.predict_proba(X)[:, 1], model.predict_proba_uncalibrated(X))


# -- per-cutoff intercepts (_cutoff_offsets.py) ---------------------------------------------------
def test_conditional_intercepts_travel_far_within_the_default_iterations() -> None:
    """Kills O15 (Newton steps clipped to 0.5 instead of 2: at most 12.5 log-odds in the default
    25 iterations). Cutoff 0: trees score every row +20 but half of them churn, so with the
    pseudo-rows 4 sigmoid(20 + b) + 2 sigmoid(b) = 2 + 1, i.e. sigmoid(20 + b) = 3/4 up to
    e^-19: b = ln 3 - 20, 18.9 below the rate log-odds it starts from. Cutoff 1: scores 0, one
    churner in 4, so 6 sigmoid(b) = 1 + 1 and b = -ln 2."""
    from loyalty_ml.models._cutoff_offsets import conditional_intercepts

    codes = np.repeat([0, 1], 4)
    scores = np.r_[np.full(4, 20.0), np.zeros(4)]
    target = np.array([1, 0, 1, 0, 1, 0, 0, 0])
    b = conditional_intercepts(scores, codes, target)
    np.testing.assert_allclose(b, [np.log(3.0) - 20.0, -np.log(2.0)], rtol=0, atol=1e-6)


def test_early_stopping_model_also_starts_from_the_cutoff_intercepts() -> None:
    """Kills O11 (the early-stopping model trained without the per-cutoff starting scores). With
    refit=False that model is the final one: the churn rate swings by cutoff (a season of +-1.5
    log-odds, odd months high) and tenure_days grows with the date, so trees started from a
    single intercept explain the season with tenure (about 37% of the mean |SHAP|, against 7%
    with the intercepts), although tenure drives nobody's churn within a cutoff."""
    rng = np.random.default_rng(0)
    n, k = 500, 8
    dates = pd.date_range("2024-01-01", periods=k, freq="MS")
    index = pd.MultiIndex.from_product([dates, np.arange(n)], names=["as_of", "customer_id"])
    step = np.repeat(np.arange(k), n)
    recency = rng.uniform(0, 300, k * n)
    X = pd.DataFrame(
        {"recency_days": recency, "tenure_days": 30.0 * step + rng.uniform(0, 30, k * n)},
        index=index,
    )
    logit = (recency - 150) / 40 + np.where(step % 2 == 0, -1.5, 1.5)
    y = pd.Series((rng.uniform(size=k * n) < 1 / (1 + np.exp(-logit))).astype(int), index=index)
    model = ChurnModel(n_estimators=60, refit=False, random_state=0).fit(X, y)
    assert model.validation_["split"].startswith("time")
    importance = model.shap_values(X).abs().mean()
    assert importance["tenure_days"] / importance.sum() < 0.15
