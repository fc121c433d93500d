"""Tests of loyalty_ml.models.churn (ChurnModel) and its time-aware split helpers."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, SchemaError
from loyalty_ml.models._split import (
    stratified_holdout_mask,
    time_split,
)
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.schema import columns as C

FAST = {"n_estimators": 60, "random_state": 0}


def make_table(
    n_customers: int = 1500, n_cutoffs: int = 3, seed: int = 0, drift: float = 0.0
) -> tuple[pd.DataFrame, pd.Series]:
    """A training table like training_table's: churn rises with recency; the base rate drifts."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-01", periods=n_cutoffs, freq="MS")
    index = pd.MultiIndex.from_product(
        [cutoffs, np.arange(n_customers)], names=[C.AS_OF, C.CUSTOMER_ID]
    )
    n = len(index)
    step = np.repeat(np.arange(n_cutoffs), n_customers)
    X = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 200, n),
            "n_orders": rng.integers(1, 9, n).astype(float),
            "region": pd.Categorical(rng.choice(["north", "south", "east"], n)),
        },
        index=index,
    )
    logit = (X["recency_days"] - 100) / 30 - 0.2 * X["n_orders"] + 0.5 + drift * step
    logit = logit + np.where(X["region"] == "north", 0.8, 0.0)
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int), index=index)
    return X, y.rename(C.CHURNED)


@pytest.fixture(scope="session")
def table() -> tuple[pd.DataFrame, pd.Series]:
    return make_table()


@pytest.fixture(scope="session")
def fitted(table: tuple[pd.DataFrame, pd.Series]) -> ChurnModel:
    X, y = table
    return ChurnModel(**FAST).fit(X, y)


# -- scikit-learn contract ---------------------------------------------------------------------
def _expected_failed_checks(estimator: ChurnModel) -> dict[str, str]:
    import sklearn

    # Weights are not frequency weights: LightGBM counts rows, not weights, in a leaf's minimum
    # (min_child_samples, capped at a tenth of the rows), so a weight of 2 differs from a repeated
    # row once the trees split, as they do on the check's tables since the cap.
    frequency = "a weight of 2 is not a repeated row: leaf minimums count rows (LightGBM)"
    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 7):
        return {"check_sample_weight_equivalence_on_dense_data": frequency}
    # scikit-learn 1.6 (the declared floor): the weighted and the repeated fit binarise y by
    # different first elements (scikit-learn#30770, fixed in 1.7), and the sparse check runs for an
    # estimator that refuses sparse input by design (a SchemaError, a ValueError, where 1.6
    # accepts only TypeError)
    reason = "scikit-learn 1.6's check, fixed in 1.7 (scikit-learn#30770 / sparse tags)"
    return {
        "check_sample_weight_equivalence_on_dense_data": reason,
        "check_sample_weight_equivalence_on_sparse_data": reason,
    }


# scikit-learn's checks fit tables of a few dozen rows, where the trees make no split and fit warns.
@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
@parametrize_with_checks(
    [ChurnModel(n_estimators=20, random_state=0)], expected_failed_checks=_expected_failed_checks
)
def test_sklearn_estimator_checks(estimator: ChurnModel, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def test_clone_and_get_params_keep_arguments() -> None:
    model = ChurnModel(num_leaves=7, calibration="sigmoid", random_state=3)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert copy.get_params()["num_leaves"] == 7


def test_fit_is_deterministic_with_random_state(table, fitted) -> None:
    X, y = table
    again = ChurnModel(**FAST).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))


def test_pickle_round_trip_keeps_predictions_and_no_training_rows(table, fitted) -> None:
    X, _ = table
    blob = pickle.dumps(fitted)
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X))
    # a table of 4,500 rows x 3 features would take > 100 kB as float64; only trees are kept
    assert not any(isinstance(v, pd.DataFrame | pd.Series) for v in vars(fitted).values())
    assert getattr(fitted.booster_, "train_set", None) is None


