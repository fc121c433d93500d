"""Day-one usage audit: the README / DESIGN / docstring examples, then what a user does next.

Ten tests were confirmed defects, now fixed: the CLI report refused the README's own command (CSV
customers or campaigns with text ids next to Parquet transactions), failed for a model trained with
campaigns when none were given, and a small campaign's uplift@30% stopped the whole report;
tune_churn_model's recipe passed floats; threshold_for_precision paired Series by position;
segment_migration matched row numbers or gave pandas errors on a training table; a dict as
``columns`` and an array with category values gave raw errors. The rest guard what the audit found
correct.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

import loyalty_ml as lml
from loyalty_ml.exceptions import LoyaltyMLError

pytestmark = pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online_retail_ii" / "online_retail_ii_2009_2010.parquet"


# -- shared small inputs -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shop() -> Any:
    """A small shop (400 simulated customers), validated as the README does."""
    data = lml.datasets.simulate(n_customers=400, start="2023-01-01", end="2024-12-31", seed=3)
    tx = lml.validate_transactions(data.transactions)
    return data, tx


@dataclass
class CliRegistry:
    folder: Path
    uri: str
    files: dict[str, Path]


@pytest.fixture(scope="module")
def cli_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliRegistry]:
    """A champion trained as the README trains it (customers, campaigns, offers), on 300 customers,
    and the simulator's tables written as the Parquet and CSV files the command line reads.

    Trained on 2024-09-01 so that the report's quality cutoff (90 days before the data's end) is
    after the training date: no in-sample warning.
    """
    folder = tmp_path_factory.mktemp("usage_cli")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = lml.datasets.simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=1)
    files = {
        "tx.parquet": folder / "tx.parquet",
        "customers.parquet": folder / "customers.parquet",
        "customers.csv": folder / "customers.csv",
        "campaigns.parquet": folder / "campaigns.parquet",
        "campaigns.csv": folder / "campaigns.csv",
        "offers.parquet": folder / "offers.parquet",
    }
    data.transactions.to_parquet(files["tx.parquet"], index=False)
    data.customers.to_parquet(files["customers.parquet"], index=False)
    data.customers.to_csv(files["customers.csv"], index=False)
    data.campaigns.to_parquet(files["campaigns.parquet"], index=False)
    data.campaigns.to_csv(files["campaigns.csv"], index=False)
    data.offers.to_parquet(files["offers.parquet"], index=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # MLflow puts artifacts of the embedded store in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lml.train_and_register(
                data.transactions,
                as_of="2024-09-01",
                customers=data.customers,
                campaigns=data.campaigns,
                offers=data.offers,
                tracking_uri=uri,
                churn_params={"n_estimators": 30, "early_stopping_rounds": 5},
                uplift_params={"n_estimators": 10},
            )
        yield CliRegistry(folder, uri, files)


def _report(reg: CliRegistry, out: str, *args: str, model: bool = True) -> int:
    from loyalty_ml.cli import main

    model_args = ["--model-uri", "models:/loyalty_ml@champion", "--tracking-uri", reg.uri]
    argv = ["report", str(reg.files["tx.parquet"]), *args, "--out", str(reg.folder / out)]
    return main(argv + (model_args if model else []))


# -- the command line ----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:fairness_report could not judge:loyalty_ml.exceptions.DataQualityWarning"
)
def test_cli_report_with_every_table_as_parquet_works(cli_registry: CliRegistry) -> None:
    """Guard: the report with the model, customers, campaigns and offers, all Parquet."""
    f = cli_registry.files
    status = _report(
        cli_registry,
        "all_parquet",
        "--customers", str(f["customers.parquet"]),
        "--campaigns", str(f["campaigns.parquet"]),
        "--offers", str(f["offers.parquet"]),
    )  # fmt: skip
    assert status == 0
    assert (cli_registry.folder / "all_parquet" / "report.html").exists()


@pytest.mark.slow
def test_cli_score_accepts_parquet_transactions_with_csv_customers(
    cli_registry: CliRegistry,
) -> None:
    """Guard: `score` aligns text ids of CSV files with the integer ids of a Parquet file."""
    from loyalty_ml.cli import main

    f = cli_registry.files
    out = cli_registry.folder / "scores.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lml.DriftWarning)  # 300 customers, months after training
        status = _score(main, f, out, cli_registry.uri)
    assert status == 0
    assert len(pd.read_csv(out)) == 300


def _score(main: Any, f: dict[str, Path], out: Path, uri: str) -> int:
    return main(
        [
            "score",
            "--transactions", str(f["tx.parquet"]),
            "--customers", str(f["customers.csv"]),
            "--campaigns", str(f["campaigns.csv"]),
            "--as-of", "2025-01-01",
            "--output", str(out),
            "--no-log-run",
            "--tracking-uri", uri,
        ]
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:fairness_report could not judge:loyalty_ml.exceptions.DataQualityWarning"
)
def test_cli_report_readme_command_parquet_transactions_csv_customers(
    cli_registry: CliRegistry,
) -> None:
    f = cli_registry.files
    status = _report(
        cli_registry,
        "csv_customers",
        "--customers", str(f["customers.csv"]),
        "--campaigns", str(f["campaigns.parquet"]),
        "--offers", str(f["offers.parquet"]),
    )  # fmt: skip
    assert status == 0


@pytest.mark.slow
def test_cli_report_parquet_transactions_csv_campaigns(cli_registry: CliRegistry) -> None:
    f = cli_registry.files
    status = _report(
        cli_registry,
        "csv_campaigns",
        "--campaigns", str(f["campaigns.csv"]),
        "--offers", str(f["offers.parquet"]),
        model=False,
    )  # fmt: skip
    assert status == 0


@pytest.mark.slow
def test_cli_report_model_quality_without_campaigns(cli_registry: CliRegistry) -> None:
    f = cli_registry.files
    with warnings.catch_warnings():
        # score_customers' documented warning for a model trained with campaigns, scored without
        warnings.simplefilter("ignore", lml.DataQualityWarning)
        status = _report(cli_registry, "no_campaigns", "--customers", str(f["customers.parquet"]))
    assert status == 0


# -- the report on a small shop ------------------------------------------------------------------
def test_write_report_uplift_section_on_a_small_campaign(tmp_path: Path) -> None:
    data = lml.datasets.simulate(n_customers=300, seed=2)
    tx = lml.validate_transactions(data.transactions)
    campaigns = lml.validate_campaigns(data.campaigns, offers=data.offers)
    customers = lml.validate_customers(data.customers)
    X_exp, y_exp, t_exp = lml.experiment_table(
        tx, campaigns, window_days=30, customers=customers.reset_index()
    )
    uplift = lml.UpliftModel(random_state=0).fit(X_exp, y_exp, treatment=t_exp)
    path = lml.write_report(
        tx, tmp_path, customers=customers, campaigns=campaigns, offers=data.offers, uplift=uplift
    )
    assert path.exists()


# -- docstring recipes ---------------------------------------------------------------------------
def test_tune_churn_model_docstring_recipe(shop: Any) -> None:
    _, tx = shop
    X, y = lml.training_table(
        tx, cutoffs=pd.date_range("2024-01-01", periods=6, freq="MS"), horizon_days=30
    )
    table = lml.tune_churn_model(
        X, y, param_grid={"num_leaves": [7, 15]}, horizon_days=30, n_splits=2
    )
    # the docstring's recipe, as written (table.iloc[0] upcast the int parameters to float)
    best = table[["num_leaves"]].head(1).to_dict("records")[0]
    lml.ChurnModel(random_state=0, **best).fit(X, y)  # type: ignore[arg-type]


# -- alignment of id-indexed inputs --------------------------------------------------------------
def test_threshold_for_precision_aligns_series_on_customer_id() -> None:
    ids = pd.Index([10, 11, 12, 13, 14, 15], name="customer_id")
    y = pd.Series([1, 1, 0, 1, 0, 0], index=ids)
    p = pd.Series([0.9, 0.8, 0.7, 0.6, 0.2, 0.1], index=ids)
    aligned = lml.threshold_for_precision(y, p, 0.75)
    try:
        shuffled = lml.threshold_for_precision(y, p.iloc[::-1], 0.75)
    except LoyaltyMLError as exc:  # refusing misaligned Series is acceptable too
        if "index" not in str(exc):
            raise
        return
    assert shuffled == aligned


def test_evaluate_churn_aligns_series_on_customer_id(shop: Any) -> None:
    """Guard: the sibling metric aligns Series by customer id."""
    _, tx = shop
    y = lml.churn_labels(tx, as_of="2024-07-01", horizon_days=90)
    p = pd.Series(np.linspace(0, 1, len(y)), index=y.index)
    assert lml.evaluate_churn(y, p.iloc[::-1]).roc_auc == lml.evaluate_churn(y, p).roc_auc


def test_segment_migration_refuses_row_number_index(shop: Any) -> None:
    _, tx = shop
    then = lml.build_features(tx, as_of="2024-01-01")
    now = lml.build_features(tx, as_of="2024-07-01")
    expected = lml.segment_migration(then, now)
    try:
        got = lml.segment_migration(then.reset_index(), now.reset_index())
    except LoyaltyMLError:
        return
    pd.testing.assert_frame_equal(got, expected)


def test_segment_migration_with_a_training_table_raises_library_error(shop: Any) -> None:
    _, tx = shop
    X_train, _ = lml.training_table(tx, cutoffs=["2024-01-01", "2024-02-01"], horizon_days=30)
    now = lml.build_features(tx, as_of="2024-07-01")
    with pytest.raises(LoyaltyMLError):
        lml.segment_migration(X_train, now)


# -- raw errors instead of the library's own -----------------------------------------------------
def test_validate_transactions_with_a_dict_as_columns_raises_library_error() -> None:
    raw = pd.DataFrame(
        {"Customer ID": [1, 2], "timestamp": ["2024-01-02", "2024-01-03"], "amount": [1.0, 2.0]}
    )
    with pytest.raises(LoyaltyMLError):
        lml.validate_transactions(raw, columns={"Customer ID": "customer_id"})  # type: ignore[call-overload]


def test_churn_predict_on_ndarray_with_categories_raises_library_error(shop: Any) -> None:
    data, tx = shop
    people = lml.validate_customers(data.customers).reset_index()
    X_train, y_train = lml.training_table(
        tx,
        cutoffs=pd.date_range(end="2024-04-01", periods=3, freq="30D"),
        horizon_days=90,
        customers=people,
    )
    model = lml.ChurnModel(random_state=0, n_estimators=20).fit(X_train, y_train)
    X = lml.build_features(tx, as_of="2024-07-01", customers=people)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn: X has no feature names
        with pytest.raises(LoyaltyMLError):
            model.predict_proba(X.to_numpy())


# -- guards: what the audit found correct --------------------------------------------------------
def test_build_features_ignores_row_order_and_extra_columns(shop: Any) -> None:
    data, tx = shop
    campaigns = lml.validate_campaigns(data.campaigns, offers=data.offers)
    people = lml.validate_customers(data.customers).reset_index()
    expected = lml.build_features(tx, as_of="2024-07-01", customers=people, campaigns=campaigns)
    messy = tx.sample(frac=1, random_state=0).reset_index(drop=True).assign(Country="UK", note="x")
    got = lml.build_features(
        messy,
        as_of="2024-07-01",
        customers=people.sample(frac=1, random_state=1).assign(email="a@b.c"),
        campaigns=campaigns.sample(frac=1, random_state=2).assign(utm="x"),
    )
    pd.testing.assert_frame_equal(got.loc[expected.index], expected)


def test_text_customer_ids_flow_through_features_model_and_plan(shop: Any) -> None:
    data, _ = shop

    def text(s: pd.Series) -> pd.Series:
        return "C" + s.astype(str).str.zfill(5)

    tx = lml.validate_transactions(
        data.transactions.assign(customer_id=text(data.transactions.customer_id))
    )
    campaigns = lml.validate_campaigns(
        data.campaigns.assign(customer_id=text(data.campaigns.customer_id)), offers=data.offers
    )
    customers = lml.validate_customers(
        data.customers.assign(customer_id=text(data.customers.customer_id))
    )
    people = customers.reset_index()
    X = lml.build_features(tx, as_of="2024-07-01", customers=people, campaigns=campaigns)
    assert X.index.name == "customer_id" and X.index[0].startswith("C")
    X_exp, y_exp, t_exp = lml.experiment_table(tx, campaigns, window_days=30, customers=people)
    uplift = lml.UpliftModel(random_state=0, n_estimators=20).fit(X_exp, y_exp, treatment=t_exp)
    plan = lml.choose_offers(
        uplift.predict_effects(X),
        lml.OfferCatalog.from_frame(data.offers),
        baseline=uplift.predict_baseline(X),
        value_per_conversion=12.0,
        holdout_fraction=0.1,
        consent=customers["consent_marketing"],
        random_state=0,
    )
    assert plan.index.equals(X.index)


def test_choose_offers_refuses_consent_with_other_id_type(shop: Any) -> None:
    data, tx = shop
    campaigns = lml.validate_campaigns(data.campaigns, offers=data.offers)
    customers = lml.validate_customers(data.customers)
    X = lml.build_features(tx, as_of="2024-07-01", campaigns=campaigns)
    X_exp, y_exp, t_exp = lml.experiment_table(tx, campaigns, window_days=30)
    uplift = lml.UpliftModel(random_state=0, n_estimators=20).fit(X_exp, y_exp, treatment=t_exp)
    consent = customers["consent_marketing"].set_axis(customers.index.astype(str))
    with pytest.raises(lml.DataError, match="types differ"):
        lml.choose_offers(
            uplift.predict_effects(X),
            lml.OfferCatalog.from_frame(data.offers),
            baseline=uplift.predict_baseline(X),
            value_per_conversion=12.0,
            consent=consent,
        )


@pytest.mark.realdata
def test_online_retail_features_at_another_cutoff_with_text_ids() -> None:
    if not ONLINE_RETAIL.exists():
        pytest.skip(f"real data not found at {ONLINE_RETAIL} (../shared/data is absent)")
    tx = lml.datasets.load_online_retail_ii(ONLINE_RETAIL)
    X = lml.build_features(tx, as_of="2010-06-01")
    text = lml.validate_transactions(tx.assign(customer_id="id" + tx.customer_id.astype(str)))
    X_text = lml.build_features(text, as_of="2010-06-01")
    assert X.index.name == X_text.index.name == "customer_id"
    assert len(X) == len(X_text) > 0
    np.testing.assert_allclose(
        X_text["spend"].to_numpy(),
        X.set_axis("id" + X.index.astype(str)).loc[X_text.index, "spend"],
    )
