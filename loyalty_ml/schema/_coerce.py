"""Coercion of raw columns to canonical dtypes, with errors that name the table, column and values."""

from __future__ import annotations

import datetime as dt
import numbers
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    SHOW_IDS_ENV,
    ConfigError,
    DataError,
    DataQualityWarning,
    LoyaltyMLError,
    SchemaError,
    format_examples,
    format_ids,
    ids_withheld,
)
from loyalty_ml.schema import columns as C

__all__ = [
    "coerce_bool",
    "coerce_customer_id",
    "coerce_float",
    "coerce_int",
    "coerce_text",
    "coerce_timestamp",
    "decoded_ids",
    "plus_days",
    "refuse_missing_ids",
    "refuse_repeated",
    "refuse_repeated_ids",
    "require_columns",
    "to_timestamp",
    "with_decoded_ids",
]


def require_columns(frame: object, required: tuple[str, ...], *, table: str) -> pd.DataFrame:
    """``frame``; SchemaError when it is not a DataFrame or misses required columns."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"{table} must be a pandas DataFrame; got {type(frame).__name__}.", table=table
        )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{table} is missing required column(s) {missing}. It has: "
            f"{list(map(str, frame.columns))}. Rename them or pass a ColumnMap "
            f"(e.g. ColumnMap({missing[0]}='<your column>')).",
            table=table,
            column=missing[0],
        )
    return frame


def refuse_missing_ids(frame: pd.DataFrame, *, table: str) -> None:
    """Raise SchemaError naming the rows whose ``customer_id`` is missing (guest purchases)."""
    bad = frame[C.CUSTOMER_ID].isna().to_numpy()
    if bad.any():
        raise SchemaError(
            f"{table}.{C.CUSTOMER_ID} is missing at rows "
            f"{format_examples(frame.index[bad].tolist(), total=int(bad.sum()))}. Drop those rows "
            + (
                "first (validate_transactions does and counts them)."
                if table == "transactions"
                else "first: every row must name its customer."
            ),
            table=table,
            column=C.CUSTOMER_ID,
        )


def numbers_or_refuse(
    values: pd.Series,
    *,
    what: str,
    hint: str,
    error: type[LoyaltyMLError] = SchemaError,
    table: str | None = None,
) -> pd.Series:
    """``values`` as numbers (numbers written as text are read); a word among them is an error.

    ``what`` names the values in the message (e.g. ``"features.spend"``), ``hint`` says what to
    pass instead. The error names the offending values and, for a customer-indexed Series, the
    customers.
    """
    numbers = pd.to_numeric(values, errors="coerce")
    text = numbers.isna() & values.notna()
    if text.any():
        kwargs = {"table": table, "column": str(values.name)} if error is SchemaError else {}
        raise error(
            f"{what} holds values that are not numbers: "
            f"{format_examples(values[text].unique().tolist())} (customers "
            f"{format_ids(values.index[text].tolist(), total=int(text.sum()))}). {hint}",
            **kwargs,
        )
    return numbers


def refuse_repeated_ids(index: pd.Index, *, what: str) -> None:
    """DataError naming the customer ids that ``index`` holds more than once.

    ``what`` starts the message (e.g. ``"TriggerPolicy.assign: X"``); one row per customer is
    expected: a repeated id is usually a merge that duplicated rows.
    """
    if index.has_duplicates:
        twice = index[index.duplicated()].unique()
        raise DataError(
            f"{what} lists customers more than once "
            f"{format_ids(twice.tolist(), total=len(twice))}; send one row per customer (a "
            "merge may have duplicated rows)."
        )


def refuse_repeated(frame: pd.DataFrame, names: tuple[str, ...], *, table: str) -> None:
    """Raise SchemaError when one of ``names`` labels several columns (which one is meant?)."""
    repeated = frame.columns[frame.columns.duplicated() & frame.columns.isin(names)].unique()
    if len(repeated):
        raise SchemaError(
            f"{table} has several columns named {format_examples(repeated.tolist())}; each column "
            "needs one name. Drop or rename the copies first.",
            table=table,
            column=str(repeated[0]),
        )


def refuse_repeated_columns(frame: pd.DataFrame, *, what: str, table: str) -> None:
    """SchemaError naming every column name ``frame`` holds more than once (compared as text)."""
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        raise SchemaError(
            f"{what} has repeated columns {format_examples(repeated)}; keep one of each.",
            table=table,
            column=repeated[0],
        )


def _bad_rows(series: pd.Series, mask: np.ndarray | pd.Series, *, ids: bool = False) -> str:
    """The first offending rows and their values.

    Rows are named by their index labels, or "customer <id>" when the index holds customer ids.
    Inside a job (:func:`~loyalty_ml.exceptions.withhold_ids`) customer ids are not quoted: a
    customer-indexed series names row positions instead, and with ``ids`` (the values are ids)
    the values are left out.
    """
    mask = np.asarray(mask, dtype=bool)
    idx = series.index[mask]
    vals = series[mask]
    by_customer = series.index.name == C.CUSTOMER_ID
    withheld = ids_withheld()
    if by_customer and withheld:
        labels = [f"row {i}" for i in np.flatnonzero(mask)[:5]]
    else:
        labels = [f"{'customer' if by_customer else 'row'} {i}" for i in idx[:5]]
    note = f" (ids withheld from job logs; set {SHOW_IDS_ENV}=1 to show them)"
    if ids and withheld:
        return format_examples(labels, total=int(mask.sum())).replace("'", "") + note
    shown = [f"{label}: {v!r}" for label, v in zip(labels, vals.iloc[:5], strict=False)]
    text = format_examples(shown, total=int(mask.sum())).replace('"', "")
    return text + (note if by_customer and withheld else "")


#: ``infer_dtype`` kinds of object columns that hold numbers only.
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})
#: Largest integer a float64 holds exactly.
_FLOAT_EXACT = 2**53


#: Text that a CSV or database export writes for a missing id (compared in lower case).
_MISSING_TEXT = frozenset({"", "nan", "none", "null", "<na>", "nat", "na", "n/a", "#n/a"})
#: Ids that name nobody in particular: shops' stand-ins for guest checkouts.
_PLACEHOLDER_IDS = frozenset(
    {"guest", "anonymous", "anon", "unknown", "walk-in", "walkin", "cash", "no customer", "-"}
)


def _warn_placeholder_ids(text: pd.Series, *, table: str, column: str) -> None:
    """Warn about ids that look like a stand-in for unidentified shoppers ("guest", "unknown")."""
    placeholder = text.str.lower().isin(_PLACEHOLDER_IDS).fillna(False).to_numpy(dtype=bool)
    if placeholder.any():
        names = sorted(set(text[placeholder].tolist()))
        warn_user(
            f"{table}.{column} holds {format_examples(names)}, which look like stand-ins for "
            f"unidentified shoppers ({int(placeholder.sum())} of {len(text)} rows): each would be "
            "scored as one customer. Set them to missing (e.g. .replace({'guest': None})) so that "
            "they are counted and dropped as missing_customer, if that is what they are.",
            DataQualityWarning,
        )


def decoded_ids(series: pd.Series) -> pd.Series:
    """``series`` with categorical ids replaced by their values (same values, plain dtype).

    A pandas Categorical or an Arrow dictionary (``read_parquet(dtype_backend="pyarrow")`` of a
    categorical column) compares, merges and groups by its categories, not by its values: ``isin``
    against plain text raises inside pyarrow, and a groupby lists every category, bought or not.
    Other dtypes are returned as they are.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        values = dtype.categories.dtype if len(dtype.categories) else object
        return series.astype(values)
    if isinstance(dtype, pd.ArrowDtype) and _is_arrow_dictionary(dtype):
        return series.astype(pd.ArrowDtype(dtype.pyarrow_dtype.value_type))
    return series


