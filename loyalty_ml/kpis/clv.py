"""Customer lifetime value in the three forms loyalty practice uses, assumptions as arguments.

Each function works on scalars (a programme average) or on Series indexed by ``customer_id`` (one value
per customer, aligned on the index); :func:`clv_inputs` computes the per-customer inputs from
transactions.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    format_examples,
    format_ids,
)
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
from loyalty_ml.schema._coerce import refuse_repeated_columns

__all__ = ["clv_discounted", "clv_inputs", "clv_lifetime", "clv_margin_churn"]

Value = TypeVar("Value", float, pd.Series)


def clv_lifetime(*, aov: Value, purchase_frequency: Value, lifetime: Value) -> Value:
    """Revenue CLV: ``CLV = AOV x frequency x lifetime``.

    Parameters
    ----------
    aov : float or Series
        Average order value (money per order).
    purchase_frequency : float or Series
        Orders per period (e.g. per year): :func:`clv_inputs` gives it per ``period_days`` (a
        year by default); ``summary``'s is per active customer in its own period (a month's
        needs a lifetime in months).
    lifetime : float or Series
        Expected customer lifetime in the same periods (e.g. 3 years).

    Examples
    --------
    >>> clv_lifetime(aov=40.0, purchase_frequency=5.0, lifetime=3.0)
    600.0
    """
    # the numbers the checks read: "10" from a CSV would be repeated as text, not multiplied
    aov = _check("aov", aov, low=0.0)
    purchase_frequency = _check("purchase_frequency", purchase_frequency, low=0.0)
    lifetime = _check("lifetime", lifetime, low=0.0)
    _check_aligned(aov=aov, purchase_frequency=purchase_frequency, lifetime=lifetime)
    return _own_index(aov * purchase_frequency * lifetime)


def clv_margin_churn(
    *, aov: Value, purchase_frequency: Value, margin_rate: Value, churn_rate: Value
) -> Value:
    """Margin CLV with a constant churn rate: ``CLV = AOV x frequency x margin / churn``.

    With churn ``c`` per period, the expected lifetime is ``1 / c`` periods (geometric), so this is the
    margin earned per period (``AOV x frequency x margin``) times the expected lifetime, undiscounted.

    Parameters
    ----------
    aov : float or Series
        Average order value.
    purchase_frequency : float or Series
        Orders per period, the period of ``churn_rate`` (see :func:`clv_lifetime`).
    margin_rate : float or Series
        Gross margin as a share of revenue, in [0, 1].
    churn_rate : float or Series
        Share of customers lost per period, in (0, 1].

    Examples
    --------
    >>> clv_margin_churn(aov=40.0, purchase_frequency=5.0, margin_rate=0.3, churn_rate=0.25)
    240.0
    """
    aov = _check("aov", aov, low=0.0)
    purchase_frequency = _check("purchase_frequency", purchase_frequency, low=0.0)
    margin_rate = _check("margin_rate", margin_rate, low=0.0, high=1.0)
    churn_rate = _check("churn_rate", churn_rate, low=0.0, high=1.0, low_open=True)
    _check_aligned(
        aov=aov,
        purchase_frequency=purchase_frequency,
        margin_rate=margin_rate,
        churn_rate=churn_rate,
    )
    return _own_index(aov * purchase_frequency * margin_rate / churn_rate)


def _own_index(value: Value) -> Value:
    """A Series result with an Index object of its own: pandas arithmetic hands back the first
    operand's, and renaming the result's index would rename the caller's."""
    return value.copy(deep=False) if isinstance(value, pd.Series) else value


