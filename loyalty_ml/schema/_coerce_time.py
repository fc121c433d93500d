"""Dates and times of raw columns and arguments: timestamps parsed and put on one clock (naive UTC by
default, or the data's own zone), as_of bounds read on the data's clock, whole days added across
daylight-saving changes, with errors and warnings that name the table, column and values (epoch
numbers, day-first dates, mixed UTC offsets)."""

from __future__ import annotations

import datetime as dt
import numbers
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, LoyaltyMLError, SchemaError
from loyalty_ml.schema._bad_rows import bad_rows

__all__ = [
    "CLOCK_ATTR",
    "check_timezone",
    "coerce_timestamp",
    "on_data_clock",
    "plus_days",
    "table_clock",
    "to_nanoseconds",
    "to_timestamp",
]


#: Key under which validate_transactions records its clock (the ``timezone`` its naive timestamps
#: are on) in ``DataFrame.attrs``, so that a zone-aware date parameter is read on the same clock.
CLOCK_ATTR = "loyalty_ml_clock"


def table_clock(frame: object) -> str | None:
    """The clock a validated table recorded (``CLOCK_ATTR``), or None (then UTC is assumed)."""
    attrs = getattr(frame, "attrs", None)
    clock = attrs.get(CLOCK_ATTR) if isinstance(attrs, dict) else None
    return clock if isinstance(clock, str) else None


#: Text times that carry a UTC offset ("2024-07-03T00:30:00+02:00", "...Z").
OFFSET_TEXT = r"(?:Z|[+-]\d{2}:?\d{2})\s*$"


def written_with_offsets(values: pd.Series) -> bool:
    """True when text times carry UTC offsets (judged on the first 1,000 values present)."""
    if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        return False
    sample = values.dropna().head(1000).astype("string")
    return bool(sample.str.contains(OFFSET_TEXT, regex=True).any())


