"""Regression tests from an audit of the nightly scoring job and the systems that call the model.

Each test is one defect that audit found (all failed before their fix). One small model is trained
twice into a temporary embedded MLflow store for the whole module (a few seconds).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.cli import write_table_atomically
from loyalty_ml.exceptions import SchemaError
from loyalty_ml.schema import cleaning_report, validate_customers
from loyalty_ml.schema import columns as C

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING),
    pytest.mark.filterwarnings("ignore::loyalty_ml.tracking.drift.DriftWarning"),
]


@dataclass
class Trained:
    tracking_uri: str
    data: Any
    customers: pd.DataFrame
    first: Any  # TrainingResult of version 1
    second: Any  # TrainingResult of version 2 (same data: promoted over version 1)
    model: Any  # the pyfunc of version 1, loaded by URI
    features: pd.DataFrame  # build_features output with the model's configuration


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    from loyalty_ml.datasets import simulate
    from loyalty_ml.features import build_features
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("nightly")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=3)
    # without protected attributes the fairness gate is "not audited": promotion is by backtest only
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    params = {"n_estimators": 30, "early_stopping_rounds": 10}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        # the same training twice: the second version is promoted over the first
        first, second = (
            train_and_register(
                data.transactions,
                as_of="2024-12-01",
                customers=customers,
                tracking_uri=uri,
                churn_params=params,
            )
            for _ in range(2)
        )
        model = mlflow.pyfunc.load_model(f"models:/loyalty_ml/{first.version}")
        features = build_features(
            data.transactions,
            as_of="2024-12-31",
            customers=customers,
            config=first.policy.feature_config,
        )
        yield Trained(uri, data, customers, first, second, model, features)


# -- loyalty-ml score: the output file ------------------------------------------------------------
def test_score_output_file_honours_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        plain = tmp_path / "plain.csv"
        pd.DataFrame({"a": [1]}).to_csv(plain, index=False)
        out = tmp_path / "new_folder" / "scores.csv"
        write_table_atomically(pd.DataFrame({"customer_id": [1], "action": ["none"]}), out)
        write_table_atomically(pd.DataFrame({"customer_id": [1], "action": ["none"]}), out)
    finally:
        os.umask(umask)
    expected = stat.S_IMODE(plain.stat().st_mode)  # 0o644 under umask 022
    assert stat.S_IMODE(out.stat().st_mode) == expected, oct(out.stat().st_mode)


# -- score_customers: which table to fix ----------------------------------------------------------
def test_missing_transactions_column_is_blamed_on_the_transactions(trained: Trained) -> None:
    from loyalty_ml.tracking.scoring import score_customers

    assert "channel_share_web" in trained.first.policy.feature_names
    tx = trained.data.transactions.drop(columns=[C.CHANNEL])
    with pytest.raises(SchemaError) as raised:
        score_customers(
            tx,
            as_of="2024-12-31",
            model_uri=f"models:/loyalty_ml/{trained.first.version}",
            customers=trained.customers,
            tracking_uri=trained.tracking_uri,
            log_run=False,
        )
    message = str(raised.value)
    assert "customers table given lacks" not in message, message
    assert "transactions" in message and "channel" in message, message


# -- the registered pyfunc ------------------------------------------------------------------------
def test_pyfunc_missing_feature_is_our_schema_error_without_the_ids(trained: Trained) -> None:
    frame = trained.features.iloc[:3].reset_index()
    frame[C.CUSTOMER_ID] = ["SECRETID_1", "SECRETID_2", "SECRETID_3"]
    try:
        trained.model.predict(frame.drop(columns=["spend_30d"]))
    except Exception as exc:  # the type is what is checked
        message = str(exc)
        assert "SECRETID" not in message, message[:300]
        assert isinstance(exc, SchemaError), type(exc)
        assert "spend_30d" in message
    else:
        pytest.fail("a missing feature column was not refused")


def test_pyfunc_missing_rfm_value_is_scored_or_refused_by_row(trained: Trained) -> None:
    frame = trained.features.iloc[:5].reset_index()
    frame.loc[2, "recency_days"] = np.nan
    try:
        out = trained.model.predict(frame, params={"reasons": "none"})
    except SchemaError as exc:
        assert "row" in str(exc), str(exc)  # which row to fix, as for any other bad value
    else:
        assert len(out) == 5


# -- the registry ---------------------------------------------------------------------------------
def test_only_the_current_champion_is_tagged_champion(trained: Trained) -> None:
    assert trained.second.alias == "champion"
    client = mlflow.MlflowClient(tracking_uri=trained.tracking_uri)
    tagged = [
        str(v.version)
        for v in client.search_model_versions("name = 'loyalty_ml'")
        if v.tags.get("promotion") == "champion"
    ]
    assert tagged == [trained.second.version], tagged


# -- the cleaning report printed by loyalty-ml score/train ----------------------------------------
def test_cleaning_report_counts_filled_consent_flags() -> None:
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "consent_marketing": [True, None, None],
            "consent_profiling": [True, None, True],
        }
    )
    report = cleaning_report(validate_customers(customers))
    assert report is not None
    lines = {line.split()[0]: line for line in str(report).splitlines()[1:]}
    assert " fill 0 " not in " ".join(lines["missing_consent_marketing"].split()), lines


# -- consent --------------------------------------------------------------------------------------
def test_no_marketing_consent_means_no_contact_channel(trained: Trained) -> None:
    policy, X = trained.first.policy, trained.features
    everyone = pd.Series(True, index=X.index)
    allowed = policy.decide(X, consent_marketing=everyone, reasons="none")
    acted = allowed["action"] != "none"
    assert acted.any() and (allowed.loc[acted, "channel"] != "none").any()
    nobody = policy.decide(X, consent_marketing=~everyone, reasons="none")
    # the diagnosis stays (who is at risk, and what that would call for), the contact does not
    assert (nobody["action"] == allowed["action"]).all()
    assert (nobody.loc[acted, "channel"] == "none").all()
    assert nobody.loc[acted, "rule"].str.endswith("no marketing consent: no contact").all()
    assert nobody["offer_id"].isna().all()


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")  # a new tier
def test_consent_columns_the_model_was_trained_with_are_required_to_score(
    trained: Trained,
) -> None:
    """A customers table whose consent columns were renamed or dropped upstream for one night was
    read as "consent managed upstream": every customer who had said no was offered and profiled
    that night, without a word (a cafe-chain probe: 11 refusers offered, 87 profiled)."""
    from loyalty_ml.tracking.scoring import score_customers

    assert trained.first.policy.consent_flags == C.CONSENT_COLUMNS
    tx = trained.data.transactions
    # a name that reads like the flag ("email_opt_in") is refused before this, as a look-alike
    renamed = trained.customers.rename(columns={C.CONSENT_MARKETING: "flag_7"})
    with pytest.raises(
        SchemaError,
        match=r"no .consent_marketing. column .it has.*flag_7.*version \d+. was trained",
    ):
        score_customers(
            tx,
            as_of="2024-12-31",
            customers=renamed,
            tracking_uri=trained.tracking_uri,
            log_run=False,
        )
    dropped = trained.customers.drop(columns=list(C.CONSENT_COLUMNS))
    with pytest.raises(
        SchemaError,
        match=r"'consent_marketing', 'consent_profiling'.*every.*promote that version by hand",
    ):
        score_customers(
            tx,
            as_of="2024-12-31",
            customers=dropped,
            tracking_uri=trained.tracking_uri,
            log_run=False,
        )


def test_a_retrain_without_the_champions_consent_columns_is_not_promoted(
    trained: Trained, tmp_path: Path
) -> None:
    """The weekly retrain on a customers table that lost its consent columns upstream trained a
    version reading consent as managed upstream, and promoted it: from the next night, scoring
    with the same table offered to and profiled every customer who had said no."""
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.train import train_and_register

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    params = {"n_estimators": 30, "early_stopping_rounds": 10}
    tx = trained.data.transactions
    first = train_and_register(
        tx, as_of="2024-12-01", customers=trained.customers, tracking_uri=uri, churn_params=params
    )
    assert first.promoted
    lost = trained.customers.rename(columns={C.CONSENT_MARKETING: "flag_7"})
    with pytest.warns(DataQualityWarning, match=r"trained with the customers' 'consent_marketing'"):
        second = train_and_register(
            tx, as_of="2024-12-01", customers=lost, tracking_uri=uri, churn_params=params
        )
    assert not second.promoted and second.alias == "challenger"
    assert second.policy.consent_flags == (C.CONSENT_PROFILING,)
