"""Regression tests for defects found by running the library end to end on messy retail exports.

A cafe chain's CSV export, a supermarket's Parquet tables, an online shop with three months of
history: each test is one defect those runs hit (all failed before their fix).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.cli import read_table
from loyalty_ml.exceptions import DataError, SchemaError

MLFLOW_IMPORT_WARNING = "ignore:.*Any type hint is inferred as AnyType:UserWarning"


def _shop(n_customers: int = 240, seed: int = 0) -> pd.DataFrame:
    """A year of canonical transactions of ``n_customers`` text ids with leading zeros."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-01-01")
    for c in range(n_customers):
        n = int(rng.integers(1, 15))
        for day in np.sort(rng.integers(0, 360, n)):
            rows.append((f"{c:06d}", start + pd.Timedelta(days=int(day)), float(rng.gamma(2, 5))))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
def test_train_and_register_refuses_campaign_offers_missing_from_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tx = lml.validate_transactions(_shop())
    ids = tx["customer_id"].unique()
    # the campaign export writes '10off ' where the catalog says '10OFF': the blank is dropped by
    # validation, the case is not guessed
    raw_campaigns = pd.DataFrame(
        {
            "customer_id": ids,
            "offer_id": np.where(np.arange(len(ids)) % 2 == 0, "control", "10off "),
            "sent_at": "2024-09-01",
        }
    )
    campaigns = lml.validate_campaigns(raw_campaigns)  # no offers= given: passes
    assert set(campaigns["offer_id"]) == {"control", "10off"}
    offers = pd.DataFrame({"offer_id": ["10OFF"], "cost_per_redemption": [10.0]})
    with pytest.raises(
        SchemaError, match=r"Close matches \(case or blanks differ\): '10off' -> '10OFF'"
    ):
        lml.validate_campaigns(raw_campaigns, offers=offers)
    # refused before anything is logged or registered, instead of a champion that cannot score
    with pytest.raises(
        DataError, match=r"not in the offers catalog: \['10off'\].*'10off' -> '10OFF'"
    ):
        lml.train_and_register(
            tx,
            as_of="2024-12-15",
            campaigns=campaigns,
            offers=offers,
            model_name="messy_offers",
            tracking_uri=f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}",
            churn_params={"n_estimators": 20, "early_stopping_rounds": 5},
        )
    assert not (tmp_path / "mlflow.db").exists()


def test_custom_control_label_is_not_counted_as_an_offer() -> None:
    tx = lml.validate_transactions(_shop(40))
    ids = tx["customer_id"].unique()
    raw = pd.DataFrame(
        {
            "customer_id": ids,
            "offer_id": np.where(np.arange(len(ids)) % 2 == 0, "Holdout", "D5"),
            "sent_at": "2024-06-01",
        }
    )
    offers = pd.DataFrame({"offer_id": ["D5"], "cost_per_redemption": [5.0]})
    campaigns = lml.validate_campaigns(raw, offers=offers, control="Holdout")
    assert set(campaigns["offer_id"]) == {"control", "D5"}  # the label every later step knows
    X = lml.build_features(tx, as_of="2024-12-01", campaigns=campaigns)
    held_out = pd.Index(ids[::2]).intersection(X.index)
    assert (X.loc[held_out, "offers_received"] == 0).all()
    assert (X.loc[X.index.difference(held_out), "offers_received"] == 1).all()
    # a table with both labels is ambiguous; a row without an offer id is refused
    both = raw.assign(offer_id=np.where(np.arange(len(raw)) < 3, "control", raw["offer_id"]))
    with pytest.raises(SchemaError, match="both the control label 'Holdout' and 'control'"):
        lml.validate_campaigns(both, control="Holdout")
    with pytest.raises(SchemaError, match="offer_id is missing on 1 rows"):
        lml.validate_campaigns(raw.assign(offer_id=["  ", *raw["offer_id"].iloc[1:]]))


