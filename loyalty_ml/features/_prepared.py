"""Sort transactions once, then cut point-in-time snapshots from them without copying per customer.

``prepare_transactions`` checks the columns, factorises customers (sorted ids, so the output order never
depends on the input row order) and sorts the rows by (customer, order time, order, timestamp). Each
order is then a contiguous run of rows. ``snapshot`` keeps the rows with ``timestamp < as_of`` (a
boolean mask over the sorted arrays: the runs stay contiguous) and reduces them to orders and customers
with ``np.add.reduceat``; no Python loop runs over customers.

An order is one ``order_id`` of one customer when the column exists, otherwise one (customer,
timestamp) pair. An order's time is the time of its first line. An order of returns only (kept by
``validate_transactions(returns="keep")``) is not a purchase: its lines join the customer's previous
purchase order (see ``_attach_returns``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loyalty_ml._checks import MAX_MONEY
from loyalty_ml._parallel import run_both
from loyalty_ml.exceptions import SchemaError, format_examples, index_hint
from loyalty_ml.features._time import days_between
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    decoded_ids,
    refuse_missing_ids,
    refuse_mixed_ids,
    refuse_repeated,
    table_clock,
    to_nanoseconds,
    with_decoded_ids,
)
from loyalty_ml.schema._data_end import is_dates_only
from loyalty_ml.schema._ids import align_customer_ids
from loyalty_ml.schema.transactions import DATA_END_ATTR, later_end, negative_discount_fix

__all__ = [
    "Prepared",
    "Snapshot",
    "bought_codes",
    "distinct_counts",
    "id_table",
    "n_distinct",
    "per_customer_sum",
    "prepare_transactions",
    "snapshot",
    "timestamp_values",
]

TABLE = "transactions"
#: Optional text-like columns kept as integer codes (-1 = missing) with their labels.
_CODED = (C.CATEGORY, C.CHANNEL, C.STORE_ID, C.PRODUCT_ID)
#: Optional numeric columns kept as float64.
_NUMERIC = (C.QUANTITY, C.DISCOUNT, C.MARGIN)
#: distinct_counts counts pairs in a dense customers x labels table up to this many cells per row.
_DENSE_CELLS_PER_ROW = 2
_DENSE_MIN_CELLS = 1 << 16
#: (customer, code) keys are sorted as int32: customers x labels per block of customers at most.
_INT32_KEYS = np.iinfo(np.int32).max - 1


@dataclass(frozen=True)
class Prepared:
    """Transactions as sorted numpy arrays (see the module docstring)."""

    customer_ids: pd.Index
    cust: np.ndarray  # int64 code into customer_ids, non-decreasing
    ts: np.ndarray  # int64 ns
    order_ts: np.ndarray  # int64 ns, time of the first line of the row's order
    order: np.ndarray  # int64 order run id, non-decreasing
    amount: np.ndarray
    codes: dict[str, tuple[np.ndarray, pd.Index]] = field(default_factory=dict)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    at_order_start: np.ndarray | None = None  # per row: at its order's first instant (None: all)
    clock: str | None = None  # the zone of the naive timestamps (validate_transactions' timezone)
    #: (first, last) timestamp of the input, rows set aside included (None: those of ``ts``)
    span_ns: tuple[int, int] | None = None
    #: every timestamp of the input, rows set aside included, is a midnight (a date-only export)
    dates_only: bool = False
    #: the data end ``validate_transactions`` recorded in the input's ``attrs``, as found there,
    #: which a segment filtered from the validated table keeps (None: none recorded)
    recorded_end: object = None

    @property
    def first_ts(self) -> pd.Timestamp | None:
        """The first timestamp in the data, or None when there are no rows."""
        if self.span_ns is not None:
            return pd.Timestamp(self.span_ns[0], unit="ns")
        return pd.Timestamp(int(self.ts.min()), unit="ns") if len(self.ts) else None

    @property
    def last_ts(self) -> pd.Timestamp | None:
        """The last timestamp in the data, or None when there are no rows."""
        if self.span_ns is not None:
            return pd.Timestamp(self.span_ns[1], unit="ns")
        return pd.Timestamp(int(self.ts.max()), unit="ns") if len(self.ts) else None

    @property
    def covered_until(self) -> pd.Timestamp | None:
        """The end of the period the data covers (``schema._data_end``): the last timestamp, or
        the midnight after it when every timestamp is a midnight; None when there are no rows."""
        last = self.last_ts
        if last is None or not self.dates_only:
            return last
        return last + pd.Timedelta(days=1)

    @property
    def data_end(self) -> pd.Timestamp | None:
        """Where the data end: the later of :attr:`covered_until` and the end
        ``validate_transactions`` recorded (a stated ``observation_end``, or the full table's end
        when this one is a segment filtered from it: one store's last purchase is not the end of
        the data); None when there are no rows."""
        own = self.covered_until
        return None if own is None else later_end(own, self.recorded_end)


@dataclass(frozen=True)
class Snapshot:
    """Rows, orders and customers of the transactions strictly before ``as_of``.

    ``r_*`` arrays are per row, ``o_*`` per order, and ``customer_ids`` lists the customers (one per
    output row). ``r_cust`` and ``o_cust`` index into ``customer_ids``.
    """

    as_of_ns: int
    customer_ids: pd.Index
    customer_codes: np.ndarray  # codes of the snapshot's customers in Prepared.customer_ids
    r_cust: np.ndarray
    r_amount: np.ndarray
    r_codes: dict[str, tuple[np.ndarray, pd.Index]]
    r_numeric: dict[str, np.ndarray]
    o_cust: np.ndarray
    o_ts: np.ndarray
    o_amount: np.ndarray
    o_first_row: np.ndarray
    c_first_order: np.ndarray  # index of each customer's first order in the o_* arrays
    c_n_orders: np.ndarray
    r_at_order_start: np.ndarray  # per row: its time is the time of its order (a "first line")

    @property
    def n_customers(self) -> int:
        """Number of customers (output rows)."""
        return len(self.customer_ids)

    def has(self, column: str) -> bool:
        """Whether the optional transactions ``column`` was present."""
        return column in self.r_codes or column in self.r_numeric


def _validator(table: str) -> str:
    """The validator of ``table`` ("transactions", "customers", "campaigns"...)."""
    validated = ("transactions", "customers", "campaigns", "offers", "events")
    return f"validate_{table}" if table in validated else "validate_transactions"


def require(frame: object, columns: tuple[str, ...], *, table: str) -> pd.DataFrame:
    """Return ``frame`` as a DataFrame or raise SchemaError naming missing columns and what is there."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"{table} must be a pandas DataFrame; got {type(frame).__name__}.", table=table
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{table} is missing required column(s) {missing}; it has {list(map(str, frame.columns))}."
            f"{index_hint(frame, missing)} Rename the columns or run loyalty_ml.{_validator(table)}(raw, columns=ColumnMap(...)) "
            "first.",
            table=table,
            column=missing[0],
        )
    refuse_repeated(frame, columns, table=table)
    return frame