# -- fitting -----------------------------------------------------------------------------------
def test_holdout_with_too_few_cutoffs_for_the_gap_uses_disjoint_customers(fitted) -> None:
    # 3 monthly cutoffs and a 90-day horizon: no training cutoff is 90 days before the latest
    assert fitted.validation_["split"].startswith("time and disjoint customers")
    assert fitted.validation_["n_rows"] == 750  # half the customers of the latest cutoff
    assert fitted.calibration_ in {"isotonic", "sigmoid"}
    assert 1 <= fitted.best_iteration_ <= 60


def test_holdout_leaves_a_horizon_gap_before_the_latest_cutoff(table) -> None:
    X, y = table
    model = ChurnModel(**FAST, horizon_days=30).fit(X, y)
    assert model.validation_["split"] == (
        "time: latest 1 cutoff(s), training cutoffs >= 30 days before"
    )
    assert model.validation_["n_rows"] == 1500


def test_fallback_split_without_as_of_level(table) -> None:
    X, y = table
    flat_X, flat_y = X.reset_index(drop=True), y.reset_index(drop=True)
    model = ChurnModel(**FAST).fit(flat_X, flat_y)
    assert model.validation_["split"].startswith("stratified")
    assert model.validation_["n_rows"] == pytest.approx(0.2 * len(flat_X), abs=2)


def test_ranks_by_the_driving_feature(table, fitted) -> None:
    X, _ = table
    p = fitted.predict_proba(X)[:, 1]
    assert np.corrcoef(p, X["recency_days"])[0, 1] > 0.7
    assert fitted.classes_.tolist() == [0, 1]
    np.testing.assert_array_equal(fitted.predict(X), (p >= 0.5).astype(int))


@pytest.mark.parametrize(
    ("churned", "kept"),
    [
        ("yes", "no"),
        ("Y", "N"),
        ("lost", "active"),
        ("b", "a"),
        (True, False),
        ("Lapsed member", "Active member"),
        ("churner", "Non-churner"),  # "N" sorts before "c"
    ],
)
def test_labels_whose_churn_word_sorts_second_keep_classes_sorted(table, churned, kept) -> None:
    X, y = table
    model = ChurnModel(**FAST).fit(X, y.map({1: churned, 0: kept}))
    assert model.classes_.tolist() == [kept, churned]  # sorted, as scikit-learn requires
    p = model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, ChurnModel(**FAST).fit(X, y).predict_proba(X)[:, 1])
    assert set(model.predict(X)) <= {kept, churned}


@pytest.mark.parametrize(
    ("churned", "kept", "named"),
    [
        ("churned", "kept", "'churned'"),  # churn word first in sorted order
        ("gone", "retained", "'gone'"),
        ("churn", "stay", "'churn'"),  # an unknown retention word after a churn word
        ("inactive", "retained", "'inactive'"),  # a retention word in the positive place
        # phrases (a probe's find: accepted, and predict_proba(X)[:, 1] was P(retained))
        ("Churned customer", "Retained customer", "'Churned customer'"),
        ("Attrited Customer", "Existing Customer", "'Attrited Customer'"),  # a bank's export
        ("Lost", "Not lost", "'Lost'"),
    ],
)
def test_labels_that_sort_churn_first_are_refused(table, churned, kept, named) -> None:
    X, y = table
    with pytest.raises(DataError, match=rf"0/1 labels.*y\.eq\({named}\)\.astype\(int\)"):
        ChurnModel(**FAST).fit(X, y.map({1: churned, 0: kept}))


def test_threshold_parameter_moves_predict(table) -> None:
    X, y = table
    strict = ChurnModel(**FAST, threshold=0.9).fit(X, y)
    assert strict.predict(X).mean() < ChurnModel(**FAST).fit(X, y).predict(X).mean()