def test_cli_keeps_leading_zeros_of_customer_ids(tmp_path: Path) -> None:
    from loyalty_ml.cli.io import read_inputs

    path = tmp_path / "tx.csv"
    pd.DataFrame(
        {
            "customer_id": ["000123", "000123", "004560"],
            "timestamp": ["2024-01-02", "2024-02-03", "2024-01-05"],
            "amount": [3.5, 4.0, 2.2],
        }
    ).to_csv(path, index=False)
    tables = read_inputs(argparse.Namespace(transactions=path))
    assert sorted(tables["transactions"]["customer_id"].unique()) == ["000123", "004560"]


def test_cli_shows_the_rows_cleaning_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from loyalty_ml.cli import main

    raw = _shop(60)
    raw.loc[::7, "customer_id"] = np.nan  # guest checkouts
    raw.loc[::11, "amount"] = -raw.loc[::11, "amount"]  # refunds
    path = tmp_path / "tx.csv"
    raw.to_csv(path, index=False)
    assert main(["report", str(path), "--out", str(tmp_path / "report")]) == 0
    captured = capsys.readouterr()
    assert "missing_customer" in captured.out + captured.err


def test_unhashable_extra_column_is_not_a_bare_type_error() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a"],
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": [1.0, 2.0, 3.0],
            "tags": [["promo"], [], ["app", "promo"]],
        }
    )
    assert len(lml.validate_transactions(raw)) == 3


def test_blank_consent_is_a_missing_flag() -> None:
    raw = pd.DataFrame({"customer_id": ["1", "2", "3"], "consent_marketing": ["Y", "", " "]})
    out = lml.validate_customers(raw)
    assert out["consent_marketing"].tolist() == [True, False, False]


def test_one_column_map_serves_transactions_and_offers() -> None:
    columns = lml.ColumnMap(
        customer_id="Customer",
        timestamp="Created At",
        amount="Total",
        channel="Source",
        offer_id="Offer Code",
        cost_per_redemption="Cost",
    )
    tx = pd.DataFrame(
        {"Customer": ["a"], "Created At": ["2024-01-01"], "Total": [5.0], "Source": ["web"]}
    )
    assert len(lml.validate_transactions(tx, columns=columns)) == 1
    offers = lml.validate_offers(
        pd.DataFrame({"Offer Code": ["D5"], "Cost": [5.0]}), columns=columns
    )
    assert offers.index.tolist() == ["D5"]


def test_decimal_comma_amounts_get_a_decimal_comma_hint() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": ["1", "2"],
            "timestamp": ["2024-01-01", "2024-01-02"],
            "amount": ["3,50", "12,00"],
        }
    )
    with pytest.raises(SchemaError, match="decimal"):
        lml.validate_transactions(raw)


def test_campaign_dtype_error_points_to_validate_campaigns() -> None:
    tx = lml.validate_transactions(_shop(10))
    campaigns = pd.DataFrame(
        {"customer_id": [tx["customer_id"].iloc[0]], "offer_id": ["D5"], "sent_at": ["2024-06-01"]}
    )
    with pytest.raises(SchemaError, match="validate_campaigns"):
        lml.build_features(tx, as_of="2024-12-01", campaigns=campaigns)


def test_ambiguous_day_month_dates_warn() -> None:
    def read(dates: list[str]) -> pd.Series:
        raw = pd.DataFrame({"customer_id": ["1"] * len(dates), "timestamp": dates, "amount": 1.0})
        return lml.validate_transactions(raw)["timestamp"]

    # nothing past the 12th: read month-first, and said so
    with pytest.warns(lml.DataQualityWarning, match="ambiguous .* read month-first"):
        dates = read(["01/03/2024", "02/03/2024", "05/04/2024"])
    assert dates.dt.month.tolist() == [1, 2, 5]
    # one day past the 12th settles it (either way); ISO dates and same day/month are not ambiguous
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read(["01/03/2024", "13/03/2024"]).dt.month.tolist() == [3, 3]
        assert read(["03/01/2024", "03/25/2024"]).dt.month.tolist() == [3, 3]
        read(["2024-01-03", "2024-02-03"])
        read(["01/01/2024", "02/02/2024"])