def same_clock(a: str, b: str, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether zones ``a`` and ``b`` read the same wall time on every day from ``start`` to
    ``end`` (at most 800 days looked at): 'UTC' and 'Etc/UTC', 'Europe/Kiev' and 'Europe/Kyiv'
    are one clock."""
    if a == b:
        return True
    days = pd.date_range(start.normalize(), periods=min(800, max(2, (end - start).days + 2)))
    try:
        return bool(
            (
                days.tz_localize("UTC").tz_convert(a).tz_localize(None)
                == days.tz_localize("UTC").tz_convert(b).tz_localize(None)
            ).all()
        )
    except (ValueError, TypeError, KeyError):  # a name pandas does not know: compare as text
        return False


def plus_days(values: Any, days: int) -> Any:
    """``values`` (a Timestamp or a Series of them) moved by ``days`` calendar days on their clock.

    On zone-aware data a day across a daylight-saving change is 23 or 25 hours: a 2-day window
    before 2024-04-01 00:00 in London starts on 2024-03-30 00:00, not 48 elapsed hours earlier
    (23:00 on the 29th), as ``report_period`` already counts. A wall time the change skips moves
    forward to the first valid one; one it repeats is read as the earlier instant. Naive values
    move by ``days`` x 24 hours, which is the same thing.
    """
    return shift_on_clock(values, pd.Timedelta(days=int(days)))


def shift_on_clock(values: Any, step: pd.Timedelta) -> Any:
    """``values`` (a Timestamp or a Series of them) moved by ``step`` of wall-clock time: on
    zone-aware values the clock reading moves by ``step`` (see :func:`plus_days`), on naive ones
    the instant does, which is the same thing."""
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
        if ambiguous and int(ambiguous["first"]) != int(ambiguous["second"]):
            # pandas reads "01/07/2024" month-first (7 January), "13/07/2024" day-first
            raise error(
                f"{expected}. Got {value!r}, which reads as a day/month or a month/day date "
                f"({ambiguous['first']} and {ambiguous['second']} could each be the month). "
                "Write it as YYYY-MM-DD."
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


def on_data_clock(
    value: object, frame: object, *, name: str = "as_of", error: type[LoyaltyMLError] = ConfigError
) -> pd.Timestamp:
    """:func:`to_timestamp` of a date parameter on the clock ``frame`` records (:func:`table_clock`).

    A zone-aware ``value`` off UTC, given a table that records no clock, is read on UTC with a
    DataQualityWarning: ``pd.concat`` or ``merge`` of validated tables drops the clock
    ``validate_transactions(timezone=...)`` recorded (pandas keeps ``attrs`` only when they are
    equal), and naive local times read as UTC are off by the zone's offset.
    """
    clock = table_clock(frame)
    out = to_timestamp(value, name=name, error=error, clock=clock)
    if clock is None and isinstance(value, str | dt.datetime | pd.Timestamp):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None and stamp.utcoffset() != dt.timedelta(0):
            warn_user(
                f"{name}={value!r} is zone-aware ({stamp.tzinfo}) but the table records no clock, "
                "so its naive timestamps are read as UTC. If they are local times (validated "
                "with timezone=...), the clock was lost on the way (pd.concat and merge drop "
                "attrs): validate the combined table, or set "
                f"table.attrs[{CLOCK_ATTR!r}] = '<zone>'.",
                DataQualityWarning,
            )
    return out


#: A date parameter such as "01/07/2024" whose first two numbers could each be the month.
#: Slashes, dots, dashes ("01-07-2024", Dutch and Indian exports) or blanks between the numbers.
_AMBIGUOUS_DAY_MONTH = re.compile(
    r"^\s*(?P<first>0?[1-9]|1[0-2])(?P<sep>[/.\-]|\s+)(?P<second>0?[1-9]|1[0-2])(?P=sep)\d{2,4}\b"
)


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


def _numeric_date_hint(values: pd.Series, *, kind: str) -> str:
    """How to turn numbers that stand for dates into dates, by their size: YYYYMMDD, Excel serial
    days, day or hour counts, or epoch seconds, milliseconds, micro- or nanoseconds.

    ``kind`` is how they were written: ``"int"``, ``"float"`` (a float column, e.g. with a blank
    cell) or ``"text"`` (digits in a text column), which changes the code to run.
    """
    col = "pd.to_numeric(col)" if kind == "text" else "col"
    looks_like_yyyymmdd = len(values) > 0 and bool(values.between(19_000_101, 21_001_231).all())
    # Excel's serial day numbers: 25569 is 1970-01-01, 73051 is 2099-12-31
    looks_like_excel = len(values) > 0 and bool(values.between(25_569, 73_051).all())
    # as epoch seconds, every value would fall in the first 12 days of 1970
    looks_relative = len(values) > 0 and bool(values.abs().max() < 1_000_000)
    if looks_like_yyyymmdd:
        text = {
            "text": "col",
            "float": "col.astype('Int64').astype('string')",  # a blank cell made it float
            "int": "col.astype(str)",
        }[kind]
        return (
            "These look like dates written as numbers (e.g. 19970101): convert with "
            f"pd.to_datetime({text}, format='%Y%m%d') first."
        )
    if looks_like_excel:
        return (
            "These look like Excel serial dates (days since 1899-12-30, e.g. 45292.5 for "
            f"2024-01-01 12:00): convert with pd.to_datetime({col}, unit='D', origin='1899-12-30') "
            "first."
        )
    if looks_relative:
        return (
            f"These look like day or hour numbers counted from the start of the data (from "
            f"{values.min():g} to {values.max():g}), not epoch seconds, which would put every "
            "row in the first days of 1970: add them to the first day, e.g. "
            f"pd.to_datetime({col}, unit='D', origin='2020-01-01') for day numbers (unit='h' for "
            f"hours; pd.Timestamp('2020-01-01') + pd.to_timedelta({col} - 1, unit='D') when day 1 "
            "is the first day). Gaps between orders (days since the prior order) need a "
            "cumulative sum per customer first."
        )
    unit, name = _epoch_unit(values)
    return f"If these are epoch {name}, convert with pd.to_datetime({col}, unit={unit!r}) first."


def _text_date_hint(bad: pd.Series) -> str:
    """The fix for text that is not a date: numbers written as text (epoch milliseconds from a
    JSON or CSV read as text) get the numeric hint, sized by their values."""
    text = bad.head(10_000).astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    if len(numbers) and numbers.notna().all():
        return "They are numbers written as text. " + _numeric_date_hint(numbers, kind="text")
    return "Fix or remove those rows, or parse the column yourself with pd.to_datetime(format=...)."


def check_timezone(timezone: str | None) -> str:
    """``timezone`` (UTC when None) if pandas knows it; a ConfigError naming it otherwise."""
    if timezone is not None and not isinstance(timezone, str | dt.tzinfo):
        # pandas reads a number as an offset in seconds: 5 meant as UTC+5 would shift 5 seconds
        raise ConfigError(
            f"The 'timezone' parameter must be the name of a time zone; got {timezone!r} "
            f"({type(timezone).__name__}). Use an IANA name such as 'Asia/Karachi' or "
            "'Europe/Berlin', or 'UTC' (a fixed offset is written 'Etc/GMT-5' for UTC+5)."
        )
    target = timezone or "UTC"
    if isinstance(target, dt.tzinfo):
        # by its name (ZoneInfo's key, pytz's zone, "UTC+05:00"): the clock a table records is
        # text, and a zone object recorded there would be read as no clock at all (UTC)
        target = str(getattr(target, "key", None) or getattr(target, "zone", None) or target)
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
    target = check_timezone(timezone)
    if (
        allow_na
        and series.isna().all()
        and (pd.api.types.is_numeric_dtype(series) or series.dtype == object)
    ):
        # a column with no value at all (an empty column read back from a CSV is float64 NaN):
        # missing timestamps, not numbers
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]", name=series.name)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        kind = "float" if pd.api.types.is_float_dtype(series) else "int"
        raise SchemaError(
            f"{table}.{column} is numeric ({series.dtype}); timestamps must be dates or date "
            f"strings. {_numeric_date_hint(series.dropna(), kind=kind)}",
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
            f"{table}.{column} has values that are not dates {bad_rows(series, missing)}. "
            f"{_text_date_hint(series[missing])}",
            table=table,
            column=column,
        )
    if not allow_na and out.isna().any():
        raise SchemaError(
            f"{table}.{column} has missing timestamps {bad_rows(series, out.isna())}. "
            "Every row needs a timestamp; drop those rows or fill them.",
            table=table,
            column=column,
        )
    _refuse_epoch_misread(out, table=table, column=column)
    if not pd.api.types.is_datetime64_any_dtype(series):
        _refuse_time_of_day(series, table=table, column=column)
    return out


#: A time of day written without a date: 07:06:11, 7:06, 7:06 PM, 19:59:02.123.
_TIME_OF_DAY = r"\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*"
#: Rows read for a time of day, spread evenly over the column (a column mapped by mistake holds
#: nothing else); every row is read once one is found, to name them.
_TIME_OF_DAY_SAMPLE = 2_000


def _refuse_time_of_day(series: pd.Series, *, table: str, column: str) -> None:
    """SchemaError when text values are times of day without a date.

    ``pd.to_datetime("07:06:11")`` dates the time on the day the code runs: a till export's time
    column (the coffee-shop sample's ``transaction_time``, next to ``transaction_date``) mapped
    as the timestamp would put every purchase on that day. A sample is read first, so the check
    costs nothing on a million dates.
    """
    if len(series) == 0 or not (series.dtype == object or pd.api.types.is_string_dtype(series)):
        return

    def bare(values: pd.Series) -> np.ndarray:
        text = values.map(lambda v: v if isinstance(v, str) else None).astype("string")
        return text.str.fullmatch(_TIME_OF_DAY).fillna(False).to_numpy(dtype=bool)

    spread = np.linspace(0, len(series) - 1, min(len(series), _TIME_OF_DAY_SAMPLE))
    if not bare(series.iloc[np.unique(spread.astype(int))]).any():
        return
    mask = bare(series)
    raise SchemaError(
        f"{table}.{column} holds a time of day without a date {bad_rows(series, mask)}, which "
        "pandas would date on the day the code runs. Combine it with the date column first, "
        "e.g. raw['date'] + ' ' + raw['time'] (both text), or "
        "pd.to_datetime(raw['date']) + pd.to_timedelta(raw['time']), and map that column.",
        table=table,
        column=column,
    )


#: Dates read from epoch numbers in too small a unit all land before this one.
_EPOCH_MISREAD_END = pd.Timestamp("1970-02-01")


def _refuse_epoch_misread(out: pd.Series, *, table: str, column: str) -> None:
    """SchemaError when every date falls in January 1970 at two or more distinct times.

    ``pd.to_datetime`` reads integers as nanoseconds: Retail Rocket's epoch milliseconds
    (1.43e12, May 2015) become 1970-01-01 00:23, and months of data a span of seconds. No
    loyalty history is that; a column of one placeholder date (1970-01-01) is left to the
    other checks.
    """
    dates = out.dropna()
    if len(dates) < 2 or not (dates >= pd.Timestamp("1970-01-01")).all():
        return
    if not (dates < _EPOCH_MISREAD_END).all() or dates.nunique() < 2:
        return
    numbers = pd.Series(dates.to_numpy(dtype="datetime64[ns]").astype("int64"))
    unit, name = _epoch_unit(numbers)
    raise SchemaError(
        f"{table}.{column}: every date falls between {dates.min()} and {dates.max()}, in the "
        "first days of 1970: epoch numbers read as dates in too small a unit (pd.to_datetime "
        "reads integers as nanoseconds). Read as nanoseconds, these are epoch "
        f"{name} (e.g. {int(numbers.iloc[0])}): convert the original numbers with "
        f"pd.to_datetime(col, unit={unit!r}) instead. If you converted them with a unit already, "
        "that unit was too small: pick it by the numbers' size, about 1.7e9 for a date in 2024 "
        "in seconds (unit='s'), 1.7e12 in milliseconds (unit='ms'), 1.7e15 in microseconds "
        "(unit='us').",
        table=table,
        column=column,
    )


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
        f"{table}.{column} has dates outside 1677-09-22 .. 2262-04-11 {bad_rows(out, outside)}, "
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
        # several UTC offsets in one column: parsed one value at a time (dateutil), which reads
        # 01/02 month-first even next to a 13/02, so the day-first check below must run
        mixed = False
        try:
            parsed = pd.to_datetime(series, errors="coerce")
        except (ValueError, TypeError):
            parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
            mixed = True
        if (
            isinstance(parsed.dtype, pd.DatetimeTZDtype)
            or parsed.isna().sum() > series.isna().sum()
        ):
            _refuse_mixed_offsets(series, table=table, column=column)
        if any("mixed time zones" in str(w.message) for w in caught):
            parsed = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
            mixed = True
        # Read row by row or with a format guessed from the first row, "01/12/2010" is January
        # next to "13/12/2010" in December: such columns are read day-first (below).
        by_row = any("infer format" in str(w.message) for w in caught)
        day_first = None
        if by_row or mixed or parsed.notna().sum() < series.notna().sum():
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
    # only the numeric year-last rows can swap (an ISO row next to them settles nothing); each
    # distinct text once, in order of appearance (a daily export repeats a few hundred dates)
    texts = pd.Series(series.dropna().astype("string").unique())
    fields = texts.str.extract(_DAY_MONTH).astype("Float64").dropna()
    if len(fields) == 0:
        return
    first_field, second_field = fields[0].to_numpy(float), fields[1].to_numpy(float)
    if max(first_field.max(), second_field.max()) > 12 or not (first_field != second_field).any():
        return
    example = texts.loc[fields.index[first_field != second_field][0]]
    warn_user(
        f"{table}.{column}: dates such as {str(example)!r} are ambiguous (no day is past the "
        "12th) and were read month-first. If the export writes the day first, parse the column "
        "yourself first: pd.to_datetime(col, dayfirst=True) (or a format with the time, "
        "e.g. format='%d/%m/%Y %H:%M').",
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
            f"{bad_rows(series, day_first)} and {bad_rows(series, month_first)}): no reading fits "
            "every row. Parse the column yourself with pd.to_datetime(col, format=...) per source.",
            table=table,
            column=column,
        )
    if not day_first.any():
        return None
    return fields[0].notna().to_numpy()


def _read_day_first(series: pd.Series, parsed: pd.Series, rows: np.ndarray) -> pd.Series:
    """``parsed`` with the numeric year-last dates of ``rows`` read day-first.

    Dates with UTC offsets (``13/02/2024 10:00+01:00``, several offsets in one column too) are
    read day-first on UTC, and the column comes back zone-aware for the offset rules; they were
    left as first parsed, month-first where the day allowed it (02/01 read as 1 February).
    """
    text = series[rows]
    if isinstance(parsed.dtype, pd.DatetimeTZDtype) or bool(
        text.astype(str).str.contains(_OFFSET_AT_END, regex=True).any()
    ):
        dates = pd.to_datetime(text, errors="coerce", dayfirst=True, utc=True, format="mixed")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            out = parsed.dt.tz_convert("UTC")
        else:
            out = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
        out = out.copy()
        out[rows] = dates
        return out
    dates = pd.to_datetime(text, errors="coerce", dayfirst=True)
    if dates.isna().sum() > text.isna().sum():  # several formats (with and without time...)
        dates = pd.to_datetime(text, errors="coerce", dayfirst=True, format="mixed")
    if isinstance(dates.dtype, pd.DatetimeTZDtype):  # an offset the pattern did not see
        return _read_day_first(series, parsed.dt.tz_localize("UTC"), rows)
    out = parsed.astype("datetime64[ns]") if parsed.dtype != dates.dtype else parsed.copy()
    out[rows] = dates.astype(out.dtype)
    return out


#: A UTC offset or zone name at the end of a timestamp written as text.
_OFFSET_AT_END = r"(?:[+-]\d\d:?\d\d|Z|UTC|GMT)\s*$"


def _refuse_mixed_offsets(series: pd.Series, *, table: str, column: str) -> None:
    text = series.dropna().astype(str)
    has_offset = text.str.contains(_OFFSET_AT_END, regex=True)
    if has_offset.any() and not has_offset.all():
        raise SchemaError(
            f"{table}.{column} mixes timestamps with and without a UTC offset "
            f"(e.g. {text[has_offset].iloc[0]!r} and {text[~has_offset].iloc[0]!r}). Give every "
            "value an offset, or none.",
            table=table,
            column=column,
        )