def clv_discounted(
    margins: float | pd.Series | pd.DataFrame,
    *,
    discount_rate: float | pd.Series,
    retention_rate: float | pd.Series = 1.0,
    periods: int | None = None,
) -> float | pd.Series:
    """Discounted sum of future margins: ``CLV = sum_{t=1..T} m_t x r^(t-1) / (1 + d)^t``.

    ``m_t`` is the margin expected in period ``t`` from a customer still active, ``r`` the retention
    rate per period (the customer is active in period 1, in period 2 with probability ``r``, ...), and
    ``d`` the discount rate per period. Margins are received at the end of each period, hence the
    exponent ``t`` of the discount.

    Parameters
    ----------
    margins : float, Series or DataFrame
        A constant margin per period (float, or Series per customer) with ``periods`` = T; or a
        DataFrame with one column per future period (1..T in column order), one row per customer.
    discount_rate : float or Series
        Discount rate per period, >= 0 (e.g. 0.1 a year); a Series gives each customer its own.
    retention_rate : float or Series
        Probability that an active customer stays for the next period, in [0, 1]; 1 means the margins
        are already expected values. A Series (e.g. one minus each customer's churn probability)
        gives each customer its own. Series among ``margins`` and the two rates must be indexed by
        the same customers, each once.
    periods : int, optional
        Number of periods T for a constant margin; not allowed with a DataFrame.

    Returns
    -------
    float or Series
        Series (per customer) for a Series or DataFrame input.

    Examples
    --------
    >>> round(clv_discounted(100.0, discount_rate=0.1, retention_rate=0.8, periods=2), 4)
    157.0248
    >>> keep = pd.Series([0.8, 0.5], index=pd.Index(["a", "b"], name="customer_id"))
    >>> clv_discounted(100.0, discount_rate=0.1, retention_rate=keep, periods=2).round(2).tolist()
    [157.02, 132.23]
    """
    discount_rate = _check("discount_rate", discount_rate, low=0.0)
    retention_rate = _check("retention_rate", retention_rate, low=0.0, high=1.0)
    _check_aligned(margins=margins, discount_rate=discount_rate, retention_rate=retention_rate)
    if isinstance(margins, pd.DataFrame):
        if periods is not None:
            raise ConfigError(
                "periods must be None when margins is a DataFrame (its columns are the periods); "
                f"got periods={periods!r}."
            )
        if margins.shape[1] == 0:
            raise ConfigError(
                "margins has no columns; give one column per future period (1..T in column order)."
            )
        refuse_repeated_columns(margins, what="margins", table="margins")  # which is period t?
        values = pd.DataFrame(
            {c: pd.to_numeric(margins[c], errors="coerce") for c in margins.columns},
            index=margins.index,
        )
        _check(
            "margins", margins.where(values.isna(), values).stack(future_stack=True), low=-np.inf
        )
        horizon = margins.shape[1]
    else:
        if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
            raise ConfigError(
                "periods must be an int >= 1 when margins is a constant per period; "
                f"got {periods!r}."
            )
        margins = _check("margins", margins, low=-np.inf)
        horizon = int(periods)
    rates = [v for v in (discount_rate, retention_rate) if isinstance(v, pd.Series)]
    if not rates:
        t = np.arange(1, horizon + 1, dtype="float64")
        # r^(t-1) / (1+d)^t as a power of a ratio <= 1, which cannot overflow on long horizons
        weights = (retention_rate / (1.0 + discount_rate)) ** (t - 1) / (1.0 + discount_rate)
        if isinstance(margins, pd.DataFrame):
            return pd.Series(
                values.to_numpy(dtype="float64") @ weights, index=margins.index.copy(), name="clv"
            )
        total = margins * float(weights.sum())
        return total.rename("clv") if isinstance(total, pd.Series) else float(total)
    # per-customer rates: one row of weights per customer, in the customers' order
    if isinstance(margins, pd.Series | pd.DataFrame):
        index = margins.index
    else:
        index = rates[0].index
    d = _on(discount_rate, index)
    ratio = _on(retention_rate, index) / (1.0 + d)
    if isinstance(margins, pd.DataFrame):
        t = np.arange(horizon, dtype="float64")
        weights_by_row = ratio[:, None] ** t[None, :] / (1.0 + d)[:, None]
        total_values = (values.to_numpy(dtype="float64") * weights_by_row).sum(axis=1)
    else:
        # sum_{t=1..T} ratio^(t-1) in closed form (T itself where the ratio is 1)
        below = ratio < 1.0
        with np.errstate(divide="ignore"):  # log(0) = -inf: a ratio of 0 sums to 1
            power = -np.expm1(horizon * np.log(np.where(below, ratio, 0.5)))
        geometric = np.where(below, power / np.where(below, 1.0 - ratio, 1.0), float(horizon))
        total_values = _on(margins, index) * geometric / (1.0 + d)
    return pd.Series(total_values, index=index.copy(), name="clv")