def test_calibration_on_latest_cutoff_fixes_drift_in_base_rate() -> None:
    # The churn rate rises cutoff by cutoff; calibrating on the latest cutoff should carry
    # the newest base rate into the scores of the next, unseen cutoff.
    X, y = make_table(n_customers=2000, n_cutoffs=5, drift=0.5, seed=1)
    last = X.index.get_level_values(C.AS_OF) == X.index.get_level_values(C.AS_OF).max()
    model = ChurnModel(**FAST, refit=False).fit(X[~last], y[~last])
    raw = model.predict_proba_uncalibrated(X[last])
    calibrated = model.predict_proba(X[last])[:, 1]
    brier_raw = np.mean((raw - y[last]) ** 2)
    brier_cal = np.mean((calibrated - y[last]) ** 2)
    assert brier_cal < brier_raw


def _date_confounded_table(seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Churn driven by recency within each cutoff; a season moves every customer's risk at once, and
    ``tenure_days`` (counted from the start of the data) grows with the date, so across cutoffs it
    tracks the season without driving anyone's churn."""
    X, _ = make_table(n_customers=2000, n_cutoffs=5, seed=seed)
    rng = np.random.default_rng(seed + 100)
    step = X.index.get_level_values(C.AS_OF).month.to_numpy() - 1
    X = X.assign(tenure_days=30.0 * step + rng.uniform(0, 30, len(X)))
    season = np.array([-1.5, -0.5, 0.5, 1.5, -1.5])[step]
    logit = (X["recency_days"] - 100) / 30 + season
    y = pd.Series((rng.uniform(size=len(X)) < 1 / (1 + np.exp(-logit))).astype(int), index=X.index)
    return X, y.rename(C.CHURNED)


def test_cutoff_offsets_keep_the_season_out_of_date_like_features() -> None:
    X, y = _date_confounded_table()
    train = X.index.get_level_values(C.AS_OF) < X.index.get_level_values(C.AS_OF).max()
    share = {}
    for offsets in (True, False):
        model = ChurnModel(**FAST, cutoff_offsets=offsets).fit(X[train], y[train])
        assert model.validation_["cutoff_offsets"] is offsets
        importance = model.shap_values(X[~train]).abs().mean()
        share[offsets] = importance["tenure_days"] / importance.sum()
    # without offsets the trees explain the season with tenure; with them, tenure is near-useless
    assert share[False] > 0.3
    assert share[True] < 0.1


def test_cutoff_offsets_start_from_the_pooled_rate_and_shap_still_adds_up(table) -> None:
    X, y = table
    model = ChurnModel(**FAST).fit(X, y)
    rate = (y.sum() + 1) / (len(y) + 2)
    assert model.base_score_ == pytest.approx(np.log(rate / (1 - rate)))
    shap = model.shap_values(X.iloc[:50])
    raw = model.predict_proba_uncalibrated(X.iloc[:50])
    total = shap.sum(axis=1) + shap.attrs["expected_value"]
    np.testing.assert_allclose(total, np.log(raw / (1 - raw)), atol=1e-6)


def test_no_offsets_without_cutoffs_or_when_switched_off(table) -> None:
    X, y = table
    plain = ChurnModel(**FAST).fit(X.reset_index(drop=True), y.reset_index(drop=True))
    off = ChurnModel(**FAST, cutoff_offsets=False).fit(X, y)
    for model in (plain, off):
        assert model.base_score_ == 0.0
        assert model.validation_["cutoff_offsets"] is False


def test_model_pickled_before_offsets_still_predicts(table, fitted) -> None:
    X, _ = table
    old = pickle.loads(pickle.dumps(ChurnModel(**FAST, cutoff_offsets=False).fit(*table)))
    expected = old.predict_proba(X)
    del old.base_score_  # what a model saved by an earlier release looks like
    np.testing.assert_allclose(old.predict_proba(X), expected)


def test_auto_refit_on_big_tables_only_when_training_saw_less_than_half(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import loyalty_ml.models.churn as churn

    monkeypatch.setattr(churn, "_AUTO_REFIT_MAX_ROWS", 100)  # every table below counts as big
    X, y = make_table(n_customers=500, n_cutoffs=4)
    # monthly cutoffs, 90-day horizon: only the oldest of four trains the early-stopping model
    assert ChurnModel(**FAST).fit(X, y).validation_["refit"] is True
    # a 1-day horizon leaves three of four cutoffs to train on: no refit needed
    assert ChurnModel(**FAST, horizon_days=1).fit(X, y).validation_["refit"] is False


def test_tiny_data_skips_holdout_and_calibration() -> None:
    X = pd.DataFrame({"a": np.arange(20.0)})
    y = pd.Series(np.r_[np.zeros(10), np.ones(10)].astype(int))
    with pytest.warns(
        DataQualityWarning, match=r"8 and 8; .* Early stopping was skipped .*not cal"
    ):
        model = ChurnModel(n_estimators=5, min_child_samples=2, random_state=0).fit(X, y)
    assert model.calibration_ == "none"
    assert model.validation_["split"].startswith("skipped")
    assert model.best_iteration_ == 5


# -- categorical features -------------------------------------------------------------------
def test_unseen_category_is_missing_not_a_shifted_code(table, fitted) -> None:
    X, _ = table
    rows = X.iloc[:50]
    unseen = rows.assign(region=pd.Categorical(["west"] * 50))
    missing = rows.assign(region=pd.Categorical([np.nan] * 50, categories=["north"]))
    np.testing.assert_allclose(fitted.predict_proba(unseen), fitted.predict_proba(missing))
    # the same levels in a different category order encode to the same codes
    reordered = rows.assign(
        region=rows["region"].cat.reorder_categories(["south", "north", "east"])
    )
    np.testing.assert_allclose(fitted.predict_proba(reordered), fitted.predict_proba(rows))
    as_text = rows.assign(region=rows["region"].astype(str))
    np.testing.assert_allclose(fitted.predict_proba(as_text), fitted.predict_proba(rows))


def test_extra_columns_ignored_and_order_restored(table, fitted) -> None:
    X, _ = table
    shuffled = X[["region", "n_orders", "recency_days"]].assign(extra=1.0)
    np.testing.assert_allclose(fitted.predict_proba(shuffled), fitted.predict_proba(X))


# -- errors ----------------------------------------------------------------------------------
def test_missing_feature_at_predict_lists_it(table, fitted) -> None:
    X, _ = table
    with pytest.raises(SchemaError, match=r"lacks feature columns \['n_orders'\]"):
        fitted.predict_proba(X.drop(columns="n_orders"))


def test_one_class_y_is_refused(table) -> None:
    X, y = table
    with pytest.raises(DataError, match="only one class"):
        ChurnModel(**FAST).fit(X, y * 0)


def test_nan_only_column_warns_and_moves_no_score(table) -> None:
    """Once refused; a short extract makes trend features NaN everywhere (public shapes audit)."""
    X, y = table
    with pytest.warns(DataQualityWarning, match=r"\['empty'\] are NaN in every row"):
        with_empty = ChurnModel(**FAST).fit(X.assign(empty=np.nan), y)
    without = ChurnModel(**FAST).fit(X, y)
    np.testing.assert_allclose(
        with_empty.predict_proba(X.assign(empty=np.nan)), without.predict_proba(X)
    )


def test_text_column_must_be_categorical(table) -> None:
    X, y = table
    with pytest.raises(SchemaError, match=r"columns \['tier'\].*astype\('category'\)"):
        ChurnModel(**FAST).fit(X.assign(tier="gold"), y)


def test_misaligned_y_is_refused(table) -> None:
    X, y = table
    with pytest.raises(DataError, match="not aligned with X"):
        ChurnModel(**FAST).fit(X, y.iloc[::-1])
    with pytest.raises(DataError, match="expected \\(4500,\\)"):
        ChurnModel(**FAST).fit(X, y.to_numpy()[:-1])


def test_missing_labels_are_refused(table) -> None:
    X, y = table
    with pytest.raises(DataError, match="1 missing labels"):
        ChurnModel(**FAST).fit(X, y.astype(float).where(y.index != y.index[0]))


def test_not_fitted_raises(table) -> None:
    X, _ = table
    with pytest.raises(ValueError, match="not fitted"):
        ChurnModel().predict_proba(X)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"calibration": "platt"}, "'calibration' parameter of ChurnModel must be one of"),
        ({"n_estimators": 0}, "'n_estimators' parameter of ChurnModel must be an int >= 1"),
        ({"subsample": 1.5}, r"'subsample' parameter of ChurnModel must be in \(0, 1\]"),
        ({"threshold": 1.0}, r"'threshold' parameter of ChurnModel must be in \(0, 1\)"),
        ({"learning_rate": 0.0}, "'learning_rate' parameter of ChurnModel must be > 0"),
        ({"early_stopping_rounds": 0}, "'early_stopping_rounds' parameter"),
        (
            {"subsample": "half"},
            r"'subsample' parameter of ChurnModel must be in \(0, 1\] or 'auto'",
        ),
        ({"refit": "yes"}, "'refit' parameter of ChurnModel must be True, False or 'auto'"),
        ({"horizon_days": 0}, "'horizon_days' parameter of ChurnModel must be an int >= 1"),
        ({"cutoff_offsets": "yes"}, "'cutoff_offsets' parameter of ChurnModel must be True or"),
    ],
)
def test_bad_parameters_raise_config_error(table, params, message) -> None:
    X, y = table
    with pytest.raises(ConfigError, match=message):
        ChurnModel(**params).fit(X, y)


