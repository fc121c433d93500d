"""Audit: a cafe chain's till export, in the shape of the IBM/Maven "Coffee shop sample data".

The sample (a New York cafe chain, three outlets, April 2019) is read here only from tiny
synthetic frames of its shape, built from its public data dictionary (nothing is downloaded):

- ``sales_reciepts.csv`` (sic), one row per receipt line: ``transaction_id`` (restarts per outlet
  and day, so not unique alone), ``transaction_date`` (``'2019-04-01'``) and ``transaction_time``
  (``'07:06:11'``) in separate text columns, ``sales_outlet_id`` (3, 5, 8), ``staff_id``,
  ``customer_id`` (0 for a walk-in without a loyalty card, about 40% of the lines),
  ``instore_yn`` (``'Y'``, ``'N'`` or a blank), ``order``, ``line_item_id``, ``product_id``,
  ``quantity``, ``line_item_amount`` (the line's total), ``unit_price``, ``promo_item_yn``;
- ``customer.csv``: ``customer_id``, ``home_store``, ``customer_first-name`` (a full name),
  ``customer_email``, ``customer_since``, ``loyalty_card_number`` (``'908-424-2890'``),
  ``birthdate``, ``gender`` (M/F/N), ``birth_year``; ``generations.csv`` maps a birth year to a
  generation.

Found and fixed (kept as regression tests):

- the time column mapped as the timestamp (``'07:06:11'``, no date) was dated today by pandas,
  silently: a month of sales became one day in the year the code ran;
- ``fairness_report`` took a name, an e-mail, a card number or a birth date as an audited
  attribute and put each raw value in ``by_group`` as a group label (and a send log kept a
  ``customer_first-name`` column: only ``customer_name``-like names were read as a person's);
- ``loyalty-ml train`` had no way to set the boundaries that a month cannot show
  (``train_and_register(boundary_days=...)``): its ``--config`` refused the key;
- a ``generation`` (``generations.csv``: "Baby Boomers", "Gen X"), an age band by another name,
  became a feature when named in ``FeatureConfig.extra_attributes`` without the protected opt-in,
  and the jobs did not say that the fairness gate audits no such column;
- ``loyalty-ml report`` printed "KPIs for the last 90 days of the data, [2019-01-31,
  2019-05-01)" for a month of data, and its HTML named the same 90 days without a word.

Guards (right today): customer 0 warned about as a stand-in, with the fix; order ids that restart
per outlet and day warned about, with the fix; personal columns dropped by validate_customers and
absent from the MLflow run; a 90-day horizon on one month refused with the data's span.

Left as a design question: ``estimate_boundaries`` reads boundaries from a month without a word
(sleep 9 and churn 19 days on a stand-in whose customers never stop coming). Its churn crossing
lies at 0.84-0.92 of the return curve's last day on such data, 30 days to a year, but also on
Online Retail II's one year (0.86), whose boundaries ``test_warning_alarms_audit`` keeps quiet.
"""

from __future__ import annotations

import html
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning, SchemaError

OUTLETS = (3, 5, 8)


