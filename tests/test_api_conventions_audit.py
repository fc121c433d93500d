"""Audit: public functions never modify their inputs; the estimators follow scikit-learn conventions.

Every input (DataFrame, Series, ndarray) is deep-copied before the call and compared after it,
including index, dtypes, attrs and column order. No defect was confirmed by the sweep, so these are
regression guards, not xfails.
"""

from __future__ import annotations

import copy
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sim_tables import simulated_tables
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

import loyalty_ml as lml
from loyalty_ml import kpis, privacy

SALT = "audit-salt-0123456789"


@pytest.fixture(scope="module")
def tables() -> dict[str, Any]:
    tables = simulated_tables(200, n_cutoffs=3)
    data = tables["data"]
    # messy raw export: shuffled rows, shifted index, nullable ids, category column, user attrs
    messy = data.transactions.sample(frac=1.0, random_state=0)
    messy.index = messy.index + 1000
    messy["customer_id"] = messy["customer_id"].astype("Int64")
    messy["channel"] = messy["channel"].astype("category")
    messy.attrs = {"source": "pos", "nested": {"k": [1]}}
    return {**tables, "messy": messy}


def _assert_same(after: Any, before: Any, where: str) -> None:
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before, check_exact=True, obj=where)
        assert list(after.columns) == list(before.columns), where
        assert after.index.names == before.index.names, where
        assert after.attrs == before.attrs, where
    elif isinstance(before, pd.Series):
        pd.testing.assert_series_equal(after, before, check_exact=True, obj=where)
        assert after.attrs == before.attrs, where
    elif isinstance(before, pd.Index):
        pd.testing.assert_index_equal(after, before, exact=True, obj=where)
    elif isinstance(before, np.ndarray):
        assert after.dtype == before.dtype, where
        np.testing.assert_array_equal(after, before, err_msg=where)