# -- split helpers ---------------------------------------------------------------------------
def test_time_split_never_trains_on_overlapping_labels() -> None:
    cutoffs = pd.date_range("2024-01-01", periods=6, freq="MS")
    idx = pd.MultiIndex.from_product(
        [cutoffs, ["a", "b", "c", "d"]], names=[C.AS_OF, C.CUSTOMER_ID]
    )
    train, held, text = time_split(idx, n_cutoffs=1, gap_days=90, seed=0)
    as_of = idx.get_level_values(C.AS_OF)
    assert (as_of[held] == cutoffs[-1]).all()
    assert (as_of[train] <= cutoffs[-1] - pd.Timedelta(days=90)).all()
    assert train.sum() == 4 * 3  # January, February, March
    assert text.startswith("time: latest 1")
    # a 200-day gap leaves no cutoff: disjoint customers instead
    train, held, text = time_split(idx, n_cutoffs=1, gap_days=200, seed=0)
    customers = idx.get_level_values(C.CUSTOMER_ID)
    assert not set(customers[train]) & set(customers[held])
    assert held.sum() == 2
    assert "disjoint customers" in text
    assert time_split(pd.RangeIndex(3), n_cutoffs=1, gap_days=90, seed=0) is None


def test_stratified_holdout_keeps_class_shares() -> None:
    y = np.r_[np.zeros(80), np.ones(20)]
    mask = stratified_holdout_mask(y, fraction=0.25, seed=0)
    assert (mask & (y == 0)).sum() == 20
    assert (mask & (y == 1)).sum() == 5