def _receipts(n_customers: int = 120, days: int = 30, seed: int = 0) -> pd.DataFrame:
    """Receipt lines of the sample's shape: ids per outlet and day, walk-ins as customer 0."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(1.0, 0.4, n_customers)  # visits a day
    rows = []
    for day in pd.date_range("2019-04-01", periods=days, freq="D"):
        members = np.flatnonzero(rng.random(n_customers) < np.minimum(rate, 0.95)) + 1
        who = np.concatenate([members, np.zeros(len(members) * 2 // 3, dtype=int)])  # 40% walk-ins
        rng.shuffle(who)
        outlet = rng.choice(OUTLETS, len(who))
        seconds = np.sort(rng.integers(7 * 3600, 20 * 3600, len(who)))
        for store in OUTLETS:
            here = outlet == store
            for receipt, (customer, s) in enumerate(
                zip(who[here], seconds[here], strict=True), start=1
            ):
                instore = rng.choice(["Y", "N", " "], p=[0.5, 0.47, 0.03])
                for line in range(1, int(rng.integers(1, 4)) + 1):
                    product = int(rng.integers(1, 21))
                    quantity = int(rng.integers(1, 3))
                    price = 2.0 + product * 0.15
                    rows.append(
                        {
                            "transaction_id": receipt,
                            "transaction_date": day.strftime("%Y-%m-%d"),
                            "transaction_time": f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}",
                            "sales_outlet_id": store,
                            "staff_id": int(rng.integers(1, 45)),
                            "customer_id": int(customer),
                            "instore_yn": instore,
                            "order": 1,
                            "line_item_id": line,
                            "product_id": product,
                            "quantity": quantity,
                            "line_item_amount": round(quantity * price, 2),
                            "unit_price": price,
                            "promo_item_yn": "Y" if rng.random() < 0.05 else "N",
                        }
                    )
    return pd.DataFrame(rows)


def _customers(n_customers: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    born = pd.Timestamp("1946-01-01") + pd.to_timedelta(
        rng.integers(0, 365 * 55, n_customers), unit="D"
    )
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1),
            "home_store": rng.choice(OUTLETS, n_customers),
            "customer_first-name": [f"Kelly Key{i}" for i in range(n_customers)],
            "customer_email": [f"kelly{i}@example.com" for i in range(n_customers)],
            "customer_since": "2017-01-04",
            "loyalty_card_number": [f"908-424-{2890 + i}" for i in range(n_customers)],
            "birthdate": born.strftime("%Y-%m-%d"),
            "gender": rng.choice(["M", "F", "N"], n_customers),
            "birth_year": born.year,
        }
    )


@pytest.fixture(scope="module")
def receipts() -> pd.DataFrame:
    return _receipts()


def _cafe_tx(receipts: pd.DataFrame) -> pd.DataFrame:
    """The README's way: date and time combined, receipts numbered per outlet and day, walk-ins
    dropped."""
    raw = receipts.assign(
        timestamp=receipts["transaction_date"] + " " + receipts["transaction_time"],
        order_id=receipts["sales_outlet_id"].astype(str)
        + "-"
        + receipts["transaction_date"]
        + "-"
        + receipts["transaction_id"].astype(str),
        customer_id=receipts["customer_id"].replace({0: None}),
    )
    return lml.validate_transactions(
        raw,
        columns=lml.ColumnMap(
            amount="line_item_amount",
            product_id="product_id",
            quantity="quantity",
            store_id="sales_outlet_id",
        ),
    )


# -- found and fixed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "times",
    [
        ["07:06:11", "07:08:40", "19:59:02"],  # the sample's transaction_time
        ["7:06 AM", "7:08 AM", "7:59 PM"],
        ["2019-04-01 07:06:11", "07:08:40", "2019-04-01 19:59:02"],  # one row lost its date
    ],
)
def test_a_time_of_day_without_a_date_is_refused_not_dated_today(times: list[str]) -> None:
    raw = pd.DataFrame({"customer_id": [1, 2, 3], "transaction_time": times, "amount": 2.5})
    with pytest.raises(SchemaError, match=r"timestamp holds a time of day without a date") as info:
        lml.validate_transactions(raw, columns=lml.ColumnMap(timestamp="transaction_time"))
    message = str(info.value)
    assert "07:08:40" in message or "7:06 AM" in message  # the values
    assert (
        "the day the code runs" in message and "+ ' ' +" in message
    )  # what pandas did, and the fix


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")  # customer 0
def test_the_time_column_of_the_receipts_is_refused(receipts: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="time of day without a date"):
        lml.validate_transactions(
            receipts,
            columns=lml.ColumnMap(timestamp="transaction_time", amount="line_item_amount"),
        )


def test_dates_that_are_today_still_validate() -> None:
    today = pd.Timestamp.now().normalize()
    raw = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": [str(today.date()), f"{today.date()} 07:06:11"],
            "amount": 2.5,
        }
    )
    tx = lml.validate_transactions(raw)
    assert tx["timestamp"].dt.normalize().eq(today).all()


@pytest.mark.parametrize(
    "column",
    ["customer_first-name", "customer_email", "loyalty_card_number", "birthdate", "birth_year"],
)
def test_fairness_refuses_personal_data_as_an_audited_attribute(column: str) -> None:
    people = _customers().set_index("customer_id")
    score = pd.Series(np.linspace(0.0, 1.0, len(people)), index=people.index)
    with pytest.raises(SchemaError, match=re.escape(f"['{column}']")) as info:
        lml.fairness_report(people[["gender", column]], y_score=score)
    message = str(info.value)
    assert "by_group" in message and "age_band" in message  # what it would do, and the fix
    assert "Kelly" not in message and "908-424" not in message  # the values are not repeated


def test_fairness_still_audits_an_area_by_its_zip_code() -> None:
    # Hillstrom's zip_code is Urban, Suburban or Rural: an area, a usual audit dimension, though
    # "zip" marks contact details in a send log; a street address stays refused
    n = 300
    ids = pd.Index(range(n), name="customer_id")
    areas = pd.DataFrame({"zip_code": np.resize(["Urban", "Surburban", "Rural"], n)}, index=ids)
    score = pd.Series(np.linspace(0.0, 1.0, n), index=ids)
    report = lml.fairness_report(areas, y_score=score)
    assert set(report.by_group.index.get_level_values("attribute")) == {"zip_code"}
    with pytest.raises(SchemaError, match=r"\['street_and_zip'\]"):
        lml.fairness_report(areas.rename(columns={"zip_code": "street_and_zip"}), y_score=score)


def test_fairness_audits_the_generation_and_home_store_of_the_sample() -> None:
    people = _customers().set_index("customer_id")
    generation = pd.cut(people["birth_year"], [1945, 1964, 1980, 1996, 2012], labels=False)
    score = pd.Series(np.linspace(0.0, 1.0, len(people)), index=people.index)
    sensitive = people[["gender", "home_store"]].assign(age_band=generation.astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # groups under 100 customers
        report = lml.fairness_report(sensitive, y_score=score)
    attributes = set(report.by_group.index.get_level_values("attribute"))
    assert attributes == {"gender", "home_store", "age_band"}


def test_a_send_log_with_the_customers_full_name_drops_it() -> None:
    sends = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["free_refill", "control"],
            "sent_at": ["2019-04-10", "2019-04-10"],
            "customer_first-name": ["Kelly Key", "Clark Schroeder"],
            "customer_segment_name": ["regulars", "regulars"],  # a thing's name stays
        }
    )
    with pytest.warns(DataQualityWarning, match=r"personal data \['customer_first-name'\]"):
        campaigns = lml.validate_campaigns(sends)
    assert "customer_first-name" not in campaigns.columns
    assert "customer_segment_name" in campaigns.columns


# -- guards ------------------------------------------------------------------------------------


def test_customer_zero_is_named_as_a_stand_in_with_the_fix(receipts: pd.DataFrame) -> None:
    with pytest.warns(DataQualityWarning, match=r"\[0\].*stand-ins.*replace\(\{0: None\}\)"):
        lml.validate_transactions(
            receipts,
            columns=lml.ColumnMap(timestamp="transaction_date", amount="line_item_amount"),
        )


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")  # customer 0
def test_receipt_numbers_that_restart_each_day_are_named_with_the_fix(
    receipts: pd.DataFrame,
) -> None:
    with pytest.warns(DataQualityWarning, match=r"more than a day apart.*store \+ date"):
        lml.validate_transactions(
            receipts.assign(when=receipts["transaction_date"] + " " + receipts["transaction_time"]),
            columns=lml.ColumnMap(
                timestamp="when", amount="line_item_amount", order_id="transaction_id"
            ),
        )


def test_a_month_with_a_90_day_horizon_is_refused_with_the_span(receipts: pd.DataFrame) -> None:
    tx = _cafe_tx(receipts)
    with pytest.raises(lml.exceptions.LeakageError, match=r"spans only 29 days"):
        lml.churn_labels(tx, as_of="2019-04-20", horizon_days=90)


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_the_jobs_on_the_cafe_shape_keep_personal_data_out_of_mlflow(
    receipts: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tx = _cafe_tx(receipts)
    raw_people = _customers()
    age = (pd.Timestamp("2019-04-01") - pd.to_datetime(raw_people["birthdate"])).dt.days / 365.25
    people = raw_people.assign(age_band=pd.cut(age, [0, 25, 35, 50, 65, 120]).astype(str))
    monkeypatch.chdir(tmp_path)  # the embedded store puts its artifacts here
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    result = lml.train_and_register(
        tx,
        as_of="2019-04-30",
        customers=people,  # as read: the jobs drop the personal columns themselves
        horizon_days=7,
        n_cutoffs=3,
        cutoff_spacing_days=5,
        boundary_days=(14, 28),
        tracking_uri=uri,
        churn_params={"n_estimators": 40},
    )
    scores = lml.score_customers(tx, as_of="2019-05-01", customers=people, tracking_uri=uri)
    assert 0 not in scores.index and len(scores) == tx["customer_id"].nunique()
    assert result.metrics["n_customers"] == tx["customer_id"].nunique()
    columns = ["customer_first-name", "customer_email", "loyalty_card_number", "birthdate"]
    personal = set(raw_people[columns].to_numpy().ravel()) | {"birth_year", "Kelly"}
    logged = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "mlflow.db"]
    assert any(p.name == "by_group.csv" for p in logged)  # the fairness gate's tables
    for path in logged:
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not [v for v in personal if v in text], path


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_the_command_line_takes_boundaries_of_its_own_from_the_config(
    receipts: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month cannot show the boundaries (estimate_boundaries reads them from the curve's end):
    the command line, like train_and_register(boundary_days=...), takes them from --config."""
    import json

    import mlflow

    from loyalty_ml.cli import main

    _cafe_tx(receipts).to_parquet(tmp_path / "cafe.parquet")
    config = {"cutoff_spacing_days": 5, "boundary_days": [14, 28]}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    args = ["train", "--transactions", "cafe.parquet", "--as-of", "2019-04-30"]
    args += ["--horizon-days", "7", "--n-cutoffs", "3", "--config", "config.json"]
    assert main([*args, "--tracking-uri", uri]) == 0
    runs = mlflow.MlflowClient(tracking_uri=uri).search_runs(
        [mlflow.MlflowClient(tracking_uri=uri).get_experiment_by_name("loyalty_ml").experiment_id]
    )
    assert runs[0].data.tags["boundaries"] == "given: sleep 14 days, churn 28 days"


