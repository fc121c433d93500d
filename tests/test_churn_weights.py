"""ChurnModel.fit(sample_weight=): weights reach the trees, the intercepts and the calibrator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loyalty_ml.exceptions import DataError
from loyalty_ml.models._churn_calibration import SigmoidCalibrator, choose_calibrator, log_loss
from loyalty_ml.models._churn_calibration import make_calibrator as calibrator_of
from loyalty_ml.models._cutoff_offsets import conditional_intercepts, rate_intercepts
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.schema import columns as C

FAST = {"n_estimators": 60, "random_state": 0}


def _table(n_customers: int = 1200, n_cutoffs: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [cutoffs, np.arange(n_customers)], names=[C.AS_OF, C.CUSTOMER_ID]
    )
    n = len(index)
    X = pd.DataFrame(
        {"recency_days": rng.uniform(0, 200, n), "spend": rng.gamma(2.0, 50.0, n)}, index=index
    )
    logit = (X["recency_days"] - 100) / 40
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int), index=index)
    return X, y


@pytest.fixture(scope="module")
def table():
    return _table()


def _p(model: ChurnModel, X: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(X)[:, 1]


def test_equal_weights_fit_the_unweighted_model(table) -> None:
    X, y = table
    plain = ChurnModel(**FAST).fit(X, y)
    ones = ChurnModel(**FAST).fit(X, y, sample_weight=np.ones(len(X)))
    np.testing.assert_array_equal(_p(plain, X), _p(ones, X))


def test_only_the_ratios_of_the_weights_matter(table) -> None:
    X, y = table
    w = np.where(X["spend"] > 100, 4.0, 1.0)
    a = ChurnModel(**FAST).fit(X, y, sample_weight=w)
    b = ChurnModel(**FAST).fit(X, y, sample_weight=25 * w)
    np.testing.assert_allclose(_p(a, X), _p(b, X), rtol=0, atol=1e-12)


def test_weights_set_the_calibrated_level(table) -> None:
    """Churners weighted 3x: the calibrated probabilities average the weighted churn rate."""
    X, y = table
    w = np.where(y == 1, 3.0, 1.0)
    plain = ChurnModel(**FAST).fit(X, y)
    weighted = ChurnModel(**FAST).fit(X, y, sample_weight=w)
    assert plain.calibration_ != "none" and weighted.calibration_ != "none"
    assert abs(_p(plain, X).mean() - y.mean()) < 0.03
    assert abs(np.average(_p(weighted, X), weights=w) - np.average(y, weights=w)) < 0.03
    # the shift is real: the weighted rate is far above the plain one
    assert _p(weighted, X).mean() > _p(plain, X).mean() + 0.1


def test_weights_follow_their_rows_when_the_table_is_shuffled(table) -> None:
    X, y = table
    w = pd.Series(np.where(X["spend"] > 100, 5.0, 0.5), index=X.index)
    order = np.random.default_rng(1).permutation(len(X))
    a = ChurnModel(**FAST).fit(X, y, sample_weight=w)
    b = ChurnModel(**FAST).fit(X.iloc[order], y.iloc[order], sample_weight=w.iloc[order])
    np.testing.assert_array_equal(_p(a, X), _p(b, X))
    # and they do change the model: the same weights on other rows give another one
    c = ChurnModel(**FAST).fit(X, y, sample_weight=w.to_numpy()[order])
    assert np.abs(_p(a, X) - _p(c, X)).max() > 1e-3


def test_rows_of_weight_zero_are_left_out(table) -> None:
    """Labels flipped on rows of weight 0 move the probabilities by about what another seed
    does (0.02 here; bags and bins still see those rows), not by what the flipped labels do."""
    X, y = table
    poisoned = np.random.default_rng(2).uniform(size=len(X)) < 0.3
    flipped = y.where(~poisoned, 1 - y)
    clean = ChurnModel(**FAST).fit(X[~poisoned], y[~poisoned])
    zeroed = ChurnModel(**FAST).fit(X, flipped, sample_weight=(~poisoned).astype(float))
    unweighted = ChurnModel(**FAST).fit(X, flipped)
    gap_zeroed = np.abs(_p(clean, X) - _p(zeroed, X)).mean()
    gap_unweighted = np.abs(_p(clean, X) - _p(unweighted, X)).mean()
    assert gap_zeroed < 0.05 and 3 * gap_zeroed < gap_unweighted


def test_clone_keeps_fitting_with_weights(table) -> None:
    X, y = table
    model = clone(ChurnModel(**FAST)).fit(X, y, sample_weight=np.full(len(X), 2.0))
    assert np.isfinite(_p(model, X)).all()


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (lambda n, idx: np.r_[-1.0, np.ones(n - 1)], "1 negative value"),
        (lambda n, idx: np.r_[np.nan, np.ones(n - 1)], "1 missing or infinite"),
        (lambda n, idx: np.r_[np.inf, np.ones(n - 1)], "1 missing or infinite"),
        (lambda n, idx: np.zeros(n), "zero on every row"),
        (lambda n, idx: np.ones(n - 1), "expected"),
        (lambda n, idx: np.r_[["heavy"], np.ones(n - 1).astype(str)], "'heavy'"),
        (lambda n, idx: pd.Series(np.ones(n), index=idx[::-1]), "not aligned"),
    ],
)
def test_bad_weights_are_refused_with_the_rows(table, weights, message) -> None:
    X, y = table
    with pytest.raises(DataError, match=message):
        ChurnModel(**FAST).fit(X, y, sample_weight=weights(len(X), X.index))


def test_negative_weight_names_its_row(table) -> None:
    X, y = table
    w = pd.Series(1.0, index=X.index)
    w.iloc[5] = -2.0
    with pytest.raises(DataError, match=r"rows labelled .*Timestamp\('2024-01-01.*5\)"):
        ChurnModel(**FAST).fit(X, y, sample_weight=w)


# -- the weighted pieces equal the same rows repeated ---------------------------------------------
def test_weighted_intercepts_equal_repeated_rows() -> None:
    rng = np.random.default_rng(0)
    scores, codes = rng.normal(size=40), rng.integers(0, 3, 40)
    target = (rng.uniform(size=40) < 0.4).astype(float)
    w = rng.integers(1, 4, 40)
    rep = np.repeat(np.arange(40), w)
    np.testing.assert_allclose(
        rate_intercepts(codes, target, w.astype(float)), rate_intercepts(codes[rep], target[rep])
    )
    np.testing.assert_allclose(
        conditional_intercepts(scores, codes, target, weight=w.astype(float)),
        conditional_intercepts(scores[rep], codes[rep], target[rep]),
        atol=1e-9,
    )


def test_weighted_calibrators_equal_repeated_rows() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.05, 0.95, 300)
    target = (rng.uniform(size=300) < raw**1.5).astype(int)
    w = rng.integers(1, 4, 300)
    rep = np.repeat(np.arange(300), w)
    grid = np.linspace(0.05, 0.95, 19)
    assert log_loss(target, raw, w.astype(float)) == pytest.approx(log_loss(target[rep], raw[rep]))
    a = SigmoidCalibrator(raw, target, w.astype(float))
    b = SigmoidCalibrator(raw[rep], target[rep])
    np.testing.assert_allclose(a.transform(grid), b.transform(grid), atol=1e-4)
    iso_w = calibrator_of("isotonic", raw, target, w.astype(float))
    iso_r = calibrator_of("isotonic", raw[rep], target[rep])
    np.testing.assert_allclose(iso_w.transform(grid), iso_r.transform(grid), atol=1e-12)
    # a fold whose rows of positive weight hold one class keeps its raw probabilities
    only_stayers = np.where(target == 1, 0.0, 1.0)
    _, _, scores = choose_calibrator(
        raw, target, calibration="sigmoid", seed=0, weight=only_stayers
    )
    assert scores["sigmoid"] == pytest.approx(scores["raw"])