# -- on the simulator, against the truth ------------------------------------------------------
@pytest.fixture(scope="session")
def simulated() -> dict[str, object]:
    from loyalty_ml.datasets.simulator import simulate
    from loyalty_ml.features import training_table

    data = simulate(n_customers=3000, start="2023-01-01", end="2024-12-31", seed=0)
    cutoffs = pd.date_range("2023-04-01", "2024-09-01", freq="MS")
    X, y = training_table(data.transactions, cutoffs=cutoffs, horizon_days=90, progress=False)
    return {"X": X, "y": y, "truth": data.truth}


def _backtest(simulated, test_cutoffs, **params):
    """Train on cutoffs whose labels closed by each test cutoff; pool the test predictions."""
    X, y = simulated["X"], simulated["y"]
    as_of = X.index.get_level_values(C.AS_OF)
    rows = []
    for test in pd.to_datetime(test_cutoffs):
        train = as_of + pd.Timedelta(days=90) <= test
        here = as_of == test
        model = ChurnModel(random_state=0, **params).fit(X[train], y[train])
        rows.append(
            pd.DataFrame(
                {
                    "p": model.predict_proba(X[here])[:, 1],
                    "raw": model.predict_proba_uncalibrated(X[here]),
                    "y": y[here].to_numpy(),
                    "recency": X.loc[here, "recency_days"].to_numpy(),
                },
                index=X.index[here],
            )
        )
    return pd.concat(rows)