def nanoseconds(series: pd.Series, *, table: str, column: str) -> np.ndarray:
    """Nanoseconds since the epoch (int64, NaT as int64's minimum) of a datetime64 column.

    Dates outside datetime64[ns] (placeholders such as 9999-12-31, which pandas 3 keeps at micro-
    second resolution) are a SchemaError naming the rows, never silently wrapped to another year.
    """
    return (
        to_nanoseconds(series, table=table, column=column)
        .to_numpy(dtype="datetime64[ns]")
        .view("int64")
    )


def timestamp_values(series: pd.Series, *, table: str, column: str) -> np.ndarray:
    if not pd.api.types.is_datetime64_dtype(series.dtype):
        raise SchemaError(
            f"{table}.{column} must be tz-naive datetime64 (NumPy-backed); got dtype {series.dtype}. "
            "Convert it with "
            "pd.to_datetime (and .dt.tz_convert('UTC').dt.tz_localize(None) for zoned values) or use "
            f"loyalty_ml.{_validator(table)}.",
            table=table,
            column=column,
        )
    values = nanoseconds(series, table=table, column=column)
    bad = values == np.iinfo(np.int64).min
    if bad.any():
        raise SchemaError(
            f"{table}.{column} has missing timestamps at rows "
            f"{format_examples(series.index[bad], total=int(bad.sum()))}. Drop or fill them first.",
            table=table,
            column=column,
        )
    return values


