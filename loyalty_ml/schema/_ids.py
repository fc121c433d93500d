"""Matching the customer ids of tables read separately (integers in one, text in another).

A CSV whose ids came back as text next to a Parquet file with integer ids is common. Ids that are the
same whole numbers written as text are matched; text that cannot equal an integer id is refused with
the tables, the dtypes, examples and the fix, instead of silently matching nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import overload

import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, SchemaError, format_ids
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_text, strip_whole_float_text
from loyalty_ml.schema._id_text import WHOLE_FLOAT_ID

__all__ = [
    "align_customer_ids",
    "align_table_ids",
    "is_row_numbers",
    "looks_like_id",
    "refuse_id_columns",
    "refuse_row_numbers",
    "suggest_id_matches",
]


def is_row_numbers(index: pd.Index) -> bool:
    """An unnamed RangeIndex: what a table has when ``customer_id`` is one of its columns, or a
    plan saved to CSV and read back."""
    return isinstance(index, pd.RangeIndex) and index.name is None


#: Who an id names, and how it is written after them: ``customer_id``, ``CustomerNo``,
#: ``card_number``, ``loyalty_id``, ``household_key``, ``kunden_nr``, ``Kundennummer``, ``Kd.-Nr.``,
#: ``Mitgliedsnummer``, ``Kartennummer``...
_ID_OWNERS = (
    "customer|cust|client|member|membership|user|account|loyalty|card|household|shopper|club"
    "|rewards|kunden|kd|mitglieds|karten"
)
#: ... and a card named after its programme: ``Loyalty Card``, ``membership_card``,
#: ``Kundenkarte``, whose values are the card numbers.
_ID_WORDS = "id|no|nr|num|number|nummer|key|code|card|karte"
_ID_NAME = re.compile(rf"^(?:(?:{_ID_OWNERS})(?:{_ID_WORDS})|id(?:{_ID_OWNERS}))$")
#: What pandas appends to a column's name, as often as it did: a merge's ``_x``/``_y`` (two merges:
#: ``_x_x``), a repeated CSV header's ``.1``.
_PANDAS_SUFFIX = re.compile(r"(?:_x|_y|\.\d+)+$")
#: A note in brackets after the name, as exports write a source or a unit: ``Customer Id (CRM)``.
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def looks_like_id(column: object) -> bool:
    """True when a column name reads as a customer's id (``customer_id``, ``Customer ID``,
    ``CustomerNo``, ``card_number``, ``loyalty_id``, ``customer_id_x`` after a merge, ``Customer Id
    (CRM)`` with a note in brackets...).

    A bare ``id`` is not matched: a one-hot column of a US state or a country is ``ID`` too.

    Examples
    --------
    >>> [looks_like_id(c) for c in ["Customer ID", "cust_no", "customer_id.1", "ID", "paid", "store_id"]]
    [True, True, True, False, False, False]
    """
    text = str(column)
    # with and without a note in brackets: 'Customer Id (CRM)', but also '[Customer ID]' from a
    # SQL export and 'Customer (ID)', whose brackets hold the id word itself
    return any(_reads_as_id(name) for name in (_BRACKETED.sub("", text), text))


def _reads_as_id(name: str) -> bool:
    bare = _PANDAS_SUFFIX.sub("", name.strip().lower())
    return bool(_ID_NAME.match(re.sub(r"[\W_]+", "", bare)))


def refuse_id_columns(columns: Iterable[object], *, owner: str) -> None:
    """SchemaError when a feature column is a customer id (see :func:`looks_like_id`): a table
    read with the id as a column, not as its index. A model would learn from the numbering (ids
    given out in sign-up order stand in for tenure, in another shop for nothing), and its saved
    trees would keep split points that are raw customer ids."""
    found = [c for c in columns if looks_like_id(c)]
    if found:
        column = found[0]
        raise SchemaError(
            f"{owner}: X has the column {column!r}, which reads as a customer id; ids are not "
            f"features. Make it the index (X = X.set_index({column!r})), as build_features "
            "returns it, or drop it; a feature that only looks like an id needs another name.",
            table="features",
            column=str(column),
        )


def refuse_row_numbers(
    index: pd.Index, ids: pd.Index, *, name: str, against: str, caller: str = ""
) -> None:
    """SchemaError when ``index`` (of the input ``name``) is row numbers while ``ids`` (of
    ``against``) are customer ids: 0, 1, 2... overlap integer ids, so matching them would give
    each customer another one's value in silence (a raw customers table's consent column, a plan
    read back from CSV).

    Examples
    --------
    >>> ids = pd.Index([1, 2, 3], name="customer_id")
    >>> refuse_row_numbers(pd.RangeIndex(3), ids, name="consent", against="effects")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.SchemaError: consent is indexed by row numbers (an unnamed RangeIndex) ...
    """
    if not is_row_numbers(index) or is_row_numbers(ids) or index.equals(ids):
        return
    # unnamed labels may be the same table's row numbers after a split (a wide feature table
    # with no id column): say so, and how to keep them as ids, rather than call them customer ids
    labels = C.CUSTOMER_ID if ids.name in (None, C.CUSTOMER_ID) else repr(ids.name)
    raise SchemaError(
        (f"{caller}: " if caller else "")
        + f"{name} is indexed by row numbers (an unnamed RangeIndex) while {against} is indexed by "
        + ("unnamed labels" if ids.name is None else labels)
        + f" (e.g. {format_ids(ids[:3].tolist())}): rows would be matched to the "
        f"wrong customers. Index {name} by {labels}, e.g. "
        f"customers.set_index({C.CUSTOMER_ID!r})[...] or plan.set_index({C.CUSTOMER_ID!r}) for a "
        "table read back from a file"
        + (
            f". If both are the row numbers of one table without customer ids, name them before "
            f"splitting it, table = table.rename_axis({C.CUSTOMER_ID!r}), so that every part "
            "keeps them as ids."
            if ids.name is None
            else "."
        ),
        table=name,
    )


def suggest_id_matches(unknown: Sequence[object], known: Sequence[object]) -> str:
    """`` Close matches: 'freeship' -> 'FREESHIP'.`` for unknown ids that equal a known one up to case
    and blanks (empty text when none does)."""

    def key(value: object) -> str:
        return "".join(str(value).split()).casefold()

    by_key: dict[str, str] = {}
    for value in known:
        by_key.setdefault(key(value), str(value))
    pairs = [(str(v), by_key[key(v)]) for v in unknown if key(v) in by_key]
    if not pairs:
        return ""
    shown = ", ".join(f"{a!r} -> {b!r}" for a, b in pairs[:5])
    more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
    return f" Close matches (case or blanks differ): {shown}{more}."


# whole numbers written without leading zeros or blanks: the text of exactly one int64
_CANONICAL_INT = r"-?(?:0|[1-9][0-9]{0,17})"


@overload
def align_customer_ids(
    frame: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    table: str,
    caller: str,
    warn_unmatched: bool = True,
) -> pd.DataFrame: ...


@overload
def align_customer_ids(
    frame: None,
    transactions: pd.DataFrame,
    *,
    table: str,
    caller: str,
    warn_unmatched: bool = True,
) -> None: ...


@overload
def align_customer_ids(
    frame: pd.DataFrame | None,
    transactions: pd.DataFrame,
    *,
    table: str,
    caller: str,
    warn_unmatched: bool = True,
) -> pd.DataFrame | None: ...


def align_customer_ids(
    frame: pd.DataFrame | None,
    transactions: pd.DataFrame,
    *,
    table: str,
    caller: str,
    warn_unmatched: bool = True,
) -> pd.DataFrame | None:
    """``frame`` with its ``customer_id`` in the same kind (number or text) as the transactions'.

    Integer ids written as text (``"123"``) are read as the integers when the transactions' ids are
    integers; integer ids become their text when the transactions' ids are text. Text that is not
    exactly one integer (``"00123"``, ``"C-7"``) cannot equal an integer id and is refused. When
    no id of ``frame`` is a customer of the transactions (``"00017"`` against ``"17"``), a
    :class:`DataQualityWarning` says so: every customer would silently get no attributes or
    no campaign history (``warn_unmatched=False``: the caller refuses that case itself).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [123, 456]})
    >>> people = pd.DataFrame({"customer_id": ["123", "456"], "tier": ["gold", "silver"]})
    >>> align_customer_ids(people, tx, table="customers", caller="score_customers").dtypes["customer_id"]
    dtype('int64')
    """
    aligned = _same_kind(frame, transactions, table=table, caller=caller)
    if warn_unmatched and aligned is not None and C.CUSTOMER_ID in aligned.columns and len(aligned):
        _warn_if_no_id_matches(aligned[C.CUSTOMER_ID], transactions, table=table, caller=caller)
    return aligned


def _warn_if_no_id_matches(
    ids: pd.Series, transactions: pd.DataFrame, *, table: str, caller: str
) -> None:
    """Warn when none of ``ids`` is a customer of ``transactions`` (both non-empty)."""
    theirs = pd.Index(pd.unique(transactions[C.CUSTOMER_ID].dropna()))
    mine = pd.Index(pd.unique(ids.dropna()))
    if not len(theirs) or not len(mine) or mine.isin(theirs).any():
        return
    stripped = {str(v).strip().lstrip("0") for v in theirs[:10_000]}
    padded = any(str(v).strip().lstrip("0") in stripped for v in mine[:10_000])
    warn_user(
        f"{caller}: none of the {len(mine):,} customer ids of {table} (e.g. "
        f"{format_ids(mine[:3].tolist())}) is a customer of the transactions (e.g. "
        f"{format_ids(theirs[:3].tolist())}), so no customer gets anything from {table}. "
        + (
            "They differ only in leading zeros or blanks: write both the same way first. "
            if padded
            else ""
        )
        + f"Check that both tables use the same {C.CUSTOMER_ID}.",
        DataQualityWarning,
    )


def _holds_numbers(ids: pd.Series) -> bool:
    """Whether a column of object dtype holds numbers (17 beside "17", as ``pd.concat`` of an
    integer and a text table leaves it)."""
    return ids.dtype == object and pd.api.types.infer_dtype(ids, skipna=True) not in (
        "string",
        "empty",
    )


def _same_kind(
    frame: pd.DataFrame | None, transactions: pd.DataFrame, *, table: str, caller: str
) -> pd.DataFrame | None:
    if frame is None or C.CUSTOMER_ID not in frame.columns or len(frame) == 0:
        return frame
    ids = frame[C.CUSTOMER_ID]
    tx_ids = transactions[C.CUSTOMER_ID]
    is_number = pd.api.types.is_numeric_dtype
    if not is_number(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        # "12346.0" read as text is 12346, as validation reads it (see strip_whole_float_text),
        # unless the transactions were not validated either: then they are matched as written
        stripped = ids.astype("string").str.strip()
        numbers_as_text = strip_whole_float_text(stripped, table=table, column=C.CUSTOMER_ID)
        if numbers_as_text is not stripped and not _has_whole_float_text(tx_ids):
            frame = frame.assign(**{C.CUSTOMER_ID: numbers_as_text})
            ids = frame[C.CUSTOMER_ID]
    if pd.api.types.is_bool_dtype(ids.dtype) or is_number(ids.dtype) == is_number(tx_ids.dtype):
        if not is_number(tx_ids.dtype) and _holds_numbers(ids) and not _holds_numbers(tx_ids):
            # a history of integer ids with a night's text ids appended (pd.concat after the
            # export changed): the numbers are their text, as the transactions write them
            return frame.assign(**{C.CUSTOMER_ID: coerce_text(ids)})
        return frame
    if not is_number(tx_ids.dtype):
        return frame.assign(**{C.CUSTOMER_ID: coerce_text(ids)})
    text = ids.astype("string").str.strip()
    whole = text.str.fullmatch(_CANONICAL_INT).fillna(False).to_numpy(dtype=bool)
    bad = ~whole & ids.notna().to_numpy(dtype=bool)
    if bad.any():
        raise SchemaError(
            f"{caller}: {table}.{C.CUSTOMER_ID} holds text ids such as "
            f"{format_ids(ids[bad].drop_duplicates().tolist(), total=int(bad.sum()))} but "
            f"transactions.{C.CUSTOMER_ID} holds integers (e.g. "
            f"{format_ids(pd.unique(tx_ids.dropna())[:3].tolist())}): they cannot match. Read "
            f"both id columns the same way (e.g. pd.read_csv(..., dtype={{'{C.CUSTOMER_ID}': str}}) "
            "for both tables, then validate_transactions / validate_customers).",
            table=table,
            column=C.CUSTOMER_ID,
        )
    numbers = pd.to_numeric(text, errors="coerce").astype("Int64")
    return frame.assign(
        **{C.CUSTOMER_ID: numbers.astype("int64") if numbers.notna().all() else numbers}
    )


def _has_whole_float_text(ids: pd.Series) -> bool:
    """Whether text ``ids`` hold a whole number written as a float (``"12346.0"``), which
    validation would have read as ``"12346"``."""
    if pd.api.types.is_numeric_dtype(ids.dtype) or pd.api.types.is_bool_dtype(ids.dtype):
        return False
    distinct = pd.Series(pd.unique(ids.dropna()), dtype="string").str.strip()
    return bool(distinct.str.replace(WHOLE_FLOAT_ID, r"\1", regex=True).ne(distinct).any())


def align_table_ids(
    frame: pd.DataFrame | None, transactions: pd.DataFrame, *, table: str, caller: str
) -> pd.DataFrame | None:
    """:func:`align_customer_ids` for a table with ``customer_id`` as a column or as its index
    (``validate_customers`` returns it as the index); the table keeps its shape."""
    if frame is None or C.CUSTOMER_ID in frame.columns or frame.index.name != C.CUSTOMER_ID:
        return align_customer_ids(frame, transactions, table=table, caller=caller)
    aligned = align_customer_ids(frame.reset_index(), transactions, table=table, caller=caller)
    return aligned.set_index(C.CUSTOMER_ID)
