"""Loader for UCI Online Retail II (an online gift retailer, 2009-2011, many wholesale customers)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import Literal, overload

import pandas as pd

from loyalty_ml.exceptions import ConfigError, SchemaError, format_examples
from loyalty_ml.schema import columns as C
from loyalty_ml.schema.column_map import ColumnMap
from loyalty_ml.schema.report import CleaningReport
from loyalty_ml.schema.transactions import REPORT_ATTR, validate_transactions

__all__ = ["ONLINE_RETAIL_NON_PURCHASE", "load_online_retail_ii"]

#: Stock codes that are not products: postage, carriage, manual entries, fees, bank charges, samples,
#: adjustments, test lines and gift vouchers (see the data set's documentation).
ONLINE_RETAIL_NON_PURCHASE = (
    r"^(?:POST|DOT|C2|CRUK|M|m|D|S|B|PADS|ADJUST\d*|BANK CHARGES|AMAZONFEE|TEST\d*|"
    r"DCGS\w*|gift_\w+|SP\d+)$"
)
_RAW_COLUMNS = ("Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID")


@overload
def load_online_retail_ii(
    path: str | Path, *, return_report: Literal[False] = ...
) -> pd.DataFrame: ...


@overload
def load_online_retail_ii(
    path: str | Path, *, return_report: Literal[True]
) -> tuple[pd.DataFrame, CleaningReport]: ...


def load_online_retail_ii(
    path: str | Path, *, return_report: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, CleaningReport]:
    """Read Online Retail II (parquet, CSV or Excel export) as canonical, cleaned transactions.

    Mapping: ``Customer ID`` -> ``customer_id`` (whole-number floats become int64), ``InvoiceDate`` ->
    ``timestamp``, ``Quantity * Price`` -> ``amount``, ``Invoice`` -> ``order_id``, ``StockCode`` ->
    ``product_id``, ``Quantity`` -> ``quantity``. ``Description`` and ``Country`` are not read into the
    result (minimisation). Cleaning (counted in the report, see :func:`validate_transactions`): exact
    duplicate lines, lines without a customer, cancellations (invoices starting with ``C``), other
    negative and zero amounts (bad-debt adjustments, zero prices), and non-product stock codes
    (:data:`ONLINE_RETAIL_NON_PURCHASE`).

    Parameters
    ----------
    path : str or Path
        The file, e.g. ``../shared/data/online_retail_ii/online_retail_ii_2009_2010.parquet``.
    return_report : bool
        Also return the cleaning report (also kept with the table: ``cleaning_report(result)``).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Online Retail II file not found: {path}")
    suffix = "".join(path.suffixes).lower()
    try:
        if suffix.endswith(".parquet"):
            raw = pd.read_parquet(path)
        elif suffix.endswith((".csv", ".csv.gz")):
            raw = pd.read_csv(path, dtype={"Invoice": str, "StockCode": str})
        elif suffix.endswith((".xlsx", ".xls")):
            # the UCI workbook has one sheet per year: read them all, never just the first
            try:
                sheets = pd.read_excel(
                    path, dtype={"Invoice": str, "StockCode": str}, sheet_name=None
                )
            except ImportError as exc:  # pandas reads .xlsx with openpyxl, an optional extra
                raise ConfigError(
                    f"Reading {path.name} needs openpyxl ({exc}). Install the excel extra: "
                    "pip install 'loyalty_ml[excel]', or save the workbook as CSV or Parquet "
                    "(one file per sheet, or the sheets stacked)."
                ) from None
            raw = pd.concat(list(sheets.values()), ignore_index=True)
        else:
            raise SchemaError(
                f"Online Retail II: unsupported file type {suffix!r}; use parquet, csv or xlsx.",
                table="transactions",
            )
    except ConfigError:
        raise
    except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        # empty, truncated (a cut .csv.gz ends in EOFError) or mislabelled
        raise SchemaError(
            f"Cannot read the Online Retail II file {path.name} as {suffix.lstrip('.')}: "
            f"{type(exc).__name__}: {exc}",
            table="transactions",
        ) from exc
    missing = [c for c in _RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise SchemaError(
            f"Online Retail II file {path.name} lacks columns {missing}; it has {list(raw.columns)}.",
            table="transactions",
            column=missing[0],
        )
    raw = raw.assign(
        Invoice=raw["Invoice"].astype("str"),
        StockCode=raw["StockCode"].astype("str"),
        amount=_numbers(raw, "Quantity", path) * _numbers(raw, "Price", path),
    )
    columns = ColumnMap(
        customer_id="Customer ID",
        timestamp="InvoiceDate",
        order_id="Invoice",
        product_id="StockCode",
        quantity="Quantity",
    )
    tx, report = validate_transactions(
        raw,
        columns=columns,
        cancellation_pattern=r"^C",
        non_purchase_pattern=ONLINE_RETAIL_NON_PURCHASE,
        return_report=True,
    )
    report.notes.append(f"amount = Quantity * Price; read from {path.name}")
    tx = tx[[c for c in C.TRANSACTION_COLUMNS if c in tx.columns]]
    # the report with the note above; the clock and the data's end as validate_transactions set them
    tx.attrs = {**tx.attrs, REPORT_ATTR: report.to_json()}
    return (tx, report) if return_report else tx


def _numbers(raw: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """``raw[column]`` as numbers; text that is not a number, or a missing value, names the column.

    (The amount is computed here, so ``validate_transactions`` could only name ``amount``.)
    """
    values = pd.to_numeric(raw[column], errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        found = raw.loc[bad, column].head(5).tolist()
        raise SchemaError(
            f"Online Retail II file {path.name}: {column} is missing or not a number on "
            f"{int(bad.sum())} rows (e.g. rows {format_examples(raw.index[bad].tolist(), limit=5)}: "
            f"{found}). Fix or drop those rows (and strip currency symbols) first.",
            table="transactions",
            column=column,
        )
    return values