def column_floats(series: pd.Series, *, table: str, column: str, allow_na: bool) -> np.ndarray:
    """``series`` as float64, or a SchemaError when it is not numeric (or, unless ``allow_na``,
    has missing or infinite values)."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise SchemaError(
            f"{table}.{column} must be numeric; got dtype {series.dtype}. Convert it with "
            "pd.to_numeric (Decimal values from a database or Parquet export included), or run "
            f"loyalty_ml.{_validator(table)}.",
            table=table,
            column=column,
        )
    if series.dtype.kind == "f" and isinstance(series.dtype, np.dtype):
        values = series.to_numpy(dtype="float64")  # NaN already marks missing: no copy to fill
    else:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    if not allow_na:
        bad = ~np.isfinite(values)
        if bad.any():
            raise SchemaError(
                f"{table}.{column} has missing or infinite values at rows "
                f"{format_examples(series.index[bad], total=int(bad.sum()))}. Drop or fix them first.",
                table=table,
                column=column,
            )
    return values


#: Longest span of timestamps read as one history: spans, gaps and ages are int64 nanoseconds,
#: which hold 292 years, and no loyalty programme's data is this old.
_MAX_SPAN_NS = 200 * 365 * 86_400 * 10**9
_NS_PER_YEAR = 365.25 * 86_400e9


def _refuse_centuries(tx: pd.DataFrame, ts: np.ndarray, span: tuple[int, int] | None) -> None:
    """SchemaError when the timestamps (``span``: their first and last) span more than 200 years:
    a placeholder date (1700-01-01, 1900-01-01 next to 2200-01-01) that would overflow every age
    and gap computed from it."""
    if span is None or span[1] - span[0] <= _MAX_SPAN_NS:
        return
    first, last = pd.Timestamp(span[0]), pd.Timestamp(span[1])
    middle = float(np.median(ts))
    far = np.flatnonzero(np.abs(ts - middle) > _MAX_SPAN_NS / 2)  # the rows far from most
    raise SchemaError(
        f"{TABLE}.{C.TIMESTAMP} spans {(span[1] - span[0]) / _NS_PER_YEAR:.0f} "
        f"years, from {first.date()} to {last.date()} (rows far from the others: "
        f"{format_examples(tx.index[far].tolist(), total=len(far))}): placeholder or "
        "mistyped dates. Correct or drop them first; ages and gaps over more than two centuries "
        "cannot be computed.",
        table=TABLE,
        column=C.TIMESTAMP,
    )


#: Largest magnitude of an amount, margin, discount or quantity: sums of larger ones overflow to
#: inf, and no basket line is worth this much in any currency.
_MAX_MAGNITUDE = MAX_MONEY


def _refuse_huge(tx: pd.DataFrame, column: str, values: np.ndarray) -> None:
    huge = np.abs(values) > _MAX_MAGNITUDE  # NaN compares False
    if huge.any():
        raise SchemaError(
            f"{TABLE}.{column} holds values beyond {_MAX_MAGNITUDE:.0e} at rows "
            f"{format_examples(tx.index[huge].tolist(), total=int(huge.sum()))} (e.g. "
            f"{values[huge][0]:.3g}): a unit mix-up or a corrupt value. Sums of such values "
            "overflow; fix or drop those rows first.",
            table=TABLE,
            column=column,
        )


def _refuse_unsigned(tx: pd.DataFrame, amount: np.ndarray, numbers: dict[str, np.ndarray]) -> None:
    """SchemaError on the signs ``validate_transactions`` reads or refuses, in a table that did
    not go through it: a negative discount on a purchase line (discounts written as negative
    numbers would count as none), and a negative quantity on a purchase line (a return exported
    unsigned, which would count as a purchase of minus that many items)."""
    purchase = amount >= 0
    if C.DISCOUNT in numbers:
        bad = (numbers[C.DISCOUNT] < 0) & purchase  # NaN compares False
        if bad.any():
            raise SchemaError(
                f"{TABLE}.{C.DISCOUNT} is the money given away on a line and cannot be negative "
                f"on a purchase line; got it at rows "
                f"{format_examples(tx.index[bad].tolist(), total=int(bad.sum()))}. "
                + negative_discount_fix(pd.Series(numbers[C.DISCOUNT])),
                table=TABLE,
                column=C.DISCOUNT,
            )
    if C.QUANTITY in numbers:
        bad = (numbers[C.QUANTITY] < 0) & (amount > 0)
        if bad.any():
            raise SchemaError(
                f"{TABLE}.{C.QUANTITY} is negative on lines of positive amount at rows "
                f"{format_examples(tx.index[bad].tolist(), total=int(bad.sum()))}: returns "
                f"exported with unsigned amounts, which would count as purchases. Run "
                "loyalty_ml.validate_transactions(raw) first: it reads them as returns and "
                "negates their amounts.",
                table=TABLE,
                column=C.QUANTITY,
            )


def id_table(prepared: Prepared) -> pd.DataFrame:
    """The transactions' customer ids as a one-column table, what
    :func:`loyalty_ml.schema._ids.align_customer_ids` aligns another table's ids with."""
    return pd.DataFrame({C.CUSTOMER_ID: prepared.customer_ids})