def with_decoded_ids(frame: pd.DataFrame, column: str = "customer_id") -> pd.DataFrame:
    """``frame`` with :func:`decoded_ids` of its ``column`` (the same frame when nothing changes)."""
    ids = decoded_ids(frame[column])
    return frame if ids is frame[column] else frame.assign(**{column: ids})


def _is_arrow_dictionary(dtype: pd.ArrowDtype) -> bool:
    """Whether an Arrow dtype is a dictionary (pyarrow is imported only when Arrow dtypes are used)."""
    import pyarrow as pa

    return bool(pa.types.is_dictionary(dtype.pyarrow_dtype))


def coerce_customer_id(series: pd.Series, *, table: str, column: str = "customer_id") -> pd.Series:
    """Canonical customer ids: int64 when every id is a whole number, otherwise strings.

    Floats that are whole numbers (``13085.0``, common after a CSV round trip with missing values) become
    int64. Strings keep their text (leading zeros matter), stripped of surrounding blanks; empty strings
    are missing. Missing ids are returned as ``<NA>``/NaN for the caller to count and drop.
    """
    if pd.api.types.is_bool_dtype(series):
        raise SchemaError(
            f"{table}.{column} holds booleans; customer ids must be strings or integers.",
            table=table,
            column=column,
        )
    if isinstance(series.dtype, pd.CategoricalDtype):
        # ids by their values: categories of 13085.0 are the id 13085, not the text "13085.0"
        series = pd.Series(
            np.asarray(series.astype(object)), index=series.index, name=series.name
        ).astype(series.cat.categories.dtype if len(series.cat.categories) else object)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in _NUMBER_KINDS:
        # numbers in an object column (database drivers, JSON): ids by value, not by their repr
        series = pd.to_numeric(series)
    if pd.api.types.is_unsigned_integer_dtype(series) and (series.max() > np.iinfo(np.int64).max):
        # uint64 ids past int64 (hashed ids) would wrap to negative numbers: keep them as text
        return coerce_text(series, table=table, column=column)
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64") if series.isna().any() else series.astype("int64")
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        infinite = np.isinf(values)
        if infinite.any():
            raise SchemaError(
                f"{table}.{column} has infinite ids {_bad_rows(series, infinite)}. "
                "Customer ids must be whole numbers or strings; fix or drop those rows.",
                table=table,
                column=column,
            )
        finite = ~np.isnan(values)
        fractional = finite & (np.floor(values) != values)
        if fractional.any():
            raise SchemaError(
                f"{table}.{column} has non-integer numeric ids {_bad_rows(series, fractional, ids=True)}. "
                "Customer ids must be whole numbers or strings; fix the source column.",
                table=table,
                column=column,
            )
        beyond = finite & (np.abs(values) >= 2.0**63)
        if beyond.any():
            raise SchemaError(
                f"{table}.{column} has ids beyond the int64 range stored as floats "
                f"{_bad_rows(series, beyond, ids=True)} (hashed or long ids read as numbers): floats cannot "
                "hold them exactly. Read the column as text, e.g. "
                "pd.read_csv(..., dtype={'<column>': str}).",
                table=table,
                column=column,
            )
        inexact = finite & (np.abs(values) > _FLOAT_EXACT)
        if inexact.any():
            warn_user(
                f"{table}.{column} holds ids above 2**53 as floats {_bad_rows(series, inexact, ids=True)}: "
                "floats cannot tell such ids apart, so different customers may share one id. "
                "Read the column as text (e.g. pd.read_csv(..., dtype={'<column>': str})).",
                DataQualityWarning,
            )
        return series.astype("Int64")
    # strings, objects, categoricals: text ids
    text = series.astype("string").str.strip()
    # missing values written out as text by a CSV or a database export
    text = text.mask(text.str.lower().isin(_MISSING_TEXT))
    _warn_placeholder_ids(text, table=table, column=column)
    if series.dtype == object:
        kinds = series.dropna().map(type).unique()
        if any(k in (float, np.float64) for k in kinds) and any(k is str for k in kinds):
            raise SchemaError(
                f"{table}.{column} mixes numbers and text (types {sorted(k.__name__ for k in kinds)}). "
                "Convert the column to one type first, e.g. .astype(str).",
                table=table,
                column=column,
            )
    return text.astype("str") if not text.isna().any() else text


