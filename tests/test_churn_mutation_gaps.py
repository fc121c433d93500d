"""Tests that kill mutants which survived the suite (session 45's mutation run of the churn model:
churn.py, _churn_encoding.py, _churn_calibration.py, _cutoff_offsets.py, _split.py, explain.py,
_pattern_shap.py, tuning.py). Each test names the mutant it kills. All use small hand-made inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.models.churn import ChurnModel


def _two_cutoffs(
    y_train: np.ndarray, y_held: np.ndarray, x_train: np.ndarray, x_held: np.ndarray
) -> tuple[pd.DataFrame, pd.Series]:
    """A training table of two cutoffs 121 days apart (so the earlier trains the early-stopping
    model under a 90-day horizon), indexed by (as_of, customer_id)."""
    n_train, n_held = len(y_train), len(y_held)
    index = pd.MultiIndex.from_arrays(
        [
            pd.to_datetime(["2024-01-01"] * n_train + ["2024-05-01"] * n_held),
            np.r_[np.arange(n_train), np.arange(n_held)],
        ],
        names=["as_of", "customer_id"],
    )
    X = pd.DataFrame({"x": np.r_[x_train, x_held].astype(float)}, index=index)
    return X, pd.Series(np.r_[y_train, y_held], index=index)


# -- hold-out minimum (churn.py) ----------------------------------------------------------------
def test_exactly_ten_rows_of_a_class_is_enough_to_hold_out() -> None:
    """Kills M01 (``< 10`` -> ``<= 10``): 50 churners, a 20% stratified hold-out holds exactly
    round(0.2 * 50) = 10 of them, the minimum, so early stopping and calibration run."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    y = np.zeros(500, dtype=int)
    y[np.argsort(-X[:, 0])[:50]] = 1  # the 50 highest x0 churn: a signal the trees find
    model = ChurnModel(n_estimators=20, random_state=0).fit(X, y)
    assert model.validation_["split"] == "stratified random (not time-aware)"
    assert model.validation_["n_rows"] == 100  # 10 churners + 90 of the 450 others
    assert model.calibration_ in ("isotonic", "sigmoid")


def test_too_few_churners_left_to_train_on_skips_the_holdout() -> None:
    """Kills M02 (only the hold-out's class counts checked): the training cutoff has 5 churners,
    fewer than the 10 the early-stopping model needs, although the hold-out has 50."""
    x_train = np.r_[np.ones(5), np.zeros(95)]
    x_held = np.r_[np.ones(50), np.zeros(50)]
    X, y = _two_cutoffs(x_train.astype(int), x_held.astype(int), x_train, x_held)
    with pytest.warns(DataQualityWarning, match="hold-out has 50 and 50 rows"):
        model = ChurnModel(n_estimators=10, min_child_samples=5, random_state=0).fit(X, y)
    assert model.validation_["split"].startswith("skipped")
    assert model.calibration_ == "none"
    assert model.calibrator_ is None


# -- weights (churn.py, _cutoff_offsets.py) -------------------------------------------------------
def test_labels_of_rows_of_weight_zero_leave_the_per_cutoff_starting_scores_alone() -> None:
    """Kills M08 (rate_intercepts without the weights): on a table too small to hold out, the
    trees are fitted from the per-cutoff intercepts directly. 300 rows of weight 0 in the first
    cutoff must not move its intercept (log((7 + 1) / (13 + 1)) for its 7 churners in 20), so
    the model is the same whether they are labelled churned or retained (same x values, no
    bagging: same bins, same rows, same weights)."""
    x = np.r_[np.ones(10), np.zeros(10)]
    y = np.r_[np.ones(5), np.zeros(5), np.ones(2), np.zeros(8)].astype(int)
    X, labels = _two_cutoffs(y, y, x, x)
    extra_index = pd.MultiIndex.from_arrays(
        [pd.to_datetime(["2024-01-01"] * 300), np.arange(100, 400)],
        names=["as_of", "customer_id"],
    )
    extra = pd.DataFrame({"x": np.r_[np.ones(150), np.zeros(150)]}, index=extra_index)
    X_more = pd.concat([X, extra])
    weight = pd.Series(np.r_[np.ones(len(X)), np.zeros(300)], index=X_more.index)
    params = {
        "n_estimators": 20,
        "min_child_samples": 2,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "random_state": 0,
    }
    probe = pd.DataFrame({"x": [0.0, 1.0]})
    fitted = []
    for extra_label in (0, 1):
        y_more = pd.concat([labels, pd.Series(extra_label, index=extra_index)])
        with pytest.warns(DataQualityWarning, match="hold-out"):
            model = ChurnModel(**params).fit(X_more, y_more, sample_weight=weight)
        fitted.append(model.predict_proba_uncalibrated(probe))
    np.testing.assert_allclose(fitted[1], fitted[0], rtol=0, atol=1e-12)


