"""Columns ``validate_transactions`` leaves out that change what an amount means.

Only the canonical columns are kept (data minimisation). A column that marks returns with positive
amounts (``return_flag`` J/N), a status (``refunded``, ``cancelled``) or a currency
(EUR next to GBP) changes what each amount is: left out in silence, returns count as purchases and
euros are added to pounds. Such a column is named in a :class:`DataQualityWarning`, with a few of
its values and the fix; an extra column that carries no such meaning (a till, a description, a
country) stays silent.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning

__all__ = ["meaning_of", "warn_left_out_meaning"]

Meaning = Literal["returns", "status", "currency"]

#: Stems of names that mark returns, refunds or cancellations (matched anywhere in the name, so
#: ``return_flag``, ``IsReturn``, ``Stornokennzeichen``, ``Retoure`` and ``refunded`` all match).
_RETURN_STEMS = re.compile(
    r"return|retour|refund|storno|cancel|erstatt|gutschrift|creditnote|r(?:ue|ü)ckgabe"
    r"|r(?:ue|ü)cknahme"
)
#: Names with a return stem that say something about the product or the customer, not the sale:
#: a returning visitor, a returnable item, the return window or policy.
_NOT_A_RETURN = re.compile(r"returning|returnable|returnwindow|returnpolicy|returnperiod")
#: Whole words of names that mark returns, refunds or cancellations.
_RETURN_WORDS = frozenset({"ret", "rtn", "void", "voided"})
_STATUS_WORDS = frozenset({"status", "orderstatus", "paymentstatus", "zustand"})
#: A status of the customer (``member_status``: gold, silver), not of the sale.
_CUSTOMER_WORDS = frozenset({"customer", "member", "membership", "loyalty", "tier", "account"})
_CURRENCY_STEMS = re.compile(r"currenc|w(?:ae|ä|a)hrung|devise")
_CURRENCY_WORDS = frozenset({"ccy", "cur", "curr", "crncy", "iso4217"})
#: Values that read as a return, refund or cancellation (in a column of any name).
_RETURN_VALUE = re.compile(
    r"^(?:return(?:ed|s)?|retour[e]?|refund(?:ed)?|storn(?:o|iert)|cancel(?:l?ed|lation)?|void(?:ed)?"
    r"|reversal|reversed|gutschrift|r(?:ue|ü)ckgabe|credit ?note|erstattet|erstattung)$",
    re.IGNORECASE,
)
#: Status values that say a line is no (longer a) purchase (an ``unavailable`` order, as Olist's,
#: was never fulfilled); others (pending, paid, shipped, delivered, completed) are sales, whose
#: customer is active.
_NOT_A_SALE = re.compile(
    r"cancel|refund|return|retour|void|fail|reject|declin|storn|chargeback|revers|abort"
    r"|erstatt|zur(?:ue|ü)ck|unavailab",
    re.IGNORECASE,
)
#: Common ISO 4217 codes and currency symbols: a column of two or more of them is a currency.
_CURRENCY_TEXT = (
    "EUR GBP USD CHF JPY CNY RMB SEK NOK DKK PLN CZK HUF RON BGN HRK RUB TRY CAD AUD NZD INR BRL "
    "MXN ZAR KRW SGD HKD ILS AED SAR THB IDR MYR PHP TWD € £ $ ¥ ₹ ₽ ₺ zł Kč Fr."
)
_CURRENCIES = frozenset(_CURRENCY_TEXT.split())
#: Columns with at most this many distinct values are read value by value (flags, statuses).
_FEW_VALUES = 20


def _words(name: str) -> list[str]:
    """Lower-case words of a column name: ``IsReturn`` -> is, return; ``order-status`` -> order,
    status."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[\W_]+", spaced.lower()) if w]