def prepare_transactions(transactions: object) -> Prepared:
    """Check and sort a canonical transactions table into a :class:`Prepared`."""
    tx = require(transactions, C.TRANSACTION_REQUIRED, table=TABLE)
    refuse_repeated(tx, C.TRANSACTION_COLUMNS, table=TABLE)
    refuse_missing_ids(tx, table=TABLE)
    refuse_mixed_ids(tx[C.CUSTOMER_ID], table=TABLE)
    ids = decoded_ids(tx[C.CUSTOMER_ID])  # categorical ids index the features by their values
    cust, customer_ids = _factorize_sorted(ids)
    customer_ids = customer_ids.rename(C.CUSTOMER_ID)
    ts = timestamp_values(tx[C.TIMESTAMP], table=TABLE, column=C.TIMESTAMP)
    span = (int(ts.min()), int(ts.max())) if len(ts) else None  # rows set aside below included
    dates_only = is_dates_only(ts)
    _refuse_centuries(tx, ts, span)
    amount = column_floats(tx[C.AMOUNT], table=TABLE, column=C.AMOUNT, allow_na=False)

    def column_values() -> tuple[dict[str, _Coded], dict[str, np.ndarray]]:
        coded = {c: _sorted_codes(tx[c]) for c in _CODED if c in tx.columns}
        numbers = {
            c: column_floats(tx[c], table=TABLE, column=c, allow_na=True)
            for c in _NUMERIC
            if c in tx.columns
        }
        return coded, numbers

    perm, (coded, numbers) = run_both(
        lambda: _canonical_order(tx, cust, ts, amount),
        column_values,
        rows=len(tx),
    )
    for column, values in ((C.AMOUNT, amount), *numbers.items()):
        _refuse_huge(tx, column, values)
    _refuse_unsigned(tx, amount, numbers)
    with_orders = C.ORDER_ID in tx.columns and len(tx) > 0
    new = np.zeros(0, dtype=bool)
    if with_orders:
        # one order = one (customer, order_id); its time is its earliest line
        perm, new = _orders_together(tx[C.ORDER_ID], cust, perm)
        perm, new = _split_late_purchases(perm, new, cust, ts, amount)

    def rows_and_orders() -> tuple[np.ndarray, ...]:
        r_cust, r_ts, r_amount = cust[perm], ts[perm], amount[perm]
        if with_orders:
            starts = new
        else:  # an order is one (customer, time) pair
            starts = np.ones(len(r_ts), dtype=bool)
            starts[1:] = (r_cust[1:] != r_cust[:-1]) | (r_ts[1:] != r_ts[:-1])
        order = np.cumsum(starts, dtype="int64")
        # an order's time is that of its first line
        order_ts = r_ts[starts][order - 1] if with_orders else r_ts
        return r_cust, r_ts, r_amount, order, order_ts

    def other_columns() -> tuple[dict[str, tuple[np.ndarray, pd.Index]], dict[str, np.ndarray]]:
        return (
            {c: values.taken(perm) for c, values in coded.items()},
            {c: values[perm] for c, values in numbers.items()},
        )

    (cust, ts, amount, order, order_ts), (codes, numeric) = run_both(
        rows_and_orders, other_columns, rows=len(tx)
    )
    attached = _attach_returns(cust, amount, order, order_ts)
    if attached is not None:  # returns in orders of their own, kept by validate_transactions
        keep, order, order_ts = attached
        if keep is not None:
            cust, ts, amount = cust[keep], ts[keep], amount[keep]
            codes = {c: (values[keep], labels) for c, (values, labels) in codes.items()}
            numeric = {c: values[keep] for c, values in numeric.items()}
            in_use = np.unique(cust)
            customer_ids = customer_ids[in_use]
            cust = np.searchsorted(in_use, cust).astype(np.int64, copy=False)
    # without order ids (and no return attached) every line is at its order's first instant
    at_start = ts == order_ts if with_orders or attached is not None else None
    return Prepared(
        customer_ids,
        cust,
        ts,
        order_ts,
        order,
        amount,
        codes,
        numeric,
        at_start,
        clock=table_clock(transactions),
        span_ns=span,
        dates_only=dates_only,
        recorded_end=tx.attrs.get(DATA_END_ATTR),
    )