def test_pooled_base_score_is_the_weighted_churn_rate() -> None:
    """Kills M07 (base_score_ from unweighted counts): 10 churners of weight 3 and 30 stayers of
    weight 1 scale to 2 and 2/3, so the weighted churn count is 20 of 40 and the pooled
    log-odds log((20 + 1) / (20 + 1)) = 0, where the head count gives log(11 / 31)."""
    y = np.r_[np.ones(5), np.zeros(15)].astype(int)
    x = np.r_[np.ones(5), np.zeros(15)]
    X, labels = _two_cutoffs(y, y, x, x)
    weight = np.where(labels.to_numpy() == 1, 3.0, 1.0)
    with pytest.warns(DataQualityWarning, match="hold-out"):
        model = ChurnModel(n_estimators=5, min_child_samples=2, random_state=0).fit(
            X, labels, sample_weight=weight
        )
    assert model.base_score_ == pytest.approx(0.0, abs=1e-12)


# -- calibration (_churn_calibration.py) --------------------------------------------------------
def test_out_of_fold_calibrators_ignore_labels_of_weight_zero_rows() -> None:
    """Kills K09 (the fold calibrators fitted without the weights): the out-of-fold log losses
    that choose the calibrator may not depend on the labels of rows of weight 0, which the
    scores and the final fit leave out."""
    from loyalty_ml.models._churn_calibration import choose_calibrator

    rng = np.random.default_rng(0)
    raw = rng.uniform(0.05, 0.95, 400)
    target = (rng.uniform(size=400) < raw).astype(int)
    weight = np.where(np.arange(400) % 4 == 0, 0.0, 4.0 / 3.0)
    flipped = np.where(weight == 0, 1 - target, target)
    _, _, scores = choose_calibrator(raw, target, calibration="auto", seed=0, weight=weight)
    _, _, scores_flipped = choose_calibrator(
        raw, flipped, calibration="auto", seed=0, weight=weight
    )
    for kind in ("raw", "isotonic", "sigmoid"):
        assert scores_flipped[kind] == pytest.approx(scores[kind], rel=1e-6)


# -- time-aware hold-out (_split.py) --------------------------------------------------------------
def _cutoff_table(dates: list[str], n: int) -> tuple[pd.DataFrame, pd.Series]:
    """``n`` customers at each cutoff of ``dates``; the first 20 of each churn and have x = 1."""
    index = pd.MultiIndex.from_product(
        [pd.to_datetime(dates), np.arange(n)], names=["as_of", "customer_id"]
    )
    churned = np.tile(np.arange(n) < 20, len(dates))
    X = pd.DataFrame({"x": churned.astype(float)}, index=index)
    return X, pd.Series(churned.astype(int), index=index)


def test_two_validation_cutoffs_hold_out_both_latest_cutoffs() -> None:
    """Kills S02 (held = the first held-out cutoff only): with n_validation_cutoffs=2 the rows of
    May and June (2 x 100) are the hold-out, and January (121 days before May) trains."""
    X, y = _cutoff_table(["2024-01-01", "2024-05-01", "2024-06-01"], 100)
    model = ChurnModel(
        n_estimators=5, n_validation_cutoffs=2, min_child_samples=5, random_state=0
    ).fit(X, y)
    assert model.validation_["split"].startswith("time: latest 2 cutoff(s)")
    assert model.validation_["n_rows"] == 200


