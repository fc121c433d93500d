"""train_and_register and score_customers with an events table, end to end on the embedded MLflow
store (no mocks): the kinds are fixed in the registered model, and scoring it without events is
refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.cli import main
from loyalty_ml.exceptions import SchemaError
from loyalty_ml.tracking.scoring import score_customers
from loyalty_ml.tracking.train import train_and_register

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING),
]


def _events(transactions: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """App opens a day before each purchase and a review (1-5) two days after about half."""
    rng = np.random.default_rng(seed)
    buys = transactions[["customer_id", "timestamp"]].drop_duplicates()
    opens = buys.assign(timestamp=buys["timestamp"] - pd.Timedelta(days=1), event="app_open")
    reviewed = buys.loc[rng.random(len(buys)) < 0.5]
    reviews = reviewed.assign(
        timestamp=reviewed["timestamp"] + pd.Timedelta(days=2),
        event="review",
        value=rng.integers(1, 6, len(reviewed)).astype(float),
    )
    return pd.concat([opens, reviews], ignore_index=True)


@dataclass
class Trained:
    folder: Path
    uri: str
    data: Any
    events: pd.DataFrame
    result: Any


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    from loyalty_ml.datasets import simulate

    folder = tmp_path_factory.mktemp("mlflow_events")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=600, start="2023-01-01", end="2024-12-31", seed=3)
    events = _events(data.transactions)
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = train_and_register(
            data.transactions,
            as_of="2024-12-01",
            customers=customers,
            events=events,
            tracking_uri=uri,
            churn_params={"n_estimators": 40, "early_stopping_rounds": 10},
        )
        yield Trained(folder, uri, data, events, result)


def test_the_registered_model_fixes_the_kinds_it_was_trained_with(trained: Trained) -> None:
    policy = trained.result.policy
    assert policy.feature_config.event_kinds == ("app_open", "review")
    assert policy.feature_config.event_value_kinds == ("review",)
    assert {"event_app_open_30d", "event_review_last", "event_rare_30d"} <= set(
        policy.feature_names
    )
    run = mlflow.MlflowClient(tracking_uri=trained.uri).get_run(trained.result.run_id)
    assert run.data.params["uses_events"] == "True"


def test_scoring_reads_the_events_before_as_of(trained: Trained) -> None:
    customers = trained.data.customers
    scores = score_customers(
        trained.data.transactions,
        as_of="2024-12-31",
        model_uri=f"models:/loyalty_ml/{trained.result.version}",
        customers=customers,
        events=trained.events,
        tracking_uri=trained.uri,
        log_run=False,
    )
    assert scores.index.is_unique and (scores["status"] == "scored").any()
    # events at or after as_of change no score
    later = pd.DataFrame(
        {
            "customer_id": scores.index[:50],
            "timestamp": pd.Timestamp("2024-12-31"),
            "event": "review",
            "value": 1.0,
        }
    )
    again = score_customers(
        trained.data.transactions,
        as_of="2024-12-31",
        model_uri=f"models:/loyalty_ml/{trained.result.version}",
        customers=customers,
        events=pd.concat([trained.events, later], ignore_index=True),
        tracking_uri=trained.uri,
        log_run=False,
    )
    pd.testing.assert_series_equal(again["churn_probability"], scores["churn_probability"])


def test_scoring_counts_the_visitors_who_never_bought(trained: Trained) -> None:
    # Retail Rocket's events hold views of visitors with no purchase: they get no row, and the
    # scores said nothing of them
    browsers = pd.DataFrame(
        {
            "customer_id": [10**9, 10**9, 10**9 + 1],
            "timestamp": pd.Timestamp("2024-12-01"),
            "event": "app_open",
        }
    )
    scores = score_customers(
        trained.data.transactions,
        as_of="2024-12-31",
        model_uri=f"models:/loyalty_ml/{trained.result.version}",
        customers=trained.data.customers,
        events=pd.concat([trained.events, browsers], ignore_index=True),
        tracking_uri=trained.uri,
        log_run=False,
    )
    assert scores.attrs["n_event_customers_without_purchase"] == 2
    assert not scores.index.isin(browsers["customer_id"]).any()


def test_scoring_without_the_events_is_refused(trained: Trained) -> None:
    with pytest.raises(SchemaError, match=r"needs \d+ feature column\(s\).*event_.*Pass events="):
        score_customers(
            trained.data.transactions,
            as_of="2024-12-31",
            model_uri=f"models:/loyalty_ml/{trained.result.version}",
            customers=trained.data.customers,
            tracking_uri=trained.uri,
            log_run=False,
        )


def test_the_command_line_reads_an_events_file(
    trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(trained.folder)
    paths = {name: tmp_path / f"{name}.csv" for name in ("transactions", "customers", "events")}
    trained.data.transactions.to_csv(paths["transactions"], index=False)
    trained.data.customers.to_csv(paths["customers"])
    trained.events.to_csv(paths["events"], index=False)
    args = [
        "score",
        "--transactions",
        str(paths["transactions"]),
        "--customers",
        str(paths["customers"]),
        "--as-of",
        "2024-12-31",
        "--model-uri",
        f"models:/loyalty_ml/{trained.result.version}",
        "--tracking-uri",
        trained.uri,
        "--no-log-run",
    ]
    out = tmp_path / "scores.csv"
    assert main([*args, "--events", str(paths["events"]), "--output", str(out)]) == 0
    assert len(pd.read_csv(out)) > 0
    assert main([*args, "--output", str(tmp_path / "none.csv")]) == 1
    assert "pass --events" in capsys.readouterr().err.lower()
