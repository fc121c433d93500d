"""Checks of the tables a job is given, before any work: the transactions' contract, and a customers
table that shares no id with them (which would silently exclude every customer). Ids written as text
next to integer ids are aligned first by :func:`loyalty_ml.schema._ids.align_customer_ids`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    DataError,
    DataQualityWarning,
    SchemaError,
    format_ids,
)
from loyalty_ml.features._prepared import column_floats
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    refuse_missing_ids,
    refuse_mixed_ids,
    refuse_repeated,
    require_columns,
)
from loyalty_ml.schema._gaps import CONTEXT_DAYS, find_gaps
from loyalty_ml.schema._ids import align_customer_ids

__all__ = [
    "check_id_overlap",
    "check_job_tables",
    "check_transactions",
    "customers_with_id_column",
]


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
    refuse_repeated(tx, C.TRANSACTION_COLUMNS, table="transactions")  # which amount is meant?
    refuse_missing_ids(tx, table="transactions")  # the consent filter would drop them
    # the jobs compare amounts (purchases, refunds) and sort ids before build_features checks them
    column_floats(tx[C.AMOUNT], table="transactions", column=C.AMOUNT, allow_na=False)
    refuse_mixed_ids(tx[C.CUSTOMER_ID], table="transactions", caller=caller)
    dtype = tx[C.TIMESTAMP].dtype
    if not pd.api.types.is_datetime64_dtype(dtype) or isinstance(dtype, pd.DatetimeTZDtype):
        raise SchemaError(
            f"{caller}: transactions.{C.TIMESTAMP} must be tz-naive datetime64; got dtype {dtype}. "
            "Run loyalty_ml.validate_transactions first (it parses text and converts time zones).",
            table="transactions",
            column=C.TIMESTAMP,
        )
    return tx


def check_job_tables(
    transactions: object,
    customers: pd.DataFrame | None,
    campaigns: pd.DataFrame | None,
    *,
    caller: str,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """``(customers, campaigns)`` ready for a job, after checking the transactions' contract.

    Both jobs run this first: customers get ``customer_id`` as a column, and the ids of both tables
    are aligned with the transactions' kind (see :func:`align_customer_ids`).
    """
    tx = check_transactions(transactions, caller=caller)
    for name, table in (("customers", customers), ("campaigns", campaigns)):
        if table is not None and not isinstance(table, pd.DataFrame):
            # a list of ids or a dict of columns: no table to read consent or sends from
            raise SchemaError(
                f"{caller}: {name} must be a pandas DataFrame (or None); got "
                f"{type(table).__name__}.",
                table=name,
            )
    customers = align_customer_ids(
        customers_with_id_column(customers),
        tx,
        table="customers",
        caller=caller,
        warn_unmatched=False,  # the jobs refuse a customers table that shares no id
    )
    return customers, align_customer_ids(campaigns, tx, table="campaigns", caller=caller)


def customers_with_id_column(customers: pd.DataFrame | None) -> pd.DataFrame | None:
    """Customers with ``customer_id`` as a column (validate_customers returns it as the index)."""
    if customers is None or C.CUSTOMER_ID in customers.columns:
        return customers
    if customers.index.name == C.CUSTOMER_ID:
        return customers.reset_index()
    raise DataError(
        f"customers has no {C.CUSTOMER_ID!r} column or index; it has {list(customers.columns)}. "
        "Run validate_customers first."
    )


def check_id_overlap(
    customers: pd.DataFrame | None, transactions: pd.DataFrame, *, caller: str
) -> None:
    """DataError when a customers table shares no id with the transactions, or is empty.

    Customers missing from the table are not profiled (consent is opt-in), so a table that matches
    nobody (an empty extract included) would silently exclude every customer.
    """
    if customers is None or len(transactions) == 0:
        return
    if len(customers) == 0:
        raise DataError(
            f"{caller}: the customers table is empty, so no customer's consent is known and every "
            "one of them would be left out. Pass the customers table (a failed extract?), or "
            "customers=None when consent is managed upstream."
        )
    table_ids = pd.Index(customers[C.CUSTOMER_ID].dropna().unique())
    tx_ids = pd.Index(transactions[C.CUSTOMER_ID].dropna().unique())
    if np.asarray(tx_ids.isin(table_ids)).any():
        return
    raise DataError(
        f"{caller}: none of the {len(tx_ids):,} customer ids of the transactions (e.g. "
        f"{format_ids(tx_ids[:3].tolist())}, dtype {tx_ids.dtype}) is in the customers table "
        f"({len(table_ids):,} ids, e.g. {format_ids(table_ids[:3].tolist())}, dtype "
        f"{table_ids.dtype}). Pass the customers table of the same customers, or customers=None "
        "when consent is managed upstream.",
    )


#: Warn when more than this share of the latest horizon lies after the last transaction.
UNOBSERVED_WINDOW_SHARE = 0.25


def warn_if_data_ends_early(
    history: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int, *, caller: str
) -> None:
    """DataQualityWarning when the purchases stop well before ``as_of`` (a stale extract).

    The jobs read ``as_of`` as "observed until then", so the days between the last purchase and
    ``as_of`` count as days in which nobody bought: training labels the last cutoff's customers
    churned, scoring sees every customer as inactive since the extract ended. Warns when those
    days are more than a quarter of the horizon (and a day), or, in a shop busy enough to tell, a
    stretch of days that should have held purchases (:func:`loyalty_ml.schema._gaps.find_gaps`:
    14 days or more, at the pace of the four weeks before). Only purchases count (``amount >= 0``):
    refunds kept by ``validate_transactions(returns="keep")`` that run on after the sales feed
    stopped must not hide a stale extract. A history of refunds alone is left to the jobs' checks.
    """
    times = history.loc[(history[C.AMOUNT] >= 0).to_numpy(), C.TIMESTAMP]
    if times.empty:
        return
    last = pd.Timestamp(times.max())
    gap_days = (as_of - last) / pd.Timedelta(days=1)
    if gap_days <= max(1.0, UNOBSERVED_WINDOW_SHARE * horizon_days):
        # the four weeks before the last purchase set the pace the empty days are judged by
        recent = times[times >= last - pd.Timedelta(days=CONTEXT_DAYS + 1)]
        ns = recent.to_numpy(dtype="datetime64[ns]").view("int64")
        last_day = pd.Timestamp(last).normalize()
        if not any(g.first > last_day for g in find_gaps(ns, end_ns=as_of.value)):
            return
    if caller == "train_and_register":
        effect = (
            f"{min(gap_days / horizon_days, 1):.0%} of the last cutoff's {horizon_days}-day label "
            "window has no transactions at all and its customers look churned"
        )
    else:
        effect = (
            f"every customer looks inactive for at least {gap_days:.0f} days, so recency-driven "
            "risk, states and actions are inflated"
        )
    warn_user(
        f"{caller}: the purchases in the transactions end on {last.date()}, {gap_days:.0f} days "
        f"before "
        f"as_of={as_of.date()}, so {effect}. If the extract is stale, refresh it or use as_of="
        f"'{(last + pd.Timedelta(days=1)).date()}'; if the shop really had no sales (a closure), "
        "the figures are right.",
        DataQualityWarning,
    )