def test_cutoff_a_day_short_of_the_horizon_does_not_train_the_early_stopping_model() -> None:
    """Kills S03 (gap of horizon - 1 days): 2024-02-02 is 89 days before the held-out 2024-05-01,
    so its labels (to 2024-05-01 under a 90-day horizon) reach the hold-out's period: only
    2024-01-01 (121 days before) trains."""
    from loyalty_ml.models._split import time_split

    X, _ = _cutoff_table(["2024-01-01", "2024-02-02", "2024-05-01"], 2)
    train, held, _ = time_split(X.index, n_cutoffs=1, gap_days=90, seed=0)
    assert train.tolist() == [True, True, False, False, False, False]
    assert held.tolist() == [False, False, False, False, True, True]


def test_stratified_holdout_rounds_each_class_share_to_nearest() -> None:
    """Kills S10 (int() for round()): 20% of 53 churners is 10.6, held out as 11; 20% of 447
    stayers is 89.4, held out as 89: 100 rows, not 99."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    y = np.zeros(500, dtype=int)
    y[np.argsort(-X[:, 0])[:53]] = 1
    model = ChurnModel(n_estimators=5, random_state=0).fit(X, y)
    assert model.validation_["split"] == "stratified random (not time-aware)"
    assert model.validation_["n_rows"] == 100


def test_cutoffs_as_day_numbers_keep_the_same_gap() -> None:
    """Kills S15 (last training day + 1 for numeric cutoffs): cutoffs read as day numbers, 11 is
    89 days before the held-out 100 under a 90-day horizon, so only day 0 trains."""
    from loyalty_ml.models._split import time_split

    index = pd.MultiIndex.from_product([[0, 11, 100], ["a"]], names=["as_of", "customer_id"])
    train, held, _ = time_split(index, n_cutoffs=1, gap_days=90, seed=0)
    assert train.tolist() == [True, False, False]
    assert held.tolist() == [False, False, True]
    edge = pd.MultiIndex.from_product([[0, 10, 100], ["a"]], names=["as_of", "customer_id"])
    assert time_split(edge, n_cutoffs=1, gap_days=90, seed=0)[0].tolist() == [True, True, False]


# -- tuning (tuning.py) -------------------------------------------------------------------------
def _tuning_table() -> tuple[pd.DataFrame, pd.Series]:
    """300 customers at 2024-01-01, 2024-03-31 and 2024-06-29 (each 90 days after the one before);
    at each cutoff the customers with x = 1 churn, and 70 of the others churn as well."""
    dates = pd.to_datetime(["2024-01-01", "2024-03-31", "2024-06-29"])
    index = pd.MultiIndex.from_product([dates, np.arange(300)], names=["as_of", "customer_id"])
    rng = np.random.default_rng(0)
    x = rng.uniform(size=len(index))
    churned = (x > 0.8) | (rng.uniform(size=len(index)) < 0.3)
    return pd.DataFrame({"x": x}, index=index), pd.Series(churned.astype(int), index=index)


def test_tuning_trains_on_a_cutoff_exactly_one_horizon_before_the_test() -> None:
    """Kills T01 (as_of + horizon < test): 2024-01-01 + 90 days is 2024-03-31, whose labels have
    closed by then, so 2024-03-31 is a test cutoff (trained on 2024-01-01) next to 2024-06-29."""
    from loyalty_ml.models.tuning import tune_churn_model

    X, y = _tuning_table()
    table = tune_churn_model(
        X,
        y,
        param_grid={"num_leaves": [3]},
        horizon_days=90,
        n_splits=2,
        base=ChurnModel(n_estimators=10, random_state=0, horizon_days=90),
        progress=False,
    )
    assert [c for c in table.columns if c.startswith("score_")] == [
        "score_2024-03-31",
        "score_2024-06-29",
    ]


def test_tuning_by_log_loss_puts_the_lowest_first_and_reports_the_population_std() -> None:
    """Kills T03 (log loss sorted descending) and T04 (std with ddof=1): lower log loss is
    better, so the first row has the lowest mean; std_score is the spread of the split scores
    (numpy's std, ddof=0)."""
    from loyalty_ml.models.tuning import tune_churn_model

    X, y = _tuning_table()
    table = tune_churn_model(
        X,
        y,
        param_grid={"learning_rate": [0.001, 0.3]},
        horizon_days=90,
        n_splits=2,
        scoring="log_loss",
        base=ChurnModel(n_estimators=10, calibration="none", random_state=0, horizon_days=90),
        progress=False,
    )
    assert table["mean_score"].iloc[0] < table["mean_score"].iloc[1]
    scores = table[["score_2024-03-31", "score_2024-06-29"]].to_numpy()
    np.testing.assert_allclose(table["std_score"], np.abs(scores[:, 0] - scores[:, 1]) / 2)
    assert (table["std_score"] > 0).all()


# -- encoding (_churn_encoding.py) ---------------------------------------------------------------
def test_first_category_level_is_a_level_not_missing() -> None:
    """Kills E05 (code 0 read as missing): the first level "a" churns (80%) while "b" and the
    missing store churn 10%, so "a" scores far above a missing store; the mutant sends "a" down
    the missing branch with the missing rows, and the two score alike."""
    store = pd.Categorical(["a"] * 200 + ["b"] * 150 + [None] * 50, categories=["a", "b"])
    churned = np.r_[np.arange(200) % 5 != 0, np.arange(150) % 10 == 0, np.arange(50) % 10 == 0]
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"store": store, "noise": rng.normal(size=400)})
    model = ChurnModel(n_estimators=30, min_child_samples=10, random_state=0).fit(
        X, churned.astype(int)
    )
    probe = pd.DataFrame(
        {"store": pd.Categorical(["a", None], categories=["a", "b"]), "noise": [0.0, 0.0]}
    )
    p_a, p_missing = model.predict_proba(probe)[:, 1]
    assert p_a - p_missing > 0.4