def test_excel_serial_dates_get_the_excel_fix() -> None:
    raw = pd.DataFrame({"customer_id": ["1", "2"], "timestamp": [45292.5, 45300.0], "amount": 1.0})
    with pytest.raises(SchemaError, match=r"Excel serial dates .* unit='D', origin='1899-12-30'"):
        lml.validate_transactions(raw)
    epoch = raw.assign(timestamp=[1_704_067_200, 1_704_153_600])
    with pytest.raises(SchemaError, match="epoch seconds"):
        lml.validate_transactions(epoch)


def test_censored_labels_on_data_shorter_than_the_horizon_suggest_what_can_work() -> None:
    from loyalty_ml.exceptions import LeakageError

    raw = pd.DataFrame(
        {
            "customer_id": ["1", "2"],
            "timestamp": ["2024-05-03 08:00", "2024-05-20 17:57"],
            "amount": [1.0, 2.0],
        }
    )
    tx = lml.validate_transactions(raw)
    # no as_of can work with a 30-day horizon on 17 days of data: say so, not "an earlier as_of"
    with pytest.raises(LeakageError, match=r"spans only 17 days .* use horizon_days < 17") as info:
        lml.churn_labels(tx, as_of="2024-05-10", horizon_days=30)
    assert "earlier as_of" not in str(info.value)
    with pytest.raises(LeakageError, match=r"Use an earlier as_of \(at most 2024-05-06 17:57:00\)"):
        lml.churn_labels(tx, as_of="2024-05-10", horizon_days=14)


def test_a_blank_first_line_does_not_hide_the_separator(tmp_path: Path) -> None:
    """pandas skips blank lines before the header; the separator is sniffed from that header too
    (it was read off the blank line as a comma: one column, 'customer_id;amount')."""
    path = tmp_path / "transactions.csv"
    for text in ("\n\ncustomer_id;amount\n017;2.5\n", "\ufeff\ncustomer_id;amount\n017;2.5\n"):
        path.write_text(text, encoding="utf-8")  # the second with a byte-order mark (Excel's)
        table = read_table(path, table="transactions")
        assert list(table.columns) == ["customer_id", "amount"]
        assert table["customer_id"].tolist() == ["017"]


def test_a_semicolon_file_with_decimal_commas_reads_its_numbers(tmp_path: Path) -> None:
    """A probe's find: a European spreadsheet's ';' file was read, but its '4,38' amounts were
    refused with a fix in Python, which a command-line user cannot apply."""
    path = tmp_path / "transactions.csv"
    text = (
        "customer_id;timestamp;amount\r\n"
        "017;01.07.2024 10:00:00;4,38\r\n"
        "018;02.07.2024 11:30:00;1.234,5\r\n"
        "018;03.07.2024 09:00:00;-2,00\r\n"
    )
    path.write_text("\ufeff" + text, encoding="utf-8", newline="")
    table = read_table(path, table="transactions")
    assert table["amount"].tolist() == [4.38, 1234.5, -2.0]
    assert table["customer_id"].tolist() == ["017", "018", "018"]
    assert table["timestamp"].tolist()[0] == "01.07.2024 10:00:00"  # dates are left to validation
    # a ';' file whose numbers use the decimal point keeps reading them so
    path.write_text("customer_id;amount;note\n017;4.38;a,b\n018;2,5;x\n", encoding="utf-8")
    assert read_table(path, table="transactions")["amount"].tolist() == ["4.38", "2,5"]