def _on(value: float | pd.Series, index: pd.Index) -> np.ndarray:
    """``value`` as float64 values in the order of ``index`` (a Series is reindexed onto it)."""
    if isinstance(value, pd.Series):
        return value.reindex(index).to_numpy(dtype="float64")
    return np.full(len(index), float(value))


def clv_inputs(
    transactions: pd.DataFrame,
    *,
    period_start: object,
    period_end: object,
    period_days: float = 365.0,
) -> pd.DataFrame:
    """Per-customer CLV inputs measured on ``[period_start, period_end)``.

    Columns: ``orders`` (distinct ``(customer_id, order_id)``, or ``(customer_id, timestamp)``
    without order ids, among the purchases begun in the window: a kept return is not one),
    ``revenue`` (sum of ``amount`` over the lines dated in the window), ``aov`` = the value of
    those orders / orders (the amounts of their lines dated in the window: a refund or later line
    of an order begun before the window, with its ``order_id``, is left out, as in
    :func:`~loyalty_ml.kpis.summary`; a refund in an order of its own cannot be linked to its
    purchase and counts where it is dated), ``purchase_frequency`` = orders per ``period_days``
    days (orders x period_days / length of the window in days: per year by default, whatever the
    window's length, unlike ``summary``'s orders per customer in its period; the unit is also in
    ``attrs["purchase_frequency"]``), and, when transactions have ``margin``,
    ``margin`` (sum over the lines with a margin) and ``margin_rate`` = margin / revenue of those
    lines (NaN when it is 0; with every margin known, margin / revenue; lines without one are
    warned of). Only customers
    with a purchase begun in the window are listed (whose only rows there are kept returns are
    not); their ``revenue`` is net of the returns dated in the window.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1], "amount": [10.0, 30.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-02", "2024-06-30"])})
    >>> clv_inputs(tx, period_start="2024-01-01", period_end="2024-07-01",
    ...            period_days=182.0).loc[1, ["aov", "purchase_frequency"]].tolist()
    [20.0, 2.0]
    """
    tx = check_transactions(transactions)
    ts = tx[C.TIMESTAMP]
    start = to_bound(period_start, name="period_start", timestamps=ts)
    end = to_bound(period_end, name="period_end", timestamps=ts)
    check_period(start, end)
    _check("period_days", period_days, low=0.0, low_open=True)
    # purchase_frequency divides by the window's length, data or not
    warn_past_data(start, end, ts, caller="clv_inputs", what="the window", attrs=transactions.attrs)
    current = tx.loc[period_mask(ts, start, end).to_numpy()]
    if len(current) == 0:
        raise DataError(f"transactions has no rows in [{start}, {end}); no customer to value.")
    bought = purchase_lines(tx)
    in_window = bought.loc[period_mask(bought[C.TIMESTAMP], start, end).to_numpy()]
    orders = order_keys(in_window).drop_duplicates().groupby(C.CUSTOMER_ID).size()
    grouped = current.groupby(C.CUSTOMER_ID)
    out = pd.DataFrame({"orders": orders.astype("float64"), "revenue": grouped[C.AMOUNT].sum()})
    out = out.loc[out["orders"].notna()]  # rows in the window but no purchase: a kept return
    order_value = tx.loc[order_value_mask(tx, start, end).to_numpy()]
    value = order_value.groupby(C.CUSTOMER_ID)[C.AMOUNT].sum().reindex(out.index, fill_value=0.0)
    out["aov"] = value / out["orders"]
    # calendar days on a zone-aware clock (a daylight-saving change is not an hour less of window)
    window_days = (end.tz_localize(None) - start.tz_localize(None)) / pd.Timedelta(days=1)
    out["purchase_frequency"] = out["orders"] * period_days / window_days
    if C.MARGIN in current.columns:
        out["margin"] = grouped[C.MARGIN].sum()
        known = current[C.MARGIN].notna()
        if not known.all():
            # the rate over the lines whose margin is known: their revenue, not every line's
            revenue = current[C.AMOUNT].where(known).groupby(current[C.CUSTOMER_ID]).sum()
            n_missing = int((~known).sum())
            warn_user(
                f"clv_inputs: {n_missing:,} of {len(current):,} lines in the window have no "
                f"margin ({_share_of_customers(current, known)}); margin counts the known "
                "lines and margin_rate is their margin over their revenue. Fill the margins "
                "(e.g. amount x the category's margin rate) for a margin CLV of every line.",
                DataQualityWarning,
            )
        else:
            revenue = out["revenue"]
        revenue = revenue.reindex(out.index)
        out["margin_rate"] = out["margin"] / revenue.where(revenue != 0)
    out.index.name = C.CUSTOMER_ID
    out.attrs["purchase_frequency"] = f"orders per {period_days:g} days"
    return out


