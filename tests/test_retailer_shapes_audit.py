"""Audit on retailer shapes the simulator and Online Retail II do not have.

A cafe chain (card ids with leading zeros, zoned or epoch timestamps), a supermarket (basket lines
without a basket id), an online shop (CSV round trips, a customers table), a store closure and an
extract that ends before the training date. Regression tests: each asserts the behaviour a user
needs where those runs found a defect (a silent wrong answer, a raw error or a misleading fix).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

import loyalty_ml as lml
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, LoyaltyMLError, SchemaError

CHURN = {"n_estimators": 10, "early_stopping_rounds": 3}


def _shop(n_customers: int = 120, days: int = 200, seed: int = 0) -> pd.DataFrame:
    """Canonical raw transactions from 2024-01-01 on, one row per order, text ids ``000000``."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for c in range(n_customers):
        for day in np.sort(rng.integers(0, days, int(rng.integers(1, 12)))):
            when = start + pd.Timedelta(days=int(day), hours=int(rng.integers(8, 20)))
            rows.append((f"{c:06d}", when, round(float(rng.gamma(2, 5)), 2)))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


# -- schema ---------------------------------------------------------------------------------
def test_epoch_millisecond_timestamps_get_the_millisecond_fix() -> None:
    # a POS export: 1704096120000 is 2024-01-01 08:02 in epoch milliseconds
    seconds = np.array([1_704_096_120, 1_704_182_520, 1_704_268_920])
    raw = pd.DataFrame({"customer_id": ["0001", "0002", "0001"], "amount": [3.5, 2.2, 4.1]})
    with pytest.raises(SchemaError, match="epoch seconds"):  # seconds: the right fix already
        lml.validate_transactions(raw.assign(timestamp=seconds))
    # milliseconds read with unit='s' land in the year 55970 (pandas 3) or overflow (pandas 2)
    with pytest.raises(SchemaError, match=r"unit='ms'"):
        lml.validate_transactions(raw.assign(timestamp=seconds * 1000))


def test_unknown_timezone_is_a_config_error() -> None:
    raw = _shop(5)
    zoned = raw.assign(timestamp=raw["timestamp"].dt.tz_localize("Europe/Berlin"))
    assert len(lml.validate_transactions(zoned, timezone="Europe/Berlin")) == len(raw)
    with pytest.raises(ConfigError, match="timezone"):
        lml.validate_transactions(zoned, timezone="Europe/Berln")  # a typo in a job config


# -- the command line -----------------------------------------------------------------------
def test_cli_reads_whole_float_ids_of_a_csv_as_the_integers(tmp_path: Path) -> None:
    from loyalty_ml.cli.io import read_inputs

    # an online shop's order export: one guest order makes pandas write every id as a float
    orders = pd.DataFrame(
        {
            "customer_id": [40000, 40001, None, 40000],
            "timestamp": ["2024-01-02", "2024-01-05", "2024-01-06", "2024-02-03"],
            "amount": [30.0, 12.5, 8.0, 22.0],
        }
    ).astype({"customer_id": "float64"})
    orders.to_csv(tmp_path / "tx.csv", index=False)
    assert "40000.0" in (tmp_path / "tx.csv").read_text()
    pd.DataFrame({"customer_id": [40000, 40001], "consent_profiling": ["Y", "N"]}).to_csv(
        tmp_path / "customers.csv", index=False
    )
    tables = read_inputs(
        argparse.Namespace(transactions=tmp_path / "tx.csv", customers=tmp_path / "customers.csv")
    )
    tx, customers = tables["transactions"], tables["customers"]
    assert tx is not None and customers is not None
    # the same customers in both files, as validate_transactions reads float ids in Python
    assert sorted(str(i) for i in tx["customer_id"].unique()) == ["40000", "40001"]
    assert set(map(str, tx["customer_id"])) <= set(map(str, customers.index))


# -- KPIs -----------------------------------------------------------------------------------
@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_kpi_orders_of_line_level_data_without_order_id_are_baskets() -> None:
    # a supermarket export: one row per basket line, no basket id; lines of a basket share the
    # customer and the checkout time
    checkout = pd.to_datetime(["2024-03-01 10:00", "2024-03-08 10:05", "2024-03-02 18:30"])
    raw = pd.DataFrame(
        {
            "customer_id": ["LC1"] * 5 + ["LC2"] * 3,
            "timestamp": checkout[[0, 0, 0, 1, 1, 2, 2, 2]],
            "product_id": ["milk", "bread", "eggs", "milk", "jam", "tea", "milk", "rice"],
            "amount": [1.2, 2.5, 3.1, 1.2, 4.0, 3.3, 1.2, 2.9],
        }
    )
    tx = lml.validate_transactions(raw)
    features = lml.build_features(tx, as_of="2024-04-01")
    assert features["n_orders"].sum() == 3  # the feature tables see three baskets
    kpis = lml.kpis.summary(tx, period_start="2024-03-01", period_end="2024-04-01")
    assert kpis["orders"] == 3
    assert kpis["aov"] == pytest.approx(tx["amount"].sum() / 3)
    assert kpis["repeat_purchase_rate"] == pytest.approx(0.5)  # LC2 came once


