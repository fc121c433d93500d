"""Orders of a transactions table: which lines make one, and when a purchase happened.

Shared by the KPIs (:mod:`loyalty_ml.kpis`) and the campaign responses of
:func:`~loyalty_ml.features.campaign_responses`, so a conversion, an active customer and an uplift
outcome all date a purchase the same way. The features read orders the same way from their sorted
arrays (:mod:`loyalty_ml.features._prepared`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.schema import columns as C

__all__ = ["order_keys", "order_starts", "purchase_lines"]


def order_keys(transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per line with the columns that identify its order.

    An order is a distinct ``(customer_id, order_id)`` pair: an order id reused by two customers (ids
    numbered per store or per day) is two orders. Without an ``order_id`` column an order is a
    distinct ``(customer_id, timestamp)`` pair, as in :func:`~loyalty_ml.features.build_features`:
    the lines of one basket share the customer and the checkout time.
    """
    if C.ORDER_ID in transactions.columns:
        return transactions[[C.CUSTOMER_ID, C.ORDER_ID]]
    return transactions[[C.CUSTOMER_ID, C.TIMESTAMP]]


def order_starts(transactions: pd.DataFrame) -> pd.Series:
    """For each line, the time of its order's first line (``transactions`` has ``order_id``). A
    line without an order id (which the KPIs refuse) is an order of its own, as in the features."""
    keys = [transactions[column] for column in order_keys(transactions).columns]
    ts = transactions[C.TIMESTAMP]
    first = ts.groupby(keys, sort=False).transform("min")
    alone = first.isna().to_numpy() & ts.notna().to_numpy()
    return first.mask(alone, ts) if alone.any() else first


def purchase_lines(transactions: pd.DataFrame) -> pd.DataFrame:
    """The lines that make a customer active and an order count, each at its order's time.

    As :func:`~loyalty_ml.features.churn_labels` and the features read them: an order's time is
    its first line's (a return inside the purchase order, dated days later, does not make the
    customer active again then), and an order without a line of ``amount >= 0`` (a return alone,
    kept by ``validate_transactions(returns="keep")``) is not a purchase. A line without an order
    id (which the KPIs refuse) is an order of its own, as in the features. With no negative
    amounts and no order spread over several times (``validate_transactions``' default) it is
    ``transactions`` itself. Revenue is not read from it: it stays the sum of the lines' amounts
    (net of returns when they are kept, at their own time).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "order_id": ["a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02"]),
    ...                    "amount": [5.0, 2.0, -3.0]})
    >>> purchase_lines(tx)["timestamp"].dt.day.tolist()
    [1, 1]
    """
    keys = [transactions[column] for column in order_keys(transactions).columns]
    bought = transactions[C.AMOUNT] >= 0
    if C.ORDER_ID not in transactions.columns:  # an order is one (customer, timestamp)
        if bool(bought.all()):
            return transactions
        purchase = bought.groupby(keys, sort=False).transform("any")
        return transactions.loc[purchase.to_numpy(dtype=bool)]
    ts = transactions[C.TIMESTAMP]
    first = order_starts(transactions)
    if bool(bought.all()):  # no return kept: every order is a purchase
        if first.equals(ts):
            return transactions
        return transactions.assign(**{C.TIMESTAMP: first})
    in_purchase = bought.groupby(keys, sort=False).transform("any").to_numpy(dtype=bool)
    # lines without a key (no order id) are orders of their own, as order_starts dates them
    alone = order_keys(transactions).isna().any(axis=1).to_numpy() & ts.notna().to_numpy()
    if alone.any():
        in_purchase = np.where(alone, bought.to_numpy(dtype=bool), in_purchase)
    return transactions.assign(**{C.TIMESTAMP: first}).loc[in_purchase]