def test_predict_refuses_numbers_sent_as_text() -> None:
    """Kills E13 (the predict-time dtype check dropped): a feature column of text ("3", "7"),
    as a JSON client or a CSV read may send, is refused with a SchemaError, as at fit, rather
    than read as numbers in silence."""
    from loyalty_ml.exceptions import SchemaError

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"n_orders": rng.integers(1, 9, 200).astype(float), "x": rng.normal(size=200)})
    y = (X["x"] > 0.5).astype(int)
    model = ChurnModel(n_estimators=5, min_child_samples=10, random_state=0).fit(X, y)
    served = pd.DataFrame({"n_orders": ["3", "7"], "x": [0.0, 1.0]})
    with pytest.raises(SchemaError, match="n_orders"):
        model.predict_proba(served)


def test_churn_words_are_read_whatever_their_case() -> None:
    """Kills E21 (label words compared as typed): "Churned"/"Kept" sorts the churn word first,
    so predict_proba(X)[:, 1] would be P(kept); it is refused like "churned"/"kept"."""
    from loyalty_ml.exceptions import DataError

    X = pd.DataFrame({"x": np.arange(40.0)})
    y = np.where(np.arange(40) % 2 == 0, "Churned", "Kept")
    with pytest.raises(DataError, match="sort the retention label 'Kept' after the churn label"):
        ChurnModel(n_estimators=5, random_state=0).fit(X, y)


def test_monotone_directions_of_overdue_ratio_and_previous_window_orders() -> None:
    """Kills E01 (overdue_ratio left free) and E02 (``n_orders_prev_90d`` caught by the falling
    pattern): with monotone=True the risk may only rise with overdue_ratio, even where the data
    say otherwise, while the orders of the previous window are free to raise it."""
    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame(
        {"overdue_ratio": rng.uniform(0, 3, n), "n_orders_prev_90d": rng.integers(0, 10, n) * 1.0}
    )
    churn_p = np.where(X["overdue_ratio"] < 1, 0.6, 0.2) + np.where(
        X["n_orders_prev_90d"] > 5, 0.3, 0
    )
    y = (rng.uniform(size=n) < churn_p).astype(int)
    model = ChurnModel(n_estimators=100, calibration="none", random_state=0).fit(X, y)
    grid = pd.DataFrame({"overdue_ratio": np.linspace(0, 3, 31), "n_orders_prev_90d": 2.0})
    p = model.predict_proba(grid)[:, 1]
    assert (np.diff(p) >= -1e-12).all()
    busy = pd.DataFrame({"overdue_ratio": [2.0, 2.0], "n_orders_prev_90d": [1.0, 8.0]})
    p_quiet, p_busy = model.predict_proba(busy)[:, 1]
    assert p_busy - p_quiet > 0.15