def test_a_generation_is_an_age_band_and_no_feature_unless_asked() -> None:
    with pytest.raises(lml.exceptions.ConfigError, match=r"protected attributes \['generation'\]"):
        lml.FeatureConfig(extra_attributes=("home_store", "generation"))
    config = lml.FeatureConfig(extra_attributes=("generation",), protected_as_features=True)
    assert config.extra_attributes == ("generation",)
    assert not lml.FeatureConfig(extra_attributes=("product_generation",)).protected_as_features


def test_the_jobs_say_a_generation_is_not_audited_until_it_is_an_age_band() -> None:
    from loyalty_ml.tracking.train import _warn_unaudited_protected

    people = pd.DataFrame({"gender": ["M", "F"], "generation": ["Gen X", "Baby Boomers"]})
    with pytest.warns(DataQualityWarning, match=r"\['generation'\].*age_band"):
        _warn_unaudited_protected(people)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_unaudited_protected(people.assign(age_band=["35-50", "65+"]))


def test_the_report_says_a_month_of_data_covers_a_third_of_its_90_days(
    receipts: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from loyalty_ml.cli import main
    from loyalty_ml.reporting.report import report_period
    from loyalty_ml.reporting.sections import kpi_section

    tx = _cafe_tx(receipts)
    start, end, previous = report_period(tx, None, None)
    assert (start, end) == (pd.Timestamp("2019-01-31"), pd.Timestamp("2019-05-01"))
    section = kpi_section(tx, period_start=start, period_end=end, previous_start=previous)
    said = "The data starts on 2019-04-01: it covers 30 of the period's 90 days"
    assert any(said in note for note in section.notes)
    tx.to_parquet(tmp_path / "cafe.parquet")
    assert main(["report", str(tmp_path / "cafe.parquet"), "--output", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "[2019-01-31, 2019-05-01): the data starts on 2019-04-01, 30 of its 90 days" in printed
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert html.escape(said) in page  # the HTML report says it too
