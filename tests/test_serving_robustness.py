"""Inputs of the serving side: the registered pyfunc, the policy, the registry, drift, reasons, tuning.

One small policy model is trained and registered once for the module (embedded MLflow store in a
temporary folder); the reason-code and tuning checks use tiny hand-made tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    NotFittedError,
    SchemaError,
    TrackingError,
)
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.models.tuning import tune_churn_model
from loyalty_ml.schema import columns as C
from loyalty_ml.tracking.drift import DriftProfile, population_stability_index, psi
from loyalty_ml.tracking.policy import DECISION_COLUMNS, LoyaltyPolicy
from loyalty_ml.tracking.registry import load_policy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING),
    # requests here are about ids, types and params (the consent warning has its own tests)
    pytest.mark.filterwarnings(
        "ignore:model_input has no consent_marketing:loyalty_ml.exceptions.DataQualityWarning"
    ),
    pytest.mark.filterwarnings(
        "ignore:model_input has no consent_profiling:loyalty_ml.exceptions.DataQualityWarning"
    ),
]


@dataclass
class Served:
    tracking_uri: str
    version: str
    model: Any  # the loaded pyfunc
    policy: LoyaltyPolicy
    features: pd.DataFrame  # build_features output: indexed by integer ids, 'tier' as category


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from loyalty_ml.datasets import simulate
    from loyalty_ml.features import build_features
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("serving")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=3)
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        info = train_and_register(
            data.transactions,
            as_of="2024-12-01",
            customers=customers,
            tracking_uri=uri,
            churn_params={"n_estimators": 30, "early_stopping_rounds": 10},
        )
        model = mlflow.pyfunc.load_model(f"models:/loyalty_ml/{info.version}")
        policy = model.unwrap_python_model().policy
        features = build_features(data.transactions, as_of="2024-12-01", customers=customers)
        yield Served(uri, info.version, model, policy, features[list(policy.feature_names)])


# -- the registered pyfunc -------------------------------------------------------------------------
def test_pyfunc_scores_build_features_output_and_keeps_the_ids(served: Served) -> None:
    X = served.features.iloc[:40]
    assert isinstance(X["tier"].dtype, pd.CategoricalDtype) and X.index.name == C.CUSTOMER_ID
    out = served.model.predict(X)  # was refused by MLflow: 'category' is not 'string'
    assert list(out.columns) == [C.CUSTOMER_ID, *DECISION_COLUMNS]
    assert out[C.CUSTOMER_ID].tolist() == X.index.tolist()
    expected = served.policy.decide(X)["churn_probability"].to_numpy()
    np.testing.assert_allclose(out["churn_probability"].to_numpy(dtype=float), expected)


def test_pyfunc_accepts_integer_and_whole_float_ids(served: Served) -> None:
    X = served.features.iloc[:10]
    as_column = served.model.predict(X.reset_index())  # int64 ids were refused by the signature
    assert as_column[C.CUSTOMER_ID].tolist() == X.index.tolist()
    floats = X.reset_index().astype({C.CUSTOMER_ID: "float64"})
    as_floats = served.model.predict(floats)
    assert as_floats[C.CUSTOMER_ID].tolist() == X.index.tolist()  # 13085.0 is customer 13085
    pd.testing.assert_frame_equal(as_floats, as_column, check_dtype=False)


def test_pyfunc_accepts_integer_and_nullable_numeric_features(served: Served) -> None:
    X = served.features.iloc[:20]
    expected = served.model.predict(X)
    counts = X.assign(n_orders=X["n_orders"].astype("int64"))  # was refused by MLflow (double)
    pd.testing.assert_frame_equal(served.model.predict(counts), expected)
    nullable = X.assign(n_orders=X["n_orders"].astype("Int64"), spend=X["spend"].astype("Float64"))
    pd.testing.assert_frame_equal(served.model.predict(nullable), expected)


def test_pyfunc_errors_do_not_print_the_input(served: Served) -> None:
    X = served.features.iloc[:3].assign(spend=["12.5", "n/a", "1,234"])
    with pytest.raises(SchemaError) as raised:  # ours, not MLflow's dump of the whole frame
        served.model.predict(X)
    message = str(raised.value)
    assert "recency_days" not in message and len(message) < 400, message  # no other columns, ids


def test_pyfunc_refuses_rows_without_a_customer_id(served: Served) -> None:
    frame = served.features.iloc[:4].reset_index()
    frame[C.CUSTOMER_ID] = pd.Series(["a", None, "c", "d"], dtype=object)
    with pytest.raises(SchemaError, match=r"model_input\.customer_id is missing at rows \[1\]"):
        served.model.predict(frame)


# -- LoyaltyPolicy.decide (the nightly job and notebooks) ------------------------------------------
def test_decide_refuses_text_that_is_not_a_number(served: Served) -> None:
    X = served.features.iloc[:3]
    readable = X.assign(spend=[" 12.5", "", "3e2"])  # numbers as text, a blank (missing)
    assert served.policy.prepare(readable)["spend"].tolist()[::2] == [12.5, 300.0]
    # the words clients write for a missing number are missing, as a blank is
    spelled = X.assign(spend=["NaN", "null", "<NA>"])
    assert served.policy.prepare(spelled)["spend"].isna().all()
    bad = X.assign(spend=["12.5", "n/a", "1,234"])
    with pytest.raises(
        SchemaError,
        match=r"features\.spend has values that are not numbers \[customer 2: 'n/a', customer 3",
    ):
        served.policy.decide(bad)  # was: scored with spend silently missing


def test_decide_refuses_dates_and_repeated_columns(served: Served) -> None:
    X = served.features.iloc[:3]
    with pytest.raises(SchemaError, match=r"features\.spend holds datetime64.*needs numbers"):
        served.policy.decide(X.assign(spend=pd.Timestamp("2024-01-01")))
    doubled = pd.concat([X, X[["spend"]]], axis=1)
    with pytest.raises(SchemaError, match=r"repeated columns \['spend'\]"):
        served.policy.decide(doubled)  # was a TypeError from pandas


# -- the registry ----------------------------------------------------------------------------------
def test_load_policy_reads_the_registry_it_is_given(
    served: Served, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty_ml.tracking._mlflow import use_tracking_uri

    monkeypatch.chdir(tmp_path)
    with use_tracking_uri(f"sqlite:///{(tmp_path / 'other.db').as_posix()}"):
        # the caller's MLflow points at another store: the registry given must still be read
        policy, version = load_policy(
            "models:/loyalty_ml@champion", tracking_uri=served.tracking_uri
        )
    assert version == served.version
    assert policy.feature_names == served.policy.feature_names


def test_load_policy_refuses_a_model_that_is_not_a_policy(
    served: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from sklearn.dummy import DummyClassifier

    from loyalty_ml.tracking._mlflow import use_tracking_uri

    monkeypatch.chdir(tmp_path)
    with use_tracking_uri(served.tracking_uri), mlflow.start_run():
        mlflow.sklearn.log_model(
            DummyClassifier().fit([[0], [1]], [0, 1]),
            name="model",
            registered_model_name="not_a_policy",
        )
    with pytest.raises(
        TrackingError, match=r"'models:/not_a_policy/1'.*is not a loyalty_ml policy model"
    ):
        load_policy("models:/not_a_policy/1", tracking_uri=served.tracking_uri)


# -- drift -----------------------------------------------------------------------------------------
def test_drift_sees_the_share_of_a_mostly_zero_feature_move() -> None:
    reference = pd.DataFrame({"used_app": np.r_[np.zeros(95), np.ones(5)]})
    scored = pd.DataFrame({"used_app": np.r_[np.zeros(10), np.ones(90)]})
    assert DriftProfile.from_frame(reference).compare(scored)["used_app"] > 0.2  # was 0.0


def test_drift_sees_a_feature_constant_in_training_move() -> None:
    profile = DriftProfile.from_frame(pd.DataFrame({"const": np.full(50, 5.0)}))
    assert profile.compare(pd.DataFrame({"const": np.full(20, 5.0)}))["const"] == 0.0
    assert profile.compare(pd.DataFrame({"const": np.full(20, 6.0)}))["const"] > 0.2  # was 0.0


def test_drift_profile_of_infinite_values_has_finite_edges() -> None:
    values = pd.DataFrame({"ratio": np.r_[np.arange(20.0), np.full(5, np.inf)]})
    (column,) = DriftProfile.from_frame(values).columns  # was a RuntimeWarning and NaN edges
    assert np.isfinite(column.edges).all()
    assert DriftProfile.from_frame(values).compare(values)["ratio"] == 0.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: DriftProfile.from_frame(pd.DataFrame({"x": [1.0, 2.0]})).compare(
                pd.Series([1.0])
            ),
            SchemaError,
            "expected a DataFrame of features; got Series",
        ),
        (
            lambda: DriftProfile.from_frame(pd.DataFrame({"x": [1.0, 2.0]})).compare(
                pd.DataFrame([[1.0, 2.0]], columns=["x", "x"])
            ),
            SchemaError,
            r"repeated columns \['x'\]",
        ),
        (
            lambda: DriftProfile.from_frame(pd.DataFrame({"x": [1.0, 2.0]})).compare(
                pd.DataFrame({"x": ["1.5", "high"]})
            ),
            SchemaError,
            r"'x' is numeric in the reference but holds values that are not numbers \['high'\]",
        ),
        (
            lambda: population_stability_index(np.arange(10.0), np.arange(10.0), bins=0),
            ConfigError,
            "'bins' parameter of DriftProfile must be an int from 2 to 1000. Got 0",
        ),
        (
            lambda: population_stability_index(np.ones((3, 3)), np.ones(3)),
            ConfigError,
            r"needs two 1-d arrays of values; got shapes \(3, 3\) and \(3,\)",
        ),
        (
            lambda: psi(np.array([1.0, -1.0, 1.0]), np.array([1.0, 1.0, 1.0])),
            ConfigError,
            r"counts >= 0 in each bin; expected is \[1.0, -1.0, 1.0\]",
        ),
    ],
    ids=["not-a-frame", "repeated-column", "text", "bins-0", "2-d", "negative-share"],
)
def test_drift_refuses_bad_inputs(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# -- reason codes ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiered() -> tuple[ChurnModel, pd.DataFrame]:
    """A model whose churn depends on a categorical 'tier' as much as on recency."""
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 200, n),
            "tier": pd.Categorical(rng.choice(["basic", "gold"], n)),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name=C.CUSTOMER_ID),
    )
    score = (X["recency_days"] - 100) / 40 + np.where(X["tier"] == "basic", 1.5, -1.5)
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-score))).astype(int), index=X.index)
    return ChurnModel(n_estimators=30, min_child_samples=10, random_state=0).fit(X, y), X


def test_explain_reads_a_categorical_feature_sent_as_text(
    tiered: tuple[ChurnModel, pd.DataFrame],
) -> None:
    model, X = tiered
    rows = X.iloc[:30]
    text = rows.assign(tier=rows["tier"].astype(object).where(np.arange(30) != 0, "platinum"))
    reasons = model.explain(text, top_k=2)  # was: ValueError could not convert 'basic' to float
    as_category = model.explain(rows.iloc[1:], top_k=2)
    pd.testing.assert_frame_equal(reasons.iloc[1:], as_category, check_dtype=False)
    worded = reasons.loc[reasons["reason_1_feature"] == "tier"]
    seen = worded.drop(index=X.index[0], errors="ignore")
    assert len(seen) and seen["reason_1"].str.startswith("tier: ").all()
    # the level unseen at fit is read as missing by the model, and said so (session 42)
    if X.index[0] in worded.index:
        assert worded.loc[X.index[0], "reason_1"] == "tier unknown to the model: platinum"


def test_explain_top_k_refuses_a_bool_and_needs_a_fitted_model(
    tiered: tuple[ChurnModel, pd.DataFrame],
) -> None:
    model, X = tiered
    with pytest.raises(ConfigError, match="'top_k' parameter of explain must be an int >= 1"):
        model.explain(X.iloc[:3], top_k=True)
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit' before 'explain'"):
        ChurnModel().explain(X.iloc[:3])  # was an AttributeError


def test_repeated_feature_columns_are_refused(tiered: tuple[ChurnModel, pd.DataFrame]) -> None:
    model, X = tiered
    doubled = pd.concat([X.iloc[:3], X.iloc[:3][["recency_days"]]], axis=1)
    for call in (model.predict_proba, model.explain):
        with pytest.raises(SchemaError, match=r"repeated feature columns \['recency_days'\]"):
            call(doubled)  # was an AttributeError from inside the encoder


# -- tuning ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    cutoffs = pd.date_range("2024-01-01", periods=4, freq="MS")
    index = pd.MultiIndex.from_product([cutoffs, np.arange(150)], names=[C.AS_OF, C.CUSTOMER_ID])
    X = pd.DataFrame({"recency_days": rng.uniform(0, 200, len(index))}, index=index)
    churned = rng.uniform(size=len(index)) < X["recency_days"].to_numpy() / 200
    return X, pd.Series(churned.astype(int), index=index, name=C.CHURNED)


_BASE = ChurnModel(n_estimators=10, min_child_samples=5, horizon_days=30, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_splits": 0}, ConfigError, "'n_splits' parameter of tune_churn_model must be an int"),
        ({"n_splits": True}, ConfigError, "'n_splits' parameter .* Got True instead"),
        ({"horizon_days": 0}, ConfigError, "'horizon_days' parameter .* Got 0 instead"),
        ({"param_grid": {"num_leaves": 7}}, ConfigError, r"non-empty lists .*\['num_leaves=7'\]"),
        ({"param_grid": {"calibration": "none"}}, ConfigError, "non-empty lists"),
        ({"param_grid": {"num_leaves": []}}, ConfigError, r"\['num_leaves=\[\]'\] are not"),
        ({"param_grid": [("num_leaves", [3])]}, ConfigError, "must be a dict naming"),
        ({"base": "lightgbm"}, ConfigError, "'base' parameter .* Got str instead"),
        ({"horizon_days": 60}, ConfigError, "horizon_days=60 but base has horizon_days=30"),
    ],
    ids=[
        "n_splits-0",
        "n_splits-bool",
        "horizon-0",
        "scalar",
        "text",
        "empty",
        "list",
        "base",
        "horizons-differ",
    ],
)
def test_tuning_refuses_bad_settings(
    table: tuple[pd.DataFrame, pd.Series], kwargs: dict, error: type[Exception], message: str
) -> None:
    X, y = table
    args: dict[str, Any] = {"param_grid": {"num_leaves": [3]}, "horizon_days": 30, "base": _BASE}
    with pytest.raises(error, match=message):
        tune_churn_model(X, y, **{**args, **kwargs})


def test_tuning_labels_must_line_up_with_the_rows(table: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = table
    args: dict[str, Any] = {"param_grid": {"num_leaves": [3]}, "horizon_days": 30, "base": _BASE}
    with pytest.raises(DataError, match=r"y \(length 595\) is not aligned with X \(length 600\)"):
        tune_churn_model(X, y.iloc[:-5], **args)  # was an IndexError
    with pytest.raises(DataError, match=r"needs X as a DataFrame .* got ndarray"):
        tune_churn_model(X.to_numpy(), y, **args)  # type: ignore[arg-type]
    from_array = tune_churn_model(X, y.to_numpy(), n_splits=1, **args)  # was an AttributeError
    pd.testing.assert_frame_equal(from_array, tune_churn_model(X, y, n_splits=1, **args))


def test_tuning_refuses_a_test_cutoff_with_one_class(table: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = table
    latest = X.index.get_level_values(C.AS_OF) == X.index.get_level_values(C.AS_OF).max()
    all_churned = y.where(~latest, 1)
    with pytest.raises(DataError, match=r"test cutoffs \['2024-04-01 \(all 1\)'\] hold one class"):
        tune_churn_model(  # was an UndefinedMetricWarning and a NaN score
            X, all_churned, param_grid={"num_leaves": [3]}, horizon_days=30, n_splits=1, base=_BASE
        )
    scored = tune_churn_model(
        X,
        all_churned,
        param_grid={"num_leaves": [3]},
        horizon_days=30,
        n_splits=1,
        scoring="log_loss",
        base=_BASE,
    )
    assert np.isfinite(scored["mean_score"]).all()


def test_pyfunc_params_choose_the_rows_with_reasons(served: Served) -> None:
    X = served.features.iloc[:15]
    explained = served.model.predict(X)
    assert explained["reason_1"].notna().any()
    bare = served.model.predict(X, params={"reasons": "none"})
    assert bare["reason_1"].isna().all()
    reasons = [f"reason_{k}" for k in (1, 2, 3)]
    pd.testing.assert_frame_equal(bare.drop(columns=reasons), explained.drop(columns=reasons))
    with pytest.raises(ConfigError, match="'reasons' parameter of decide must be"):
        served.model.predict(X, params={"reasons": "some"})


def test_a_customer_sent_twice_is_refused(served: Served) -> None:
    X = served.features.iloc[:5]
    twice = pd.concat([X, X.iloc[[2]]])
    with pytest.raises(DataError, match=r"features lists customers more than once \[\d+\]"):
        served.policy.decide(twice)
    with pytest.raises(DataError, match="more than once"):
        served.model.predict(twice.reset_index())  # ids as a column, as other systems send them
