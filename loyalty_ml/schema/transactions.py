"""The transactions contract: ``validate_transactions``."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Hashable, Mapping
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, SchemaError, format_examples
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    CLOCK_ATTR,
    coerce_customer_id,
    coerce_float,
    coerce_int,
    coerce_text,
    coerce_timestamp,
    refuse_repeated,
    require_columns,
    to_timestamp,
)
from loyalty_ml.schema._coerce_time import OFFSET_TEXT, check_timezone, written_with_offsets
from loyalty_ml.schema._data_end import covered_until, is_dates_only, stated_end
from loyalty_ml.schema._gaps import Gap, find_gaps
from loyalty_ml.schema._left_out import warn_left_out_meaning
from loyalty_ml.schema.canonical import TRANSACTIONS_SCHEMA, check_canonical
from loyalty_ml.schema.column_map import ColumnMap, check_column_map
from loyalty_ml.schema.report import CleaningReport

__all__ = ["DATA_END_ATTR", "REPORT_ATTR", "cleaning_report", "validate_transactions"]

TABLE = "transactions"
#: Key under which validators store their report in ``DataFrame.attrs``.
REPORT_ATTR = "cleaning_report"
#: ``attrs`` key of where the validated data end (the observation end, else the last row).
DATA_END_ATTR = "loyalty_ml_data_end"


@overload
def validate_transactions(
    raw: pd.DataFrame,
    *,
    columns: ColumnMap | None = ...,
    returns: Literal["drop", "keep"] = ...,
    zero_amounts: Literal["drop", "keep"] = ...,
    cancellation_pattern: str | None = ...,
    non_purchase_pattern: str | None = ...,
    drop_duplicates: bool = ...,
    observation_end: object = ...,
    observation_start: object = ...,
    timezone: str | None = ...,
    return_report: Literal[False] = ...,
) -> pd.DataFrame: ...


@overload
def validate_transactions(
    raw: pd.DataFrame,
    *,
    columns: ColumnMap | None = ...,
    returns: Literal["drop", "keep"] = ...,
    zero_amounts: Literal["drop", "keep"] = ...,
    cancellation_pattern: str | None = ...,
    non_purchase_pattern: str | None = ...,
    drop_duplicates: bool = ...,
    observation_end: object = ...,
    observation_start: object = ...,
    timezone: str | None = ...,
    return_report: Literal[True],
) -> tuple[pd.DataFrame, CleaningReport]: ...


def validate_transactions(
    raw: pd.DataFrame,
    *,
    columns: ColumnMap | None = None,
    returns: Literal["drop", "keep"] = "drop",
    zero_amounts: Literal["drop", "keep"] = "drop",
    cancellation_pattern: str | None = None,
    non_purchase_pattern: str | None = None,
    drop_duplicates: bool = True,
    observation_end: object = None,
    observation_start: object = None,
    timezone: str | None = None,
    return_report: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, CleaningReport]:
    """Check a transactions table and return its canonical, cleaned copy.

    The input is never modified. The output has the canonical columns (DESIGN.md section 2) that the
    input has, in canonical order, canonical dtypes (``customer_id`` int64 or str, ``timestamp``
    datetime64[ns] tz-naive, ``amount`` float64), sorted by ``timestamp`` with a fresh RangeIndex.
    An empty or blank ``product_id``, ``category``, ``channel`` or ``store_id`` cell is missing
    (no product, category or channel of its own); other text is kept as written. Columns that are
    not canonical are left out (data minimisation) and listed in the report's
    ``left_out``. One that looks like it changes what the amounts mean (a return flag with
    positive amounts, a status such as ``refunded`` or ``cancelled``, a column of several
    currencies) is named in a ``DataQualityWarning`` with its values and the fix (negate the
    flagged returns, keep the completed sales, convert to one currency), and noted in the report.

    Cleaning rules, in this order; each row is removed by the first rule that matches it, and every rule
    is counted in the report (``flagged`` = rows of the input matching it on their own, ``removed`` =
    rows it removed):

    1. ``duplicate``: exact duplicate rows of the input (every column equal once read, so that
       ids 7 and ``"7"`` or times ``"2024-01-02"`` and ``"2024-01-02 00:00"`` are equal), keeping
       the first. A table that is already this function's output with its duplicates dropped, or
       rows of it (its ``attrs`` carry the report, also when read back from Parquet), is not
       judged again, and its report says so: on its canonical columns alone, two lines told apart
       only by a column left out (a quantity not mapped, a line number) would look like
       duplicates. Validating it again with the same rules so gives the same rows. One with more
       rows than that output kept (appended to) is judged again.
    2. ``missing_customer``: no customer id (guest purchases cannot belong to a loyalty profile).
    3. ``cancellation``: ``order_id`` matches ``cancellation_pattern`` (e.g. ``"^C"`` for invoices
       starting with C), when given.
    4. ``negative_amount``: returns and refunds (``amount < 0``), when ``returns="drop"``. A line
       with a negative ``quantity`` and a positive amount is read as a return exported unsigned:
       its amount is negated, and its margin and discount with it (with a
       ``DataQualityWarning``), and this rule applies.
    5. ``zero_amount``: free lines (``amount == 0``), when ``zero_amounts="drop"``.
    6. ``non_purchase``: ``product_id`` matches ``non_purchase_pattern`` (postage, fees, adjustments),
       when given.
    7. ``after_observation_end``: ``timestamp > observation_end`` (rows in the future of the data's
       stated end), when ``observation_end`` is given.
    8. ``before_observation_start``: ``timestamp < observation_start`` (placeholder dates such as
       1900-01-01, rows from before the extract's stated start), when ``observation_start`` is
       given. Without it, rows far from the others are only refused by the feature builders once
       the data spans two centuries; dates decades early are kept as dated.

    Parameters
    ----------
    raw : DataFrame
        One row per purchase line or per order.
    columns : ColumnMap, optional
        Your column names for the canonical ones.
    returns, zero_amounts : {"drop", "keep"}
        Whether negative and zero amounts are removed (counted either way). A kept return nets
        against spend but is never a purchase: an order of returns only is not an order for the
        features (its lines join the customer's previous purchase order, so they neither add an
        order nor make the customer recent), nor for ``churn_labels`` or the KPIs; returns before
        a customer's first purchase in the data are left out of the features and labels.
    cancellation_pattern, non_purchase_pattern : str, optional
        Regular expressions matched against ``order_id`` and ``product_id`` (``re.match``).
    drop_duplicates : bool
        Remove exact duplicate rows.
    observation_end : date-like, optional
        The end of the data, its last instant observed; later rows are removed and counted. An
        aware value is read on the clock of ``timezone``, like the aware timestamps. When every
        row kept is dated at midnight (dates without times), a midnight names a day observed to
        its end (the rows on it are kept), and the end recorded for later steps is the next
        midnight, as :func:`~loyalty_ml.features.churn_labels` reads it.
    observation_start : date-like, optional
        The start of the data; earlier rows are removed and counted, read like
        ``observation_end``.
    timezone : str, optional
        Zone that aware timestamps are converted to before the zone is dropped (default UTC). The
        table records it (``attrs["loyalty_ml_clock"]``): a zone-aware ``as_of``, cutoff or
        ``observation_end`` given to a later step is read on this clock. Validate campaigns and
        customers with the same ``timezone``.
    return_report : bool
        Also return the :class:`CleaningReport` (it is also kept with the table, as JSON in
        ``result.attrs``: ``cleaning_report(result)`` reads it back, even from a Parquet file).

    Examples
    --------
    >>> raw = pd.DataFrame({"cust": [1, 1, None], "ts": ["2024-01-02", "2024-01-05", "2024-01-06"],
    ...                     "amount": [10.0, -3.0, 5.0]})
    >>> tx, report = validate_transactions(raw, columns=ColumnMap(customer_id="cust", timestamp="ts"),
    ...                                    return_report=True)
    >>> len(tx), report.removed("negative_amount"), report.removed("missing_customer")
    (1, 1, 1)
    """
    if returns not in ("drop", "keep"):
        raise ConfigError(f"returns must be 'drop' or 'keep'; got {returns!r}.")
    if zero_amounts not in ("drop", "keep"):
        raise ConfigError(f"zero_amounts must be 'drop' or 'keep'; got {zero_amounts!r}.")
    cancel_re = _compile(cancellation_pattern, "cancellation_pattern")
    non_purchase_re = _compile(non_purchase_pattern, "non_purchase_pattern")
    if not isinstance(raw, pd.DataFrame):
        raise SchemaError(
            f"{TABLE} must be a pandas DataFrame; got {type(raw).__name__}.", table=TABLE
        )
    for option, setting in (("drop_duplicates", drop_duplicates), ("return_report", return_report)):
        if not isinstance(setting, bool | np.bool_):  # "no" is truthy: it would act as True
            raise ConfigError(
                f"The {option!r} parameter of validate_transactions must be True or False. "
                f"Got {setting!r} instead."
            )
    column_map = check_column_map(columns, "validate_transactions")
    frame = column_map.apply(raw, table=TABLE)
    try:
        require_columns(frame, C.TRANSACTION_REQUIRED, table=TABLE)
    except SchemaError as exc:
        if not isinstance(frame, pd.DataFrame) or C.AMOUNT in frame.columns:
            raise
        # an export with no money at all (Instacart, Retail Rocket) has no column to map
        raise SchemaError(
            f"{exc} An export without prices has no amount to map: give every row a stand-in "
            "(raw['amount'] = 1.0, so that spend counts rows; README, 'Orders without amounts "
            "or dates').",
            table=TABLE,
            column=exc.column,
        ) from None
    refuse_repeated(frame, C.TRANSACTION_COLUMNS, table=TABLE)
    if cancel_re is not None and C.ORDER_ID not in frame.columns:
        raise SchemaError(
            f"cancellation_pattern needs an order_id column; {TABLE} has {list(frame.columns)}.",
            table=TABLE,
            column=C.ORDER_ID,
        )
    if non_purchase_re is not None and C.PRODUCT_ID not in frame.columns:
        raise SchemaError(
            f"non_purchase_pattern needs a product_id column; {TABLE} has {list(frame.columns)}.",
            table=TABLE,
            column=C.PRODUCT_ID,
        )
    end = _observation_end(observation_end, timezone) if observation_end is not None else None
    begin = (
        _observation_end(observation_start, timezone, name="observation_start")
        if observation_start is not None
        else None
    )
    if begin is not None and end is not None and begin > end:
        raise ConfigError(
            f"observation_start ({begin}) is after observation_end ({end}); swap them?"
        )

    report = CleaningReport(table=TABLE, rows_in=len(frame))
    left_out = [c for c in dict.fromkeys(frame.columns) if c not in C.TRANSACTION_COLUMNS]
    report.left_out = [str(c) for c in left_out]
    out = _canonical_columns(frame, timezone=timezone)
    report.notes.extend(_local_days_moved(frame[C.TIMESTAMP], out[C.TIMESTAMP], timezone))

    # Independent flags on the input, then sequential removal.
    rules: list[tuple[str, str, np.ndarray, str]] = []
    # each customer id coded once: the duplicates, the rows' order and the one-order check read
    # the codes (each pass over 5.4M lines of 64-character ids, H&M's, took about a second)
    id_codes, id_labels = pd.factorize(out[C.CUSTOMER_ID])
    # compared as read: 7, 7.0 and "7" are one customer, "2024-01-02" and "2024-01-02 00:00" one
    # time. The arrays as they are: to_numpy() would turn text into Python objects for pandas to
    # read back as text (a quarter of the validation's time at 5M lines of 64-character ids)
    as_read = frame.assign(**{**{c: out[c].array for c in out.columns}, C.CUSTOMER_ID: id_codes})
    if _duplicates_judged_before(raw):
        # judged on every column the export had; on the canonical ones alone, lines told apart
        # only by a column left out (a quantity not mapped, a line number) would look alike. A
        # row of it repeated (overlapping pieces of the table put together, which keep its attrs)
        # repeats its row label too: those are dropped.
        labels = pd.factorize(raw.index)[0]
        dup = _duplicate_rows(as_read.assign(**{"__loyalty_ml_row_label__": labels}))
        judged = (
            "exact duplicate rows (judged when first validated, on all its columns; again only "
            "rows repeated with their row label)"
        )
    else:
        dup = _duplicate_rows(as_read)
        judged = "exact duplicate rows"
    rules.append(("duplicate", judged, dup, "drop" if drop_duplicates else "keep"))
    # without a product, order totals written on every line make equal rows too, which are
    # rightly dropped: keeping them as units would count each total once per line
    totals = _warn_if_order_totals_repeat(out)
    if drop_duplicates and not (totals and C.PRODUCT_ID not in out.columns):
        _warn_if_lines_look_alike(dup, out)
    rules.append(
        ("missing_customer", "no customer id", out[C.CUSTOMER_ID].isna().to_numpy(), "drop")
    )
    cancelled = np.zeros(len(out), dtype=bool)
    if cancel_re is not None:
        cancelled = _matches(out[C.ORDER_ID], cancel_re)
        rules.append(("cancellation", f"order_id matches {cancel_re.pattern!r}", cancelled, "drop"))
    amount = out[C.AMOUNT].to_numpy()
    if C.QUANTITY in out.columns:
        unsigned = (out[C.QUANTITY].to_numpy(dtype=float, na_value=np.nan) < 0) & (amount > 0)
        if unsigned.any():
            # a return exported with a positive amount would otherwise count as a purchase
            warn_user(
                f"{TABLE}: {int(unsigned.sum())} rows have a negative quantity and a positive "
                f"amount ({format_examples(raw.index[unsigned].tolist(), total=int(unsigned.sum()))}"
                "): read as returns exported unsigned, their amounts were negated and they count "
                f"under negative_amount (returns={returns!r}). If amount is a unit price, map the "
                "line total instead.",
                DataQualityWarning,
            )
            amount = np.where(unsigned, -amount, amount)
            out[C.AMOUNT] = amount
            # the line's margin and discount turn with it: a return gives them back (a loss
            # of 2 on the sale is a gain of 2 on its return)
            for column in (C.MARGIN, C.DISCOUNT):
                if column in out.columns:
                    out[column] = out[column].mask(unsigned, -out[column])
    report.notes.extend(
        warn_left_out_meaning(
            frame,
            amount,
            left_out=left_out,
            amount_name=str(column_map.amount or C.AMOUNT),
            table=TABLE,
        )
    )
    rules.append(("negative_amount", "amount < 0 (returns, refunds)", amount < 0, returns))
    rules.append(("zero_amount", "amount == 0", amount == 0, zero_amounts))
    if non_purchase_re is not None:
        flag = _matches(out[C.PRODUCT_ID], non_purchase_re)
        rules.append(
            ("non_purchase", f"product_id matches {non_purchase_re.pattern!r}", flag, "drop")
        )
    if end is not None:
        future = (out[C.TIMESTAMP] > end).to_numpy()
        rules.append(("after_observation_end", f"timestamp after {end}", future, "drop"))
    if begin is not None:
        past = (out[C.TIMESTAMP] < begin).to_numpy()
        rules.append(("before_observation_start", f"timestamp before {begin}", past, "drop"))

    keep = np.ones(len(out), dtype=bool)
    for rule, description, flag, action in rules:
        removed = flag & keep if action == "drop" else np.zeros_like(flag)
        keep &= ~removed
        report.add(
            rule, description, flagged=int(flag.sum()), removed=int(removed.sum()), action=action
        )
    for rule, _, flag, action in rules:
        # a kept rule's count is every row it flagged; say how many of them other rules dropped
        # (returns="keep" with a cancellation pattern: the returns are the cancellations, dropped)
        n_flagged, n_kept = int(flag.sum()), int((flag & keep).sum())
        if action != "drop" and n_kept < n_flagged:
            report.notes.append(
                f"{rule}: {n_kept:,} of the {n_flagged:,} rows it flagged ({action}) are in the "
                "output; other rules dropped the rest"
            )

    out, id_codes = out.loc[keep], id_codes[keep]
    if out[C.CUSTOMER_ID].dtype == "Int64":
        out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype("int64")
    elif pd.api.types.is_string_dtype(out[C.CUSTOMER_ID]) and out[C.CUSTOMER_ID].dtype != "str":
        # nullable text ids, now without missing values: the plain string dtype
        out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype("str")
    order = _canonical_order(out, id_codes, id_labels)
    out, id_codes = out.iloc[order].reset_index(drop=True), id_codes[order]
    report.rows_out = len(out)
    if len(out) == 0:
        raise SchemaError(
            f"{TABLE}: no rows left after cleaning ({report.rows_in} in).\n{report}\n"
            "Check the ColumnMap and the cleaning options.",
            table=TABLE,
        )
    check_canonical(out, TRANSACTIONS_SCHEMA)
    _warn_if_order_ids_recur(out)
    report.notes.extend(_warn_if_every_customer_buys_once(out, id_codes))
    # a stated end is the last instant observed; on dates without times its midnight names a
    # day, observed to its end (schema._data_end.stated_end), as the rows kept on it are
    if end is not None:
        end = stated_end(
            end,
            dates_only=is_dates_only(out[C.TIMESTAMP].to_numpy(dtype="datetime64[ns]").view("i8")),
        )
    _report_gaps(out, report, end)
    # the clock of the naive timestamps: a zone-aware as_of given later is read on it
    # where the data end (observation_end, else the last row, or the end of its day when every row
    # is dated at midnight): a segment filtered from this table keeps it, so KPIs over the segment
    # know a period past its own last purchase is still covered
    last = end if end is not None else covered_until(out[C.TIMESTAMP])
    out.attrs = {
        REPORT_ATTR: report.to_json(),
        CLOCK_ATTR: check_timezone(timezone),
        DATA_END_ATTR: str(last),
    }
    return (out, report) if return_report else out


def _report_gaps(out: pd.DataFrame, report: CleaningReport, end: pd.Timestamp | None) -> None:
    """Note and warn about busy-looking stretches with no transaction (see ``schema._gaps``).

    Only purchase lines count (``amount >= 0``): refunds kept with ``returns="keep"`` during an
    outage do not hide it, as they do not for ``churn_labels``' gap check. ``end``: the stated
    ``observation_end``, whose days after the last purchase are a stretch too.
    """
    ts = out[C.TIMESTAMP].to_numpy().view("i8")  # sorted by _canonical_order
    ts = ts[out[C.AMOUNT].to_numpy(dtype="float64", na_value=np.nan) >= 0]
    if len(ts) == 0:  # refunds only: no purchase to leave a gap between
        warn_user(
            f"validate_transactions: all {len(out)} rows kept are refunds (amount < 0), with "
            "returns='keep'; there is no purchase. Features, labels and KPIs count purchases, "
            "so every later step finds nothing to read. Is amount's sign inverted, or was the "
            "extract filtered to returns?",
            DataQualityWarning,
        )
        return
    gaps = find_gaps(ts[np.r_[True, ts[1:] != ts[:-1]]], end_ns=None if end is None else end.value)
    if not gaps:
        return
    listed = "; ".join(g.describe() for g in gaps)
    report.notes.append(f"no transactions at all from {listed}")
    warn_user(
        f"validate_transactions: no transactions at all from {listed}. An outage or a part of "
        "the extract left out? Every later step reads it as customers not buying (recency, "
        "recent order counts, and churned labels for windows in it). If the business was closed, "
        f"the figures are right; otherwise load the missing days.{_stray_dates(ts, gaps)}",
        DataQualityWarning,
    )


#: At most this many purchase lines (and under 1% of them) cut off from the rest by a stretch
#: without transactions read as stray dates (placeholders such as 1900-01-01, typos) in the warning.
_STRAY_ROWS = 10


def _stray_dates(ts: np.ndarray, gaps: list[Gap]) -> str:
    """A hint naming the few purchase lines a stretch cuts off at either end of the data, which are
    more often placeholder or mistyped dates than a business that traded once and then paused."""
    limit = min(_STRAY_ROWS, 0.01 * len(ts))
    hints = []
    for gap in gaps:
        before = ts < gap.first.value
        after = ts >= (gap.last + pd.Timedelta(days=1)).value
        for side, word in ((before, "before"), (after, "after")):
            n = int(side.sum())
            if 0 < n <= limit:
                dates = sorted({str(pd.Timestamp(t).date()) for t in ts[side]})
                on = ", ".join(dates[:3]) + (", ..." if len(dates) > 3 else "")
                hints.append(
                    f"{n} purchase line(s) lie {word} the stretch from {gap.first.date()}, "
                    f"apart from the rest (on {on})"
                )
    if not hints:
        return ""
    return (
        f" {'; '.join(hints)}: placeholder or mistyped dates (1900-01-01, 1970-01-01, a wrong "
        "year)? Correct or drop those rows, or features and labels will span the whole stretch."
    )


def _canonical_order(out: pd.DataFrame, id_codes: np.ndarray, id_labels: pd.Index) -> np.ndarray:
    """Row order of the canonical table: by timestamp, then, among lines sharing one, by their values.

    ``id_codes`` code each row's customer id as ``pd.factorize`` does (``id_labels`` are the ids).

    Lines sharing a timestamp (the lines of one order, or orders of the same second) are ordered by
    a hash of the rest of the line, not by their arrival, so that the same lines in any order give
    one table, and sums over them (order totals, spend) the same bits. Rows equal in every column
    are interchangeable. One sort of a 64-bit key (run of the timestamp, then the hash's high bits):
    about a fifth of the validation's time at 1M lines, where sorting by each column in turn
    doubled it.
    """
    ts = out[C.TIMESTAMP].to_numpy().view("i8")
    order = np.argsort(ts, kind="stable")
    if len(order) < 2:
        return order
    sorted_ts = ts[order]
    starts = np.empty(len(order), dtype=bool)
    starts[0] = True
    starts[1:] = sorted_ts[1:] != sorted_ts[:-1]
    if starts.all():
        return order
    run = (np.cumsum(starts) - 1).astype(np.uint64)
    bits = max(int(run[-1]).bit_length(), 1)
    rest = out.drop(columns=C.TIMESTAMP)
    floats = [c for c in rest.columns if pd.api.types.is_float_dtype(rest[c].dtype)]
    # -0.0 and 0.0 are equal but hash apart before pandas 3.1 (the simulator's margins hold -0.0):
    # adding 0.0 makes every zero +0.0, so equal inputs get one order on every pandas
    columns: dict[str, pd.Series | pd.Categorical] = {c: rest[c] + 0.0 for c in floats}
    if pd.api.types.is_string_dtype(rest[C.CUSTOMER_ID]):
        # a categorical hashes as its values do, each distinct id once instead of once a line
        labels = id_labels.astype(rest[C.CUSTOMER_ID].dtype)
        columns[C.CUSTOMER_ID] = pd.Categorical.from_codes(id_codes, categories=labels)
    line = pd.util.hash_pandas_object(rest.assign(**columns), index=False)
    hashed = line.to_numpy(dtype=np.uint64)[order]
    key = (run << np.uint64(64 - bits)) | (hashed >> np.uint64(bits))
    return order[np.argsort(key, kind="stable")]


def data_end(attrs: Mapping[Hashable, Any], last: pd.Timestamp) -> pd.Timestamp:
    """The end of the data: the later of ``last`` (its last row, or the end of that row's day for
    dates without times: ``schema._data_end.covered_until``) and the end
    ``validate_transactions`` recorded in ``attrs`` (a stated ``observation_end``, which a segment
    filtered from the validated table keeps). A recorded end that is not a date, or is on another
    clock than ``last``, is ignored."""
    return later_end(last, attrs.get(DATA_END_ATTR))


def later_end(last: pd.Timestamp, recorded: Any) -> pd.Timestamp:
    """``last``, or ``recorded`` (the value ``validate_transactions`` left in ``attrs`` under
    ``DATA_END_ATTR``) when it is a later date on the same clock; anything else is ignored."""
    if recorded is not None:
        with contextlib.suppress(TypeError, ValueError):
            return max(last, pd.Timestamp(recorded))
    return last


def _duplicates_judged_before(raw: pd.DataFrame) -> bool:
    """Whether ``raw`` is validate_transactions' output, or rows of it, with its duplicates removed.

    Its ``attrs`` carry a transactions report whose duplicate rule dropped, and it has no more rows
    than that validation kept: a table appended to keeps the ``attrs`` (``pd.concat`` of the same
    table twice, a merge that repeats rows) and has its duplicates judged again.
    """
    report = cleaning_report(raw)
    if report is None or report.table != TABLE or len(raw) > report.rows_out:
        return False
    return any(step.rule == "duplicate" and step.action == "drop" for step in report.steps)


def _duplicate_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows that repeat an earlier row exactly, over every column of the input.

    Only rows that share their customer, time and amount with another row can repeat one, so
    whole rows are compared among those alone (3 in 100,000 lines of a stand-in for H&M's
    export, where comparing all of them took a quarter of the validation). Cells that cannot be
    hashed (lists or dicts from a JSON export) are compared by their text.
    """
    dup = np.zeros(len(raw), dtype=bool)
    alike = raw[[C.CUSTOMER_ID, C.TIMESTAMP, C.AMOUNT]].duplicated(keep=False).to_numpy()
    if not alike.any():
        return dup
    rows = raw.loc[alike]
    try:
        dup[alike] = rows.duplicated(keep="first").to_numpy()
    except TypeError:
        text = {c: rows[c].map(repr) for c in rows.columns if rows[c].dtype == object}
        dup[alike] = rows.assign(**text).duplicated(keep="first").to_numpy()
    return dup


def cleaning_report(frame: pd.DataFrame) -> CleaningReport | None:
    """The cleaning report a validator attached to ``frame`` (None if there is none).

    The report is kept in ``frame.attrs`` as plain JSON types, so it survives ``to_parquet`` /
    ``read_parquet`` and pandas operations that keep ``attrs``.
    """
    return CleaningReport.from_json(frame.attrs.get(REPORT_ATTR))


def _compile(pattern: str | None, name: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{name}={pattern!r} is not a valid regular expression: {exc}.") from None


def _matches(series: pd.Series, pattern: re.Pattern[str]) -> np.ndarray:
    text = series.astype("string")
    return text.str.match(pattern).fillna(False).to_numpy(dtype=bool)


def _observation_end(
    value: object, timezone: str | None, *, name: str = "observation_end"
) -> pd.Timestamp:
    """``observation_end`` (or ``_start``) on the rows' clock: an aware value converted to
    ``timezone`` (UTC by default), as the aware timestamps are; a naive one read as on it."""
    end = to_timestamp(value, name=name, keep_zone=True)
    if end.tz is None:
        return end
    return end.tz_convert(check_timezone(timezone)).tz_localize(None)


def _local_days_moved(raw: pd.Series, on_utc: pd.Series, timezone: str | None) -> list[str]:
    """A note when zone-aware local times were put on UTC (no ``timezone`` given) and some lines
    fall on another calendar day there: days, months and as_of then count on UTC's clock (a café
    in Berlin: 3.1% of its lines, every purchase after 22:00 in summer). ``on_utc`` are the
    converted times; text with offsets (a CSV) is read by the date it is written with."""
    if timezone is not None or len(raw) == 0:
        return []
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        zone = str(raw.dt.tz)
        if zone in ("UTC", "UTC+00:00"):
            return []
        local_day = raw.dt.tz_localize(None).dt.normalize()
        where = f"on {zone}"
        hint = f"timezone={zone!r}"
    elif raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):
        if not written_with_offsets(raw):  # a CSV of naive times
            return []
        text = raw.astype("string")
        with_offset = text.str.contains(OFFSET_TEXT, regex=True).fillna(False)
        if not with_offset.any():
            return []
        written = text.str.extract(r"^\s*(\d{4}-\d{2}-\d{2})", expand=False)
        local_day = pd.to_datetime(written.where(with_offset), errors="coerce", format="%Y-%m-%d")
        where = "written with UTC offsets"
        hint = "the shop's timezone (e.g. timezone='Europe/Berlin')"
    else:
        return []  # naive times (the usual case): nothing was converted
    utc_day = pd.Series(on_utc.to_numpy(), index=raw.index).dt.normalize()
    moved = int((local_day.notna() & (local_day != utc_day)).sum())
    if moved == 0:
        return []
    return [
        f"timestamps are {where} and were put on UTC (no timezone given): {moved:,} lines "
        f"({moved / len(raw):.1%}) fall on another calendar day there, and days, months and "
        f"as_of count on UTC; pass {hint} to keep the local clock"
    ]


def _blank_as_missing(text: pd.Series) -> pd.Series:
    """``text`` with its empty and blank values missing: an export's empty cell is no channel,
    category or product, which the breadth features would count as one (and a blank channel
    would be a channel of its own)."""
    blank = text.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    if not blank.any():
        return text
    return text.astype("string").mask(blank)


def _canonical_columns(frame: pd.DataFrame, *, timezone: str | None) -> pd.DataFrame:
    data: dict[str, pd.Series] = {
        C.CUSTOMER_ID: coerce_customer_id(frame[C.CUSTOMER_ID], table=TABLE, check_share=True),
        C.TIMESTAMP: coerce_timestamp(
            frame[C.TIMESTAMP], table=TABLE, column=C.TIMESTAMP, timezone=timezone
        ),
        C.AMOUNT: coerce_float(frame[C.AMOUNT], table=TABLE, column=C.AMOUNT),
    }
    for col in C.TRANSACTION_OPTIONAL:
        if col not in frame.columns:
            continue
        series = frame[col]
        if col == C.ORDER_ID:
            # uint64 order ids past int64 (hashed ids) would wrap: kept as text, as customer ids are
            hashed = pd.api.types.is_unsigned_integer_dtype(series) and bool(
                series.max() > np.iinfo(np.int64).max
            )
            data[col] = (
                coerce_int(series, table=TABLE, column=col)
                if pd.api.types.is_numeric_dtype(series) and not hashed
                else coerce_text(series, table=TABLE, column=col)
            )
        elif col == C.QUANTITY:
            data[col] = coerce_float(series, table=TABLE, column=col, allow_na=True)
        elif col in (C.DISCOUNT, C.MARGIN):
            values = coerce_float(series, table=TABLE, column=col, allow_na=True)
            # a return line may reverse its discount with the sign of its amount (a refund)
            refunded = (values < 0) & (data[C.AMOUNT] < 0)
            if col == C.DISCOUNT and (values < 0).any() and not refunded[values < 0].all():
                bad = series[((values < 0) & ~refunded).to_numpy()]
                raise SchemaError(
                    f"{TABLE}.{C.DISCOUNT} is the money given away on a line and cannot be "
                    f"negative; got {format_examples(bad.tolist(), total=len(bad))}. "
                    f"{negative_discount_fix(values)}",
                    table=TABLE,
                    column=C.DISCOUNT,
                )
            data[col] = values
        else:  # product_id, category, channel, store_id
            data[col] = (
                series.copy()
                if pd.api.types.is_integer_dtype(series)
                else _blank_as_missing(coerce_text(series, table=TABLE, column=col))
            )
    return pd.DataFrame(data, index=frame.index).reset_index(drop=True)


#: Largest share of positive values among a discount column's non-zero ones for which the
#: column is read as written with negative signs (dunnhumby's RETAIL_DISC holds a few positive
#: ones among its negative ones).
_SIGN_CONVENTION_POSITIVE_SHARE = 0.01


def negative_discount_fix(values: pd.Series) -> str:
    """The fix for negative discounts: a sign convention to flip when (nearly) all are negative."""
    negative, positive = int((values < 0).sum()), int((values > 0).sum())
    if positive > _SIGN_CONVENTION_POSITIVE_SHARE * (negative + positive):
        return "Map surcharges elsewhere or set them to 0."
    if positive == 0:
        return (
            "Every non-zero discount is negative: the export writes discounts as negative "
            "numbers (as dunnhumby's RETAIL_DISC and COUPON_DISC do), so flip the sign, "
            "e.g. df['discount'] = -df['RETAIL_DISC'] (or .abs())."
        )
    examples = format_examples(values[values > 0].tolist(), total=positive)
    return (
        f"{negative:,} of the {negative + positive:,} non-zero discounts are negative: the "
        "export writes discounts as negative numbers (as dunnhumby's RETAIL_DISC and "
        f"COUPON_DISC do), so flip the sign; the positive ones, {examples}, are then "
        "surcharges or corrections: set them to 0, e.g. "
        "df['discount'] = (-df['RETAIL_DISC']).clip(lower=0)."
    )


#: Share of exact duplicates above which line-level data without line identifiers is suspected.
_DUPLICATE_WARN_SHARE = 0.05
#: Duplicates needed (over that share) before orders with products read as one row per unit sold.
_UNIT_ROWS_MIN_DUPLICATES = 20


#: Orders of several lines needed before judging whether amounts are order totals.
_REPEATED_TOTAL_MIN_ORDERS = 20
#: Share of those orders with one amount on every line above which amounts look like totals.
_REPEATED_TOTAL_SHARE = 0.8


def _warn_if_order_totals_repeat(out: pd.DataFrame) -> bool:
    """Warn when nearly every order of several lines has one amount on all of its lines (and
    say whether it did).

    Some exports (X5 RetailHero's ``purchase_sum``) write the receipt total on every product line;
    mapped as ``amount``, each order's spend would count once per line.
    """
    if C.ORDER_ID not in out.columns or len(out) == 0:
        return False
    lines = out[[C.ORDER_ID, C.AMOUNT]].dropna()
    # one amount on every line: its smallest equals its largest (cheaper than counting distinct)
    by_order = lines.groupby(C.ORDER_ID, sort=False)[C.AMOUNT].agg(["size", "min", "max"])
    several = by_order[by_order["size"] >= 2]
    if len(several) < _REPEATED_TOTAL_MIN_ORDERS:
        return False
    same = float((several["min"] == several["max"]).mean())
    if same <= _REPEATED_TOTAL_SHARE:
        return False
    if lines[C.AMOUNT].min() == lines[C.AMOUNT].max():
        # one amount on every line of the table is a stand-in (1.0 a line where an export has no
        # prices: Instacart, Retail Rocket), not each order's total: spend counts lines
        return False
    warn_user(
        f"{TABLE}.{C.AMOUNT} is the same on every line of {same:.0%} of the {len(several):,} "
        "orders with several lines: it looks like the order total written on each line (as X5's "
        "purchase_sum is), which would count each order's spend once per line. Map the line "
        "amount instead, or keep one line per order (e.g. raw.drop_duplicates('<order column>')) "
        "when only totals exist.",
        DataQualityWarning,
    )
    return True


#: Purchase lines of one order further apart than this read as two purchases under one order id.
_ORDER_SPAN = pd.Timedelta(days=1)


def _warn_if_order_ids_recur(out: pd.DataFrame) -> None:
    """Warn when one customer's order id holds purchase lines more than a day apart.

    An order is one (customer, ``order_id``), dated by its first line: receipt numbers that
    restart every day, per store or per till make a later visit part of an old order, so it is
    neither a purchase in a label's window nor a new order in the features (the simulator's
    customers with daily receipt numbers per store read 4.1 orders on average instead of 9.6).
    """
    if C.ORDER_ID not in out.columns or len(out) == 0:
        return
    bought = out.loc[out[C.AMOUNT].to_numpy() >= 0, [C.CUSTOMER_ID, C.ORDER_ID, C.TIMESTAMP]]
    span = bought.groupby([C.CUSTOMER_ID, C.ORDER_ID], sort=False, dropna=True)[C.TIMESTAMP].agg(
        ["min", "max"]
    )
    long = span[(span["max"] - span["min"]) > _ORDER_SPAN]
    if len(long) == 0:
        return
    examples = [
        f"customer {key[0]!r} order {key[1]!r}: {row['min']} to {row['max']}"
        for key, row in zip(long.index[:3], long.head(3).to_dict("records"), strict=True)
    ]
    warn_user(
        f"{TABLE}: {len(long):,} of {len(span):,} orders ({len(long) / len(span):.1%}) hold "
        f"purchase lines more than a day apart ({'; '.join(examples)}). An order is one "
        f"({C.CUSTOMER_ID}, {C.ORDER_ID}) dated by its first line, so a later visit under the "
        "same id is neither a new order nor a purchase in a churn label's window. If order ids "
        "restart (per day, store or till), make them unique first, e.g. order_id = store + "
        "date + receipt number; if lines are dated by shipment, map the order's time instead.",
        DataQualityWarning,
    )


#: Customers, and days of data, needed before one order each reads as an id per order: with 1,000
#: customers of whom even 1% come back, all of them buying once has a chance of about 4 in 100,000.
_ONCE_MIN_CUSTOMERS = 1_000
_ONCE_MIN_SPAN = pd.Timedelta(days=28)


def _warn_if_every_customer_buys_once(out: pd.DataFrame, id_codes: np.ndarray) -> list[str]:
    """Warn (and return the report's note) when every customer has exactly one order.

    Some exports give each order its own customer id and name the person in another column
    (Olist's ``customer_id`` and ``customer_unique_id``). Mapped as the customer, everyone is a
    one-time buyer: every churn label is 1, the boundaries have no repeat purchase to read, and
    the only warnings were about gaps in the data. An order is a distinct ``order_id``, else a
    distinct time. ``id_codes`` code the rows' customer ids, one code per id.
    """
    purchase = out[C.AMOUNT].to_numpy() > 0
    customers = pd.factorize(id_codes[purchase])[0]
    n_customers = int(customers.max()) + 1 if len(customers) else 0
    if n_customers < _ONCE_MIN_CUSTOMERS:
        return []
    ts = out[C.TIMESTAMP].to_numpy()[purchase]
    first, last = pd.Timestamp(ts.min()), pd.Timestamp(ts.max())
    if last - first < _ONCE_MIN_SPAN:
        return []
    # cheap way out first: a customer who bought on two days has two orders
    span = pd.Series(ts).groupby(customers, sort=False).agg(["min", "max"])
    if ((span["max"] - span["min"]) > _ORDER_SPAN).any():
        return []
    key = C.ORDER_ID if C.ORDER_ID in out.columns else C.TIMESTAMP
    orders = pd.factorize(out[key].to_numpy()[purchase])[0]
    pairs = pd.DataFrame({"customer": customers, "order": orders}).drop_duplicates()
    if len(pairs) != n_customers:
        return []
    what = "order_id" if key == C.ORDER_ID else "purchase time"
    note = (
        f"each of the {n_customers:,} customers has exactly one order (one {what}) from "
        f"{first.date()} to {last.date()}"
    )
    warn_user(
        f"{TABLE}: {note}. Where customers can come back some do, so this is more likely an id "
        "given per order, checkout or session than per person (Olist's customer_id is new with "
        "every order; customer_unique_id names the person): every churn label would be 1 and no "
        "boundary could be estimated. Map the column that names the person, "
        "ColumnMap(customer_id=...); if every customer really bought once, there is no repeat "
        "purchase for a churn model to learn from yet.",
        DataQualityWarning,
    )
    return [note]


def _warn_if_lines_look_alike(dup: np.ndarray, out: pd.DataFrame) -> None:
    """Warn when many rows are duplicates: without an order or product nothing could tell lines
    apart; with them, the export may write one row per unit sold (Olist's order items, numbered by
    an ``order_item_id`` column that was not passed; H&M's transactions, numbered by nothing, whose
    equal rows are a quantity)."""
    share = float(dup.mean()) if len(dup) else 0.0
    if share <= _DUPLICATE_WARN_SHARE:
        return
    if C.ORDER_ID in out.columns or C.PRODUCT_ID in out.columns:
        if dup.sum() < _UNIT_ROWS_MIN_DUPLICATES:
            return  # a line or two repeated in a small table: dirt, dropped and counted
        keys = [n for c, n in ((C.ORDER_ID, "order"), (C.PRODUCT_ID, "product")) if c in out]
        warn_user(
            f"{TABLE}: {int(dup.sum()):,} of {len(dup):,} rows ({share:.0%}) repeat another row "
            f"exactly (same customer, time, amount, {' and '.join(keys)}) and will be dropped "
            "as duplicates. An export that writes one row per unit sold looks like this (Olist's "
            "order items, told apart only by order_item_id; H&M's transactions, told apart by "
            "nothing): keep the column that numbers the lines in the frame (duplicates are "
            "judged on every column given), or count the equal rows into a quantity, "
            "raw.groupby(list(raw.columns), dropna=False).size().rename('quantity').reset_index() "
            "with the amount times it, or pass drop_duplicates=False. Rows loaded twice are "
            "rightly dropped.",
            DataQualityWarning,
        )
        return
    warn_user(
        f"{TABLE}: {int(dup.sum()):,} of {len(dup):,} rows ({share:.0%}) are exact duplicates and "
        "will be dropped. Without an order_id or product_id column, two purchase lines with the "
        "same customer, time and amount look identical: map those columns (ColumnMap(order_id=..., "
        "product_id=...)), or pass drop_duplicates=False if the rows are real lines.",
        DataQualityWarning,
    )