def _call_unchanged(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` and assert that none of its array-like arguments changed."""
    inputs = [(f"arg{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    kinds = (pd.DataFrame, pd.Series, pd.Index, np.ndarray)
    watched = [
        (name, value, copy.deepcopy(value)) for name, value in inputs if isinstance(value, kinds)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only the inputs are under test here
        out = fn(*args, **kwargs)
    for name, value, before in watched:
        _assert_same(value, before, f"{getattr(fn, '__qualname__', fn)}: {name}")
    return out


def test_validators_and_feature_builders_leave_inputs_unchanged(tables: dict[str, Any]) -> None:
    data, tx, people, campaigns = (
        tables["data"],
        tables["tx"],
        tables["people"],
        tables["campaigns"],
    )
    messy = tables["messy"]
    _call_unchanged(lml.validate_transactions, data.transactions)
    _call_unchanged(lml.validate_transactions, messy, returns="keep", return_report=True)
    _call_unchanged(lml.validate_customers, data.customers.set_index("customer_id"))
    _call_unchanged(lml.validate_offers, data.offers.set_index("offer_id"))
    _call_unchanged(lml.validate_campaigns, data.campaigns, offers=data.offers)
    _call_unchanged(lml.build_features, messy, as_of="2024-07-01", customers=data.customers)
    _call_unchanged(
        lml.build_features, tx, as_of="2024-07-01", customers=people, campaigns=campaigns
    )
    _call_unchanged(lml.churn_labels, messy, as_of="2024-07-01", horizon_days=90)
    _call_unchanged(
        lml.training_table, messy, cutoffs=["2024-01-01", "2024-03-01"], horizon_days=60
    )
    _call_unchanged(lml.experiment_table, messy, data.campaigns, window_days=30, customers=people)
    _call_unchanged(lml.campaign_responses, campaigns, tx, window_days=30, outcome="spend")
    _call_unchanged(lml.estimate_boundaries, messy, as_of="2024-07-01")
    X = tables["X"]
    edges = _call_unchanged(lml.rfm_edges, X)
    _call_unchanged(lml.rfm_segments, X, edges=edges)
    later = lml.build_features(tx, as_of="2024-10-01")
    _call_unchanged(lml.segment_migration, X.head(150), later.tail(150))


def test_kpis_leave_inputs_unchanged(tables: dict[str, Any]) -> None:
    tx, messy, customers, people = (
        tables["tx"],
        tables["messy"],
        tables["customers"],
        tables["people"],
    )
    _call_unchanged(kpis.active_members, messy, as_of="2024-07-01", customers=people)
    _call_unchanged(kpis.summary, messy, period_start="2024-04-01", period_end="2024-07-01")
    _call_unchanged(kpis.clv_inputs, messy, period_start="2024-01-01", period_end="2024-07-01")
    _call_unchanged(kpis.clv_discounted, pd.DataFrame(np.ones((3, 4))), discount_rate=0.1)
    _call_unchanged(kpis.cohort_counts, messy)
    _call_unchanged(kpis.cohort_retention, messy)
    _call_unchanged(kpis.retention_curves, messy, groups=customers["tier"])
    tiers = _call_unchanged(kpis.propose_tiers, messy, as_of="2024-07-01")
    benefits = {name: kpis.TierBenefit(spend_rate=0.01) for name in tiers.index}
    _call_unchanged(kpis.estimate_tier_costs, tx, tiers, benefits=benefits, as_of="2024-07-01")
    _call_unchanged(kpis.tier_distribution, customers)
    _call_unchanged(kpis.points_liability, customers, point_value=0.01, breakage_rate=0.2)
    _call_unchanged(
        kpis.measure_campaign, tables["campaigns"], tx, tables["offers"], window_days=30
    )


def test_privacy_helpers_leave_inputs_unchanged(tables: dict[str, Any]) -> None:
    customers, people, tx, X = tables["customers"], tables["people"], tables["tx"], tables["X"]
    split = _call_unchanged(privacy.split_by_consent, customers)
    _call_unchanged(privacy.exclude_without_profiling_consent, X, split)
    _call_unchanged(privacy.may_profile, X.index.to_numpy(), people)
    _call_unchanged(privacy.profiled_only, tx, people)
    _call_unchanged(privacy.erase_customers, [1, 2, 3], transactions=tx, customers=customers)
    _call_unchanged(privacy.pseudonymise_frame, customers, salt=SALT)
    _call_unchanged(privacy.pseudonymise_frame, tables["X_train"].head(50), salt=SALT)
    _call_unchanged(privacy.pseudonymise_ids, customers.index, salt=SALT)
    _call_unchanged(privacy.select_needed_columns, people, ["customer_id", "tier"])
    _call_unchanged(privacy.check_no_personal_data, X)


def test_models_policy_and_metrics_leave_inputs_unchanged(tables: dict[str, Any]) -> None:
    X, X_train, y_train = tables["X"], tables["X_train"].copy(), tables["y_train"].copy()
    X_train.attrs, y_train.attrs = {"note": "x"}, {"note": "y"}
    churn = _call_unchanged(lml.ChurnModel(n_estimators=20, random_state=0).fit, X_train, y_train)
    proba = _call_unchanged(churn.predict_proba, X)
    _call_unchanged(churn.explain, X.head(10), top_k=2)
    p = pd.Series(proba[:, 1], index=X.index)
    _call_unchanged(lml.TriggerPolicy(sleep_days=30.0, churn_days=90.0).assign, X, p)
    _call_unchanged(lml.threshold_for_capacity, proba[:, 1].copy(), 10)

    X_exp, y_exp, t_exp = tables["X_exp"], tables["y_exp"], tables["t_exp"]
    uplift = lml.UpliftModel(n_estimators=10, min_arm_rows=20, random_state=0)
    _call_unchanged(uplift.fit, X_exp, y_exp.to_numpy().copy(), treatment=t_exp.to_numpy().copy())
    effects = _call_unchanged(uplift.predict_effects, X)
    baseline = _call_unchanged(uplift.predict_baseline, X)
    catalog = _call_unchanged(lml.OfferCatalog.from_frame, tables["offers"])
    consent = tables["customers"]["consent_marketing"].sample(frac=1.0, random_state=1)
    plan = _call_unchanged(
        lml.choose_offers,
        effects,
        catalog,
        baseline=baseline,
        value_per_conversion=pd.Series(12.0, index=X.index),
        budget=50.0,
        holdout_fraction=0.1,
        consent=consent,
        history=tables["campaigns"],
        as_of="2024-07-01",
        random_state=0,
    )
    _call_unchanged(
        lml.fairness_report,
        tables["customers"][["age_band", "income_band"]],
        y_score=p,
        offers=plan,
    )

    score = uplift.predict_effects(X_exp)
    _call_unchanged(lml.uplift_auc_score, y_exp, t_exp, score)
    _call_unchanged(lml.qini_auc_score, y_exp, t_exp, score)
    _call_unchanged(lml.uplift_at_k, y_exp, t_exp, score, k=0.3, strategy="by_group")
    assignment = pd.Series(
        np.where(score.max(axis=1) > 0, score.idxmax(axis=1), "control"), index=score.index
    )
    _call_unchanged(lml.policy_value, y_exp, t_exp, assignment)


@pytest.mark.parametrize("name", ["ChurnModel", "UpliftModel"])
def test_estimators_follow_sklearn_conventions(tables: dict[str, Any], name: str) -> None:
    cls = getattr(lml, name)
    params: dict[str, Any] = {"n_estimators": 15, "random_state": 0}
    if name == "UpliftModel":
        params["min_arm_rows"] = 20
    model = cls(**params)
    # __init__ stores every parameter unchanged, even nonsense: validation happens in fit
    odd = {key: object() for key in model.get_params()}
    assert all(getattr(cls(**odd), key) is value for key, value in odd.items())
    assert cls().set_params(**model.get_params()).get_params() == model.get_params()
    assert repr(model).startswith(f"{name}(")

    X = tables["X"]
    predict = "predict_proba" if name == "ChurnModel" else "predict_effects"
    with pytest.raises(lml.NotFittedError) as caught:
        getattr(model, predict)(X)
    assert isinstance(caught.value, SklearnNotFittedError)

    if name == "ChurnModel":
        fitted = model.fit(tables["X_train"], tables["y_train"])
    else:
        fitted = model.fit(tables["X_exp"], tables["y_exp"], treatment=tables["t_exp"])
    assert fitted is model
    assert model.get_params() == cls(**params).get_params()
    new_attrs = set(vars(model)) - set(model.get_params())
    assert new_attrs and all(a.endswith("_") for a in new_attrs), sorted(new_attrs)

    copy_ = clone(model)
    assert copy_.get_params() == model.get_params()
    assert set(vars(copy_)) == set(model.get_params())

    before = np.asarray(getattr(model, predict)(X))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(np.asarray(getattr(restored, predict)(X)), before)
