"""The per-customer inputs of :func:`.offers.choose_offers` (baseline, values, consent, eligibility,
the effects themselves), read and checked: ids that meet the effects', one value per customer,
numbers where numbers are meant.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from loyalty_ml._checks import MAX_MONEY, is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    DataError,
    DataQualityWarning,
    PolicyError,
    format_examples,
    format_ids,
)
from loyalty_ml.schema._coerce import numbers_or_refuse
from loyalty_ml.schema._ids import refuse_row_numbers

__all__ = [
    "check_customer_ids",
    "check_flag_values",
    "conversion_values",
    "customer_flags",
    "customer_values",
    "effect_values",
    "offer_eligibility",
    "warn_unknown_flags",
]


def customer_values(values: pd.Series, index: pd.Index, name: str) -> np.ndarray:
    if not isinstance(values, pd.Series):
        raise DataError(f"choose_offers: {name} must be a Series indexed by customer id.")
    check_customer_ids(values.index, index, name)  # e.g. text ids against effects' integer ids
    aligned = values.reindex(index)
    missing = aligned.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"choose_offers: {name} is missing for customers "
            f"{format_ids(index[missing].tolist(), total=int(missing.sum()))} of effects. Give a "
            "value for every customer (same index as effects)."
        )
    if pd.api.types.is_bool_dtype(aligned.dtype):
        raise DataError(
            f"choose_offers: {name} holds booleans (True/False); it needs numbers per customer "
            f"({'a probability' if name == 'baseline' else 'the margin of one conversion'}). A "
            "mask passed in the wrong place? Eligibility and consent have their own parameters."
        )
    if pd.api.types.is_numeric_dtype(aligned.dtype):
        return aligned.to_numpy(dtype=np.float64)
    numbers = pd.to_numeric(aligned.astype(object), errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        found = aligned[bad].unique().tolist()
        raise DataError(
            f"choose_offers: {name} holds values that are not numbers "
            f"{format_examples(found, total=len(found))} (customers "
            f"{format_ids(index[bad].tolist(), total=int(bad.sum()))}). Convert it first, "
            f"e.g. pd.to_numeric({name}.str.replace('€', ''))."
        )
    return numbers.to_numpy(dtype=np.float64)


def conversion_values(value_per_conversion: float | pd.Series, index: pd.Index) -> np.ndarray:
    """The margin of one conversion per customer of ``index``: finite, >= 0 and at most
    ``MAX_MONEY``, whose sums over the customers cannot overflow (1e308 for each of 100 customers
    made the budget's knapsack die on an ``OverflowError`` from ``math.fsum``)."""
    scalar = not isinstance(value_per_conversion, pd.Series)
    if isinstance(value_per_conversion, pd.Series):
        value = customer_values(value_per_conversion, index, "value_per_conversion")
    elif is_real(value_per_conversion):
        value = np.full(len(index), float(value_per_conversion))
    else:
        raise DataError(
            "choose_offers: value_per_conversion must be a number or a Series indexed by customer "
            f"id; got {type(value_per_conversion).__name__}. Wrap an array in effects' row order "
            "as pd.Series(values, index=effects.index)."
        )
    invalid = ~np.isfinite(value) | (value < 0)
    huge = np.isfinite(value) & (value > MAX_MONEY)
    if not (invalid | huge).any():
        return value
    bad = invalid if invalid.any() else huge
    found = np.unique(value[bad]).tolist()
    who = (
        "got"
        if scalar
        else f"customers {format_ids(index[bad].tolist(), total=int(bad.sum()))} have"
    )
    if invalid.any():
        raise DataError(
            "choose_offers: value_per_conversion must be finite and >= 0 (the margin of one "
            f"conversion); {who} {format_examples(found, total=len(found))}."
        )
    raise DataError(
        f"choose_offers: value_per_conversion must be at most {MAX_MONEY:.0e} (the margin of one "
        f"conversion); {who} {format_examples(found, total=len(found))}. No conversion earns that "
        "much in any currency, and a plan's sums of such values overflow: a unit mix-up, or a "
        "placeholder? Pass the margin in the currency's units."
    )


def check_customer_ids(ids: pd.Index, index: pd.Index, name: str, *, overlap: bool = True) -> None:
    """``ids`` of a per-customer input must be unique, not row numbers against effects' customer
    ids (a raw customers table's column), and, with ``overlap``, meet effects' ids."""
    if isinstance(ids, pd.MultiIndex):
        # training_table's (as_of, customer_id): a customer would have one value per cutoff
        raise DataError(
            f"choose_offers: {name} has a MultiIndex {list(ids.names)}; a plan takes one value "
            "per customer: index it by customer_id, like effects (e.g. "
            f"{name.split('[')[0]}.xs(as_of, level='as_of') for one cutoff of a training table)."
        )
    refuse_row_numbers(ids, index, name=name, against="effects", caller="choose_offers")
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique()
        raise DataError(
            f"choose_offers: {name} has duplicate customer ids "
            f"{format_ids(dup.tolist(), total=len(dup))}; give one value per customer."
        )
    if overlap and len(ids) and len(index) and not index.isin(ids).any():
        # Every customer would silently count as "not listed" (no consent / not eligible).
        same_text = pd.Index(ids.astype(str)).isin(index.astype(str)).any()
        raise DataError(
            f"choose_offers: {name} is indexed by {format_ids(ids.tolist(), total=len(ids))}, "
            "none of which is a customer of effects "
            f"({format_ids(index.tolist(), total=len(index))}). "
            + (
                f"The ids read the same but their types differ ({ids.dtype} against "
                f"{index.dtype}): give {name} the type of effects' index."
                if same_text
                else f"Index {name} by customer id, like effects."
            )
        )


#: Text a consent or eligibility column uses for "yes" (the conversion hint names one of these).
_YES_WORDS = frozenset(
    {
        "y",
        "yes",
        "true",
        "t",
        "1",
        "ja",
        "j",
        "oui",
        "si",
        "sí",
        "opt-in",
        "opted_in",
        "opt_in",
        "x",
    }
)


def check_flag_values(values: pd.Series, name: str) -> None:
    """``values`` must be booleans (or 0/1); missing values are allowed and mean False."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return
    present = values.dropna()
    bad = present[~present.isin([True, False])].unique()
    if len(bad):
        # the hint names the value that reads as a yes: eq() of a "no" would invert every flag
        yes = [v for v in bad if str(v).strip().lower() in _YES_WORDS]
        example = repr(yes[0]) if yes else "<the value that means yes>"
        raise DataError(
            f"choose_offers: {name} must hold booleans (True/False or 1/0); got "
            f"{format_examples(list(bad), total=len(bad))}. Convert it first, e.g. "
            f"{name.split('[')[0]}.eq({example})."
        )


def customer_flags(values: pd.Series, index: pd.Index, name: str) -> np.ndarray:
    """One boolean per customer of ``index``; customers not listed, or NA, are False."""
    if not isinstance(values, pd.Series):
        raise PolicyError(
            f"choose_offers: {name} must be a boolean Series indexed by customer id; got "
            f"{type(values).__name__}. Wrap an array in effects' row order as "
            "pd.Series(values, index=effects.index)."
        )
    check_customer_ids(values.index, index, name)
    check_flag_values(values, name)
    warn_unknown_flags(values, index, name)
    return values.reindex(index).eq(True).fillna(False).to_numpy(dtype=bool)


def warn_unknown_flags(values: pd.Series | pd.DataFrame, index: pd.Index, name: str) -> None:
    """Warn when customers of effects have no flag: read as False (no consent, not eligible),
    which is safe but may hide a failed join.

    A missing value (NaN) always warns: it says "unknown", not "no". A customer not listed warns
    only when ``values`` also holds False: a list of the customers who said yes leaves the others
    out on purpose, a table of yes and no that misses some does not.
    """
    known = values.notna() if isinstance(values, pd.Series) else values.notna().all(axis=1)
    listed = index.isin(values.index)
    has_false = bool(values.eq(False).fillna(False).to_numpy(dtype=bool).any())  # NA: not False
    unknown = listed & ~known.reindex(index, fill_value=True).to_numpy(dtype=bool)
    if has_false:
        unknown |= ~listed
    if not unknown.any():
        return
    what = (
        "no consent, so they get no offer"
        if name == "consent"
        else "not eligible for any offer"
        if isinstance(values, pd.Series)
        else "not eligible for the offers whose flag is missing"
    )
    count = int(unknown.sum())
    warn_user(
        f"choose_offers: {name} has no value for {count} of {len(index)} customers of effects "
        f"({format_ids(index[unknown].tolist(), total=count)}), missing or not listed; they are "
        f"read as {what}. If a join lost them, fix it; if that is meant, fill them with False "
        f"({name}.eq(True).fillna(False).reindex(effects.index, fill_value=False)) to silence "
        "this.",
        DataQualityWarning,
    )


def effect_values(frame: pd.DataFrame) -> np.ndarray:
    """The effects as float64; numbers written as text are read, a word is named."""
    flags = [
        str(c)
        for i, (c, dtype) in enumerate(frame.dtypes.items())
        if pd.api.types.is_bool_dtype(dtype)
        or (
            dtype.kind == "O"
            and pd.api.types.infer_dtype(frame.iloc[:, i], skipna=True) == "boolean"
        )
    ]
    if flags:
        # True would be read as an uplift of 1, and the offer given to every customer it marks
        raise DataError(
            f"choose_offers: effects columns {format_examples(flags, total=len(flags))} hold "
            "booleans (True/False); an effect is a change in the probability of a conversion "
            "(UpliftModel.predict_effects). A mask passed in the wrong place? Eligibility and "
            "consent have their own parameters."
        )
    try:
        return frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        columns = [
            numbers_or_refuse(
                frame[column],
                what=f"choose_offers: effects[{column!r}]",
                hint="An effect is a change in the probability of a conversion; use NaN to make "
                "an offer unavailable.",
                error=DataError,
            )
            for column in frame.columns
        ]
        return np.column_stack(columns).astype(np.float64)


def _close_offer(name: str, offers: list[str]) -> str | None:
    """The offer id a misspelt column name most likely meant: the same letters in another case,
    else the closest by difflib's ratio (0.8 or more)."""
    same = [o for o in offers if o.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, offers, n=1, cutoff=0.8)
    return close[0] if close else None


def offer_eligibility(
    eligible: pd.Series | pd.DataFrame | None, index: pd.Index, ids: list[str]
) -> np.ndarray:
    if eligible is None:
        return np.ones((len(index), len(ids)), dtype=bool)
    if isinstance(eligible, pd.Series):
        per_customer = customer_flags(eligible, index, "eligible")
        return np.repeat(per_customer[:, None], len(ids), axis=1)
    if isinstance(eligible, pd.DataFrame):
        check_customer_ids(eligible.index, index, "eligible")
        names = [str(c) for c in eligible.columns]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise DataError(
                f"choose_offers: eligible has more than one column for offers "
                f"{format_examples(repeated)} (names compared as text); give one column per offer."
            )
        missing = [i for i in ids if i not in names]
        if missing:
            # An offer without a column would be withdrawn from every customer, silently: a
            # misspelt header, or a frame that lists only the restricted offers.
            unknown = [n for n in names if n not in ids]
            guesses = {n: g for n in unknown if (g := _close_offer(n, missing))}
            which = (
                f"none of eligible's columns {format_examples(names)} is an offer of the catalog "
                f"{format_examples(ids)}"
                if names and len(missing) == len(ids)
                else f"eligible has no column for offers {format_examples(missing)}, which would "
                "be withdrawn from every customer"
                + (f"; its columns {format_examples(unknown)} are not offers" if unknown else "")
            )
            raise DataError(
                f"choose_offers: {which}"
                + (
                    " (" + ", ".join(f"{n!r} for {g!r}?" for n, g in guesses.items()) + ")"
                    if guesses
                    else ""
                )
                + ". Give one column per offer, named by offer_id as text, case included (True "
                "where the customer may get it; a column of True keeps an offer open to everyone)."
            )
        offers = eligible.rename(columns=str)[ids]
        for column in ids:  # other columns are not read
            check_flag_values(offers[column], f"eligible[{column!r}]")
        warn_unknown_flags(offers, index, "eligible")
        return offers.reindex(index=index).eq(True).fillna(False).to_numpy(dtype=bool)
    raise PolicyError(
        f"choose_offers: eligible must be a boolean Series (per customer) or DataFrame (customer x "
        f"offer); got {type(eligible).__name__}."
    )
