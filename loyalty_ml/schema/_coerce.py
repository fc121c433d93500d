"""Coercion of raw columns to canonical dtypes, with errors that name the table, column and values."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    DataError,
    DataQualityWarning,
    LoyaltyMLError,
    SchemaError,
    format_examples,
    format_ids,
    index_hint,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._bad_rows import bad_rows
from loyalty_ml.schema._coerce_time import (
    CLOCK_ATTR,
    coerce_timestamp,
    on_data_clock,
    plus_days,
    table_clock,
    to_nanoseconds,
    to_timestamp,
)
from loyalty_ml.schema._id_text import WHOLE_FLOAT_ID
from loyalty_ml.schema._stand_in_ids import warn_stand_in_ids

__all__ = [
    "CLOCK_ATTR",
    "coerce_bool",
    "coerce_customer_id",
    "coerce_float",
    "coerce_int",
    "coerce_text",
    "coerce_timestamp",
    "decoded_ids",
    "on_data_clock",
    "plus_days",
    "refuse_missing_ids",
    "refuse_repeated",
    "refuse_repeated_ids",
    "require_columns",
    "table_clock",
    "to_nanoseconds",
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
            f"{list(map(str, frame.columns))}.{index_hint(frame, missing)} Rename them or pass "
            f"a ColumnMap (e.g. ColumnMap({missing[0]}='<your column>')).",
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


def refuse_mixed_ids(ids: pd.Series, *, table: str, caller: str = "") -> None:
    """SchemaError when an object column of ids mixes numbers and text (7 and "7").

    Grouped as they are, 7 and "7" are two customers, while validate_transactions and every
    match by text read them as one: the caller would count one customer twice.
    """
    if ids.dtype.kind != "O":
        return
    if pd.api.types.infer_dtype(ids, skipna=True) in ("mixed", "mixed-integer"):
        kinds = sorted({type(v).__name__ for v in ids.dropna().head(10_000)})
        raise SchemaError(
            f"{caller + ': ' if caller else ''}{table}.{ids.name} mixes kinds of id ({', '.join(kinds)}), e.g. "
            "1 and '1' from two sources, which would count as two customers. Run "
            "loyalty_ml.validate_transactions first (it reads such ids as text), and the "
            "other tables' ids the same way.",
            table=table,
            column=str(ids.name),
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


#: ``infer_dtype`` kinds of object columns that hold numbers only.
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})
#: Largest integer a float64 holds exactly.
_FLOAT_EXACT = 2**53


#: Text that a CSV or database export writes for a missing id (compared in lower case).
_MISSING_TEXT = frozenset({"", "nan", "none", "null", "<na>", "nat", "na", "n/a", "#n/a"})


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


def coerce_customer_id(
    series: pd.Series,
    *,
    table: str,
    column: str = "customer_id",
    check_share: bool = False,
    strip_float_text: bool = True,
) -> pd.Series:
    """Canonical customer ids: int64 when every id is a whole number, otherwise strings.

    Floats that are whole numbers (``13085.0``, common after a CSV round trip with missing values) become
    int64. Strings keep their text (leading zeros matter), stripped of surrounding blanks; empty strings
    are missing. Text ids that are whole numbers written as floats (``"13085.0"``, that same round
    trip read as text) lose their ``.0`` (:func:`strip_whole_float_text`; ``strip_float_text=False``
    keeps it, for the served model, which answers with the ids as they were sent). Missing ids are
    returned as ``<NA>``/NaN for the caller to count and drop.

    Ids that look like stand-ins for unidentified shoppers (``"guest"``, ``"-"``, ``0``, ``-1``,
    ``99999999``, ``"0000000000"``) are named in a DataQualityWarning, and with ``check_share``
    (transactions) one id holding an outsized share of the rows too; see ``schema._stand_in_ids``.
    """
    ids = _customer_ids(series, table=table, column=column, strip_float_text=strip_float_text)
    warn_stand_in_ids(ids, table=table, column=column, check_share=check_share)
    return ids


def _customer_ids(
    series: pd.Series, *, table: str, column: str, strip_float_text: bool = True
) -> pd.Series:
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
                f"{table}.{column} has infinite ids {bad_rows(series, infinite)}. "
                "Customer ids must be whole numbers or strings; fix or drop those rows.",
                table=table,
                column=column,
            )
        finite = ~np.isnan(values)
        fractional = finite & (np.floor(values) != values)
        if fractional.any():
            raise SchemaError(
                f"{table}.{column} has non-integer numeric ids {bad_rows(series, fractional, ids=True)}. "
                "Customer ids must be whole numbers or strings; fix the source column.",
                table=table,
                column=column,
            )
        beyond = finite & (np.abs(values) >= 2.0**63)
        if beyond.any():
            raise SchemaError(
                f"{table}.{column} has ids beyond the int64 range stored as floats "
                f"{bad_rows(series, beyond, ids=True)} (hashed or long ids read as numbers): floats cannot "
                "hold them exactly. Read the column as text, e.g. "
                "pd.read_csv(..., dtype={'<column>': str}).",
                table=table,
                column=column,
            )
        inexact = finite & (np.abs(values) > _FLOAT_EXACT)
        if inexact.any():
            warn_user(
                f"{table}.{column} holds ids above 2**53 as floats {bad_rows(series, inexact, ids=True)}: "
                "floats cannot tell such ids apart, so different customers may share one id. "
                "Read the column as text (e.g. pd.read_csv(..., dtype={'<column>': str})).",
                DataQualityWarning,
            )
        return series.astype("Int64")
    # strings, objects, categoricals: text ids, cleaned once per distinct id and put back on the
    # rows (a stand-in for H&M's export, 5.4M lines of 485,000 64-character ids: 1.1 s of CPU
    # instead of 2.7 s for cleaning every line)
    text = series.astype("string")
    codes, distinct = pd.factorize(text)
    clean = pd.Series(distinct, dtype="string").str.strip()
    # missing values written out as text by a CSV or a database export
    clean = clean.mask(clean.str.lower().isin(_MISSING_TEXT))
    # "12346.0": an integer id column with a missing value, written out as floats and read as text
    if strip_float_text:
        clean = strip_whole_float_text(clean, table=table, column=column)
    if not clean.equals(pd.Series(distinct, dtype="string")):
        text = pd.Series(
            clean.array.take(codes, allow_fill=True), index=series.index, name=series.name
        )
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


#: "3,50", "€ 12,00", "1.234,56": a decimal comma (the last separator, followed by 1-2 digits)
_DECIMAL_COMMA = re.compile(r"^\D*-?\d{1,3}(?:[.\s]\d{3})*,\d{1,2}\D*$|^\D*-?\d+,\d{1,2}\D*$")


#: Anything but digits, blanks, separators and a sign: a currency symbol or a unit ("€", "EUR").
_SYMBOL = r"[^\d\s.,+\-()]"
#: "1.234 €": dots that separate thousands, with no decimals after them.
_THOUSANDS_DOT = re.compile(r"^\D*-?\d{1,3}(?:\.\d{3})+\D*$")


def _number_hint(bad: pd.Series) -> str:
    """How to clean the text ``bad`` holds, as code to run: decimal commas need another fix than
    symbols do, and both together one expression that handles both (``read_csv(decimal=',')``
    leaves "12,50 €" as text, so its hint alone would send the user back a second time)."""
    text = bad.head(10_000).astype("string").str.strip()
    if not text.str.contains(r"\d").fillna(False).any():
        return "They hold no number: fix or drop those rows first."
    comma = bool(text.str.match(_DECIMAL_COMMA).fillna(False).any())
    symbol = bool(text.str.contains(_SYMBOL).fillna(False).any())
    example = next(iter(text.dropna()), "")
    brackets = (
        " Amounts in brackets such as (12.50) are negative and would lose their sign: negate "
        "them after, e.g. value.where(~col.str.strip().str.startswith('('), -value)."
        if text.str.match(r"^\(.*\)$").fillna(False).any()
        else ""
    )
    if comma and symbol:
        return (
            f"They are decimal commas with a currency symbol or unit (e.g. {example!r}). Convert "
            "in one go: value = pd.to_numeric(col.str.replace(r'[^0-9,-]', '', regex=True)"
            ".str.replace(',', '.')), which keeps the digits, the comma and the sign "
            "('-1.234,56 €' becomes -1234.56); pd.read_csv(..., decimal=',') alone would leave "
            f"the symbol, and removing the comma would turn 3,50 into 350.{brackets}"
        )
    if comma:
        return (
            "They look like decimal commas (3,50 for 3.50): read the file with "
            "pd.read_csv(..., decimal=',', thousands='.'), or convert with "
            "col.str.replace('.', '').str.replace(',', '.'); removing the comma would turn 3,50 "
            f"into 350.{brackets}"
        )
    # a point decimal (or none) with symbols, units, blanks or thousands separators around it
    dots = bool(text.str.match(_THOUSANDS_DOT).fillna(False).any()) and not bool(
        text.str.contains(r"\.\d{1,2}(?!\d)").fillna(False).any()
    )
    keep, kept = (
        ("0-9-", "the digits and the sign")
        if dots
        else ("0-9.-", "the digits, the point and the sign")
    )
    what = (
        "a currency symbol or unit"
        if symbol
        else "brackets"
        if brackets
        else "thousands separators or blanks"
    )
    return (
        f"They hold {what} around the number (e.g. {example!r}): convert with "
        f"value = pd.to_numeric(col.str.replace(r'[^{keep}]', '', regex=True)), which keeps "
        f"{kept}.{brackets}"
    )


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


def distinct_values(values: pd.Series) -> list[Any]:
    """The distinct values of ``values`` for an error message; cells that cannot be hashed (a list
    or dict from a JSON column) by their repr, among the first thousand."""
    try:
        return list(values.unique())
    except TypeError:
        return list(dict.fromkeys(repr(v) for v in values.head(1_000)))


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
        f"{bad_rows(series, is_container)}. {fix}",
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
            f"{table}.{column} has values that are not numbers {bad_rows(series, bad)}. "
            f"{_number_hint(series[bad])}",
            table=table,
            column=column,
        )
    if not allow_na and out.isna().any():
        raise SchemaError(
            f"{table}.{column} has missing values {bad_rows(series, out.isna())}. "
            "Fill or drop those rows first.",
            table=table,
            column=column,
        )
    if np.isinf(out.to_numpy()).any():
        raise SchemaError(
            f"{table}.{column} has infinite values {bad_rows(series, np.isinf(out.to_numpy()))}.",
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
            f"{table}.{column} must hold whole numbers; got {bad_rows(series, fractional, ids=True)}.",
            table=table,
            column=column,
        )
    beyond = np.isfinite(values) & (np.abs(values) >= 2.0**63)
    if beyond.any():
        # astype("int64") would wrap them all to one negative number
        fix = (
            f"read the column as text, e.g. pd.read_csv(..., dtype={{{column!r}: str}})"
            if column.endswith("_id")
            else "fix or drop those rows"
        )
        raise SchemaError(
            f"{table}.{column} has numbers beyond the int64 range "
            f"{bad_rows(series, beyond, ids=True)}, which an int64 column cannot hold: {fix}.",
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
        levels = sorted(pd.unique(series[bad].dropna()).tolist(), key=str)  # as the source writes
        raise SchemaError(
            f"{table}.{column} must be boolean (True/False, 1/0, yes/no); got "
            f"{bad_rows(series, bad)}. Words of the source's own ({format_examples(levels)}) are "
            f"not guessed: map each to True or False first, raw[{column!r}].map({{"
            f"{levels[0]!r}: True or False, ...}}).",
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


def _whole_as_int(value: object) -> object:
    """A float holding a whole number (within int64) as that int; anything else as it is."""
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < 2.0**63:
            return int(number)
    return value


def strip_whole_float_text(ids: pd.Series, *, table: str = "", column: str = "") -> pd.Series:
    """Text ids with each whole number written as a float (``"12346.0"``) read as that number
    (``"12346"``), as :func:`~loyalty_ml.schema._id_text.id_texts` reads every id it matches.

    pandas writes an integer id column that has a missing value as floats; read back as text,
    those are the ids the float column itself gives. Id by id, so that two tables agree whatever
    else each holds. When an id is written both ways (``"13085"`` and ``"13085.0"``: an export
    that changed format) both are one id, with a :class:`DataQualityWarning` counting them. Text
    that is not such a number (``"A-7.0"``, ``"12.5"``, ``"007.0"``: a card number) is kept.

    Examples
    --------
    >>> strip_whole_float_text(pd.Series(["12346.0", None, "7.00", "007.0"], dtype="string")).tolist()
    ['12346', <NA>, '7', '007.0']
    """
    distinct = pd.Series(ids.dropna().unique(), dtype="string")
    if not len(distinct) or not distinct.str.contains(".", regex=False).any():
        return ids
    whole = distinct.str.replace(WHOLE_FLOAT_ID, r"\1", regex=True)
    if whole.equals(distinct):
        return ids
    merged = len(distinct) - whole.nunique()
    if merged:
        where = f"{table}.{column}" if table and column else "the ids"
        warn_user(
            f"{where} writes {merged:,} ids both as whole numbers and as floats (e.g. "
            f"{format_ids(distinct[whole.duplicated(keep=False).to_numpy()].head(2).tolist())}): "
            "an export that changed how it writes ids. Both forms of each are read as one id, "
            "without the '.0'.",
            DataQualityWarning,
        )
    return ids.str.replace(WHOLE_FLOAT_ID, r"\1", regex=True)


def coerce_text(series: pd.Series, *, table: str = "", column: str = "") -> pd.Series:
    """Text column with pandas' string dtype; numbers become their text, missing stays missing.

    Dict, list or array cells are refused (:func:`refuse_containers`), not written out as text.
    """
    refuse_containers(series, table=table or "a table", column=column or str(series.name))
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
        "floating",
        "mixed-integer-float",
        "mixed",
        "mixed-integer",
    ):
        # 1 and 1.0 in one object column (JSON, two sources) are one label, as in a float column
        series = series.map(_whole_as_int)
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype="float64")
        # whole numbers lose their ".0" (101.0 is "101"); inf or past int64 stay as they print
        whole = np.isnan(values) | ((np.floor(values) == values) & (np.abs(values) < 2.0**63))
        if whole.all():
            series = series.astype("Int64")
    return (
        series.astype("string").astype("str") if series.notna().all() else series.astype("string")
    )