def test_typical_values_are_medians() -> None:
    """Kills E11 (mean for median): the typical spend that reason codes quote against is the
    median, 50.5 of 1..99 and one big spender of 1,000,000, not the mean of about 10,050."""
    spend = np.r_[np.arange(1.0, 100.0), 1e6]
    X = pd.DataFrame({"spend": spend, "x": np.tile([0.0, 1.0], 50)})
    y = np.tile([0, 1], 50)
    with warnings.catch_warnings():  # the labels alternate: the trees may find no split
        warnings.filterwarnings("ignore", "ChurnModel.fit: the trees made no split")
        model = ChurnModel(n_estimators=5, random_state=0).fit(X, y)
    assert model.typical_values_ == {"spend": 50.5, "x": 0.5}


# -- reason codes (explain.py) --------------------------------------------------------------------
def test_a_flat_trend_pushing_risk_up_is_a_reason() -> None:
    """Kills X06 (a trend of 0 taken as rising, good news): only a rising trend is never a
    churn reason; a flat order frequency (trend 0) among customers whose frequency mostly rose
    pushes risk up and is given as the reason."""
    trend = np.repeat([-0.5, 0.0, 0.5], [100, 100, 200])
    churned = np.r_[np.arange(100) % 10 < 7, np.arange(100) % 10 < 6, np.arange(200) % 10 < 1]
    X = pd.DataFrame({"freq_trend": trend})
    model = ChurnModel(n_estimators=30, min_child_samples=20, random_state=0).fit(
        X, churned.astype(int)
    )
    reasons = model.explain(pd.DataFrame({"freq_trend": [0.0, 0.5]}), top_k=1)
    assert reasons["reason_1_feature"].iloc[0] == "freq_trend"
    assert reasons["reason_1_shap"].iloc[0] > 0
    assert pd.isna(reasons["reason_1_feature"].iloc[1])  # rising: good news, never a reason


def test_one_time_buyer_reads_each_fact_once_and_still_hears_the_recency() -> None:
    """Kills X08 (no check for the same words) and X07 (a candidate left out blocks its whole
    fact): for a one-time buyer ipi_mean and overdue_ratio (both missing) both read "has bought
    only once", which is said once; overdue_ratio, left out for repeating those words, must not
    then keep recency_days (the same "overdue" fact, in other words) from being the second.
    Also kills X01 (only top_k candidates looked at): the second reason is the third candidate."""
    rng = np.random.default_rng(0)
    n = 1000
    once = np.arange(n) < 300
    recency = rng.uniform(0, 200, n)
    ipi = np.where(once, np.nan, rng.uniform(10, 60, n))
    ratio = np.where(once, np.nan, recency / np.where(once, 1.0, ipi))
    y = (rng.uniform(size=n) < np.where(once, 0.7, 0.1) + 0.2 * (recency > 100)).astype(int)
    X = pd.DataFrame({"ipi_mean": ipi, "overdue_ratio": ratio, "recency_days": recency})
    model = ChurnModel(n_estimators=60, min_child_samples=20, random_state=0).fit(X, y)
    probe = pd.DataFrame({"ipi_mean": [np.nan], "overdue_ratio": [np.nan], "recency_days": [150.0]})
    shap = model.shap_values(probe).iloc[0]
    assert shap["ipi_mean"] > shap["overdue_ratio"] > shap["recency_days"] > 0
    reasons = model.explain(probe, top_k=2).iloc[0]
    assert reasons["reason_1"] == "has bought only once"
    assert reasons["reason_1_feature"] == "ipi_mean"
    assert reasons["reason_2"] == "no purchase for 150 days"
    assert reasons["reason_2_feature"] == "recency_days"


