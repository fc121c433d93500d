"""Audit of the MLflow side (training run, registry, tracking URIs, scoring run, command line).

Regression tests: each states the correct behaviour where an audit found a defect (settings
refused only after training, raw MLflow errors, runs that crash inside a notebook's run, settings
and plots missing from the run). Real MLflow (embedded SQLite store in a temporary folder), no
mocks.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.cli import main
from loyalty_ml.exceptions import ConfigError, LoyaltyMLError, TrackingError
from loyalty_ml.tracking.hashing import hash_frame
from loyalty_ml.tracking.registry import decide_promotion, load_policy
from loyalty_ml.tracking.scoring import score_customers
from loyalty_ml.tracking.train import train_and_register

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)]

AS_OF = "2024-12-01"
SCORE_AS_OF = "2024-12-15"
CHURN = {"n_estimators": 20, "early_stopping_rounds": 5}
UPLIFT = {"n_estimators": 7, "learning_rate": 0.1}
RESPONSE_WINDOW = 21


@dataclass
class Store:
    folder: Path
    uri: str
    tx: pd.DataFrame
    customers: pd.DataFrame
    campaigns: pd.DataFrame
    offers: pd.DataFrame
    result: Any


def _quiet_train(tx: pd.DataFrame, **kwargs: Any) -> Any:
    # training on a small simulated programme may warn about data quality; not what is tested here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_and_register(tx, as_of=AS_OF, churn_params=CHURN, **kwargs)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One champion trained with campaigns and offers (so an uplift model is fitted)."""
    from loyalty_ml.datasets import simulate

    data = simulate(n_customers=400, start="2023-01-01", end="2024-12-31", seed=5)
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    folder = tmp_path_factory.mktemp("audit_registry")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the embedded store writes its artifacts in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = _quiet_train(
            data.transactions,
            customers=customers,
            campaigns=data.campaigns,
            offers=data.offers,
            tracking_uri=uri,
            uplift_params=UPLIFT,
            response_window_days=RESPONSE_WINDOW,
        )
        yield Store(folder, uri, data.transactions, customers, data.campaigns, data.offers, result)


@pytest.fixture
def in_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.chdir(store.folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return store


def _versions(uri: str, name: str) -> list[str]:
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    return sorted(v.version for v in client.search_model_versions(f"name = '{name}'"))


def _n_runs(uri: str, experiment: str) -> int:
    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    return 0 if found is None else len(client.search_runs([found.experiment_id]))


def _run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    return status, err.getvalue()


# -- the promotion rule's settings ------------------------------------------------------------------


def test_nan_promotion_tolerance_is_refused() -> None:
    with pytest.raises(ConfigError, match="promotion_tolerance"):
        decide_promotion(candidate_metric=0.9, champion_metric=0.8, tolerance=float("nan"))


def test_bad_promotion_tolerance_is_refused_before_a_version_is_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    with pytest.raises(ConfigError, match="promotion_tolerance"):
        _quiet_train(store.tx, customers=store.customers, tracking_uri=uri, promotion_tolerance=-1)
    assert _versions(uri, "loyalty_ml") == []


def test_reserved_alias_is_refused_before_a_version_is_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    with pytest.raises(LoyaltyMLError, match="latest"):
        _quiet_train(store.tx, customers=store.customers, tracking_uri=uri, alias="latest")
    assert _versions(uri, "loyalty_ml") == []


def test_cli_train_with_an_invalid_model_name_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store.tx.to_parquet(tmp_path / "tx.parquet")
    config = tmp_path / "train.json"
    config.write_text('{"churn_params": {"n_estimators": 20, "early_stopping_rounds": 5}}')
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    argv = ["train", "--transactions", str(tmp_path / "tx.parquet"), "--as-of", AS_OF]
    argv += ["--model-name", "bad/name", "--config", str(config), "--tracking-uri", uri]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status, err = _run_cli(argv)
    assert status == 1
    assert err.startswith("loyalty-ml train: error:") and "Traceback" not in err


# -- tracking URIs and active runs -------------------------------------------------------------------


def test_file_store_tracking_uri_fails_fast_with_a_tracking_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    import loyalty_ml.models.churn as churn_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)

    def no_training(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("trained before checking the tracking store")

    monkeypatch.setattr(churn_module.ChurnModel, "fit", no_training)
    with pytest.raises(TrackingError):
        _quiet_train(store.tx, customers=store.customers, tracking_uri=str(tmp_path / "mlruns"))


def test_load_policy_with_a_file_store_uri_is_a_tracking_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    with pytest.raises(TrackingError):
        load_policy("models:/loyalty_ml@champion", tracking_uri=str(tmp_path / "mlruns"))


def test_scoring_inside_an_active_run_nests_or_is_a_tracking_error(in_store: Store) -> None:
    mlflow.set_tracking_uri(in_store.uri)
    try:
        with mlflow.start_run(run_name="notebook") as outer:
            with contextlib.suppress(TrackingError):  # a clear refusal is acceptable
                score_customers(
                    in_store.tx,
                    as_of=SCORE_AS_OF,
                    customers=in_store.customers,
                    campaigns=in_store.campaigns,
                    tracking_uri=in_store.uri,
                )
            assert mlflow.active_run() is not None
            assert mlflow.active_run().info.run_id == outer.info.run_id
    finally:
        mlflow.set_tracking_uri(None)
        os.environ.pop("MLFLOW_TRACKING_URI", None)


# -- what a training run logs ------------------------------------------------------------------------


def test_training_run_logs_the_uplift_settings(store: Store) -> None:
    params = mlflow.MlflowClient(tracking_uri=store.uri).get_run(store.result.run_id).data.params
    uplift = {k: v for k, v in params.items() if k.startswith("uplift_")}
    assert uplift.get("uplift_n_estimators") == str(UPLIFT["n_estimators"]), sorted(params)
    assert uplift.get("uplift_learning_rate") == str(UPLIFT["learning_rate"])
    assert params.get("response_window_days") == str(RESPONSE_WINDOW)


def test_training_run_logs_a_cohort_retention_plot(store: Store) -> None:
    client = mlflow.MlflowClient(tracking_uri=store.uri)
    plots = [a.path for a in client.list_artifacts(store.result.run_id, "plots")]
    assert "plots/qini.png" in plots  # the run had campaigns and offers
    assert any("cohort" in path for path in plots), plots


# -- the command line --------------------------------------------------------------------------------


def test_cli_score_refuses_an_output_format_before_scoring(in_store: Store, tmp_path: Path) -> None:
    files = {}
    for name in ("transactions", "customers", "campaigns"):
        files[name] = tmp_path / f"{name}.parquet"
        getattr(in_store, "tx" if name == "transactions" else name).to_parquet(files[name])
    before = _n_runs(in_store.uri, "loyalty_ml_scoring")
    argv = ["score", "--as-of", SCORE_AS_OF]
    argv += [arg for name, path in files.items() for arg in (f"--{name}", str(path))]
    argv += ["--output", str(tmp_path / "scores.txt"), "--tracking-uri", in_store.uri]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status, err = _run_cli(argv)
    assert status == 1 and "unknown format" in err
    assert _n_runs(in_store.uri, "loyalty_ml_scoring") == before


# -- the input hash ----------------------------------------------------------------------------------


def test_hash_frame_handles_list_valued_columns() -> None:
    a = pd.DataFrame({"customer_id": [1, 2], "interests": [["shoes", "bags"], []]})
    b = a.assign(interests=[["shoes"], []])
    assert len(hash_frame(a)) == 64
    assert hash_frame(a) != hash_frame(b)