def _fixed_width(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a ``CHAR(16)`` column exports it: every offer id padded with blanks."""
    return frame.assign(offer_id=frame["offer_id"].astype(str).str.ljust(16))


def test_fixed_width_offer_ids_read_as_their_labels_without_validation() -> None:
    # a CHAR(16) export writes "control         ": compared as it is, the control rows counted
    # as offers received (the simulator's mean offers_received rose from 1.13 to 1.34)
    data = lml.datasets.simulate(n_customers=600, start="2023-01-01", end="2024-03-31", seed=3)
    tx = lml.validate_transactions(data.transactions)
    clean = data.campaigns
    padded = _fixed_width(clean)
    assert (padded["offer_id"] != clean["offer_id"]).all()
    as_of = pd.Timestamp("2024-01-15")
    pd.testing.assert_frame_equal(
        lml.build_features(tx, as_of=as_of, campaigns=padded),
        lml.build_features(tx, as_of=as_of, campaigns=clean),
    )
    for got, want in zip(
        lml.experiment_table(tx, padded, window_days=30),
        lml.experiment_table(tx, clean, window_days=30),
        strict=True,
    ):
        if isinstance(got, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want)
        else:
            pd.testing.assert_series_equal(got, want)
    closed = clean["sent_at"] < as_of
    pd.testing.assert_frame_equal(
        lml.kpis.measure_campaign(padded.loc[closed], tx, data.offers, window_days=30),
        lml.kpis.measure_campaign(clean.loc[closed], tx, data.offers, window_days=30),
    )
    # a blank offer id is a missing one, refused as validate_campaigns refuses it
    blank = padded.assign(offer_id=["   ", *padded["offer_id"].iloc[1:]])
    with pytest.raises(SchemaError, match="offer_id is missing on 1 rows"):
        lml.build_features(tx, as_of=as_of, campaigns=blank)


def test_strip_offer_ids_leaves_clean_and_numeric_ids_alone() -> None:
    from loyalty_ml.schema.tables import strip_offer_ids

    clean = pd.DataFrame({"offer_id": ["control", "D5"], "x": [1, 2]})
    assert strip_offer_ids(clean) is clean
    numbers = pd.DataFrame({"offer_id": [101, 102]})
    assert strip_offer_ids(numbers) is numbers
    mixed = pd.DataFrame({"offer_id": pd.Series([" D5", "control", None, 7], dtype=object)})
    got = strip_offer_ids(mixed)["offer_id"].tolist()
    assert got == ["D5", "control", None, 7]
    assert mixed["offer_id"].tolist()[0] == " D5"  # the caller's table is not changed
    categories = pd.DataFrame({"offer_id": pd.Categorical(["control ", "D5", "D5"])})
    assert strip_offer_ids(categories)["offer_id"].tolist() == ["control", "D5", "D5"]


def test_jobs_read_fixed_width_offer_ids_as_their_labels() -> None:
    # train_and_register and score_customers read the campaigns through check_job_tables: padded
    # ids would be offers missing from the catalog ('disc5           ') and control rows no control
    from loyalty_ml.tracking._inputs import check_job_tables

    data = lml.datasets.simulate(n_customers=300, start="2023-01-01", end="2023-12-31", seed=4)
    tx = lml.validate_transactions(data.transactions)
    _, campaigns = check_job_tables(tx, None, _fixed_width(data.campaigns), caller="test")
    assert campaigns is not None
    assert sorted(campaigns["offer_id"].unique()) == sorted(data.campaigns["offer_id"].unique())


@pytest.mark.parametrize("label", ["Control", "HOLDOUT", "hold-out", " No Offer ", "control_group"])
def test_a_control_group_under_another_label_is_pointed_out(label: str) -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "offer_id": [label, "D5", label, "D5"],
            "sent_at": "2024-06-01",
        }
    )
    with pytest.warns(lml.DataQualityWarning, match="read\\(s\\) like a control group") as caught:
        campaigns = lml.validate_campaigns(raw)
    assert f"Pass control={label.strip()!r}" in str(caught[0].message)
    assert "control" not in set(campaigns["offer_id"])  # warned, not guessed
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # named, it is the control group, quietly
        named = lml.validate_campaigns(raw, control=label.strip())
    assert set(named["offer_id"]) == {"control", "D5"}


def test_control_rows_present_mean_no_control_warning() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "offer_id": ["control", "Holdout", "D5"],
            "sent_at": "2024-06-01",
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lml.validate_campaigns(raw)  # the control group is labelled; "Holdout" is an offer here
        lml.validate_campaigns(raw.iloc[[0, 2]], control="Holdout")  # canonical rows, none named


def test_a_campaign_history_of_integer_and_text_ids_meets_text_transactions() -> None:
    # the warehouse starts writing ids as text: last month's history (integers) with tonight's
    # sends (text) appended by pd.concat. The integer rows met no customer, in silence: 187 of
    # 1,240 offers received counted on the simulator, and the offer model fitted on 1 campaign of 7
    data = lml.datasets.simulate(n_customers=500, start="2023-01-01", end="2024-06-30", seed=5)
    tx = lml.validate_transactions(data.transactions)
    as_text = tx.assign(customer_id=tx["customer_id"].astype(str))
    mixed = data.campaigns.astype({"customer_id": object})
    last = (mixed["campaign_id"] == mixed["campaign_id"].iloc[-1]).to_numpy()
    mixed.loc[last, "customer_id"] = mixed.loc[last, "customer_id"].astype(str)
    assert {type(v) for v in mixed["customer_id"]} == {int, str}
    as_of = pd.Timestamp("2024-07-01")
    want = lml.build_features(tx, as_of=as_of, campaigns=data.campaigns)
    got = lml.build_features(as_text, as_of=as_of, campaigns=mixed)
    assert got["offers_received"].sum() == want["offers_received"].sum() > 0
    X, y, t = lml.experiment_table(as_text, mixed, window_days=30)
    X0, y0, t0 = lml.experiment_table(tx, data.campaigns, window_days=30)
    assert len(X) == len(X0) and y.sum() == y0.sum()
    assert t.value_counts().to_dict() == t0.value_counts().to_dict()


def test_jobs_refuse_transactions_without_a_time() -> None:
    # a row without a timestamp is before no cutoff: 50 such rows left two customers out of the
    # scores and moved 20 others' by up to 0.5, without a word
    from loyalty_ml.tracking._inputs import check_job_tables

    data = lml.datasets.simulate(n_customers=200, start="2023-01-01", end="2023-12-31", seed=6)
    tx = lml.validate_transactions(data.transactions)
    tx.loc[tx.index[-3:], "timestamp"] = pd.NaT
    with pytest.raises(SchemaError, match=r"transactions.timestamp has missing timestamps at rows"):
        check_job_tables(tx, None, None, caller="score_customers")


def test_blank_channel_category_and_product_cells_are_missing() -> None:
    # an export's empty cells were values: breadth counted them ('' and ' ' as two categories),
    # and a blank channel, accepted by validation, was then refused by build_features
    base = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 2],
            "timestamp": pd.date_range("2024-01-01", periods=6, freq="7D"),
            "amount": 10.0,
            "order_id": list("abcdef"),
        }
    )
    tx = lml.validate_transactions(
        base.assign(
            category=["x", "", " ", None, "y", "x"],
            product_id=["p7", "p7", "", " ", "p7", "p8"],
            channel=["web", "", " ", None, "app", "web"],
        )
    )
    assert tx[["category", "product_id", "channel"]].isna().sum().tolist() == [3, 2, 3]
    X = lml.build_features(tx, as_of="2024-03-01")
    assert X["n_categories"].tolist() == [1.0, 2.0]
    assert X["n_products"].tolist() == [1.0, 2.0]
    assert X["n_channels"].tolist() == [1.0, 2.0]
