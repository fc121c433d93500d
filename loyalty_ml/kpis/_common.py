"""Checks shared by the KPI functions: required columns, missing values and period bounds."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, SchemaError, format_examples
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    refuse_mixed_ids,
    refuse_repeated,
    require_columns,
    to_timestamp,
    with_decoded_ids,
)
from loyalty_ml.schema._data_end import covered_until

# in schema so campaign_responses (features) dates a purchase as the KPIs do; re-exported here
from loyalty_ml.schema._orders import order_keys, order_starts, purchase_lines
from loyalty_ml.schema.transactions import data_end

__all__ = [
    "check_no_missing",
    "check_sent_at",
    "check_transactions",
    "order_keys",
    "order_value_mask",
    "period_mask",
    "purchase_lines",
    "to_bound",
    "warn_past_data",
]

TABLE = "transactions"


def check_transactions(
    transactions: object, *, extra: tuple[str, ...] = (), table: str = TABLE
) -> pd.DataFrame:
    """Return ``transactions`` after checking its columns, timestamp dtype and missing values.

    The required columns (``customer_id``, ``timestamp``, ``amount`` and ``extra``) must be present once
    and complete, and amounts finite: a KPI over rows with a missing customer, time or amount, or an
    infinite amount, would be silently wrong.
    """
    require_columns(transactions, (*C.TRANSACTION_REQUIRED, *extra), table=table)
    transactions = cast(pd.DataFrame, transactions)  # require_columns refused anything else
    names = [None if name in transactions.columns else name for name in transactions.index.names]
    if names != list(transactions.index.names):
        # set_index("customer_id", drop=False): pandas calls a name both a level and a column
        # ambiguous; the column is the data, the index keeps only its row labels
        transactions = transactions.copy(deep=False)
        transactions.index = transactions.index.set_names(names)
    refuse_repeated(transactions, (*C.TRANSACTION_REQUIRED, *extra, C.ORDER_ID), table=table)
    ts = transactions[C.TIMESTAMP]
    if not (pd.api.types.is_datetime64_dtype(ts) or isinstance(ts.dtype, pd.DatetimeTZDtype)):
        raise SchemaError(
            f"{table}.{C.TIMESTAMP} must be datetime64; got {ts.dtype}. Run "
            "loyalty_ml.validate_transactions first, or convert it with pd.to_datetime.",
            table=table,
            column=C.TIMESTAMP,
        )
    if not pd.api.types.is_numeric_dtype(transactions[C.AMOUNT]) or pd.api.types.is_bool_dtype(
        transactions[C.AMOUNT]
    ):
        raise SchemaError(
            f"{table}.{C.AMOUNT} must be numeric; got {transactions[C.AMOUNT].dtype}. Convert it "
            "with pd.to_numeric (Decimal values from a database or Parquet export included), or "
            "run loyalty_ml.validate_transactions.",
            table=table,
            column=C.AMOUNT,
        )
    for column in (*C.TRANSACTION_REQUIRED, *extra):
        check_no_missing(transactions, column, table=table)
    refuse_mixed_ids(transactions[C.CUSTOMER_ID], table=table)
    numbers = [C.AMOUNT, *([C.MARGIN] if C.MARGIN in transactions.columns else [])]
    for column in numbers[1:]:  # the margin, when present, is summed like the amount
        values = transactions[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise SchemaError(
                f"{table}.{column} must be numeric; got {values.dtype}. Convert it with "
                "pd.to_numeric (or run loyalty_ml.validate_transactions).",
                table=table,
                column=column,
            )
    for column in numbers:
        infinite = np.isinf(transactions[column].to_numpy(dtype="float64", na_value=np.nan))
        if infinite.any():
            raise SchemaError(
                f"{table}.{column} has infinite values at rows "
                f"{format_examples(transactions.index[infinite].tolist(), total=int(infinite.sum()))}"
                "; every sum and average over them would be infinite. Fix or drop those rows "
                "first.",
                table=table,
                column=column,
            )
    if C.ORDER_ID in transactions.columns:
        check_no_missing(
            transactions,
            C.ORDER_ID,
            table=table,
            fix=(
                "Fill them (e.g. with a per-row id) or drop the order_id column to count "
                "(customer, timestamp) pairs as orders."
            ),
        )
    return _plain_dtypes(transactions, numbers)


def _plain_dtypes(transactions: pd.DataFrame, numbers: list[str]) -> pd.DataFrame:
    """Categorical ids by their values, and money as float64 (nullable, Arrow and decimal columns
    of a Parquet or database export sum, divide and group like validated ones); as is otherwise."""
    transactions = with_decoded_ids(transactions)
    changes = {
        column: transactions[column].to_numpy(dtype="float64", na_value=np.nan)
        for column in numbers
        if transactions[column].dtype != np.float64
    }
    return transactions.assign(**changes) if changes else transactions


def check_no_missing(frame: pd.DataFrame, column: str, *, table: str, fix: str = "") -> None:
    """Raise SchemaError naming the first rows where ``column`` is missing.

    Blank text (``""``, ``" "``) is missing too, as :func:`validate_transactions` reads it: a blank
    customer id is not a customer.
    """
    values = frame[column]
    missing = values.isna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype("string").str.strip()
        missing = missing | text.eq("").fillna(False).to_numpy(dtype=bool)
    if missing.any():
        rows = frame.index[missing]
        raise SchemaError(
            f"{table}.{column} has missing values at rows "
            f"{format_examples(rows.tolist(), total=int(missing.sum()))}. "
            + (fix or "Drop or fill those rows first (loyalty_ml.validate_transactions does)."),
            table=table,
            column=column,
        )


def to_bound(value: object, *, name: str, timestamps: pd.Series) -> pd.Timestamp:
    """Parse a period bound onto the clock of ``timestamps``.

    A naive bound against zone-aware timestamps is read in the timestamps' zone (the business calendar
    of the data); an aware bound is converted to it. An aware bound against naive timestamps is refused:
    the zone of naive data cannot be known.
    """
    ts = to_timestamp(value, name=name, keep_zone=True)
    zone = getattr(timestamps.dtype, "tz", None)
    if zone is None:
        if ts.tzinfo is not None:
            raise ConfigError(
                f"{name}={value!r} is time-zone aware but transactions.timestamp is naive. Pass a "
                "naive bound on the clock of the data (validate_transactions stores UTC by default)."
            )
        return ts
    if ts.tzinfo is not None:
        return ts.tz_convert(zone)
    try:
        return ts.tz_localize(zone)
    except ValueError as exc:  # a clock time skipped or repeated by a daylight-saving change
        raise ConfigError(
            f"{name}={value!r} does not name one instant in {zone}: a daylight-saving change "
            f"skips or repeats that clock time ({exc}). Pass a bound outside the changed hour "
            "(say 04:00), or an aware bound such as '2024-03-31 02:30+01:00'."
        ) from None


def check_period(start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Refuse a period that does not run forwards, ``[start, end)`` with ``end`` after ``start``."""
    if end <= start:
        raise ConfigError(
            f"period_end must be after period_start; got period_start={start}, period_end={end}."
        )


