"""Audit of the churn model, its reasons and metrics, and the served policy: confirmed defects.

Regression tests: each asserts the behaviour the library promises (pandas in/out by customer id,
scikit-learn conventions, loyalty_ml exceptions that name the problem, never silently wrong
numbers) where an audit found it broken. One small model and one policy built by hand
serve the whole module; nothing here needs MLflow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.churn_metrics import evaluate_churn
from loyalty_ml.exceptions import ConfigError, DataError, LoyaltyMLError, SchemaError
from loyalty_ml.features import FeatureConfig
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.tracking.policy import LoyaltyPolicy

N_ROWS = 400


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, N_ROWS),
            "n_orders": rng.integers(1, 12, N_ROWS).astype(float),
            "spend": rng.uniform(5, 500, N_ROWS),
            "tier": pd.Categorical(rng.choice(["gold", "silver"], N_ROWS)),
        },
        index=pd.Index(np.arange(1, N_ROWS + 1), name="customer_id"),
    )


@pytest.fixture(scope="module")
def labels(features: pd.DataFrame) -> pd.Series:
    rng = np.random.default_rng(1)
    churned = rng.uniform(size=len(features)) < features["recency_days"] / 300
    return pd.Series(churned.astype(int), index=features.index)


@pytest.fixture(scope="module")
def model(features: pd.DataFrame, labels: pd.Series) -> ChurnModel:
    return ChurnModel(n_estimators=30, random_state=0).fit(features, labels)


@pytest.fixture(scope="module")
def policy(features: pd.DataFrame, model: ChurnModel) -> LoyaltyPolicy:
    # no trigger policy: high risk (p >= 0.6) -> retention offer by e-mail, the fallback rule
    return LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=tuple(features.columns),
        feature_categories={"tier": ("gold", "silver")},
        churn_model=model,
    )


@pytest.fixture(scope="module")
def triggered(policy: LoyaltyPolicy, features: pd.DataFrame) -> np.ndarray:
    out = policy.decide(features, reasons="none")
    mask = (out["action"] != "none").to_numpy()
    assert mask.any() and (out.loc[mask, "channel"] == "email").all()
    return mask


# -- ChurnModel: column names --------------------------------------------------------------------
def test_fit_with_integer_column_names_and_a_category_column(
    features: pd.DataFrame, labels: pd.Series
) -> None:
    X = features.set_axis(list(range(features.shape[1])), axis=1)
    fitted = ChurnModel(n_estimators=20, random_state=0).fit(X, labels)
    p = fitted.predict_proba(X)[:, 1]
    assert p.shape == (len(X),) and ((p >= 0) & (p <= 1)).all()


def test_explain_after_fit_with_integer_column_names(
    features: pd.DataFrame, labels: pd.Series
) -> None:
    X = features[["recency_days", "n_orders", "spend"]].set_axis([0, 1, 2], axis=1)
    fitted = ChurnModel(n_estimators=20, random_state=0).fit(X, labels)
    out = fitted.explain(X.iloc[:5], top_k=2)
    assert list(out.index) == list(X.index[:5])
    assert out["reason_1_feature"].dropna().isin(["0", "1", "2"]).all()


# -- reasons --------------------------------------------------------------------------------------
def _refused_or_worded(call: Any, column: str) -> None:
    try:
        out = call()
    except SchemaError as exc:
        assert column in str(exc), str(exc)
    else:
        assert out["reason_1"].notna().all()


def test_explain_a_row_with_an_infinite_value(model: ChurnModel, features: pd.DataFrame) -> None:
    X = features.iloc[:5].assign(recency_days=np.inf)
    assert np.isfinite(model.predict_proba(X)).all()
    _refused_or_worded(lambda: model.explain(X), "recency_days")


def test_decide_on_a_row_with_an_infinite_value(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    X = features.iloc[:5].assign(recency_days=np.inf)
    _refused_or_worded(lambda: policy.decide(X), "recency_days")


def test_shap_values_of_no_rows(model: ChurnModel, features: pd.DataFrame) -> None:
    out = model.shap_values(features.iloc[:0])
    assert out.shape == (0, features.shape[1])
    assert list(out.columns) == list(features.columns)


# -- probabilities ----------------------------------------------------------------------------------
def test_isotonic_calibration_never_gives_certain_probabilities() -> None:
    rng = np.random.default_rng(0)
    n = 3000

    def draw() -> tuple[pd.DataFrame, np.ndarray]:
        X = pd.DataFrame({"recency_days": rng.uniform(0, 300, n), "spend": rng.uniform(5, 500, n)})
        risk = 1 / (1 + np.exp(5 - X["recency_days"].to_numpy() / 100))
        return X, (rng.uniform(size=n) < risk).astype(int)

    X, y = draw()
    assert 80 < y.sum() < 150  # about 4% churners: a dozen in the hold-out
    fitted = ChurnModel(n_estimators=100, calibration="isotonic", random_state=0).fit(X, y)
    assert fitted.calibration_ == "isotonic"
    X_new, _ = draw()
    p = fitted.predict_proba(X_new)[:, 1]
    assert ((p > 0) & (p < 1)).all(), f"{(p == 0).sum()} zeros, {(p == 1).sum()} ones"


def test_text_labels_do_not_reverse_the_churn_probability(
    features: pd.DataFrame, labels: pd.Series
) -> None:
    from sklearn.metrics import roc_auc_score

    text = labels.map({1: "churned", 0: "kept"})
    try:
        fitted = ChurnModel(n_estimators=20, random_state=0).fit(features, text)
    except DataError:
        return  # refusing ambiguous text labels is fine too
    assert roc_auc_score(labels, fitted.predict_proba(features)[:, 1]) > 0.5


BAD_PARAMS = [
    {"threshold": "0.5"},
    {"learning_rate": "0.1"},
    {"early_stopping_rounds": 2.5},
    {"n_jobs": "2"},
    {"num_leaves": 1},
    {"n_estimators": True},
]


@pytest.mark.parametrize("params", BAD_PARAMS, ids=[next(iter(p)) for p in BAD_PARAMS])
def test_bad_parameter_types_raise_config_error(
    params: dict[str, Any], features: pd.DataFrame, labels: pd.Series
) -> None:
    with pytest.raises(ConfigError, match=next(iter(params))):
        ChurnModel(**{"n_estimators": 10, **params}).fit(features, labels)


# -- churn metrics ------------------------------------------------------------------------------------
def test_ece_does_not_depend_on_the_row_order_of_tied_scores() -> None:
    y = np.array([0] * 50 + [1] * 50)
    p = np.full(100, 0.5)  # the true rate: perfectly calibrated
    shuffled = np.random.default_rng(0).permutation(y)
    assert evaluate_churn(y, p).ece == pytest.approx(0.0, abs=1e-12)
    assert evaluate_churn(shuffled, p).ece == pytest.approx(0.0, abs=1e-12)


# -- the policy: marketing consent ------------------------------------------------------------------
def _no_contact(out: pd.DataFrame, rows: np.ndarray) -> bool:
    return bool((out.loc[rows, "channel"] == "none").all() and out[rows]["offer_id"].isna().all())


def test_decide_missing_consent_means_no_contact(
    policy: LoyaltyPolicy, features: pd.DataFrame, triggered: np.ndarray
) -> None:
    consent = pd.Series(np.nan, index=features.index)
    out = policy.decide(features, consent_marketing=consent, reasons="none")
    assert _no_contact(out, triggered)


def test_decide_nullable_boolean_consent_with_na(
    policy: LoyaltyPolicy, features: pd.DataFrame, triggered: np.ndarray
) -> None:
    consent = pd.Series(pd.array([pd.NA] * len(features), dtype="boolean"), index=features.index)
    out = policy.decide(features, consent_marketing=consent, reasons="none")
    assert _no_contact(out, triggered)


def test_decide_text_false_consent_is_not_consent(
    policy: LoyaltyPolicy, features: pd.DataFrame, triggered: np.ndarray
) -> None:
    consent = pd.Series("False", index=features.index)
    try:
        out = policy.decide(features, consent_marketing=consent, reasons="none")
    except LoyaltyMLError:
        return  # refusing text flags is fine too
    assert _no_contact(out, triggered)


def test_decide_consent_with_a_repeated_customer(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    consent = pd.Series(True, index=features.index)
    consent = pd.concat([consent, consent.iloc[:1]])
    with pytest.raises(DataError, match="1"):
        policy.decide(features, consent_marketing=consent, reasons="none")


def test_decide_consent_with_text_ids_for_integer_features(
    policy: LoyaltyPolicy, features: pd.DataFrame, triggered: np.ndarray
) -> None:
    consent = pd.Series(True, index=features.index.astype(str))
    try:
        out = policy.decide(features, consent_marketing=consent, reasons="none")
    except DataError:
        return  # refusing ids that match nobody is fine too
    assert (out.loc[triggered, "channel"] == "email").all()


# -- the policy: the stable holdout ---------------------------------------------------------------
def test_holdout_group_is_the_same_for_whole_float_ids(features: pd.DataFrame) -> None:
    policy = LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=("recency_days",),
        churn_model=None,
        holdout_fraction=0.5,
    )
    ids = pd.Index(np.arange(1, 201), name="customer_id")
    as_int = policy.holdout_mask(ids)
    assert 0 < as_int.sum() < len(ids)
    np.testing.assert_array_equal(policy.holdout_mask(ids.astype(float)), as_int)