def test_model_finds_true_churners_better_than_recency(simulated) -> None:
    from sklearn.metrics import roc_auc_score

    test = pd.Timestamp("2024-09-01")
    scores = _backtest(simulated, [test]).xs(test, level=C.AS_OF)
    truth = simulated["truth"].is_churned(test).reindex(scores.index).astype(int)
    auc_model = roc_auc_score(truth, scores["p"])
    auc_recency = roc_auc_score(truth, scores["recency"])
    assert auc_model > auc_recency
    assert auc_model > 0.9


def test_calibration_improves_the_boosters_brier_on_held_out_cutoffs(simulated) -> None:
    # refit=False: the calibrator is applied to the very booster it was fitted for
    scores = _backtest(simulated, ["2024-03-01", "2024-06-01", "2024-09-01"], refit=False)
    brier_raw = np.mean((scores["raw"] - scores["y"]) ** 2)
    brier_cal = np.mean((scores["p"] - scores["y"]) ** 2)
    assert brier_cal < brier_raw


def test_risk_never_falls_as_recency_grows(fitted, table) -> None:
    X, _ = table
    rows = X.iloc[:200]
    grid = [rows.assign(recency_days=days) for days in (0.0, 30.0, 90.0, 180.0, 400.0)]
    p = np.column_stack([fitted.predict_proba_uncalibrated(g) for g in grid])
    assert (np.diff(p, axis=1) >= -1e-12).all()
    # n_orders is constrained the other way (the booster's columns are the names sorted)
    by_name = dict(zip(fitted._names(), fitted._monotone_constraints(), strict=True))
    assert by_name == {"recency_days": 1, "n_orders": -1, "region": 0}
    assert ChurnModel(monotone=False).fit(X, table[1])._monotone_constraints() == [0, 0, 0]


# -- tuning helper ------------------------------------------------------------------------------
def test_tune_churn_model_backtests_each_combination(capsys: pytest.CaptureFixture[str]) -> None:
    from loyalty_ml.models.tuning import tune_churn_model

    X, y = make_table(n_customers=600, n_cutoffs=5, seed=3)
    table = tune_churn_model(
        X,
        y,
        param_grid={"num_leaves": [3, 7]},
        horizon_days=60,
        n_splits=2,
        base=ChurnModel(n_estimators=30, random_state=0, horizon_days=60),
        progress=True,
    )
    bar = capsys.readouterr().err
    assert "tune_churn_model: 100%" in bar and "4/4" in bar  # 2 combinations x 2 splits
    assert table["num_leaves"].tolist() in ([3, 7], [7, 3])
    assert table["mean_score"].is_monotonic_decreasing
    assert [c for c in table.columns if c.startswith("score_")] == [
        "score_2024-04-01",
        "score_2024-05-01",
    ]
    assert table["mean_score"].between(0.7, 1.0).all()
    with pytest.raises(ConfigError, match=r"\['leaves'\] are not parameters of ChurnModel"):
        tune_churn_model(X, y, param_grid={"leaves": [3]})
    with pytest.raises(DataError, match="needs X indexed by"):
        tune_churn_model(X.reset_index(drop=True), y, param_grid={"num_leaves": [3]})


