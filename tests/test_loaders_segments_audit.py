"""The data set loaders, RFM segment migration and tier KPIs on inputs an audit found mishandled.

Regression tests: each asserts the promised behaviour (a loyalty_ml exception naming the column and
the fix, or the right numbers) where the library used to crash or count wrongly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.datasets import load_hillstrom, load_online_retail_ii
from loyalty_ml.exceptions import ConfigError, LoyaltyMLError, SchemaError
from loyalty_ml.features.segments import segment_migration
from loyalty_ml.kpis import tier_distribution


def _online_retail_rows(**overrides: object) -> pd.DataFrame:
    """Three lines in the layout of UCI Online Retail II (two customers, two invoices)."""
    frame = pd.DataFrame(
        {
            "Invoice": ["536365", "536365", "536366"],
            "StockCode": ["85123A", "71053", "22633"],
            "Description": ["a", "b", "c"],
            "Quantity": [6, 6, 2],
            "InvoiceDate": ["2010-12-01 08:26:00", "2010-12-01 08:26:00", "2010-12-01 08:28:00"],
            "Price": [2.55, 3.39, 1.85],
            "Customer ID": [17850.0, 17850.0, 17851.0],
            "Country": ["United Kingdom"] * 3,
        }
    )
    return frame.assign(**overrides)


def _hillstrom_rows(**overrides: object) -> pd.DataFrame:
    """Three rows in the layout of the Hillstrom e-mail experiment, one per arm."""
    frame = pd.DataFrame(
        {
            "recency": [10, 6, 7],
            "history_segment": ["2) $100 - $200", "3) $200 - $350", "2) $100 - $200"],
            "history": [142.44, 329.08, 180.65],
            "mens": [1, 1, 0],
            "womens": [0, 1, 1],
            "zip_code": ["Surburban", "Rural", "Surburban"],
            "newbie": [0, 1, 1],
            "channel": ["Phone", "Web", "Web"],
            "segment": ["Womens E-Mail", "No E-Mail", "Mens E-Mail"],
            "visit": [0, 0, 1],
            "conversion": [0, 0, 0],
            "spend": [0.0, 0.0, 0.0],
        }
    )
    return frame.assign(**overrides)


# -- Online Retail II loader ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "values"),
    [("Quantity", ["6", "six", "2"]), ("Price", ["£2.55", "3.39", "1.85"])],
)
def test_online_retail_non_numeric_quantity_or_price_is_a_schema_error(
    tmp_path: Path, column: str, values: list[str]
) -> None:
    path = tmp_path / "retail.csv"
    _online_retail_rows(**{column: values}).to_csv(path, index=False)
    with pytest.raises(SchemaError, match=column):
        load_online_retail_ii(path)


@pytest.mark.parametrize(("name", "content"), [("x.parquet", b"hello"), ("x.csv", b"")])
def test_online_retail_wrong_file_is_a_loyalty_ml_error(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoyaltyMLError, match=name):
        load_online_retail_ii(path)


def test_online_retail_missing_price_names_the_price_column(tmp_path: Path) -> None:
    path = tmp_path / "retail.csv"
    _online_retail_rows(Price=[2.55, np.nan, 1.85]).to_csv(path, index=False)
    with pytest.raises(SchemaError, match="Price"):
        load_online_retail_ii(path)


def test_online_retail_xlsx_does_not_silently_drop_a_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _online_retail_rows()
    second = _online_retail_rows(
        Invoice=["581587", "581587", "581588"],
        InvoiceDate=["2011-12-09 12:50:00"] * 3,
        **{"Customer ID": [12680.0, 12680.0, 12681.0]},
    )
    sheets = {"Year 2009-2010": first, "Year 2010-2011": second}

    def fake_read_excel(io: object, sheet_name: Any = 0, **kwargs: object) -> object:
        # pandas semantics: an int or name selects one sheet, None or a list returns a dict
        if sheet_name is None:
            return dict(sheets)
        if isinstance(sheet_name, list):
            names = list(sheets)
            return {s: sheets[names[s] if isinstance(s, int) else s] for s in sheet_name}
        return sheets[list(sheets)[sheet_name] if isinstance(sheet_name, int) else sheet_name]

    monkeypatch.setattr(pd, "read_excel", fake_read_excel)
    path = tmp_path / "online_retail_II.xlsx"
    path.write_bytes(b"")
    try:
        tx = load_online_retail_ii(path)
    except SchemaError as exc:  # refusing, naming the sheets, is an acceptable fix too
        assert "Year 2010-2011" in str(exc)
        return
    assert set(tx["customer_id"]) == {17850, 17851, 12680, 12681}


# -- Hillstrom loader ---------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "value"), [("conversion", 0.5), ("visit", 2)])
def test_hillstrom_non_binary_outcome_is_refused(tmp_path: Path, column: str, value: float) -> None:
    path = tmp_path / "hillstrom.csv"
    _hillstrom_rows(**{column: [value, 0, 0]}).to_csv(path, index=False)
    with pytest.raises(SchemaError, match=column):
        load_hillstrom(path)


@pytest.mark.parametrize("value", [np.nan, "yes"])
def test_hillstrom_missing_or_text_visit_is_a_schema_error(tmp_path: Path, value: object) -> None:
    path = tmp_path / "hillstrom.csv"
    _hillstrom_rows(visit=[value, 0, 1]).to_csv(path, index=False)
    with pytest.raises(SchemaError, match="visit"):
        load_hillstrom(path)


def test_hillstrom_missing_and_unknown_segments_are_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "hillstrom.csv"
    _hillstrom_rows(segment=[np.nan, "Mens Email", "No E-Mail"]).to_csv(path, index=False)
    with pytest.raises(SchemaError, match="Mens Email"):
        load_hillstrom(path)


@pytest.mark.realdata
def test_hillstrom_loader_on_a_parquet_file_is_a_loyalty_ml_error(
    online_retail_path: Path,
) -> None:
    with pytest.raises(LoyaltyMLError, match=online_retail_path.name):
        load_hillstrom(online_retail_path)


# -- RFM segment migration ----------------------------------------------------------------------


def _features(ids: list[object]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "recency_days": np.arange(1.0, n + 1),
            "n_orders": np.arange(n, 0, -1, dtype=float),
            "spend": np.arange(n, 0, -1, dtype=float) * 10,
        },
        index=pd.Index(ids, name="customer_id"),
    )


def test_segment_migration_duplicate_customer_is_a_schema_error() -> None:
    then = _features([1, 1, 2, 3, 4, 5, 6, 7])
    with pytest.raises(SchemaError, match="customer_id"):
        segment_migration(then, _features(list(range(1, 9))))


def test_segment_migration_text_and_integer_ids_are_not_silently_unmatched() -> None:
    ids = list(range(1, 9))
    then = _features([str(i) for i in ids])
    now = _features(ids)
    try:
        table = segment_migration(then, now)
    except SchemaError as exc:  # refusing with the dtypes and the fix is acceptable too
        assert "customer_id" in str(exc)
        return
    assert "gone" not in table.columns and "absent" not in table.index
    assert int(table.to_numpy().sum()) == len(ids)


# -- tier distribution ------------------------------------------------------------------------


def test_tier_distribution_order_may_name_the_missing_label() -> None:
    tiers = pd.Series(["gold", "base", "base", None])
    dist = tier_distribution(tiers, order=["base", "gold", "no tier"])
    assert dist.index.is_unique
    assert dist["members"].to_dict() == {"base": 2, "gold": 1, "no tier": 1}
    assert dist["share"].tolist() == [0.5, 0.25, 0.25]


def test_tier_distribution_duplicate_order_is_refused() -> None:
    tiers = pd.Series(["gold", "base", "base", None])
    with pytest.raises(ConfigError, match="base"):
        tier_distribution(tiers, order=["base", "gold", "base"])
