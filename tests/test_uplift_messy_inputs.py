"""UpliftModel, the uplift metrics and policy_value on inputs as exports and parameter grids give
them. Each test is a defect a probe found (session 62) and failed before its fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import ConfigError, DataError, SchemaError


def _experiment(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.Index(range(n), name="customer_id")
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)}, index=index)
    t = pd.Series(rng.choice(["control", "a", "b"], n), index=index)
    y = pd.Series((rng.random(n) < 0.3 + 0.1 * (t == "a")).astype(int), index=index)
    return X, y, t


def _model(**params: object) -> lml.UpliftModel:
    return lml.UpliftModel(n_estimators=10, cost_folds=0, random_state=0, **params)  # type: ignore[arg-type]


@pytest.mark.parametrize("blank", ["", "   ", "nan"])
def test_a_blank_arm_label_is_missing_not_an_offer(blank: str) -> None:
    # a CSV's empty cell, or "nan" as astype(str) writes a missing value, was fitted as an arm
    X, y, t = _experiment()
    t = t.copy()
    t.iloc[:200] = blank
    with pytest.raises(DataError, match=r"treatment is missing on 200 rows \(missing, blank"):
        _model().fit(X, y, treatment=t)


def test_metrics_refuse_arrays_beside_series_in_another_order() -> None:
    # y as an array, t reordered: rows were paired with other customers' arms, silently
    X, y, t = _experiment()
    scores = pd.DataFrame({"a": X["x"], "b": X["z"]})
    shuffled = t.iloc[np.random.default_rng(1).permutation(len(t))]
    with pytest.raises(DataError, match=r"y is a plain array but t and score are indexed in"):
        lml.uplift_at_k(y.to_numpy(), shuffled, scores, k=0.3)
    with pytest.raises(DataError, match=r"plain array"):
        lml.policy_value(y.to_numpy(), shuffled, scores.idxmax(axis=1))
    # one order for all: by position, as before
    pd.testing.assert_series_equal(
        lml.uplift_at_k(y.to_numpy(), t, scores, k=0.3), lml.uplift_at_k(y, t, scores, k=0.3)
    )


def test_policy_value_refuses_propensities_that_cannot_be_probabilities() -> None:
    X, y, t = _experiment()
    assignment = pd.Series(np.where(X["x"] > 0, "a", "control"), index=X.index)
    # shares of some arms summing past 1 (the check ran only when every arm was given)
    with pytest.raises(DataError, match=r"propensity shares of the arms in t sum to 1\.8"):
        lml.policy_value(y, t, assignment, propensity=pd.Series({"control": 0.9, "a": 0.9}))
    # per-row propensities of every arm summing to 0.3 weighed each reward three times over
    low = pd.DataFrame({"control": 0.1, "a": 0.1, "b": 0.1}, index=X.index)
    with pytest.raises(DataError, match=r"sum to less than 1 on 600 row"):
        lml.policy_value(y, t, assignment, propensity=low)
    # the design's shares, given for some arms only: fine
    lml.policy_value(y, t, assignment, propensity=pd.Series({"control": 1 / 3, "a": 1 / 3}))


def test_numpy_numbers_from_a_parameter_grid_are_accepted() -> None:
    X, y, t = _experiment()
    model = _model(n_bootstrap=np.int64(2), learning_rate=np.float32(0.1), reg_lambda=np.float64(1))
    model.fit(X, y, treatment=t)
    assert model.predict_effects(X.iloc[:5]).shape == (5, 2)


@pytest.mark.parametrize(
    ("param", "value"), [("n_jobs", "2"), ("random_state", "x"), ("n_jobs", True)]
)
def test_bad_threads_or_seed_are_a_config_error(param: str, value: object) -> None:
    X, y, t = _experiment()
    with pytest.raises(ConfigError, match=rf"The '{param}' parameter of UpliftModel must be"):
        lml.UpliftModel(**{param: value}).fit(X, y, treatment=t)  # type: ignore[arg-type]


def test_score_names_itself_in_its_errors() -> None:
    X, y, t = _experiment()
    model = _model().fit(X, y, treatment=t)
    with pytest.raises(DataError, match=r"UpliftModel\.score: y must be numbers"):
        model.score(X, y.map({1: "yes", 0: "no"}), treatment=t)


def test_experiment_table_names_a_send_date_that_is_no_date() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [5.0, 6.0, 7.0],
        }
    )
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "offer_id": ["coupon", "control", "coupon"],
            "sent_at": ["2024-02-01", "not a date", "2024-02-01"],
        }
    )
    with pytest.raises(SchemaError, match=r"campaigns\.sent_at holds values that are not dates"):
        lml.experiment_table(tx, campaigns, window_days=7)


def test_qini_auc_score_refuses_a_flag_that_is_no_bool() -> None:
    # "no" is truthy: it was read as negative_effect=True
    with pytest.raises(ConfigError, match=r"negative_effect must be True or False; got 'no'"):
        lml.qini_auc_score([1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.2, 0.1], negative_effect="no")  # type: ignore[arg-type]
    assert lml.qini_auc_score(
        [1, 0, 1, 0], [1, 0, 0, 1], [0.9, 0.8, 0.2, 0.1], negative_effect=np.bool_(True)
    ) == pytest.approx(0.8333, abs=1e-4)