def test_a_table_too_small_to_split_warns() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.uniform(0, 100, 9), "frequency": rng.integers(1, 5, 9)})
    y = pd.Series((X["recency_days"] > 50).astype(int))
    # 9 rows: too few for a hold-out, and for a split (leaves of at least 5 rows)
    with (
        pytest.warns(DataQualityWarning, match="Early stopping was skipped"),
        pytest.warns(DataQualityWarning, match=r"no split on 9 rows \(min_child_samples=5\)"),
    ):
        model = ChurnModel(random_state=0).fit(X, y)
    assert np.unique(model.predict_proba(X)[:, 1]).size == 1


def test_leaves_are_capped_at_a_tenth_of_the_rows_the_trees_learn_from() -> None:
    """A small shop's table: with 50 rows a leaf the trees made no split on 30 rows (and one split,
    then one tree, on a real 100-customer shop's 80 training rows): every customer got the same
    probability. The leaves now hold at most a tenth of the rows, at least 5."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.uniform(0, 100, 30), "frequency": rng.integers(1, 5, 30)})
    y = pd.Series((X["recency_days"] > 50).astype(int))
    with pytest.warns(DataQualityWarning, match="Early stopping was skipped"):  # and no other
        model = ChurnModel(random_state=0).fit(X, y)
    assert model.min_child_samples_ == 5 and model.get_params()["min_child_samples"] == 50
    assert np.unique(model.predict_proba(X)[:, 1]).size > 2
    big = pd.DataFrame({"recency_days": rng.uniform(0, 100, 2000), "frequency": 1.0})
    fitted = ChurnModel(n_estimators=5, random_state=0).fit(big, big["recency_days"] > 50)
    assert fitted.min_child_samples_ == 50


def test_a_chosen_min_child_samples_that_the_cap_lowers_warns() -> None:
    """The cap applied in silence to a value the user passed: asked 500, the trees used 160."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.uniform(0, 100, 2000), "frequency": 1.0})
    y = X["recency_days"] > 50
    with pytest.warns(
        DataQualityWarning,
        match=r"min_child_samples=500 is more than a tenth of the 1600 rows .* so 160 was used.*"
        r"Pass min_child_samples <= 160",
    ):
        model = ChurnModel(n_estimators=5, min_child_samples=500, random_state=0).fit(X, y)
    assert model.min_child_samples_ == 160
    # the default (even passed explicitly) and a value the cap leaves alone: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for asked, used in ((50, 50), (160, 160)):
            fitted = ChurnModel(n_estimators=5, min_child_samples=asked, random_state=0).fit(X, y)
            assert fitted.min_child_samples_ == used


def test_a_complex_column_is_refused_and_a_huge_value_is_an_extreme(table) -> None:
    X, y = table
    with pytest.raises(SchemaError, match=r"\['complex128'\]; features must be numeric"):
        ChurnModel(**FAST).fit(X.assign(z=X.iloc[:, 0].to_numpy() * (1 + 1j)), y)
    # beyond float32: the largest value, not a NumPy overflow warning (errors in this suite)
    huge = X.copy()
    huge.iloc[:5, 0] = 1e300
    model = ChurnModel(**FAST).fit(huge, y)
    assert np.isfinite(model.predict_proba(huge)[:, 1]).all()


def test_labels_of_mixed_kinds_are_a_data_error() -> None:
    """y holding '1' and 0 raised sklearn's "'<' not supported between 'int' and 'str'"."""
    X = pd.DataFrame({"f": np.arange(40.0)})
    y = pd.Series(["1", 0] * 20, dtype=object)
    with pytest.raises(DataError, match="mixed kinds of label"):
        ChurnModel(n_estimators=5).fit(X, y)


