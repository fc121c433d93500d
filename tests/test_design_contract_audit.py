"""Audit: the library against the public API contract of ../shared/DESIGN.md (section 4 and the data,
economics and MLflow sections that state names other code calls exactly).

Guard tests pin what conforms, so it cannot drift, including two places an audit found the library
not following it (ColumnMap's offer columns, scoring without the campaign history).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning

AS_OF = "2024-06-30"
KW = inspect.Parameter.KEYWORD_ONLY
POS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
EMPTY = inspect.Parameter.empty


def _params(obj: Any) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(obj).parameters)


def _positional(obj: Any) -> list[str]:
    return [n for n, p in _params(obj).items() if p.kind in POS and n != "self"]


def _check(obj: Any, *, positional: list[str], keywords: dict[str, Any]) -> None:
    """``positional`` lead the signature in that order; each keyword is accepted by name with the
    given default (``EMPTY`` = required)."""
    assert _positional(obj)[: len(positional)] == positional
    params = _params(obj)
    for name, default in keywords.items():
        assert name in params, f"{obj.__qualname__} lacks {name}="
        assert params[name].kind in (KW, *POS)
        assert params[name].default == default, (name, params[name].default)


# ---------------------------------------------------------------- call signatures (section 4)


def test_simulate_signature() -> None:
    _check(
        lml.datasets.simulate,
        positional=[],
        keywords={"n_customers": 10_000, "start": "2023-01-01", "end": "2024-12-31", "seed": 0},
    )


def test_feature_and_label_signatures() -> None:
    _check(
        lml.build_features,
        positional=["transactions"],
        keywords={"as_of": EMPTY, "customers": None, "campaigns": None},
    )
    _check(lml.churn_labels, positional=["transactions"], keywords={"as_of": EMPTY})
    assert "horizon_days" in _params(lml.churn_labels)
    _check(
        lml.training_table,
        positional=["transactions"],
        keywords={"cutoffs": EMPTY, "customers": None, "campaigns": None},
    )
    assert "horizon_days" in _params(lml.training_table)
    assert _positional(lml.estimate_boundaries) == ["transactions"]
    assert _positional(lml.rfm_segments)[:1] == ["features"]
    _check(lml.validate_transactions, positional=["raw"], keywords={"columns": None})


def test_model_and_policy_signatures() -> None:
    assert "random_state" in _params(lml.ChurnModel)
    assert _positional(lml.ChurnModel.fit)[:2] == ["X", "y"]
    _check(lml.ChurnModel.explain, positional=["X"], keywords={"top_k": 3})
    assert _positional(lml.TriggerPolicy.assign)[:2] == ["X", "p"]
    assert "random_state" in _params(lml.UpliftModel)
    _check(
        lml.UpliftModel.fit,
        positional=["X", "y"],
        keywords={"treatment": EMPTY, "control": "control"},
    )
    assert _positional(lml.UpliftModel.predict_effects)[:1] == ["X"]
    assert _positional(lml.UpliftModel.predict_baseline)[:1] == ["X"]


def test_choose_offers_signature() -> None:
    _check(
        lml.choose_offers,
        positional=["effects", "catalog"],
        keywords={
            "baseline": EMPTY,
            "value_per_conversion": EMPTY,
            "strategy": "cheapest_effective",
            "budget": None,
            "holdout_fraction": 0.0,
            "min_uplift": 0.0,
        },
    )


def test_offer_catalog_from_frame_is_a_classmethod() -> None:
    assert isinstance(inspect.getattr_static(lml.OfferCatalog, "from_frame"), classmethod)
    frame = pd.DataFrame({"offer_id": ["a", "b"], "cost_per_redemption": [1.0, 2.0]})
    catalog = lml.OfferCatalog.from_frame(frame)
    assert [(o.offer_id, o.cost_per_send) for o in catalog] == [("a", 0.0), ("b", 0.0)]


def test_fairness_report_signature() -> None:
    _check(
        lml.fairness_report,
        positional=["sensitive"],
        keywords={"y_true": None, "y_score": None, "offers": None},
    )
    assert "threshold" in _params(lml.fairness_report)


def test_tracking_signatures() -> None:
    _check(
        lml.train_and_register,
        positional=["transactions"],
        keywords={
            "as_of": EMPTY,
            "customers": None,
            "campaigns": None,
            "offers": None,
            "model_name": "loyalty_ml",
            "alias": "champion",
        },
    )
    _check(
        lml.score_customers,
        positional=["transactions"],
        keywords={
            "as_of": EMPTY,
            "model_uri": "models:/loyalty_ml@champion",
            "customers": None,
        },
    )


TRANSACTION_COLUMNS = [
    "customer_id",
    "timestamp",
    "amount",
    "order_id",
    "quantity",
    "product_id",
    "category",
    "channel",
    "store_id",
    "discount",
    "margin",
]


def test_column_map_covers_transaction_customer_and_campaign_columns() -> None:
    names = [
        *TRANSACTION_COLUMNS,
        "signup_date",
        "consent_marketing",
        "consent_profiling",
        "offer_id",
        "cost_per_redemption",
        "cost_per_send",
        "kind",
        "sent_at",
        "redeemed",
        "redeemed_at",
    ]
    params = _params(lml.ColumnMap)
    assert all(params[n].kind == KW for n in names)


def test_column_map_maps_offer_min_basket_and_max_per_month() -> None:
    raw = pd.DataFrame(
        {
            "offer_id": ["a"],
            "cost_per_redemption": [1.0],
            "Min basket": [20.0],
            "Per month": [2],
        }
    )
    columns = lml.ColumnMap(min_basket="Min basket", max_per_month="Per month")  # type: ignore[call-arg]
    offers = lml.validate_offers(raw, columns=columns)
    assert {"min_basket", "max_per_month"} <= set(offers.columns)


# ---------------------------------------------------------------- the section 4 flow, verbatim


@dataclass
class Flow:
    data: Any
    X: pd.DataFrame
    y: pd.Series
    X_train: pd.DataFrame
    y_train: pd.Series
    p: np.ndarray
    effects: pd.DataFrame
    baseline: pd.Series
    catalog: Any
    plan: pd.DataFrame


@pytest.fixture(scope="module")
def flow() -> Flow:
    data = lml.datasets.simulate(n_customers=200, start="2023-01-01", end="2024-12-31", seed=0)
    tx = lml.validate_transactions(data.transactions, columns=lml.ColumnMap())
    X = lml.build_features(tx, as_of=AS_OF, customers=None, campaigns=None)
    y = lml.churn_labels(tx, as_of=AS_OF, horizon_days=90)
    X_train, y_train = lml.training_table(
        tx, cutoffs=["2024-03-31", AS_OF], horizon_days=90, customers=None, campaigns=None
    )
    churn = lml.ChurnModel(random_state=0).fit(X_train, y_train)
    p = churn.predict_proba(X)[:, 1]
    X_exp, y_exp, t_exp = lml.experiment_table(tx, data.campaigns, window_days=30)
    # min_arm_rows lowered only because 200 simulated customers give arms of ~40-80 rows
    uplift = lml.UpliftModel(random_state=0, min_arm_rows=20).fit(
        X_exp, y_exp, treatment=t_exp, control="control"
    )
    X_offer = lml.build_features(tx, as_of=AS_OF, campaigns=data.campaigns)
    effects = uplift.predict_effects(X_offer)
    baseline = uplift.predict_baseline(X_offer)
    catalog = lml.OfferCatalog.from_frame(data.offers)
    plan = lml.choose_offers(
        effects,
        catalog,
        baseline=baseline,
        value_per_conversion=12.0,
        strategy="cheapest_effective",
        budget=None,
        holdout_fraction=0.1,
    )
    return Flow(data, X, y, X_train, y_train, p, effects, baseline, catalog, plan)


def test_simulated_data_follows_the_data_contracts(flow: Flow) -> None:
    data = flow.data
    tx = data.transactions
    assert list(tx.columns[:3]) == ["customer_id", "timestamp", "amount"]
    assert set(TRANSACTION_COLUMNS) <= set(tx.columns)
    assert pd.api.types.is_datetime64_any_dtype(tx["timestamp"])
    assert pd.api.types.is_float_dtype(tx["amount"])
    cust = data.customers
    assert {"customer_id", "signup_date", "consent_marketing", "consent_profiling"} <= set(cust)
    assert cust["consent_marketing"].dtype == bool and cust["consent_profiling"].dtype == bool
    offers = data.offers
    offer_cols = {"offer_id", "cost_per_redemption", "cost_per_send", "kind", "channel"}
    assert offer_cols | {"min_basket", "max_per_month"} <= set(offers)
    assert {"customer_id", "offer_id", "sent_at", "redeemed", "redeemed_at"} <= set(data.campaigns)
    assert "control" in set(data.campaigns["offer_id"])
    assert data.truth is not None


def test_features_labels_and_training_table_shapes(flow: Flow) -> None:
    tx = flow.data.transactions
    before = tx.loc[tx["timestamp"] < pd.Timestamp(AS_OF), "customer_id"].unique()
    assert flow.X.index.name == "customer_id" and flow.X.index.is_unique
    assert set(flow.X.index) == set(before)
    assert flow.y.name == "churned" and set(flow.y.unique()) <= {0, 1}
    assert list(flow.X_train.index.names) == ["as_of", "customer_id"]
    assert flow.y_train.index.equals(flow.X_train.index)


def test_time_convention_as_of_and_horizon() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-01", AS_OF, AS_OF, "2024-01-01", "2024-09-28"]  # 09-28 = as_of + 90
            ),
            "amount": [10.0] * 5,
        }
    )
    X = lml.build_features(tx, as_of=AS_OF)
    assert list(X.index) == [1, 3]  # customer 2's only row is at as_of: not before it
    assert X.loc[1, "n_orders"] == 1
    y = lml.churn_labels(tx, as_of=AS_OF, horizon_days=90)
    assert y.to_dict() == {1: 0, 3: 1}  # as_of is inside the window, as_of + 90 days is not


def test_boundaries_segments_explain_and_triggers(flow: Flow) -> None:
    tx = flow.data.transactions
    bounds = lml.estimate_boundaries(tx)
    assert bounds.sleep_days < bounds.churn_days
    assert isinstance(bounds.curve, pd.DataFrame)
    seg = lml.rfm_segments(flow.X)
    assert {"R", "F", "M", "segment"} <= set(seg.columns)
    for axis in "RFM":
        assert set(seg[axis].unique()) <= {1, 2, 3}
    assert seg["R"].value_counts(normalize=True).round(2).to_dict() == {1: 0.25, 2: 0.5, 3: 0.25}
    assert set(seg.loc[seg["rfm_code"] == "R3F3M3", "segment"]) == {"core"}
    actions = lml.TriggerPolicy().assign(flow.X, flow.p)
    assert {"risk_band", "boundary_state", "action", "channel"} <= set(actions.columns)
    at_threshold = lml.TriggerPolicy().assign(flow.X, np.full(len(flow.X), 0.6))
    assert set(at_threshold["risk_band"]) == {"high"}  # >= 0.6 is high risk


def test_churn_model_is_a_classifier_with_reason_codes(flow: Flow) -> None:
    from sklearn.base import is_classifier

    churn = lml.ChurnModel(random_state=0, n_estimators=20)
    assert is_classifier(churn)
    churn.fit(flow.X_train, flow.y_train)
    assert churn.predict_proba(flow.X).shape == (len(flow.X), 2)
    reasons = churn.explain(flow.X, top_k=3)
    assert reasons.index.equals(flow.X.index)
    assert {"reason_1", "reason_2", "reason_3"} <= set(reasons.columns)


def test_uplift_outputs(flow: Flow) -> None:
    treatments = set(flow.data.campaigns["offer_id"]) - {"control"}
    assert set(flow.effects.columns) == treatments
    assert flow.effects.index.name == "customer_id"
    assert isinstance(flow.baseline, pd.Series)
    assert flow.baseline.index.equals(flow.effects.index)


def test_choose_offers_plan_contract_and_economics(flow: Flow) -> None:
    plan = flow.plan
    assert plan.index.name == "customer_id"
    assert list(plan.columns) == [
        "offer_id",
        "expected_uplift",
        "expected_cost",
        "expected_net_value",
        "reason",
        "in_holdout",  # DESIGN's five, then who was drawn into the holdout (session 59)
    ]
    offers = flow.data.offers.set_index("offer_id")
    chosen = plan.dropna(subset=["offer_id"])
    assert len(chosen) and plan["offer_id"].isna().any()
    for cid, row in chosen.iterrows():
        o = row["offer_id"]
        u = flow.effects.loc[cid, o]
        cost = (flow.baseline[cid] + u) * offers.loc[o, "cost_per_redemption"] + offers.loc[
            o, "cost_per_send"
        ]
        assert row["expected_uplift"] == pytest.approx(u)
        assert row["expected_cost"] == pytest.approx(cost)
        assert row["expected_net_value"] == pytest.approx(u * 12.0 - cost)
    budgeted = lml.choose_offers(
        flow.effects, flow.catalog, baseline=flow.baseline, value_per_conversion=12.0, budget=3.0
    )
    assert budgeted["expected_cost"].sum() <= 3.0


def test_choose_offers_consent_gives_no_offer() -> None:
    idx = pd.Index([1, 2, 3], name="customer_id")
    effects = pd.DataFrame({"a": [0.1] * 3}, index=idx)
    catalog = lml.OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["a"], "cost_per_redemption": [1.0]})
    )
    plan = lml.choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.3, index=idx),
        value_per_conversion=12.0,
        consent=pd.Series([True, False, True], index=idx),
    )
    assert pd.isna(plan.loc[2, "offer_id"]) and plan.loc[[1, 3], "offer_id"].tolist() == ["a", "a"]


def test_fairness_report_attributes(flow: Flow) -> None:
    customers = flow.data.customers.set_index("customer_id").loc[flow.X.index]
    with pytest.warns(DataQualityWarning, match="could not judge"):  # 182 customers: too few
        report = lml.fairness_report(
            sensitive=customers[["age_band", "gender"]],
            y_true=flow.y.loc[flow.X.index],
            y_score=flow.p,
            threshold=0.6,
            offers=flow.plan,
        )
    assert isinstance(report.by_group, pd.DataFrame)
    assert isinstance(report.violations, pd.DataFrame)
    assert isinstance(report.passed, bool)


# ---------------------------------------------------------------- MLflow (section 4 and 7)


@dataclass
class Trained:
    data: Any
    info: Any
    uri: str


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    folder = tmp_path_factory.mktemp("design_mlflow")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = lml.datasets.simulate(n_customers=400, seed=0)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        info = lml.train_and_register(
            data.transactions,
            as_of="2024-12-01",
            customers=data.customers,
            campaigns=data.campaigns,
            offers=data.offers,
            model_name="loyalty_ml",
            alias="champion",
            churn_params={"n_estimators": 40, "early_stopping_rounds": 10},
        )
        yield Trained(data, info, uri)


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_registry_names_aliases_and_artifacts(trained: Trained) -> None:
    import mlflow

    client = mlflow.MlflowClient(trained.uri, trained.uri)
    assert (trained.info.model_name, trained.info.alias) == ("loyalty_ml", "champion")
    version = client.get_model_version_by_alias("loyalty_ml", "champion")
    assert version.current_stage in (None, "None")  # aliases, never stages
    run = client.get_run(trained.info.run_id)
    artifacts = {
        a.path
        for folder in ("plots", "fairness")
        for a in client.list_artifacts(run.info.run_id, folder)
    }
    for plot in ("calibration", "lift", "qini", "shap_summary", "cohort_retention"):
        assert f"plots/{plot}.png" in artifacts
    assert any(p.startswith("fairness/fairness_report") for p in artifacts)
    model = mlflow.pyfunc.load_model("models:/loyalty_ml@champion")
    names = model.metadata.signature.inputs.input_names()
    assert {"recency_days", "n_orders", "offers_received"} <= set(names)


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_score_customers_with_campaigns_gives_one_decision_row_per_customer(
    trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained.uri)
    data = trained.data
    scores = lml.score_customers(
        data.transactions,
        as_of="2024-12-31",
        model_uri="models:/loyalty_ml@champion",
        customers=data.customers,
        campaigns=data.campaigns,
        log_run=False,
    )
    assert scores.index.name == "customer_id" and scores.index.is_unique
    wanted = {"churn_probability", "risk_band", "segment", "action", "offer_id"}
    assert wanted | {"expected_net_value", "reason_1"} <= set(scores.columns)


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_score_customers_called_as_design_writes_it(
    trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained.uri)
    data = trained.data
    # the model was trained with campaigns; scored without them it says so (its features, and
    # the caps and contact rule that read the send history) and carries on
    with pytest.warns(DataQualityWarning) as said:
        scores = lml.score_customers(
            data.transactions,
            as_of="2024-12-31",
            model_uri="models:/loyalty_ml@champion",
            customers=data.customers,
        )
    messages = " | ".join(str(w.message) for w in said)
    assert "trained with the campaigns table" in messages
    assert "no campaigns table, so no send history" in messages
    assert scores.index.name == "customer_id" and len(scores) > 0
