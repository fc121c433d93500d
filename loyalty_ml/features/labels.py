"""``churn_labels``: 1 when a customer makes no purchase in ``[as_of, as_of + horizon)``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import ConfigError, LeakageError
from loyalty_ml.features._label_checks import warn_if_labels_mislead
from loyalty_ml.features._prepared import Prepared, prepare_transactions
from loyalty_ml.features._time import NS_PER_DAY
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import on_data_clock, to_timestamp
from loyalty_ml.schema._data_end import stated_end

__all__ = ["churn_labels"]

#: Longest label window: beyond it the window's end leaves the range of nanosecond timestamps.
_MAX_HORIZON_DAYS = 36_500


def check_horizon(horizon_days: object) -> int:
    """``horizon_days`` as an int >= 1, or ConfigError."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int | np.integer):
        raise ConfigError(
            f"The 'horizon_days' parameter must be an int >= 1. Got {horizon_days!r} instead."
        )
    if horizon_days < 1:
        raise ConfigError(
            f"The 'horizon_days' parameter must be an int >= 1. Got {horizon_days!r} instead."
        )
    if horizon_days > _MAX_HORIZON_DAYS:
        raise ConfigError(
            f"The 'horizon_days' parameter must be an int <= {_MAX_HORIZON_DAYS} (100 years). "
            f"Got {horizon_days!r} instead."
        )
    return int(horizon_days)


def observed_until(prepared: Prepared, observation_end: object) -> pd.Timestamp | None:
    """The end of the observed period: ``observation_end`` if given, else the data's end
    (``Prepared.covered_until``: the last timestamp, or the midnight after it when every timestamp
    is a midnight, as in a date-only export whose last day is covered to its end).

    A given ``observation_end`` is the last instant observed, as ``validate_transactions`` reads
    it; on date-only data a midnight names a day observed to its end (``schema._data_end``), so
    ``"2020-09-22"`` covers the 22nd there and stays the 22nd's midnight on timed data."""
    if observation_end is not None:
        end = to_timestamp(observation_end, name="observation_end", clock=prepared.clock)
        return stated_end(end, dates_only=prepared.dates_only)
    return prepared.covered_until


def check_not_censored(
    as_of: pd.Timestamp,
    horizon_days: int,
    end: pd.Timestamp | None,
    *,
    name: str = "as_of",
    start: pd.Timestamp | None = None,
    given_end: bool = False,
    dates_only: bool = False,
    recorded: pd.Timestamp | None = None,
) -> None:
    """Raise LeakageError when ``[as_of, as_of + horizon)`` runs past the observed data.

    ``start`` (the first transaction) lets the message say when no as_of can work: a horizon longer
    than the data itself. ``given_end``: ``end`` is the caller's ``observation_end``, not the data's
    last timestamp, and the message says so. ``dates_only``: ``end`` is the midnight after the
    last day of a date-only table (``observed_until``), and the message says so. ``recorded``:
    the end ``validate_transactions`` recorded in the table's ``attrs`` (``Prepared.data_end``);
    when it is later than ``end`` the table may be a segment of the validated data (a store) or a
    cut in time, which the rows cannot tell apart, so the message offers it as ``observation_end``
    for the first case rather than reading it for both (a cut in time would label every customer
    who buys after the cut as churned).
    """
    stop = as_of + pd.Timedelta(days=horizon_days)
    if given_end and end is not None and stop > end:
        day = pd.Timedelta(days=1)
        # on date-only data the stated end names a day, read to its end (observed_until)
        stated, enough = (
            (
                f"{(end - day).date()} (to the end of that day, {end}: the timestamps are dates "
                "without times)",
                f"{(stop - day).date()}",
            )
            if dates_only and end == end.normalize()
            else (str(end), str(stop))
        )
        raise LeakageError(
            f"Churn labels at {name}={as_of.date()} with horizon_days={horizon_days} need purchases "
            f"up to {stop}, but observation_end={stated} says the data is complete only until "
            "then: customers who buy after it would be labelled churned (a censored label). Pass a "
            f"later observation_end (at least {enough}) if the data is complete that far, or use an "
            f"earlier {name} (at most {end - pd.Timedelta(days=horizon_days)}) or a shorter horizon."
        )
    if end is None or stop > end:
        latest = "there are no transactions" if end is None else f"the data ends at {end}"
        if end is not None and dates_only:
            latest += (
                f" (the end of its last day, {(end - pd.Timedelta(days=1)).date()}: its "
                "timestamps are dates without times)"
            )
        latest_as_of = None if end is None else end - pd.Timedelta(days=horizon_days)
        if end is not None and start is not None and end - pd.Timedelta(days=horizon_days) <= start:
            days = (end - start).days
            shorter = (
                f"use horizon_days < {days} with an as_of inside the data, or load more history"
                if days > 1
                else "load more history"
            )
            fix = (
                f"The data spans only {end - start} ({start} to {end}), less than the horizon: "
                f"{shorter}"
            )
        elif latest_as_of is None:
            # no transaction at all (a filter that kept nothing, customers of another numbering)
            fix = "There are no transactions: check the filters and ids that built the table"
        else:
            fix = f"Use an earlier as_of (at most {latest_as_of}) or a shorter horizon"
        given = "or pass observation_end= if the data is complete beyond its last purchase."
        if end is not None and recorded is not None and recorded > end and recorded >= stop:
            given = (
                f"or, if this table is a segment of validated data (one store, one region), pass "
                f"observation_end='{recorded}', the end validate_transactions recorded for them "
                "(not if the table was cut in time: the window would run past the cut)."
            )
        raise LeakageError(
            f"Churn labels at {name}={as_of.date()} with horizon_days={horizon_days} need purchases "
            f"up to {stop}, but {latest}: customers who would buy after that would be labelled "
            f"churned (a censored label). {fix}, {given}"
        )