#: Key under which validate_transactions records its clock (the ``timezone`` its naive timestamps
#: are on) in ``DataFrame.attrs``, so that a zone-aware date parameter is read on the same clock.
CLOCK_ATTR = "loyalty_ml_clock"


def table_clock(frame: object) -> str | None:
    """The clock a validated table recorded (``CLOCK_ATTR``), or None (then UTC is assumed)."""
    attrs = getattr(frame, "attrs", None)
    clock = attrs.get(CLOCK_ATTR) if isinstance(attrs, dict) else None
    return clock if isinstance(clock, str) else None


def plus_days(values: Any, days: int) -> Any:
    """``values`` (a Timestamp or a Series of them) moved by ``days`` calendar days on their clock.

    On zone-aware data a day across a daylight-saving change is 23 or 25 hours: a 2-day window
    before 2024-04-01 00:00 in London starts on 2024-03-30 00:00, not 48 elapsed hours earlier
    (23:00 on the 29th), as ``report_period`` already counts. A wall time the change skips moves
    forward to the first valid one; one it repeats is read as the earlier instant. Naive values
    move by ``days`` x 24 hours, which is the same thing.
    """
    step = pd.Timedelta(days=int(days))
    if isinstance(values, pd.Series):
        zone = getattr(values.dtype, "tz", None)
        if zone is None:
            return values + step
        wall = values.dt.tz_localize(None) + step
        earlier = np.ones(len(wall), dtype=bool)
        return wall.dt.tz_localize(zone, ambiguous=earlier, nonexistent="shift_forward")
    if values.tzinfo is None:
        return values + step
    wall = values.tz_localize(None) + step
    return wall.tz_localize(values.tzinfo, ambiguous=True, nonexistent="shift_forward")


