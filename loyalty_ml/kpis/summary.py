"""Programme summary KPIs over one period: customers, orders, revenue, AOV, frequency, retention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import ConfigError
from loyalty_ml.kpis._common import (
    check_period,
    check_transactions,
    order_keys,
    order_value_mask,
    period_mask,
    purchase_lines,
    to_bound,
    warn_past_data,
)
from loyalty_ml.schema import columns as C

__all__ = ["summary"]


def summary(
    transactions: pd.DataFrame,
    *,
    period_start: object,
    period_end: object,
    previous_start: object = None,
) -> pd.Series:
    """The headline KPIs of a loyalty programme over the half-open period ``[period_start, period_end)``.

    Definitions (DESIGN.md section 8), over the period ``period_start <= timestamp < period_end``:

    - ``active_customers`` = number of distinct ``customer_id`` with a purchase in the period: an
      order whose first line falls in it and that has a line of ``amount >= 0``, as the features
      and churn labels count purchases (a return kept by validation, alone or dated after its
      purchase, does not make a customer active).
    - ``orders`` = number of distinct ``(customer_id, order_id)`` pairs among those purchases; an
      order id reused by two customers counts as two orders. Without an ``order_id`` column, an
      order is a distinct ``(customer_id, timestamp)`` pair (the lines of one basket), as in the
      features.
    - ``revenue`` = sum of ``amount`` over the rows in the period (net of returns, at their own
      time, if they were kept by validation).
    - ``aov`` = the value of those orders / orders: the amounts of their lines dated in the
      period. A line of an order begun before the period (a refund or a later line with its
      ``order_id``) belongs to that order, not to this period's AOV, though it counts in
      ``revenue``; a refund in an order of its own (another ``order_id``, or without an
      ``order_id`` column) cannot be linked to what it refunds and lowers the AOV of the period
      where it is dated. With neither, ``aov`` = revenue / orders.
    - ``purchase_frequency`` = orders / active_customers: orders per active customer in this
      period (its length, not a year: ``clv_lifetime`` needs a lifetime in periods of that
      length). ``attrs["purchase_frequency"]`` of the result says so, with the period's days.
    - ``repeat_purchase_rate`` = (active customers with 2 or more orders in the period) /
      active_customers.

    With ``previous_start``, over the previous period ``[previous_start, period_start)``:

    - ``previous_active_customers`` = N_0, distinct customers with a purchase in the previous
      period;
    - ``retained_customers`` = N_t, those of them also active in the period;
    - ``retention_rate`` = N_t / N_0 and ``churn_rate`` = 1 - retention_rate.

    Empty periods never divide by zero: a ratio whose denominator is 0 is NaN (``aov`` and the two
    frequencies when the period has no rows; ``retention_rate`` and ``churn_rate`` when the previous
    period has no customers). Counts are returned as whole-number floats so that the result is one
    float64 Series.

    Time zones: bounds are read on the clock of ``transactions.timestamp``. A naive bound against
    zone-aware timestamps is taken in the data's zone; an aware bound is converted to it; an aware bound
    against naive timestamps is refused with a :class:`ConfigError`.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions: ``customer_id``, ``timestamp`` (datetime64), ``amount``, optional
        ``order_id``. Missing values in these columns are refused (:class:`SchemaError`).
    period_start, period_end : date-like
        The period ``[period_start, period_end)``; ``period_end`` must be after ``period_start``.
    previous_start : date-like, optional
        Start of the previous period ``[previous_start, period_start)`` for retention and churn.

    Returns
    -------
    Series
        float64, indexed by KPI name.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-02-10",
    ...                                                 "2024-02-28"]),
    ...                    "amount": [10.0, 20.0, 30.0, 40.0]})
    >>> s = summary(tx, period_start="2024-02-01", period_end="2024-03-01", previous_start="2024-01-01")
    >>> s[["active_customers", "orders", "revenue", "aov", "retention_rate"]].tolist()
    [3.0, 3.0, 90.0, 30.0, 1.0]
    """
    tx = check_transactions(transactions)
    ts = tx[C.TIMESTAMP]
    start = to_bound(period_start, name="period_start", timestamps=ts)
    end = to_bound(period_end, name="period_end", timestamps=ts)
    check_period(start, end)
    warn_past_data(start, end, ts, caller="summary", what="the period", attrs=transactions.attrs)
    # activity and orders: purchase orders at their first line's time (see purchase_lines)
    bought = purchase_lines(tx)
    bought_ts = bought[C.TIMESTAMP]
    current = bought.loc[period_mask(bought_ts, start, end).to_numpy()]

    customers = current[C.CUSTOMER_ID]
    n_customers = int(customers.nunique())
    orders_per_customer = (
        order_keys(current).drop_duplicates().groupby(C.CUSTOMER_ID, sort=False).size()
    )
    n_orders = int(orders_per_customer.sum())
    # A plain sum of the period's amounts in row order: the same float a direct computation gives.
    revenue = float(tx.loc[period_mask(ts, start, end).to_numpy(), C.AMOUNT].sum())
    repeaters = int((orders_per_customer >= 2).sum())
    order_value = float(tx.loc[order_value_mask(tx, start, end).to_numpy(), C.AMOUNT].sum())

    values: dict[str, float] = {
        "active_customers": float(n_customers),
        "orders": float(n_orders),
        "revenue": revenue,
        "aov": _ratio(order_value, n_orders),
        "purchase_frequency": _ratio(n_orders, n_customers),
        "repeat_purchase_rate": _ratio(repeaters, n_customers),
    }
    if previous_start is not None:
        prev_start = to_bound(previous_start, name="previous_start", timestamps=ts)
        if prev_start >= start:
            raise ConfigError(
                "previous_start must be before period_start; got "
                f"previous_start={prev_start}, period_start={start}."
            )
        previous = pd.unique(
            bought.loc[period_mask(bought_ts, prev_start, start).to_numpy(), C.CUSTOMER_ID]
        )
        n_previous = len(previous)
        n_retained = int(pd.Series(previous).isin(customers).sum())
        retention = _ratio(n_retained, n_previous)
        values["previous_active_customers"] = float(n_previous)
        values["retained_customers"] = float(n_retained)
        values["retention_rate"] = retention
        values["churn_rate"] = 1.0 - retention if not np.isnan(retention) else np.nan
    out = pd.Series(values, dtype="float64", name="value")
    out.attrs["purchase_frequency"] = (
        f"orders per active customer in the {_days(start, end)}-day period [{start}, {end})"
    )
    return out


def _days(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The period's length in calendar days, as a short number (31, 0.5)."""
    days = (end.tz_localize(None) - start.tz_localize(None)) / pd.Timedelta(days=1)
    return f"{days:g}"


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is 0 (an empty period)."""
    return float(numerator) / denominator if denominator else np.nan