def _share_of_customers(lines: pd.DataFrame, known: pd.Series) -> str:
    """``"k of n customers"`` who have a line without a margin."""
    hit = lines.loc[~known, C.CUSTOMER_ID].nunique()
    return f"{hit:,} of {lines[C.CUSTOMER_ID].nunique():,} customers"


def _check_aligned(**values: object) -> None:
    """Refuse Series (or DataFrames) indexed by different customers, or repeating one: pandas
    would align them and give NaN, or one row for every pair of the repeated customer's rows."""
    series = [
        (name, value)
        for name, value in values.items()
        if isinstance(value, pd.Series | pd.DataFrame)
    ]
    if len(series) >= 2:
        for name, value in series:
            repeated = value.index[value.index.duplicated()].unique()
            if len(repeated):
                raise ConfigError(
                    f"{name} lists customer(s) {format_ids(repeated.tolist())} more than once; "
                    "give one value per customer (e.g. aggregate with groupby first)."
                )
    for (name, value), (other, other_value) in pairwise(series):
        only_here = value.index.difference(other_value.index)
        only_there = other_value.index.difference(value.index)
        if len(only_here) or len(only_there):
            raise ConfigError(
                f"{name} and {other} must be indexed by the same customers; "
                f"{format_examples(only_here.tolist(), total=len(only_here))} are only in {name} and "
                f"{format_examples(only_there.tolist(), total=len(only_there))} only in {other}, "
                f"whose CLV would be NaN. Align them first (e.g. {other}.reindex({name}.index)) "
                "or pass a programme average (a float) instead."
            )


def _check(
    name: str,
    value: object,
    *,
    low: float,
    high: float = np.inf,
    low_open: bool = False,
) -> Any:
    """Refuse missing, infinite or out-of-range assumptions, naming the parameter and the values;
    return the value as numbers (a float, or a float Series with the same index)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number | pd.Series):
        raise ConfigError(f"{name} must be a number or a Series of numbers; got {type(value)}.")
    values = pd.Series(value) if not isinstance(value, pd.Series) else value
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    too_low = numbers <= low if low_open else numbers < low
    bad = ~np.isfinite(numbers) | too_low | (numbers > high)
    if low == -np.inf:
        bad = ~np.isfinite(numbers)
    if bad.any():
        shown = values[bad]
        interval = f"{'(' if low_open else '['}{low}, {high}{']' if np.isfinite(high) else ')'}"
        raise ConfigError(
            f"{name} must be finite and in {interval}; got "
            f"{format_examples(shown.tolist(), total=int(bad.sum()))}"
            + (f" at {format_ids(shown.index.tolist())}" if isinstance(value, pd.Series) else "")
            + "."
        )
    if isinstance(value, pd.Series):
        return pd.Series(numbers, index=value.index, name=value.name)
    return float(numbers[0])