def to_timestamp(
    value: object,
    *,
    name: str = "as_of",
    error: type[LoyaltyMLError] = ConfigError,
    keep_zone: bool = False,
    clock: str | None = None,
) -> pd.Timestamp:
    """Parse a date parameter (str, date, datetime, Timestamp) to a nanosecond Timestamp.

    The one parser of every date *parameter* (``as_of``, ``cutoffs``, period bounds, the simulator's
    ``start``); columns go through :func:`coerce_timestamp`. Zone-aware values are converted to
    ``clock`` (the zone the data's naive timestamps are on, :func:`table_clock`; UTC when None, the
    default of the canonical transactions table) and the zone dropped, unless ``keep_zone``.
    Numbers are refused: pandas would read them as nanoseconds since 1970.

    Raises
    ------
    error
        ``ConfigError`` unless the caller names another class: for a number, text that is not a
        date, a missing value, or a date outside 1677-2262.

    Examples
    --------
    >>> to_timestamp("2024-06-30T12:00+02:00")
    Timestamp('2024-06-30 10:00:00')
    >>> to_timestamp(20240630)
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.ConfigError: The 'as_of' parameter must be a date ...
    """
    expected = (
        f"The '{name}' parameter must be a date (a str such as '2024-06-30', a date or a Timestamp)"
    )
    if value is None or isinstance(value, numbers.Number | np.bool_):
        raise error(
            f"{expected}. Got {value!r} instead"
            + (
                ": a number, which pandas would read as nanoseconds since 1970."
                if value is not None
                else "."
            )
        )
    if isinstance(value, str):
        ambiguous = _AMBIGUOUS_DAY_MONTH.match(value)
        if ambiguous and int(ambiguous[1]) != int(ambiguous[2]):
            # pandas reads "01/07/2024" month-first (7 January), "13/07/2024" day-first
            raise error(
                f"{expected}. Got {value!r}, which reads as a day/month or a month/day date "
                f"({ambiguous[1]} and {ambiguous[2]} could each be the month). Write it as "
                "YYYY-MM-DD."
            )
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise error(f"{expected}. Got {value!r} instead ({exc}).") from None
    if ts is pd.NaT:
        raise error(f"{expected}. Got a missing value ({value!r}) instead.")
    if ts.tzinfo is not None and not keep_zone:
        ts = ts.tz_convert(clock or "UTC").tz_localize(None)
    try:
        return ts.as_unit("ns")
    except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
        raise error(
            f"{expected} between 1677 and 2262 (nanosecond timestamps). Got {value!r} instead."
        ) from None


#: A date parameter such as "01/07/2024" whose first two numbers could each be the month.
_AMBIGUOUS_DAY_MONTH = re.compile(r"^\s*(0?[1-9]|1[0-2])[/.](0?[1-9]|1[0-2])[/.]\d{2,4}\b")


def _epoch_unit(values: pd.Series) -> tuple[str, str]:
    """The epoch unit whose dates of these numbers are plausible (1990-2100), by their size."""
    typical = float(values.abs().median()) if len(values) else 0.0
    # 2024 is 1.7e9 seconds, 1.7e12 milliseconds, 1.7e15 microseconds, 1.7e18 nanoseconds
    for unit, name, low in (
        ("ns", "nanoseconds", 1e17),
        ("us", "microseconds", 1e14),
        ("ms", "milliseconds", 1e11),
    ):
        if typical >= low:
            return unit, name
    return "s", "seconds"


def _check_timezone(timezone: str | None) -> str:
    """``timezone`` (UTC when None) if pandas knows it; a ConfigError naming it otherwise."""
    target = timezone or "UTC"
    try:
        pd.Timestamp("2024-01-01", tz=target)
    except Exception as exc:  # zoneinfo's ZoneInfoNotFoundError, pytz's UnknownTimeZoneError...
        raise ConfigError(
            f"The 'timezone' parameter is not a time zone pandas knows: {timezone!r} ({exc}). "
            "Use an IANA name such as 'Europe/Berlin' or 'America/New_York', or 'UTC'."
        ) from None
    return target