def test_category_levels_read_back_as_text_are_refused_not_all_unseen() -> None:
    # store clusters 1/2/3 at fit, "1"/"2"/"3" after a CSV or JSON round trip: every row read as an
    # unseen level (missing) and probabilities moved by up to 0.85 without a word
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 200, n),
            "store_cluster": pd.Categorical(rng.choice([1, 2, 3], n)),
        }
    )
    y = ((rng.uniform(size=n) < X["recency_days"] / 200) | (X["store_cluster"] == 3)).astype(int)
    model = ChurnModel(random_state=0, n_estimators=30).fit(X, y)
    served = X.assign(store_cluster=X["store_cluster"].astype(str))
    with pytest.raises(SchemaError, match="'store_cluster' held non-text levels at fit"):
        model.predict_proba(served)
    with pytest.raises(SchemaError, match="store_cluster"):
        model.explain(served.head(5))
    back = served.assign(store_cluster=pd.Categorical(pd.to_numeric(served["store_cluster"])))
    assert np.allclose(model.predict_proba(back), model.predict_proba(X))


def test_repeated_customers_without_an_as_of_level_are_warned_of() -> None:
    # a cutoff level renamed ('date') or a stacked table indexed by customer_id alone: the random
    # hold-out put the same customers on both sides of early stopping, without a word
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"recency_days": rng.uniform(0, 200, n)})
    y = (rng.uniform(size=n) < X["recency_days"] / 200).astype(int)
    dates = np.repeat(pd.to_datetime(["2024-01-01", "2024-02-01"]), n // 2)
    ids = np.tile(np.arange(n // 2), 2)
    renamed = pd.MultiIndex.from_arrays([dates, ids], names=["date", "customer_id"])
    model = ChurnModel(random_state=0, n_estimators=20)
    with pytest.warns(DataQualityWarning, match=r"200 rows share a customer id.*no 'as_of'"):
        model.fit(X.set_axis(renamed), y.set_axis(renamed))
    with pytest.warns(DataQualityWarning, match="repeats customers"):
        model.fit(X.set_axis(pd.Index(ids, name="customer_id")), y.set_axis(ids))
    right = renamed.set_names(["as_of", "customer_id"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        model.fit(X.set_axis(right), y.set_axis(right))
        model.fit(X, y)  # one row per customer: nothing to warn of


def test_fit_keeps_cutoffs_apart_by_the_horizon_the_table_records() -> None:
    # train_and_register(horizon_days=180) fitted ChurnModel() with its default 90: cutoffs 90-179
    # days before the hold-out shared its label period, and early stopping read a leaky hold-out
    X, y = make_table(n_customers=500, n_cutoffs=4)
    X.attrs["horizon_days"] = y.attrs["horizon_days"] = 1  # monthly cutoffs, 1-day labels
    model = ChurnModel(**FAST, horizon_days=1).fit(X, y)
    assert model.validation_["gap_days"] == 1
    y.attrs["horizon_days"] = 45
    assert ChurnModel(**FAST, horizon_days=1).fit(X, y).validation_["gap_days"] == 45
    # a larger horizon of the model's own is kept (larger is safe)
    assert ChurnModel(**FAST, horizon_days=120).fit(X, y).validation_["gap_days"] == 120


def test_training_table_records_its_horizon_for_the_model() -> None:
    from loyalty_ml.datasets import simulate
    from loyalty_ml.features import training_table

    sim = simulate(n_customers=300, seed=3)
    cutoffs = pd.date_range("2023-03-01", periods=4, freq="MS")
    X, y = training_table(sim.transactions, cutoffs=cutoffs, horizon_days=75)
    assert X.attrs["horizon_days"] == y.attrs["horizon_days"] == 75
    assert ChurnModel(**FAST).fit(X, y).validation_["gap_days"] == 90
    assert ChurnModel(**FAST, horizon_days=30).fit(X, y).validation_["gap_days"] == 75
