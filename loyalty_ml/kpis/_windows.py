"""Sums of each customer's transactions inside time windows, without joining rows to rows.

Cumulative sums per customer, read at the window bounds with ``merge_asof``: linear in the number of
rows however many campaigns a customer received.
"""

from __future__ import annotations

import pandas as pd
from pandas.errors import MergeError

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import decoded_ids, with_decoded_ids

__all__ = ["cumulative", "sums_before"]

COUNT = "count"


def cumulative(transactions: pd.DataFrame, values: dict[str, pd.Series]) -> pd.DataFrame:
    """Per customer, in time order, running totals of ``values`` (and of rows, as ``count``)."""
    frame = pd.DataFrame(
        {C.CUSTOMER_ID: transactions[C.CUSTOMER_ID], C.TIMESTAMP: transactions[C.TIMESTAMP]}
    )
    frame[COUNT] = 1.0
    for name, series in values.items():
        frame[name] = series.to_numpy(dtype="float64")
    frame = frame.sort_values([C.CUSTOMER_ID, C.TIMESTAMP], kind="stable")
    totals = [COUNT, *values]
    frame[totals] = frame.groupby(C.CUSTOMER_ID, sort=False)[totals].cumsum()
    return frame.sort_values(C.TIMESTAMP, kind="stable").reset_index(drop=True)


def _nanoseconds(values: pd.Series) -> pd.Series:
    """Datetimes in nanoseconds (the same Series when they are, or are not datetimes)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype) and values.dt.unit != "ns":
        return values.dt.as_unit("ns")
    return values


def sums_before(
    running: pd.DataFrame, customers: pd.Series, at: pd.Series, *, table: str
) -> pd.DataFrame:
    """Totals of each customer's rows with ``timestamp < at`` (0 when none), aligned on ``at``'s index."""
    ids = decoded_ids(customers.reset_index(drop=True))
    running = with_decoded_ids(running)
    right_ids = running[C.CUSTOMER_ID]
    # nullable Int64 next to int64 (a Parquet export next to validated data) are one key type
    both_int = pd.api.types.is_integer_dtype(ids.dtype) and pd.api.types.is_integer_dtype(
        right_ids.dtype
    )
    if both_int and not ids.isna().any() and not right_ids.isna().any():
        ids = ids.astype("int64")
        running = running.assign(**{C.CUSTOMER_ID: right_ids.astype("int64")})
    elif (
        ids.dtype != right_ids.dtype
        and pd.api.types.is_string_dtype(ids)
        and pd.api.types.is_string_dtype(right_ids)
    ):  # text ids as object, "string" or string[pyarrow]: one text dtype to match
        ids = ids.astype("str")
        running = running.assign(**{C.CUSTOMER_ID: right_ids.astype("str")})
    # pandas 3 parses dates to microseconds, validated tables hold nanoseconds: one unit to match
    at = _nanoseconds(at)
    if _nanoseconds(running[C.TIMESTAMP]) is not running[C.TIMESTAMP]:
        running = running.assign(**{C.TIMESTAMP: _nanoseconds(running[C.TIMESTAMP])})
    # the ids' own dtype (not to_numpy's object or str): equal dtypes on both sides must match
    left = pd.DataFrame({C.CUSTOMER_ID: ids, "_at": at.to_numpy(), "_row": at.index.to_numpy()})
    left = left.sort_values("_at", kind="stable")
    try:
        merged = pd.merge_asof(
            left,
            running,
            left_on="_at",
            right_on=C.TIMESTAMP,
            by=C.CUSTOMER_ID,
            direction="backward",
            allow_exact_matches=False,  # half-open windows: a row at the bound is not before it
        )
    except (MergeError, TypeError, ValueError) as exc:
        raise SchemaError(
            f"{table} and transactions cannot be matched on customer_id and time "
            f"({exc}). Give both the same customer_id type and timestamps on the same clock "
            "(both naive, as validate_* returns them).",
            table=table,
        ) from None
    totals = [c for c in running.columns if c not in (C.CUSTOMER_ID, C.TIMESTAMP)]
    return merged.set_index("_row")[totals].fillna(0.0).reindex(at.index)