def coerce_timestamp(
    series: pd.Series,
    *,
    table: str,
    column: str,
    timezone: str | None = None,
    allow_na: bool = False,
) -> pd.Series:
    """Canonical timestamps: datetime64[ns], tz-naive.

    Time-zone aware values (or strings with UTC offsets, even mixed ones) are converted to ``timezone``
    (UTC when ``None``) and the zone dropped, so every timestamp is on one clock. A column that mixes
    zone-aware and naive values is refused: there is no safe way to guess the zone of the naive ones.
    Numbers (epoch seconds?) are refused too, with the fix.
    """
    target = _check_timezone(timezone)
    if (
        allow_na
        and series.isna().all()
        and (pd.api.types.is_numeric_dtype(series) or series.dtype == object)
    ):
        # a column with no value at all (an empty column read back from a CSV is float64 NaN):
        # missing timestamps, not numbers
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]", name=series.name)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.dropna()
        looks_like_yyyymmdd = len(values) > 0 and bool(values.between(19_000_101, 21_001_231).all())
        # Excel's serial day numbers: 25569 is 1970-01-01, 73051 is 2099-12-31
        looks_like_excel = len(values) > 0 and bool(values.between(25_569, 73_051).all())
        # as epoch seconds, every value would fall in the first 12 days of 1970
        looks_relative = len(values) > 0 and bool(values.abs().max() < 1_000_000)
        if looks_like_yyyymmdd:
            text = (
                "col.astype('Int64').astype('string')"  # a float column (a blank cell) too
                if pd.api.types.is_float_dtype(series)
                else "col.astype(str)"
            )
            hint = (
                "These look like dates written as numbers (e.g. 19970101): convert with "
                f"pd.to_datetime({text}, format='%Y%m%d') first."
            )
        elif looks_like_excel:
            hint = (
                "These look like Excel serial dates (days since 1899-12-30, e.g. 45292.5 for "
                "2024-01-01 12:00): convert with pd.to_datetime(col, unit='D', origin='1899-12-30') "
                "first."
            )
        elif looks_relative:
            hint = (
                f"These look like day or hour numbers counted from the start of the data (from "
                f"{values.min():g} to {values.max():g}), not epoch seconds, which would put every "
                "row in the first days of 1970: add them to the first day, e.g. "
                "pd.to_datetime(col, unit='D', origin='2020-01-01') for day numbers (unit='h' for "
                "hours; pd.Timestamp('2020-01-01') + pd.to_timedelta(col - 1, unit='D') when day 1 "
                "is the first day). Gaps between orders (days since the prior order) need a "
                "cumulative sum per customer first."
            )
        else:
            unit, name = _epoch_unit(values)
            hint = (
                f"If these are epoch {name}, convert with pd.to_datetime(col, unit={unit!r}) first."
            )
        raise SchemaError(
            f"{table}.{column} is numeric ({series.dtype}); timestamps must be dates or date "
            f"strings. {hint}",
            table=table,
            column=column,
        )
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        out = series.dt.tz_convert(target).dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(series):
        out = series
    else:
        out = _parse_datetime_text(series, table=table, column=column, target=target)
    out = to_nanoseconds(out, table=table, column=column)
    missing = out.isna().to_numpy() & ~series.isna().to_numpy()
    if missing.any():
        raise SchemaError(
            f"{table}.{column} has values that are not dates {_bad_rows(series, missing)}. "
            "Fix or remove those rows, or parse the column yourself with pd.to_datetime(format=...).",
            table=table,
            column=column,
        )
    if not allow_na and out.isna().any():
        raise SchemaError(
            f"{table}.{column} has missing timestamps {_bad_rows(series, out.isna())}. "
            "Every row needs a timestamp; drop those rows or fill them.",
            table=table,
            column=column,
        )
    return out