def meaning_of(name: Hashable, values: pd.Series) -> Meaning | None:
    """What a left-out column may change about the amounts: ``"returns"``, ``"status"``,
    ``"currency"``, or None (an ordinary extra column).

    Examples
    --------
    >>> meaning_of("return_flag", pd.Series(["J", "N"]))
    'returns'
    >>> meaning_of("type", pd.Series(["sale", "return"]))
    'returns'
    >>> meaning_of("waehrung", pd.Series(["EUR", "GBP"]))
    'currency'
    >>> meaning_of("till", pd.Series(["T1", "T2"])) is None
    True
    """
    text = str(name)
    words = _words(text)
    # a customer who returns (new vs returning visitors) is not a returned sale
    joined = _NOT_A_RETURN.sub("", "".join(words))
    distinct = _few_distinct(values)
    texts = [] if distinct is None else [str(v).strip() for v in distinct]
    if _CURRENCY_STEMS.search(joined) or _CURRENCY_WORDS & set(words):
        # by the values: "curr_points_balance" and "cur_price" are current numbers
        return "currency" if texts and not all(_is_number(t) for t in texts) else None
    if _RETURN_STEMS.search(joined) or _RETURN_WORDS & set(words):
        return "returns"
    if (_STATUS_WORDS & set(words) or _STATUS_WORDS & {joined}) and not _CUSTOMER_WORDS & set(
        words
    ):
        # a pending, paid or shipped order is a sale; only a cancelled or refunded one is not
        return "status" if any(_NOT_A_SALE.search(t) for t in texts) else None
    if distinct is None:
        return None
    if len(texts) >= 2 and all(t in _CURRENCIES or t.upper() in _CURRENCIES for t in texts):
        return "currency"
    if any(_RETURN_VALUE.match(t) for t in texts):
        return "returns"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _few_distinct(values: pd.Series) -> list[object] | None:
    """The distinct non-missing values of a text, boolean or categorical column with few of them
    (None for numbers, free text, or a column of many values)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return None
    try:
        distinct = pd.unique(values.dropna())
    except TypeError:  # lists or dicts from a JSON export: not a flag
        return None
    return list(distinct) if len(distinct) <= _FEW_VALUES else None


def _groups(values: pd.Series) -> pd.Series:
    """One label per row to compare amounts across: the value itself for a flag or a status, set
    against unset for a number (a returned quantity) or a text of many values (a reason)."""
    if pd.api.types.is_bool_dtype(values) or _few_distinct(values) is not None:
        return values.astype("string").fillna("<missing>")
    if pd.api.types.is_numeric_dtype(values):
        present = values.fillna(0).to_numpy() != 0
    else:
        present = values.astype("string").str.strip().fillna("").ne("").to_numpy(dtype=bool)
    return pd.Series(np.where(present, "set", "unset"), index=values.index)


def _sign_agrees(groups: pd.Series, amount: np.ndarray) -> bool:
    """Whether the amounts' sign already says what the column says: within every value's rows the
    non-zero amounts are all negative or all positive, and some are negative (returns flagged and
    signed). Zero amounts (a free return) side with either."""
    sign = pd.Series(np.sign(amount), index=groups.index)
    by_value = sign.groupby(groups.to_numpy(), sort=False).agg(["min", "max"])
    mixed = (by_value["min"] < 0) & (by_value["max"] > 0)
    return bool(not mixed.any() and (by_value["min"] < 0).any())


def _counts(values: pd.Series) -> str:
    counts = values.astype("string").fillna("<missing>").value_counts()
    shown = ", ".join(f"{v!r} ({n:,} rows)" for v, n in counts.head(4).items())
    more = f" and {len(counts) - 4} more value(s)" if len(counts) > 4 else ""
    return shown + more


def _return_value(values: pd.Series) -> object:
    """The value of ``values`` most likely to mark a return: one that reads as a return, else a
    yes-like flag, else the rarer of two values."""
    counts = values.dropna().astype("string").value_counts()
    for value in counts.index:
        if _RETURN_VALUE.match(str(value).strip()):
            return value
    for value in counts.index:
        if str(value).strip().lower() in {"j", "y", "ja", "yes", "true", "1", "x", "r"}:
            return value
    return counts.index[-1] if len(counts) else "<return value>"


def _fix(meaning: Meaning, column: str, values: pd.Series, amount_name: str) -> str:
    col, amt = f"raw[{column!r}]", f"raw[{amount_name!r}]"
    if meaning == "currency":
        codes = list(values.dropna().astype("string").value_counts().index[:3])
        rates = ", ".join(f"{c!r}: <rate>" for c in codes)
        return (
            f"Amounts in several currencies would be added up as one. Convert them to one "
            f"currency first, e.g. {amt} = {amt} * {col}.map({{{rates}}}), then drop the column "
            f"(raw.drop(columns={column!r}))."
        )
    if meaning == "status":
        seen = values.dropna().astype("string").value_counts().index
        not_sales = [str(v) for v in seen if _NOT_A_SALE.search(str(v))] or ["<cancelled>"]
        return (
            "Rows that are not purchases (cancelled, refunded) would count as purchases. Leave "
            f"them out first, e.g. raw = raw[~{col}.isin({not_sales!r})], or give refunds a "
            "negative amount if they should net against spend; then drop the column "
            f"(raw.drop(columns={column!r}))."
        )
    if pd.api.types.is_bool_dtype(values):
        unflagged = f"~{col}"
    elif pd.api.types.is_numeric_dtype(values):
        unflagged = f"{col} == 0"
    else:
        unflagged = f"{col} != {_return_value(values)!r}"
    return (
        "Returns with positive amounts would count as purchases (spend too high, churned "
        f"customers read as active). Make their amounts negative first, e.g. {amt} = "
        f"{amt}.where({unflagged}, -{amt}) (returns='keep' nets them against spend; the default "
        "drops them as negative_amount), or filter cancelled rows out; then drop the column "
        f"(raw.drop(columns={column!r}))."
    )


def warn_left_out_meaning(
    frame: pd.DataFrame,
    amount: np.ndarray,
    *,
    left_out: Sequence[Hashable],
    amount_name: str,
    table: str,
) -> list[str]:
    """Warn about each column of ``left_out`` that may change what ``amount`` means; return a
    short note per such column for the cleaning report.

    ``frame`` is the table after the ColumnMap (row for row with ``amount``, the amounts as
    read, unsigned returns negated); ``amount_name`` is the user's name of the amount column, for
    the example code. A returns or status column whose values the amounts' sign already follows
    (every refunded row negative, every other row not) is silent.
    """
    notes = []
    for name in left_out:
        values = frame[name]
        if isinstance(values, pd.DataFrame):  # a repeated non-canonical name: read each copy
            continue
        meaning = meaning_of(name, values)
        if meaning is None:
            continue
        distinct = values.dropna().astype("string").str.strip().str.casefold().nunique()
        if meaning == "currency" and distinct < 2:
            continue  # one currency throughout ("EUR" and "eur" too): nothing is mixed
        if meaning != "currency":
            groups = _groups(values)
            single = groups.nunique() < 2
            if single and not any(
                _RETURN_VALUE.match(str(v).strip()) for v in values.dropna().unique()[:1]
            ):
                continue  # one value on every row ("completed"): it tells no row apart
            if _sign_agrees(groups, amount):
                continue
        column = str(name)
        what = {
            "returns": "returns, refunds or cancellations",
            "status": "the status of each sale",
            "currency": "the currency of each amount",
        }[meaning]
        warn_user(
            f"{table}: the column {column!r} is left out (only canonical columns are kept), but it "
            f"looks like it marks {what}: {_counts(values)}. "
            f"{_fix(meaning, column, values, amount_name)}",
            DataQualityWarning,
        )
        # the report is logged to MLflow with the run: the column's values stay out of it (a
        # free-text note such as "refund asked by <e-mail>" is personal data)
        held = values.dropna()
        notes.append(
            f"column {column!r} left out may mark {what} ({len(held):,} rows with "
            f"{held.astype('string').nunique():,} distinct values; the warning shows the "
            "most frequent)"
        )
    return notes
