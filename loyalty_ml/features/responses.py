"""Campaign responses: the outcome of each campaign row, measured from later transactions.

This is the label of uplift training: for a row (customer, ``sent_at``) of the campaign history, what the
customer did in ``[sent_at, sent_at + window_days)``. Control rows are measured the same way, so the
difference between arms is the effect of the offer.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml._checks import check_window_days
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataQualityWarning,
    LeakageError,
    SchemaError,
    format_examples,
    index_hint,
)
from loyalty_ml.features._prepared import timestamp_values
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    refuse_repeated,
    table_clock,
    to_timestamp,
    with_decoded_ids,
)
from loyalty_ml.schema._data_end import covered_until_ns, is_dates_only, stated_end
from loyalty_ml.schema._ids import align_customer_ids
from loyalty_ml.schema._orders import purchase_lines

__all__ = ["campaign_responses", "check_window_days"]  # check_window_days: from _checks

Outcome = Literal["purchase", "spend", "margin"]
_OUTCOMES = ("purchase", "spend", "margin")


def campaign_responses(
    campaigns: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    window_days: int,
    outcome: Outcome = "purchase",
    observation_end: object = None,
) -> pd.Series:
    """The outcome of every campaign row in its response window ``[sent_at, sent_at + window_days)``.

    Parameters
    ----------
    campaigns : DataFrame
        Campaign history with ``customer_id`` and ``sent_at`` (e.g. from ``validate_campaigns``).
    transactions : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``; ``margin`` for
        ``outcome="margin"``).
    window_days : int
        Length of the response window in days, from 1 to 3,650 (ten years).
    observation_end : date-like, optional
        Until when the data is known to be complete: the last instant observed, as
        ``validate_transactions`` and ``churn_labels`` read it. When every timestamp is a midnight
        (dates without times), a midnight names a day observed to its end:
        ``"2020-09-22"`` lets a window close at the end of the 22nd and counts its purchases. On
        timed data it is that instant (the 22nd's midnight). Defaults to the last transaction, or
        the end of its day when every timestamp is a midnight. A window that closes after it is
        refused (:class:`LeakageError`): its outcome is not known yet, and counting it as "no
        purchase" would understate the response.
    outcome : {"purchase", "spend", "margin"}
        ``"purchase"``: 1 if the customer began a purchase order in the window, else 0, as
        :func:`~loyalty_ml.kpis.measure_campaign` counts a conversion and the KPIs and churn
        labels date a purchase: an order at the time of its first line, with a line of
        ``amount >= 0`` (a free item at 0 is one, a return alone is none). A later line
        of an order begun before ``sent_at`` (the same ``order_id``) is no response. ``"spend"``:
        the sum of ``amount``; ``"margin"``: the sum of ``margin``. Both sums read every line
        dated in the window at its own time, as ``measure_campaign``'s revenue and margin do
        (returns in the window count negatively, a later line of an earlier order counts).

    Returns
    -------
    Series
        Indexed like ``campaigns``, named ``outcome``; int64 for purchase, float64 otherwise.
        Customers without transactions get 0.

    Examples
    --------
    >>> camp = pd.DataFrame({"customer_id": [1, 1, 2],
    ...                      "sent_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01"])})
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "amount": [9.5, 3.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-01-15"])})
    >>> campaign_responses(camp, tx, window_days=7, observation_end="2024-03-01").tolist()
    [1, 0, 0]
    """
    if outcome not in _OUTCOMES:
        raise ConfigError(
            f"The 'outcome' parameter of campaign_responses must be one of {list(_OUTCOMES)}. "
            f"Got {outcome!r} instead."
        )
    check_window_days(window_days, owner="campaign_responses")
    _require(campaigns, (C.CUSTOMER_ID, C.SENT_AT), "campaigns")
    value_column = C.MARGIN if outcome == "margin" else C.AMOUNT
    _require(transactions, (C.CUSTOMER_ID, C.TIMESTAMP, value_column), "transactions")
    # categorical ids by their values (categories differ from table to table)
    transactions, campaigns = with_decoded_ids(transactions), with_decoded_ids(campaigns)
    # integer ids written as text ("123") match integer transaction ids, as in build_features
    campaigns = align_customer_ids(
        campaigns,
        transactions,
        table="campaigns",
        caller="campaign_responses",
        # nobody who was sent it bought: a win-back campaign's outcome, not a mismatch of ids
        warn_unmatched=False,
    )

    sent = timestamp_values(campaigns[C.SENT_AT], table="campaigns", column=C.SENT_AT).view(
        "datetime64[ns]"
    )
    stamps = timestamp_values(
        transactions[C.TIMESTAMP], table="transactions", column=C.TIMESTAMP
    ).view("datetime64[ns]")
    ends = sent + np.timedelta64(int(window_days), "D")
    # a date-only table covers its last day to the end, and a midnight stated as its end names a
    # day observed to its end, as churn_labels reads one (schema._data_end)
    dates_only = is_dates_only(stamps.view("int64"))
    covered = covered_until_ns(stamps.view("int64"))
    if observation_end is not None:
        given = to_timestamp(
            observation_end, name="observation_end", clock=table_clock(transactions)
        )
        end: pd.Timestamp | None = stated_end(given, dates_only=dates_only)
    else:
        end = pd.Timestamp(covered, unit="ns") if covered is not None else None
    late = ends > np.datetime64(end) if end is not None else np.ones(len(ends), dtype=bool)
    if len(ends) and late.any():
        reading = (
            f"observation_end={given.date()}, to the end of that day: the timestamps are dates "
            "without times, so "
            if observation_end is not None and end != given
            else ""
        )
        raise LeakageError(
            f"campaign_responses: the response window of {int(late.sum())} campaign row(s) (sent "
            f"from {pd.Timestamp(sent[late].min())}) ends after the data ({reading}{end}): their "
            f"outcome is not known yet. Keep only rows with sent_at + {window_days} days <= the "
            "end of the data, or pass observation_end= when the data is complete to a later date."
        )
    if not pd.api.types.is_numeric_dtype(transactions[value_column].dtype):
        raise SchemaError(
            f"transactions.{value_column} must be numbers; got dtype "
            f"{transactions[value_column].dtype}. Convert it with pd.to_numeric (or "
            "loyalty_ml.validate_transactions).",
            table="transactions",
            column=value_column,
        )
    values = transactions[value_column].to_numpy(dtype=np.float64, na_value=np.nan)
    if outcome == "purchase":
        # purchase orders at their first line, as measure_campaign converts and the KPIs date one
        transactions = _purchases(transactions, values)
        stamps = timestamp_values(
            transactions[C.TIMESTAMP], table="transactions", column=C.TIMESTAMP
        ).view("datetime64[ns]")
        values = np.ones(len(transactions), dtype=np.float64)
    else:
        values = np.nan_to_num(values, nan=0.0)

    # One monotone integer key (customer, time) for transactions and window bounds: customer codes
    # and dense ranks of all the instants involved, so no nanosecond arithmetic can overflow.
    codes, _ = pd.factorize(
        pd.concat([transactions[C.CUSTOMER_ID], campaigns[C.CUSTOMER_ID]], ignore_index=True)
    )
    tx_code, camp_code = codes[: len(transactions)], codes[len(transactions) :]
    instants, ranks = np.unique(np.concatenate([stamps, sent, ends]), return_inverse=True)
    n_tx, n_camp = len(stamps), len(sent)
    tx_rank = ranks[:n_tx]
    start_rank, end_rank = ranks[n_tx : n_tx + n_camp], ranks[n_tx + n_camp :]
    base = np.int64(len(instants) + 1)
    tx_key = tx_code.astype(np.int64) * base + tx_rank
    order = np.argsort(tx_key, kind="stable")
    keys = tx_key[order]
    cumulative = np.r_[0.0, np.cumsum(values[order])]
    lo = np.searchsorted(keys, camp_code.astype(np.int64) * base + start_rank, side="left")
    hi = np.searchsorted(keys, camp_code.astype(np.int64) * base + end_rank, side="left")
    total = cumulative[hi] - cumulative[lo]
    if outcome == "margin":
        _warn_missing_margins(transactions[value_column].isna().to_numpy()[order], lo, hi)
    if outcome == "purchase":
        return pd.Series(hi > lo, index=campaigns.index, name=outcome).astype("int64")
    return pd.Series(total, index=campaigns.index, name=outcome)


def _purchases(transactions: pd.DataFrame, amounts: np.ndarray) -> pd.DataFrame:
    """The lines of purchase orders, each at its order's first line (:func:`purchase_lines`).

    Only the columns that identify an order and date it are read, with ``amounts`` (float64) for
    the amount: nullable or Arrow amounts compare as numbers, missing ones as no purchase.
    """
    columns = [c for c in (C.CUSTOMER_ID, C.ORDER_ID, C.TIMESTAMP) if c in transactions.columns]
    return purchase_lines(transactions[columns].assign(**{C.AMOUNT: amounts}))


def _warn_missing_margins(unknown: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Warn when lines without a margin fall in response windows: read as a margin of 0, a
    purchase of unknown margin reads as no purchase at all."""
    counts = np.r_[0, np.cumsum(unknown)]
    affected = (counts[hi] - counts[lo]) > 0
    if affected.any():
        warn_user(
            f"campaign_responses: {int(affected.sum())} campaign row(s) have lines without a "
            f"margin in their response window ({int(unknown.sum())} such lines in the "
            "transactions); they count as a margin of 0, so those outcomes read low. Fill the "
            "margins (e.g. amount x the usual margin rate) or measure outcome='spend'.",
            DataQualityWarning,
        )


def _require(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"{table} must be a pandas DataFrame; got {type(frame).__name__}.")
    refuse_repeated(frame, columns, table=table)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{table} lacks columns {format_examples(missing)} needed for campaign_responses; it has "
            f"{format_examples(list(frame.columns), limit=12)}.{index_hint(frame, missing)}",
            table=table,
            column=missing[0],
        )