def to_nanoseconds(out: pd.Series, *, table: str, column: str) -> pd.Series:
    """``out`` as datetime64[ns]; dates outside its range (1677-2262) are refused by row.

    pandas 3 parses and reads Parquet at micro- or millisecond resolution, where 9999-12-31 is a
    valid date; ``Series.to_numpy(dtype="datetime64[ns]")`` would silently wrap it to 1816.
    """
    if out.dtype == "datetime64[ns]":
        return out
    try:
        return out.astype("datetime64[ns]")
    except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
        pass
    low, high = pd.Timestamp.min.ceil("us"), pd.Timestamp.max.floor("us")
    outside = ((out < low) | (out > high)).to_numpy(dtype=bool)
    raise SchemaError(
        f"{table}.{column} has dates outside 1677-09-22 .. 2262-04-11 {_bad_rows(out, outside)}, "
        "often placeholders such as 9999-12-31 or 1000-01-01. Drop or fix those rows first "
        "(e.g. raw[raw[col] < '2262-01-01']).",
        table=table,
        column=column,
    )


def _parse_datetime_text(series: pd.Series, *, table: str, column: str, target: str) -> pd.Series:
    values = series.dropna()
    if len(values) and series.dtype == object:
        aware = values.map(lambda v: isinstance(v, dt.datetime) and v.tzinfo is not None)
        naive = values.map(lambda v: isinstance(v, dt.datetime) and v.tzinfo is None)
        if aware.any() and naive.any():
            raise SchemaError(
                f"{table}.{column} mixes time-zone aware and naive timestamps "
                f"(e.g. {values[aware].iloc[0]!r} and {values[naive].iloc[0]!r}). Localize the naive "
                "ones to their zone first (Series.dt.tz_localize).",
                table=table,
                column=column,
            )
        if aware.all():  # aware datetimes, possibly in several zones: one clock
            parsed = pd.to_datetime(series, errors="coerce", utc=True)
            return parsed.dt.tz_convert(target).dt.tz_localize(None)
    with warnings.catch_warnings(record=True) as caught:
        # pandas warns when it falls back to per-element parsing (that is what we ask for), and
        # pandas 2 warns (pandas 3 raises) on mixed UTC offsets: both lead to one UTC parse.
        warnings.simplefilter("always")
        try:
            parsed = pd.to_datetime(series, errors="coerce")
        except (ValueError, TypeError):
            parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
        if (
            isinstance(parsed.dtype, pd.DatetimeTZDtype)
            or parsed.isna().sum() > series.isna().sum()
        ):
            _refuse_mixed_offsets(series, table=table, column=column)
        if any("mixed time zones" in str(w.message) for w in caught):
            parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
        # Read row by row or with a format guessed from the first row, "01/12/2010" is January
        # next to "13/12/2010" in December: such columns are read day-first (below).
        by_row = any("infer format" in str(w.message) for w in caught)
        day_first = None
        if by_row or parsed.notna().sum() < series.notna().sum():
            day_first = _day_first_rows(series, table=table, column=column)
        if day_first is not None:
            parsed = _read_day_first(series, parsed, day_first)
        if parsed.notna().sum() < series.notna().sum():
            # a second chance for columns whose format varies from row to row
            if day_first is not None:  # the other rows only
                todo = (parsed.isna() & series.notna()).to_numpy()
                parsed[todo] = pd.to_datetime(series[todo], errors="coerce", format="mixed")
            else:
                try:
                    parsed = pd.to_datetime(series, errors="coerce", format="mixed")
                except (ValueError, TypeError):
                    parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    if day_first is None:
        _warn_if_day_month_ambiguous(series, parsed, table=table, column=column)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert(target).dt.tz_localize(None)
    if parsed.dtype == object:  # mixed offsets parsed to python objects by older pandas
        parsed = pd.to_datetime(series, errors="coerce", utc=True)
        return parsed.dt.tz_convert(target).dt.tz_localize(None)
    return parsed


#: Numeric dates with the year last (``01/12/2010``, ``1.12.10``): day and month can swap.
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?!\d)")


def _warn_if_day_month_ambiguous(
    series: pd.Series, parsed: pd.Series, *, table: str, column: str
) -> None:
    """DataQualityWarning when numeric year-last dates never show which field is the day.

    ``01/03/2024`` next to ``05/04/2024`` and nothing past the 12th: read month-first (pandas'
    reading), which is wrong for a day-first export. Any value past the 12th settles it.
    """
    # only the numeric year-last rows can swap (an ISO row next to them settles nothing)
    fields = series.astype("string").str.extract(_DAY_MONTH).astype("Float64").dropna()
    if len(fields) == 0:
        return
    first_field, second_field = fields[0].to_numpy(float), fields[1].to_numpy(float)
    if max(first_field.max(), second_field.max()) > 12 or not (first_field != second_field).any():
        return
    example = series.loc[fields.index[first_field != second_field][0]]
    warn_user(
        f"{table}.{column}: dates such as {str(example)!r} are ambiguous (no day is past the "
        "12th) and were read month-first. If the export writes the day first, parse the column "
        "yourself first: pd.to_datetime(col, format='%d/%m/%Y').",
        DataQualityWarning,
    )


