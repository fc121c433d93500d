from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from loyalty_ml.datasets import load_hillstrom, load_online_retail_ii
from loyalty_ml.exceptions import ConfigError, SchemaError

pytestmark = pytest.mark.realdata


def test_online_retail_counts_match_documented_dirt(online_retail_path: Path) -> None:
    tx, report = load_online_retail_ii(online_retail_path, return_report=True)
    raw = pd.read_parquet(online_retail_path)
    # the data set's README: 525,461 rows; 107,927 without a customer; 10,206 cancellation lines;
    # 6,865 exact duplicate lines; 3,690 lines with a zero or negative price.
    assert report.rows_in == 525_461 == len(raw)
    assert report.flagged("missing_customer") == 107_927
    assert report.flagged("cancellation") == 10_206
    assert report.flagged("duplicate") == 6_865
    negative_price = int((raw["Price"] < 0).sum())
    assert report.flagged("zero_amount") + negative_price == 3_690
    assert report.rows_out == len(tx)
    assert sum(s.removed for s in report.steps) == report.rows_in - report.rows_out
    assert tx["customer_id"].dtype == "int64"
    assert (tx["amount"] > 0).all()
    assert not tx["order_id"].str.startswith("C").any()
    assert tx["customer_id"].nunique() == 4_285  # of 4,383 with any line, some only cancelled
    # the clock and the data's end as validate_transactions records them (the loader's report
    # note used to replace them)
    assert tx.attrs["loyalty_ml_data_end"] == str(tx["timestamp"].max())
    assert "loyalty_ml_clock" in tx.attrs
    assert "amount = Quantity * Price" in " ".join(report.notes)


def test_the_readme_recipe_reads_online_retail_alike_when_validated_again(
    online_retail_path: Path, tmp_path: Path
) -> None:
    """Without quantity mapped, two lines of invoice 496872 (2 x 0.50 and 1 x 1.00) differ only in
    columns left out: validating the validated table again dropped one, so the command line read
    the saved Parquet file otherwise than the notebook (400,915 lines; with a line-number column,
    6,749 lines fewer)."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.schema import ColumnMap, validate_transactions

    raw = pd.read_parquet(online_retail_path)
    raw = raw.assign(amount=raw["Price"] * raw["Quantity"], line=range(len(raw)))
    columns = ColumnMap(
        customer_id="Customer ID",
        timestamp="InvoiceDate",
        order_id="Invoice",
        product_id="StockCode",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the data's own gaps and ids
        tx, report = validate_transactions(
            raw.drop(columns="line"),
            columns=columns,
            cancellation_pattern=r"^C",
            return_report=True,
        )
        assert report.flagged("duplicate") == 6_865 and len(tx) == 400_916
        tx.to_parquet(tmp_path / "tx.parquet")
        again = validate_transactions(pd.read_parquet(tmp_path / "tx.parquet"))
        pd.testing.assert_frame_equal(again, tx)
        numbered = validate_transactions(raw, columns=columns, cancellation_pattern=r"^C")
        assert len(numbered) == 407_664
        assert len(validate_transactions(numbered)) == len(numbered)


def test_hillstrom_arms_and_rates(hillstrom_path: Path) -> None:
    h = load_hillstrom(hillstrom_path)
    assert len(h) == 64_000 and h.index.name == "customer_id"
    assert h["offer_id"].value_counts().to_dict() == {
        "womens_email": 21_387,
        "mens_email": 21_307,
        "control": 21_306,
    }
    rates = h.groupby("offer_id")["visit"].mean().round(4).to_dict()
    assert rates == {"control": 0.1062, "mens_email": 0.1828, "womens_email": 0.1514}


def test_loader_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Online Retail II file not found"):
        load_online_retail_ii(tmp_path / "nope.parquet")
    bad = tmp_path / "x.csv"
    pd.DataFrame({"Invoice": ["1"]}).to_csv(bad, index=False)
    with pytest.raises(SchemaError, match="lacks columns"):
        load_online_retail_ii(bad)
    with pytest.raises(SchemaError, match="lacks columns"):
        load_hillstrom(bad)
    text_file = tmp_path / "x.txt"
    text_file.write_text("not data")
    with pytest.raises(SchemaError, match="unsupported file type"):
        load_online_retail_ii(text_file)


def test_a_workbook_without_openpyxl_names_the_extra(tmp_path: Path) -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("openpyxl is installed (the excel extra): the workbook would be read")
    workbook = tmp_path / "online_retail_II.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:  # what pandas looks for in an .xlsx
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ConfigError, match=r"needs openpyxl.*loyalty_ml\[excel\]"):
        load_online_retail_ii(workbook)


def test_a_corrupt_workbook_is_a_schema_error(tmp_path: Path) -> None:
    workbook = tmp_path / "online_retail_II.xlsx"
    workbook.write_bytes(b"PK\x03\x04 truncated download")
    with pytest.raises(SchemaError, match=r"Cannot read the Online Retail II file"):
        load_online_retail_ii(workbook)


def test_a_csv_gz_cut_short_is_a_schema_error(tmp_path: Path) -> None:
    """A truncated download raised EOFError, which neither loader caught."""
    import gzip

    body = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n" * 200
    whole = gzip.compress(body.encode())
    for name, load in (("or.csv.gz", load_online_retail_ii), ("h.csv.gz", load_hillstrom)):
        path = tmp_path / name
        path.write_bytes(whole[: len(whole) // 2])
        with pytest.raises(SchemaError, match="EOFError"):
            load(path)


def test_hillstrom_text_in_a_numeric_covariate_is_refused(tmp_path: Path) -> None:
    """A text cell in `history` kept the column as text, which the models read as a category."""
    header = "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment"
    rows = [
        "3,2) $100 - $200,142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0",
        "6,1) $0 - $100,unknown,1,1,Rural,1,Web,No E-Mail,0,0,0",
        "9,1) $0 - $100,12.5,0,1,Urban,1,Web,Mens E-Mail,1,0,0",
    ]
    path = tmp_path / "h.csv"
    path.write_text("\n".join([f"{header},visit,conversion,spend", *rows]) + "\n")
    with pytest.raises(SchemaError, match=r"Hillstrom history must be a number; 1 rows.*'unknown'"):
        load_hillstrom(path)
    path.write_text(path.read_text().replace("unknown", "29.99"))
    loaded = load_hillstrom(path)
    assert loaded["history"].dtype == "float64"
    assert loaded["recency"].tolist() == [3, 6, 9]