# -- the training job -----------------------------------------------------------------------
def _train(tx: pd.DataFrame, folder: Path, **kwargs: object) -> object:
    return lml.train_and_register(
        tx,
        tracking_uri=f"sqlite:///{(folder / 'mlflow.db').as_posix()}",
        model_name="audit",
        churn_params=CHURN,
        **kwargs,
    )


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_training_after_the_end_of_the_extract_is_refused_or_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow's artifacts go to the working folder
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tx = lml.validate_transactions(_shop(100))
    last = pd.Timestamp(tx["timestamp"].max())
    assert last.date() == pd.Timestamp("2024-07-18").date()
    # churn_labels refuses the backtest cutoff's labels as censored...
    with pytest.raises(lml.LeakageError, match="censored"):
        lml.churn_labels(tx, as_of="2024-07-17", horizon_days=60)
    # ...and the job, whose last cutoff is that date, should not learn from them either. (Left
    # alone it goes on to log the run and register the model as @champion: stopped here where the
    # MLflow run would start, once everything has been trained, to keep the test fast.)
    import mlflow

    class _ReachedLoggingError(Exception):
        pass

    def stop(*args: object, **kwargs: object) -> None:
        raise _ReachedLoggingError

    monkeypatch.setattr(mlflow, "start_run", stop)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _train(tx, tmp_path, as_of="2024-09-15", horizon_days=60)
        except LoyaltyMLError as exc:
            said = str(exc)
        except _ReachedLoggingError:
            said = " ".join(
                str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)
            )
    assert "2024-07-18" in said, said  # the end of the data, named


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_a_store_closure_over_the_backtest_horizon_names_the_cutoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    raw = _shop(150, days=400)
    closed = (raw["timestamp"] >= "2024-08-01") & (raw["timestamp"] < "2024-09-20")
    # seven weeks of store closure, named where the data comes in
    with pytest.warns(
        DataQualityWarning, match="no transactions at all from 2024-08-01 to 2024-09-19"
    ):
        tx = lml.validate_transactions(raw.loc[~closed])
    # the backtest cutoff is as_of - 30 days = 2024-08-02: nobody could buy in its horizon
    with (
        pytest.warns(DataQualityWarning, match="every customer is labelled churned at 2024-08-02"),
        pytest.warns(DataQualityWarning, match="horizon_days=30 is shorter"),  # buys ~every 36 days
        pytest.warns(DataQualityWarning, match="end on 2024-07-31"),  # the closure, seen as an end
        # and as days with no purchase before the job's as_of, where the labels of both cut-offs end
        pytest.warns(DataQualityWarning, match=r"2024-07-03, 2024-08-02 overlaps days with no"),
        pytest.raises(LoyaltyMLError) as info,
    ):
        _train(tx, tmp_path, as_of="2024-09-01", horizon_days=30)
    message = str(info.value)
    assert message.startswith("train_and_register"), message
    assert "2024-08-02" in message, message


# -- the HTML report ------------------------------------------------------------------------
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_report_does_not_pass_training_rows_off_as_out_of_time_quality(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import loyalty_ml.tracking.registry as registry
    from loyalty_ml.cli import main
    from loyalty_ml.features import FeatureConfig
    from loyalty_ml.tracking.policy import LoyaltyPolicy

    monkeypatch.chdir(tmp_path)
    tx = lml.validate_transactions(_shop(150))
    horizon = 30
    # what train_and_register(as_of=2024-07-20, horizon_days=30) fits: cutoffs up to 2024-06-20
    cutoffs = ["2024-04-21", "2024-05-21", "2024-06-20"]
    X, y = lml.training_table(
        tx, cutoffs=cutoffs, horizon_days=horizon, observation_end="2024-07-20"
    )
    churn = lml.ChurnModel(random_state=0, n_estimators=10, early_stopping_rounds=3).fit(X, y)
    policy = LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=tuple(str(c) for c in X.columns),
        churn_model=churn,
        training_summary={"as_of": "2024-07-20", "horizon_days": horizon, "cutoffs": cutoffs},
    )
    monkeypatch.setattr(registry, "load_policy", lambda uri, *, tracking_uri: (policy, "1"))
    tx.to_parquet(tmp_path / "tx.parquet")  # the extract the model was trained on
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main(
            [
                "report",
                str(tmp_path / "tx.parquet"),
                "--model-uri",
                "models:/audit@champion",
                "--tracking-uri",
                f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}",
                "--out",
                str(tmp_path / "report"),
            ]
        )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "judged on" in captured.out and "as of 2024-06-18" in captured.out
    # the evaluation cutoff is before the training date: the reader must be told (on the
    # terminal, in a warning or in the report itself)
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    told = captured.out + captured.err + " ".join(str(w.message) for w in caught) + html
    assert "2024-07-20" in told, told