def _day_first_rows(series: pd.Series, *, table: str, column: str) -> np.ndarray | None:
    """Rows to read day-first when some numeric dates can only be day-first, else None.

    A value like ``13/12/2010`` is day-first, ``12/13/2010`` month-first; a column with both is
    refused, as no reading fits all rows.
    """
    fields = series.astype("string").str.extract(_DAY_MONTH).astype("Float64")
    first, second = fields[0].to_numpy(na_value=0.0), fields[1].to_numpy(na_value=0.0)
    day_first, month_first = first > 12, second > 12
    if day_first.any() and month_first.any():
        raise SchemaError(
            f"{table}.{column} mixes day-first and month-first dates (e.g. "
            f"{_bad_rows(series, day_first)} and {_bad_rows(series, month_first)}): no reading fits "
            "every row. Parse the column yourself with pd.to_datetime(col, format=...) per source.",
            table=table,
            column=column,
        )
    if not day_first.any():
        return None
    return fields[0].notna().to_numpy()


def _read_day_first(series: pd.Series, parsed: pd.Series, rows: np.ndarray) -> pd.Series:
    """``parsed`` with the numeric year-last dates of ``rows`` read day-first."""
    text = series[rows]
    dates = pd.to_datetime(text, errors="coerce", dayfirst=True)
    if dates.isna().sum() > text.isna().sum():  # several formats (with and without time...)
        dates = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype) or isinstance(dates.dtype, pd.DatetimeTZDtype):
        return parsed  # UTC offsets too: left to the offset rules
    out = parsed.astype("datetime64[ns]") if parsed.dtype != dates.dtype else parsed.copy()
    out[rows] = dates.astype(out.dtype)
    return out


def _refuse_mixed_offsets(series: pd.Series, *, table: str, column: str) -> None:
    text = series.dropna().astype(str)
    has_offset = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z|UTC|GMT)\s*$", regex=True)
    if has_offset.any() and not has_offset.all():
        raise SchemaError(
            f"{table}.{column} mixes timestamps with and without a UTC offset "
            f"(e.g. {text[has_offset].iloc[0]!r} and {text[~has_offset].iloc[0]!r}). Give every "
            "value an offset, or none.",
            table=table,
            column=column,
        )


#: "3,50", "€ 12,00", "1.234,56": a decimal comma (the last separator, followed by 1-2 digits)
_DECIMAL_COMMA = re.compile(r"^\D*-?\d{1,3}(?:[.\s]\d{3})*,\d{1,2}\D*$|^\D*-?\d+,\d{1,2}\D*$")


def _number_hint(bad: pd.Series) -> str:
    """How to clean the text ``bad`` holds: decimal commas need another fix than symbols do."""
    text = bad.astype("string").str.strip()
    if text.str.match(_DECIMAL_COMMA).fillna(False).any():
        return (
            "They look like decimal commas (3,50 for 3.50): read the file with "
            "pd.read_csv(..., decimal=',', thousands='.'), or convert with "
            "col.str.replace('.', '').str.replace(',', '.'); removing the comma would turn 3,50 "
            "into 350."
        )
    return "Clean them (e.g. remove currency symbols or thousands separators) first."


_CONTAINERS = (dict, list, tuple, set, frozenset, np.ndarray)
#: ``infer_dtype`` kinds that hold no containers.
_PLAIN_KINDS = frozenset(
    {"string", "bytes", "integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"}
    | {
        "datetime",
        "datetime64",
        "date",
        "timedelta",
        "timedelta64",
        "time",
        "period",
        "categorical",
    }
)