def warn_past_data(
    start: pd.Timestamp,
    end: pd.Timestamp,
    timestamps: pd.Series,
    *,
    caller: str,
    what: str,
    attrs: dict | None = None,
) -> None:
    """Warn when ``[start, end)`` runs past the end of the data by more than a day and a tenth of
    its length: those days count as days without a purchase, so activity, frequency and retention
    read low (churn high) as if the data were complete to ``end``. The end of the data is the one
    ``validate_transactions`` recorded in ``attrs`` (a segment filtered from the validated table
    keeps it), else the last transaction (the end of its day when every timestamp is a
    midnight: dates without times)."""
    covered = covered_until(timestamps)  # a date-only table covers its last day to the end
    if covered is None:
        return
    last = data_end(attrs or {}, covered)
    beyond = end - last
    if beyond <= max(pd.Timedelta(days=1), (end - start) / 10):
        return
    warn_user(
        f"{caller}: {what} [{start}, {end}) runs {beyond.days} days past the last transaction "
        f"(the data end at {last}); they count as days without a purchase, so activity, purchase frequency and "
        "retention read low (churn high) if the extract ends there. End the period at the data's "
        "end, or measure once the data cover it.",
        DataQualityWarning,
    )


def check_sent_at(sent_at: pd.Series, timestamps: pd.Series, *, table: str) -> None:
    """SchemaError unless ``table.sent_at`` is datetime64 on the clock of ``transactions.timestamp``.

    Naive and aware times cannot be compared (pandas raises a bare TypeError); aware columns in
    different zones can, as they denote instants.
    """
    if not pd.api.types.is_datetime64_any_dtype(sent_at):
        raise SchemaError(
            f"{table}.{C.SENT_AT} must be datetime64; got {sent_at.dtype}. Run "
            f"loyalty_ml.validate_{table} first, or convert it with pd.to_datetime.",
            table=table,
            column=C.SENT_AT,
        )
    zones = [getattr(s.dtype, "tz", None) for s in (sent_at, timestamps)]
    if (zones[0] is None) != (zones[1] is None):
        raise SchemaError(
            f"{table}.{C.SENT_AT} is {_clock(zones[0])} but {TABLE}.{C.TIMESTAMP} is "
            f"{_clock(zones[1])}: they cannot be compared. Put both on one clock, e.g. with "
            f"validate_{table} and validate_transactions (both store naive UTC).",
            table=table,
            column=C.SENT_AT,
        )


def _clock(zone: object) -> str:
    return "time-zone naive" if zone is None else f"time-zone aware ({zone})"


def period_mask(timestamps: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Rows in the half-open period ``[start, end)``."""
    return (timestamps >= start) & (timestamps < end)


def order_value_mask(
    transactions: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series:
    """Lines dated in ``[start, end)`` of orders begun in it: what an average order value sums.

    The orders an AOV divides by are those whose first line falls in the period (see
    :func:`purchase_lines`); its numerator takes their lines, so a refund or a later line of an
    order begun before ``start`` (the same ``order_id``) counts with that order, not in this
    period's AOV. Lines after ``end`` are not read, so a return of the period's order dated after
    it does not lower this period's AOV either. A refund in an order of its own (another
    ``order_id``, or any refund without an ``order_id`` column) cannot be linked to the order it
    refunds and counts in the period where it is dated, as in the revenue.
    """
    in_period = period_mask(transactions[C.TIMESTAMP], start, end)
    if C.ORDER_ID not in transactions.columns:  # an order is one (customer, timestamp)
        return in_period
    return in_period & (order_starts(transactions) >= start)