def _split_late_purchases(
    perm: np.ndarray, starts: np.ndarray, cust: np.ndarray, ts: np.ndarray, amount: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Start a new order at the first purchase line of an order that began with returns only.

    An order whose first lines are returns (``amount < 0``) and whose first purchase line comes
    later (an exchange, a pre-order paid later) is a purchase only from that line's time: dated at
    its first line, a cutoff between the two would read it as a purchase on the strength of a
    line after the cutoff. Its leading returns become an order of their own (which
    :func:`_attach_returns` folds into the customer's previous purchase, as it would without the
    later lines), and the rest is the purchase order, from the first instant of its first purchase
    line. ``perm`` puts the rows by customer and order (orders by their first line's time, each
    order's lines by time); ``starts`` flags each order's first row in it. Returns both, with the
    orders put back in the order of their (new) times: the purchase part of a split order can
    come after other orders of the customer, which the recency, the gaps between orders and the
    returns folded into "the previous purchase" all read by position.
    """
    first = np.flatnonzero(starts)
    if len(first) == 0 or bool((amount[perm[first]] >= 0).all()):
        return perm, starts  # no order starts with a return: the usual case, nothing gathered
    r_ts, bought = ts[perm], amount[perm] >= 0
    never = np.iinfo(np.int64).max
    first_bought = np.minimum.reduceat(np.where(bought, np.arange(len(r_ts)), never), first)
    late = (first_bought != never) & ~bought[first]
    late[late] = r_ts[first_bought[late]] > r_ts[first[late]]
    if not late.any():
        return perm, starts
    # the purchase order starts at the first line of its first purchase line's instant
    changes = np.flatnonzero(r_ts[1:] != r_ts[:-1]) + 1
    at = first_bought[late]
    split = changes[np.searchsorted(changes, at, side="right") - 1]
    out = starts.copy()
    out[split] = True
    order = np.cumsum(out) - 1
    order_ts = r_ts[out][order]
    # by customer, then order time, then the order's place before (ties keep it); stable, so
    # each order's lines stay together and in their order
    resort = np.lexsort((order, order_ts, cust[perm]))
    return perm[resort], out[resort]


def _attach_returns(
    cust: np.ndarray, amount: np.ndarray, order: np.ndarray, order_ts: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray] | None:
    """Fold each order without a purchase line into the customer's previous purchase order.

    An order whose lines all have ``amount < 0`` (a return or refund in an order of its own, kept
    with ``validate_transactions(returns="keep")``) is not a purchase, as in ``churn_labels`` and
    the KPIs: it must neither count as an order nor make the customer recent. Its lines join the
    customer's latest purchase order before it (rows are sorted by customer and order time, so they
    already follow it), at that order's time, like a return inside the purchase order: they net
    against spend once their own timestamp has passed. Returns with no purchase before them (of
    something bought before the data begins, or by a customer who never bought) have no order to
    join and are left out, so that customer is not a customer of the features or the labels.

    Returns None when every order holds a purchase line (the usual case: nothing to do), else
    ``(keep, order, order_ts)``: the rows kept (None: all) and their order ids and order times.
    """
    bought = amount >= 0
    if len(amount) == 0 or bool(bought.all()):
        return None
    first_row = np.flatnonzero(np.r_[True, order[1:] != order[:-1]])
    purchase = np.maximum.reduceat(bought, first_row)
    if bool(purchase.all()):
        return None
    n_orders = len(first_row)
    latest = np.where(purchase, np.arange(n_orders), -1)
    np.maximum.accumulate(latest, out=latest)
    run_cust = cust[first_row]
    joins = latest >= 0
    joins[joins] = run_cust[latest[joins]] == run_cust[joins]
    run = np.repeat(np.arange(n_orders), np.diff(np.append(first_row, len(order))))
    target = latest[run]
    new_order_ts = order_ts[first_row][np.maximum(target, 0)]
    keep = joins[run]
    if bool(keep.all()):
        return None, target.astype(np.int64) + 1, new_order_ts
    return keep, target[keep].astype(np.int64) + 1, new_order_ts[keep]


def _orders_together(
    order_ids: pd.Series, cust: np.ndarray, perm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Refine ``perm`` (rows by customer, then time) so that each order's lines are contiguous.

    Orders come in the order of their first line, so by customer and then by the order's time, and
    an order's lines keep their (time, row) order. Returns the new permutation and the flag of each
    order's first row in it. A line without an order id is an order of its own. When every order
    is already one run (its lines share a time, as usual) ``perm`` is kept; otherwise one sort of
    unique keys (order's first position, position) does it, not a multi-key lexsort.
    """
    small = _small_int_codes(order_ids)
    if small is not None:
        codes = small[0]
    else:
        codes = pd.factorize(order_ids, use_na_sentinel=True)[0].astype(np.int64, copy=False)
    missing = codes < 0
    if missing.any():
        codes[missing] = codes.max() + 1 + np.flatnonzero(missing)
    n_codes = int(codes.max()) + 1
    low = np.full(n_codes, np.iinfo(np.int64).max, dtype=np.int64)
    high = np.full(n_codes, -1, dtype=np.int64)
    np.minimum.at(low, codes, cust)
    np.maximum.at(high, codes, cust)
    if bool(np.all(low >= high)):  # every order id belongs to one customer: it is the order
        group = codes[perm]
    else:  # an order id shared by customers: one order per (customer, order id)
        group = pd.factorize(cust * n_codes + codes)[0][perm]
    n = len(perm)
    position = np.arange(n, dtype=np.int64)
    first = _first_positions(group, position)
    new = np.ones(n, dtype=bool)
    new[1:] = group[1:] != group[:-1]
    if np.count_nonzero(new) == np.count_nonzero(first < n):
        return perm, new  # every order is a single run already
    bits = max(n - 1, 1).bit_length()
    key = first[group] << bits
    key |= position
    key.sort()
    key &= (1 << bits) - 1
    group = group[key]
    new[1:] = group[1:] != group[:-1]
    return perm[key], new


def _first_positions(group: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Smallest position of each group value (``len(position)`` for values that never occur)."""
    first = np.full(int(group.max()) + 1, len(position), dtype=np.int64)
    np.minimum.at(first, group, position)
    return first


def _small_int_codes(values: pd.Series) -> tuple[np.ndarray, int] | None:
    """``(values - low, low)``, int64 codes for integers of a small range (no hashing), else None."""
    if not (isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu") or len(values) == 0:
        return None
    array = values.to_numpy()
    low = array.min()
    if int(array.max()) > np.iinfo(np.int64).max:  # uint64 hashed ids: no int64 code holds them
        return None
    if int(array.max()) - int(low) >= max(4 * len(array), 1 << 16):
        return None
    # subtract in int64: in the column's own dtype (int8 store codes -1 and 127) it would overflow
    return array.astype(np.int64) - int(low), int(low)


def _factorize_sorted(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=True)`` with int64 codes (-1 = missing).

    Integers of a small range (customer numbers, store numbers) are coded through a table of the
    values in use instead of a hash table and a sort of the labels: same result, a few times faster.
    """
    small = _small_int_codes(values)  # nullable Int64 & co. go to pd.factorize
    if small is not None:
        offset, low = small
        used = np.bincount(offset) > 0
        lookup = np.cumsum(used, dtype=np.int64) - 1
        in_use = (np.flatnonzero(used) + low).astype(values.to_numpy().dtype)
        return lookup[offset], pd.Index(in_use)
    codes, labels = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), pd.Index(labels)


@dataclass(frozen=True)
class _Coded:
    """A text-like column as codes: ``lookup[raw]`` (or ``raw``) are the sorted-label int32 codes."""

    raw: np.ndarray
    lookup: np.ndarray | None
    labels: pd.Index

    def taken(self, perm: np.ndarray) -> tuple[np.ndarray, pd.Index]:
        """The codes of the rows in ``perm`` order (gathered while still narrow), and the labels."""
        raw = self.raw[perm]
        return (raw if self.lookup is None else self.lookup[raw]), self.labels


def _sorted_codes(values: pd.Series) -> _Coded:
    """``pd.factorize(values, sort=True)`` as int32 codes; categoricals reuse their own codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        used = np.zeros(len(categories) + 1, dtype=bool)  # last slot: missing (-1)
        raw = values.cat.codes.to_numpy()
        used[raw] = True
        order = np.flatnonzero(used[:-1])  # the categories that occur, in category order
        lookup = np.full(len(categories) + 1, -1, dtype=np.int32)
        lookup[order] = np.arange(len(order), dtype=np.int32)
        return _Coded(raw, lookup, pd.Index(categories[order]))
    codes, labels = _factorize_sorted(values)
    return _Coded(codes.astype(np.int32), None, labels)


def _canonical_order(
    tx: pd.DataFrame, cust: np.ndarray, ts: np.ndarray, amount: np.ndarray
) -> np.ndarray:
    """Rows by customer and time; ties with a refund (``amount < 0``) among them broken by content.

    Ties (the lines of one order, orders at one instant) stay in row order where everything
    computed from them is symmetric in them. A refund in an order of its own joins the customer's
    latest purchase order before it (:func:`_attach_returns`), so at one instant which purchase
    order that is, or whether there is one at all, would depend on the rows' order (the
    customer's spend changed when the refund's row came first). The rows of an instant of a
    customer's that holds a refund line are ordered by what they hold: purchase lines first, then
    by order id, the coded columns, amount and the numbers the features read, so any order of the
    same rows gives the same features. Only those instants are re-sorted (a table without refunds
    costs nothing more).
    """
    perm = _by_customer_then_time(cust, ts)
    negative = amount < 0
    if len(perm) < 2 or not negative.any():
        return perm
    c, t = cust[perm], ts[perm]
    starts = np.ones(len(perm), dtype=bool)
    starts[1:] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
    instant = np.cumsum(starts) - 1
    size = np.bincount(instant)
    with_refund = np.zeros(len(size), dtype=bool)
    with_refund[instant[negative[perm]]] = True
    tied = with_refund[instant] & (size[instant] > 1)
    if not tied.any():
        return perm
    at = np.flatnonzero(tied)  # positions in perm, instant by instant
    rows = perm[at]
    keys: list[np.ndarray] = [instant[at], negative[rows]]
    for column in (C.ORDER_ID, *_CODED):
        if column in tx.columns:
            values = tx[column].iloc[rows]
            try:
                keys.append(_factorize_sorted(values)[0])
            except TypeError:  # values that do not compare (1 and "A1"): as text
                keys.append(_factorize_sorted(values.astype(str))[0])
    keys.append(amount[rows])
    for column in _NUMERIC:
        if column in tx.columns:
            keys.append(
                column_floats(tx[column].iloc[rows], table=TABLE, column=column, allow_na=True)
            )
    perm = perm.copy()
    perm[at] = rows[np.lexsort(keys[::-1])]  # the last key sorts first: instants stay in place
    return perm


def _by_customer_then_time(cust: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """``np.lexsort((ts, cust))``: rows by customer, then time, ties in row order; 2-3x faster.

    Rows already in time order (as validate_transactions returns them) need only be grouped by
    customer (:func:`_stable_by_customer`). Otherwise, when the times are whole seconds and customer
    and second fit in one int64 together, one stable argsort of that key does it; else the rows are
    put in time order first, then grouped by customer.
    """
    n = len(ts)
    if n == 0 or n > 3_000_000_000:
        return np.lexsort((ts, cust))
    if bool(np.all(ts[1:] >= ts[:-1])):
        return _stable_by_customer(cust)
    offset = ts - ts.min()
    seconds = offset // 10**9
    time_bits = max(int(seconds.max()), 1).bit_length()
    if time_bits + max(int(cust.max()), 1).bit_length() <= 62 and np.array_equal(
        seconds * 10**9, offset
    ):
        seconds |= cust << time_bits
        return np.argsort(seconds, kind="stable")
    by_time = np.argsort(ts, kind="stable")
    return by_time[_stable_by_customer(cust[by_time])]


def _stable_by_customer(cust: np.ndarray) -> np.ndarray:
    """``np.argsort(cust, kind="stable")``, faster.

    The unique keys customer x rows + position are sorted themselves (a vectorised sort, unlike
    ``argsort``) and ``key % rows`` reads the position back.
    """
    n = len(cust)
    key = cust * np.int64(n)
    key += np.arange(n, dtype=np.int64)
    key.sort()
    np.remainder(key, n, out=key)
    return key


def _starts(flags_new: np.ndarray) -> np.ndarray:
    return np.flatnonzero(flags_new)


def snapshot(prepared: Prepared, as_of_ns: int, only: np.ndarray | None = None) -> Snapshot:
    """The rows, orders and customers of ``prepared`` with ``timestamp < as_of`` (see module docs).

    ``only``: codes into ``prepared.customer_ids`` of the customers to keep (every customer when
    None). Features are per customer, so those of a customer do not depend on who else is kept,
    but for the categories' margin rates, which ``features_at`` then takes over every row.
    """
    keep = prepared.ts < as_of_ns
    first = prepared.first_ts
    if first is not None and as_of_ns - first.value > _MAX_SPAN_NS and keep.any():
        raise SchemaError(
            f"as_of={pd.Timestamp(as_of_ns).date()} is "
            f"{(as_of_ns - first.value) / _NS_PER_YEAR:.0f} years after the first transaction "
            f"({first.date()}): placeholder or mistyped dates, or a mistyped as_of. Ages and gaps "
            "over more than two centuries cannot be computed.",
            table=TABLE,
            column=C.TIMESTAMP,
        )
    if only is not None:
        keep &= _rows_of(prepared.cust, only)
    everything = bool(keep.all())  # the usual case when scoring: no copies then

    def kept(values: np.ndarray) -> np.ndarray:
        return values if everything else values[keep]

    cust = kept(prepared.cust)
    order = kept(prepared.order)
    n = len(cust)
    new_cust = np.ones(n, dtype=bool)
    new_cust[1:] = cust[1:] != cust[:-1]
    if everything:  # every customer is in: the codes are already the ordinals 0..n-1
        r_cust = cust
        customer_codes = np.arange(len(prepared.customer_ids), dtype=np.int64)
        customer_ids = prepared.customer_ids
    else:
        r_cust = np.cumsum(new_cust, dtype="int64")
        r_cust -= 1
        customer_codes = cust[new_cust]
        customer_ids = prepared.customer_ids[customer_codes]

    new_order = np.ones(n, dtype=bool)
    new_order[1:] = order[1:] != order[:-1]
    o_first_row = _starts(new_order)
    r_amount = kept(prepared.amount)
    o_cust = r_cust[o_first_row]
    o_ts = kept(prepared.order_ts)[o_first_row]
    o_amount = np.add.reduceat(r_amount, o_first_row) if n else np.zeros(0)
    if n:  # an order refunded in full is worth exactly 0, whatever order its lines were summed in
        o_amount[np.abs(o_amount) <= NET_ZERO * np.add.reduceat(np.abs(r_amount), o_first_row)] = 0
    o_new_cust = new_cust[o_first_row]
    c_first_order = _starts(o_new_cust)
    c_n_orders = np.diff(np.append(c_first_order, len(o_first_row)))
    return Snapshot(
        as_of_ns=as_of_ns,
        customer_ids=customer_ids,
        customer_codes=customer_codes,
        r_cust=r_cust,
        r_amount=r_amount,
        r_codes={k: (kept(c), labels) for k, (c, labels) in prepared.codes.items()},
        r_numeric={k: kept(v) for k, v in prepared.numeric.items()},
        o_cust=o_cust,
        o_ts=o_ts,
        o_amount=o_amount,
        o_first_row=o_first_row,
        c_first_order=c_first_order,
        c_n_orders=c_n_orders,
        r_at_order_start=(
            np.ones(n, dtype=bool)
            if prepared.at_order_start is None
            else kept(prepared.at_order_start)
        ),
    )


def _rows_of(cust: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Rows (of ``cust``, non-decreasing customer codes) that belong to one of ``codes``."""
    codes = np.unique(codes)
    starts = np.searchsorted(cust, codes, side="left")
    ends = np.searchsorted(cust, codes, side="right")
    edges = np.zeros(len(cust) + 1, dtype=np.int32)
    np.add.at(edges, starts, 1)
    np.add.at(edges, ends, -1)
    return np.cumsum(edges[:-1]) > 0