def labels_at(prepared: Prepared, as_of: pd.Timestamp, horizon_days: int) -> pd.Series:
    """Labels of the customers with a purchase before ``as_of`` (no censoring check here).

    An order belongs to the time of its first line, as in the features (an order begun a second
    before ``as_of`` is history, whatever its later lines), and a return line (negative amount,
    kept with ``returns="keep"``) is not a purchase: a refund in the window does not mean the
    customer came back.
    """
    start = as_of.value
    stop = start + horizon_days * NS_PER_DAY
    before = prepared.order_ts < start
    customers = np.unique(prepared.cust[before])
    bought = np.zeros(len(prepared.customer_ids), dtype=bool)
    window = (prepared.order_ts >= start) & (prepared.order_ts < stop) & (prepared.amount >= 0)
    bought[prepared.cust[window]] = True
    churned = (~bought[customers]).astype("int64")
    return pd.Series(churned, index=prepared.customer_ids[customers], name=C.CHURNED)


def churn_labels(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    horizon_days: int,
    observation_end: object = None,
) -> pd.Series:
    """Churn labels: 1 when a customer buys nothing in ``[as_of, as_of + horizon_days)``.

    A purchase is an order whose first line falls in the window (an order begun before ``as_of``
    belongs to the history, as in the features) with a line of non-negative amount: a return alone
    (kept with ``returns="keep"``) does not count.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``).
    as_of : str, date or Timestamp
        The cut-off; labelled customers are those with a purchase strictly before it.
    horizon_days : int
        Length of the label window in days (>= 1).
    observation_end : str, date or Timestamp, optional
        Until when the data is known to be complete: the last instant observed, as
        ``validate_transactions`` reads it. When every timestamp is a midnight (dates without
        times), a midnight names a day observed to its end: ``"2020-09-22"`` lets the window cover
        the 22nd. On timed data it is that instant (the 22nd's midnight). Defaults to the last
        timestamp in the data, so
        a window that ends after the last purchase is refused as censored; when every timestamp is
        a midnight, to the end of the last day, which the window may cover.

    Returns
    -------
    Series
        Named ``churned`` (int64, 0/1), indexed by ``customer_id`` (sorted).

    Warns
    -----
    DataQualityWarning
        Labels that are right by definition but mislead a model: an ``as_of`` before the first
        purchase (no labels) or with every customer labelled churned (100 or more of them; a gap
        in the data, a closure or a horizon shorter than the purchase cycle), or with none of them
        (100 or more; a horizon longer than anyone stays away, or an extract of only the customers
        still active at its end), or ``horizon_days`` shorter than the typical gap between a repeat
        customer's orders (the median over customers with two or more orders, when there are 30).

    Raises
    ------
    LeakageError
        ``as_of + horizon_days`` is after the end of the data (a ``DataError`` too).
    ConfigError
        ``horizon_days`` is not an int >= 1, or ``as_of`` is not a date.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-10", "2024-01-05", "2024-03-31"]),
    ...     "amount": [10.0, 30.0, 5.0, 1.0],
    ... })
    >>> churn_labels(tx, as_of="2024-02-01", horizon_days=30).to_dict()
    {1: 0, 2: 1}
    """
    horizon = check_horizon(horizon_days)
    cutoff = on_data_clock(as_of, transactions)
    prepared = prepare_transactions(transactions)
    end = observed_until(prepared, observation_end)
    check_not_censored(
        cutoff,
        horizon,
        end,
        start=prepared.first_ts,
        given_end=observation_end is not None,
        dates_only=prepared.dates_only,
        recorded=prepared.data_end,
    )
    labels = labels_at(prepared, cutoff, horizon)
    warn_if_labels_mislead(
        prepared,
        [(cutoff, labels)],
        horizon,
        caller="churn_labels",
        observation_end=end if observation_end is not None else None,
    )
    return labels
