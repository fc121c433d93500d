"""Checks of the tables a job is given, before any work: the transactions' contract and matching ids.

A nightly job is often handed tables read separately (a CSV whose ids came back as text next to a
Parquet file with integer ids). Ids that are the same numbers written as text are matched; anything
else that cannot match is refused with the tables, the dtypes, examples and the fix, instead of
silently excluding every customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import DataError, SchemaError, format_examples
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_text, refuse_missing_ids, require_columns

__all__ = ["align_customer_ids", "check_id_overlap", "check_transactions"]

# whole numbers written without leading zeros or blanks: the text of exactly one int64
_CANONICAL_INT = r"-?(?:0|[1-9][0-9]{0,17})"


def check_transactions(transactions: object, *, caller: str) -> pd.DataFrame:
    """``transactions`` when it has the canonical required columns and a tz-naive ``timestamp``.

    Raises
    ------
    SchemaError
        Not a DataFrame, a required column missing, a missing ``customer_id`` (guest rows), or
        ``timestamp`` not tz-naive datetime64.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "amount": [9.5]})
    >>> check_transactions(tx, caller="score_customers")
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.SchemaError: score_customers: transactions.timestamp must be tz-naive ...
    """
    tx = require_columns(transactions, C.TRANSACTION_REQUIRED, table="transactions")
    refuse_missing_ids(tx, table="transactions")  # the consent filter would drop them
    dtype = tx[C.TIMESTAMP].dtype
    if not pd.api.types.is_datetime64_dtype(dtype) or isinstance(dtype, pd.DatetimeTZDtype):
        raise SchemaError(
            f"{caller}: transactions.{C.TIMESTAMP} must be tz-naive datetime64; got dtype {dtype}. "
            "Run loyalty_ml.validate_transactions first (it parses text and converts time zones).",
            table="transactions",
            column=C.TIMESTAMP,
        )
    return tx


def align_customer_ids(
    frame: pd.DataFrame | None, transactions: pd.DataFrame, *, table: str, caller: str
) -> pd.DataFrame | None:
    """``frame`` with its ``customer_id`` in the same kind (number or text) as the transactions'.

    Integer ids written as text (``"123"``) are read as the integers when the transactions' ids are
    integers; integer ids become their text when the transactions' ids are text. Text that is not
    exactly one integer (``"00123"``, ``"C-7"``) cannot equal an integer id and is refused.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [123, 456]})
    >>> people = pd.DataFrame({"customer_id": ["123", "456"], "tier": ["gold", "silver"]})
    >>> align_customer_ids(people, tx, table="customers", caller="score_customers").dtypes["customer_id"]
    dtype('int64')
    """
    if frame is None or C.CUSTOMER_ID not in frame.columns or len(frame) == 0:
        return frame
    ids = frame[C.CUSTOMER_ID]
    tx_ids = transactions[C.CUSTOMER_ID]
    is_number = pd.api.types.is_numeric_dtype
    if pd.api.types.is_bool_dtype(ids.dtype) or is_number(ids.dtype) == is_number(tx_ids.dtype):
        return frame
    if not is_number(tx_ids.dtype):
        return frame.assign(**{C.CUSTOMER_ID: coerce_text(ids)})
    text = ids.astype("string").str.strip()
    whole = text.str.fullmatch(_CANONICAL_INT).fillna(False).to_numpy(dtype=bool)
    bad = ~whole & ids.notna().to_numpy(dtype=bool)
    if bad.any():
        raise SchemaError(
            f"{caller}: {table}.{C.CUSTOMER_ID} holds text ids such as "
            f"{format_examples(ids[bad].drop_duplicates().tolist(), total=int(bad.sum()))} but "
            f"transactions.{C.CUSTOMER_ID} holds integers (e.g. "
            f"{format_examples(pd.unique(tx_ids.dropna())[:3].tolist())}): they cannot match. Read "
            f"both id columns the same way (e.g. pd.read_csv(..., dtype={{'{C.CUSTOMER_ID}': str}}) "
            "for both tables, then validate_transactions / validate_customers).",
            table=table,
            column=C.CUSTOMER_ID,
        )
    numbers = pd.to_numeric(text, errors="coerce").astype("Int64")
    return frame.assign(
        **{C.CUSTOMER_ID: numbers.astype("int64") if numbers.notna().all() else numbers}
    )


def check_id_overlap(
    customers: pd.DataFrame | None, transactions: pd.DataFrame, *, caller: str
) -> None:
    """DataError when a non-empty customers table shares no id with the transactions.

    Customers missing from the table are not profiled (consent is opt-in), so a table that matches
    nobody would silently exclude every customer.
    """
    if customers is None or len(customers) == 0 or len(transactions) == 0:
        return
    table_ids = pd.Index(customers[C.CUSTOMER_ID].dropna().unique())
    tx_ids = pd.Index(transactions[C.CUSTOMER_ID].dropna().unique())
    if np.asarray(tx_ids.isin(table_ids)).any():
        return
    raise DataError(
        f"{caller}: none of the {len(tx_ids):,} customer ids of the transactions (e.g. "
        f"{format_examples(tx_ids[:3].tolist())}, dtype {tx_ids.dtype}) is in the customers table "
        f"({len(table_ids):,} ids, e.g. {format_examples(table_ids[:3].tolist())}, dtype "
        f"{table_ids.dtype}). Pass the customers table of the same customers, or customers=None "
        "when consent is managed upstream.",
    )