def refuse_containers(series: pd.Series, *, table: str, column: str) -> None:
    """SchemaError when ``series`` holds dicts, lists or arrays (JSON exports), naming the fix.

    ``str()`` would turn ``{'amount': 16.5}`` into an id or label nobody meant, and pandas' own
    errors about such cells (``truth value of an array is ambiguous``) say nothing of the column.
    """
    if series.dtype != object or len(series) == 0:
        return
    if pd.api.types.infer_dtype(series, skipna=True) in _PLAIN_KINDS:  # fast path, in C
        return
    is_container = series.map(lambda v: isinstance(v, _CONTAINERS)).to_numpy(dtype=bool)
    if not is_container.any():
        return
    first = series[is_container].iloc[0]
    if isinstance(first, dict):
        keys = ", ".join(repr(k) for k in list(first)[:3])
        fix = (
            f"Its cells are dicts (keys such as {keys}), as a JSON export writes: take the value "
            f"you mean first, e.g. col.str[{next(iter(first), 'key')!r}] (or "
            "pd.json_normalize(col) for all of them)."
        )
    else:
        fix = (
            f"Its cells are {type(first).__name__}s (the first holds {len(first)}), as a JSON "
            "export writes: give one value per row, e.g. col.explode() (one row per value) or "
            "col.str.join(', ') (one text)."
        )
    raise SchemaError(
        f"{table}.{column} holds {int(is_container.sum())} {type(first).__name__} cell(s) "
        f"{_bad_rows(series, is_container)}. {fix}",
        table=table,
        column=column,
    )


def coerce_float(
    series: pd.Series, *, table: str, column: str, allow_na: bool = False
) -> pd.Series:
    """Canonical money/float column: float64; text that is not a number is refused with examples."""
    if pd.api.types.is_bool_dtype(series):
        raise SchemaError(
            f"{table}.{column} holds booleans; expected numbers.", table=table, column=column
        )
    refuse_containers(series, table=table, column=column)
    out = pd.to_numeric(series, errors="coerce").astype("float64")
    bad = out.isna().to_numpy() & ~series.isna().to_numpy()
    if bad.any():
        raise SchemaError(
            f"{table}.{column} has values that are not numbers {_bad_rows(series, bad)}. "
            f"{_number_hint(series[bad])}",
            table=table,
            column=column,
        )
    if not allow_na and out.isna().any():
        raise SchemaError(
            f"{table}.{column} has missing values {_bad_rows(series, out.isna())}. "
            "Fill or drop those rows first.",
            table=table,
            column=column,
        )
    if np.isinf(out.to_numpy()).any():
        raise SchemaError(
            f"{table}.{column} has infinite values {_bad_rows(series, np.isinf(out.to_numpy()))}.",
            table=table,
            column=column,
        )
    return out


def coerce_int(series: pd.Series, *, table: str, column: str, allow_na: bool = True) -> pd.Series:
    """Whole numbers as int64 (Int64 when missing values are allowed and present)."""
    out = coerce_float(series, table=table, column=column, allow_na=allow_na)
    values = out.to_numpy()
    fractional = np.isfinite(values) & (np.floor(values) != values)
    if fractional.any():
        raise SchemaError(
            f"{table}.{column} must hold whole numbers; got {_bad_rows(series, fractional, ids=True)}.",
            table=table,
            column=column,
        )
    return out.astype("Int64") if out.isna().any() else out.astype("int64")


_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def coerce_bool(series: pd.Series, *, table: str, column: str) -> pd.Series:
    """Booleans from bool, 0/1 or yes/no/true/false text; missing (or blank) stays missing."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    blank = text.fillna("").eq("").to_numpy(dtype=bool)  # an empty CSV cell, a space: no value
    bad = out.isna().to_numpy() & ~blank
    if bad.any():
        raise SchemaError(
            f"{table}.{column} must be boolean (True/False, 1/0, yes/no); got "
            f"{_bad_rows(series, bad)}.",
            table=table,
            column=column,
        )
    return out


def coerce_label(series: pd.Series, *, table: str = "", column: str = "") -> pd.Series:
    """:func:`coerce_text` without surrounding blanks; a blank label is missing.

    For ids that name things (offers, campaigns): ``" 10OFF"`` from one export and ``"10OFF"`` from
    another are the same offer.
    """
    text = coerce_text(series, table=table, column=column).astype("string").str.strip()
    text = text.mask(text == "")
    return text.astype("str") if text.notna().all() else text


def coerce_text(series: pd.Series, *, table: str = "", column: str = "") -> pd.Series:
    """Text column with pandas' string dtype; numbers become their text, missing stays missing.

    Dict, list or array cells are refused (:func:`refuse_containers`), not written out as text.
    """
    refuse_containers(series, table=table or "a table", column=column or str(series.name))
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype="float64")
        if np.all(~np.isfinite(values) | (np.floor(values) == values)):
            series = series.astype("Int64")
    return (
        series.astype("string").astype("str") if series.notna().all() else series.astype("string")
    )