def distinct_counts(
    snap: Snapshot, codes: np.ndarray, n_labels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (customer, code) pairs of the rows: customer ordinal, code and row count of each pair.

    Pairs come in (customer, code) order. Rows whose code is missing (-1) are ignored.
    """
    width = max(n_labels, 1)
    counts = _dense_pair_counts(snap, codes, width)
    if counts is not None:
        pairs = np.flatnonzero(counts)
        return pairs // width, pairs % width, counts[pairs]
    who, code, count = [], [], []
    for first, key in _sorted_pair_keys(snap, codes, width):
        starts = np.flatnonzero(_run_starts(key))
        pairs = key[starts]
        who.append(pairs // width + first)
        code.append(pairs % width)
        count.append(np.diff(np.append(starts, len(key))))
    return (
        np.concatenate(who).astype(np.int64),
        np.concatenate(code).astype(np.int64),
        np.concatenate(count),
    )


def side_table_ids(
    frame: pd.DataFrame, prepared: Prepared, *, table: str
) -> tuple[pd.DataFrame, pd.Series]:
    """``frame`` (a side table: campaigns, events) with its customer ids read as the
    transactions' (integer ids written as text, "123" from a CSV, and back), and those ids
    decoded (categorical ids by value). SchemaError when no id could match."""
    frame = align_customer_ids(
        with_decoded_ids(frame), id_table(prepared), table=table, caller="build_features"
    )
    ids = decoded_ids(frame[C.CUSTOMER_ID])
    numeric = pd.api.types.is_numeric_dtype
    if len(frame) and numeric(prepared.customer_ids.dtype) != numeric(ids.dtype):
        raise SchemaError(
            f"{table}.{C.CUSTOMER_ID} has dtype {ids.dtype} but transactions.{C.CUSTOMER_ID} has "
            f"{prepared.customer_ids.dtype}: no id could match. Convert one to the other's type.",
            table=table,
            column=C.CUSTOMER_ID,
        )
    return frame, ids


def snapshot_rows(snap: Snapshot, customer_codes: np.ndarray) -> np.ndarray:
    """The row of ``snap`` of each of ``customer_codes`` (the transactions' customer codes of a
    side table's rows: campaigns, events), -1 for a customer without a purchase before its
    ``as_of``."""
    position = np.full(int(snap.customer_codes.max(initial=-1)) + 1, -1, dtype="int64")
    position[snap.customer_codes] = np.arange(snap.n_customers)
    known = customer_codes < len(position)
    rows = np.full(len(customer_codes), -1, dtype="int64")
    rows[known] = position[customer_codes[known]]
    return rows


def days_since_latest(snap: Snapshot, rows: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Days from each customer's latest ``when`` (at ``rows`` of ``snap``) to its ``as_of``;
    NaN for a customer without one."""
    none = np.iinfo(np.int64).min
    last = np.full(snap.n_customers, none, dtype="int64")
    np.maximum.at(last, rows, when)
    return np.where(last == none, np.nan, days_between(last, snap.as_of_ns))


def bought_codes(snap: Snapshot, codes: np.ndarray) -> np.ndarray:
    """``codes`` of the purchase lines (``amount >= 0``), missing (-1) on the others: what a
    customer bought in (a refund kept by validation, in another channel, store, category or
    product, is not breadth)."""
    return np.where(snap.r_amount >= 0, codes, -1)


def n_distinct(snap: Snapshot, codes: np.ndarray, n_labels: int) -> np.ndarray:
    """Number of distinct codes per customer (missing codes ignored), as float64."""
    width = max(n_labels, 1)
    counts = _dense_pair_counts(snap, codes, width)
    if counts is not None:
        used = counts.reshape(snap.n_customers, width) > 0
        return used.sum(axis=1).astype("float64")
    out = np.zeros(snap.n_customers)
    for first, key in _sorted_pair_keys(snap, codes, width):
        who = key[_run_starts(key)] // np.int32(width)
        out[first : first + int(who.max(initial=-1)) + 1] += np.bincount(who)
    return out


def _valid_rows(snap: Snapshot, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = codes >= 0
    if bool(valid.all()):
        return snap.r_cust, codes
    return snap.r_cust[valid], codes[valid]


def _dense_pair_counts(snap: Snapshot, codes: np.ndarray, width: int) -> np.ndarray | None:
    """Row counts of every (customer, code) cell, or None when the table would be too large.

    Small tables (within ``_DENSE_CELLS_PER_ROW`` cells per row) are counted in one pass.
    """
    cells = snap.n_customers * width
    if cells > max(_DENSE_CELLS_PER_ROW * len(codes), _DENSE_MIN_CELLS):
        return None
    cust, code = _valid_rows(snap, codes)
    return np.bincount(cust * width + code, minlength=cells)


def _sorted_pair_keys(
    snap: Snapshot, codes: np.ndarray, width: int
) -> Iterator[tuple[int, np.ndarray]]:
    """Sorted int32 keys (customer - first) x width + code of the rows with a code, by blocks.

    Yields ``(first, keys)`` for blocks of customers small enough for the keys to fit in int32 (one
    block unless customers x labels passes ``_INT32_KEYS``); rows come sorted by customer, so a
    block of customers is a slice of rows.
    """
    cust, code = _valid_rows(snap, codes)
    per_block = max(_INT32_KEYS // width, 1)
    firsts = np.arange(0, snap.n_customers, per_block)
    bounds = np.searchsorted(cust, np.append(firsts, snap.n_customers))
    for first, start, stop in zip(firsts.tolist(), bounds[:-1], bounds[1:], strict=True):
        key = (cust[start:stop] - first).astype(np.int32)
        key *= np.int32(width)
        key += code[start:stop].astype(np.int32, copy=False)
        key.sort()
        yield first, key


def _run_starts(key: np.ndarray) -> np.ndarray:
    start = np.ones(len(key), dtype=bool)
    start[1:] = key[1:] != key[:-1]
    return start


def per_customer_sum(
    snap: Snapshot, index: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Sum ``weights`` (or count) by customer ordinal ``index``, as float64 of length n_customers."""
    return np.bincount(index, weights=weights, minlength=snap.n_customers).astype("float64")


#: A net amount within this share of its gross (the sum of the amounts' sizes) is zero.
NET_ZERO = 1e-9


def net_per_customer(snap: Snapshot, index: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """:func:`per_customer_sum` of money that purchases and refunds may cancel: a customer whose
    purchases were refunded in full nets exactly 0, not the float residue of the sum (0.1 + 0.2 +
    0.3 - 0.6 is 1e-16 in one row order and -1e-16 in another, which flipped spend_trend between
    -1 and NaN with the row order and the currency unit)."""
    net = per_customer_sum(snap, index, amounts)
    gross = per_customer_sum(snap, index, np.abs(amounts))
    net[np.abs(net) <= NET_ZERO * gross] = 0.0
    return net