def test_a_spend_below_the_typical_one_is_worded_low() -> None:
    """Kills X20 (low and high swapped): spends 0..400 have the median 200; a customer who spent
    20, where low spenders churn, reads "low total spend: 20 (typical 200)"."""
    spend = np.arange(0.0, 401.0)
    churned = np.where(spend < 100, np.arange(401) % 10 < 7, np.arange(401) % 10 < 1)
    X = pd.DataFrame({"spend": spend})
    model = ChurnModel(n_estimators=30, min_child_samples=20, random_state=0).fit(
        X, churned.astype(int)
    )
    reasons = model.explain(pd.DataFrame({"spend": [20.0]}), top_k=1)
    assert reasons["reason_1"].iloc[0] == "low total spend: 20 (typical 200)"


def test_a_rhythm_at_the_typical_spread_is_not_called_regular() -> None:
    """Kills X30 (the typical value compared in float64): the median ipi_cv 0.6 is kept as the
    float32 0.6000000238; a customer at 0.6 is not below it, so not "regular"."""
    cv = np.repeat([0.2, 0.6, 1.0], [150, 100, 150])
    churned = np.r_[np.arange(150) % 10 < 1, np.arange(100) % 10 < 6, np.arange(150) % 10 < 6]
    X = pd.DataFrame({"ipi_cv": cv})
    model = ChurnModel(n_estimators=30, min_child_samples=20, random_state=0).fit(
        X, churned.astype(int)
    )
    reasons = model.explain(pd.DataFrame({"ipi_cv": [0.6]}), top_k=1)
    assert (
        reasons["reason_1"].iloc[0] == "irregular purchase rhythm (gaps vary by 60%, typical 60%)"
    )


# -- row order, threshold, tuning defaults ------------------------------------------------------
def test_a_probability_equal_to_the_threshold_is_churn() -> None:
    """Kills M14 (``>`` for ``>=``): predict gives the positive class at or above threshold."""
    X, y = _cutoff_table(["2024-01-01", "2024-05-01"], 150)
    model = ChurnModel(n_estimators=10, min_child_samples=10, random_state=0).fit(X, y)
    probe = pd.DataFrame({"x": [1.0]})
    p = float(model.predict_proba(probe)[0, 1])
    assert model.set_params(threshold=p).predict(probe).tolist() == [1]
    assert model.set_params(threshold=np.nextafter(p, 1.0)).predict(probe).tolist() == [0]


def test_tuning_default_base_uses_the_given_horizon() -> None:
    """Kills T12 (the default base keeps ChurnModel's 90-day horizon): with base=None the model
    is ChurnModel(random_state=0, horizon_days=horizon_days), whose own early-stopping split
    then uses the labels' 60-day horizon."""
    from loyalty_ml.models.tuning import tune_churn_model

    dates = pd.date_range("2024-01-01", periods=5, freq="MS")
    index = pd.MultiIndex.from_product([dates, np.arange(200)], names=["as_of", "customer_id"])
    rng = np.random.default_rng(0)
    x = rng.uniform(size=len(index))
    y = pd.Series(((x > 0.7) | (rng.uniform(size=len(index)) < 0.2)).astype(int), index=index)
    X = pd.DataFrame({"x": x, "noise": rng.normal(size=len(index))}, index=index)
    common = {"param_grid": {"num_leaves": [3]}, "horizon_days": 60, "n_splits": 1}
    default = tune_churn_model(X, y, progress=False, **common)
    explicit = tune_churn_model(
        X, y, base=ChurnModel(random_state=0, horizon_days=60), progress=False, **common
    )
    pd.testing.assert_frame_equal(default, explicit)


def test_column_order_changes_nothing_and_arrays_follow_fit_order() -> None:
    """Kills M27 (booster columns left in X's order: LightGBM samples columns by position, so
    reordered columns fit another model) and M28 (an array, in feature_names_in_'s order, not
    put into the booster's sorted order at predict)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({name: rng.normal(size=400) for name in ("z", "m", "a")})
    y = (X["z"] + 0.5 * X["a"] + rng.normal(size=400) > 0.5).astype(int)
    params = {"n_estimators": 20, "min_child_samples": 10, "random_state": 0}
    fitted = ChurnModel(**params).fit(X, y)
    reordered = ChurnModel(**params).fit(X[["a", "m", "z"]], y)
    np.testing.assert_array_equal(reordered.predict_proba(X), fitted.predict_proba(X))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = fitted.predict_proba(X.to_numpy())
    np.testing.assert_array_equal(from_array, fitted.predict_proba(X))
