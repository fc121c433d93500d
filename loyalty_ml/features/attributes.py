"""Customer attributes: tenure since signup, tier, and the attributes a user opts into."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataQualityWarning,
    SchemaError,
    format_ids,
    index_hint,
)
from loyalty_ml.features._prepared import Prepared, Snapshot, id_table, nanoseconds, require
from loyalty_ml.features._time import days_between
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_float, refuse_repeated, with_decoded_ids
from loyalty_ml.schema._ids import align_customer_ids, looks_like_id
from loyalty_ml.schema.tables import is_personal_attribute

__all__ = [
    "PreparedAttributes",
    "attribute_features",
    "customers_features",
    "levels_cutoff",
    "prepare_attributes",
    "warn_pooled_away",
]

TABLE = "customers"


@dataclass(frozen=True)
class PreparedAttributes:
    """Attribute columns aligned with ``Prepared.customer_ids`` (one entry per transactions customer)."""

    signup_ns: np.ndarray | None  # int64 ns, NaT as int64 min
    columns: dict[str, np.ndarray | pd.Categorical]
    #: the warning of columns pooled all but away (:func:`warn_pooled_away`), None when none is
    pooled_away: str | None = None
    #: the warning of levels lost to counting at the first cut-off (:func:`warn_pooled_away`)
    pooled_early: str | None = None


def customers_features(config: FeatureConfig) -> frozenset[str]:
    """Every feature the customers table can give under ``config`` (what a model built from it
    needs that table for)."""
    return frozenset(
        {
            "signup_tenure_days",
            C.TIER,
            C.POINTS_BALANCE,
            *C.PROTECTED_ATTRIBUTES,
            *config.extra_attributes,
        }
    )


def _selected(frame: pd.DataFrame, config: FeatureConfig) -> list[str]:
    wanted: list[str] = []
    if C.TIER in frame.columns:
        wanted.append(C.TIER)
    if config.include_points_balance:
        wanted.append(C.POINTS_BALANCE)
    if config.protected_as_features:
        wanted.extend(c for c in C.PROTECTED_ATTRIBUTES if c in frame.columns)
    for column in config.extra_attributes:
        if looks_like_id(column):
            # the key the features are indexed by, or a second id (a CRM's member number)
            raise ConfigError(
                f"FeatureConfig.extra_attributes names {column!r}, which reads as a customer id "
                "(the key the features are indexed by, or another such as a card number); ids "
                "are never features. Remove it from extra_attributes."
            )
        if column == "signup_tenure_days":
            # computed from signup_date at each as_of; the customers column (an export's "days
            # since signup") would replace it with the export date's value, the future
            raise ConfigError(
                "FeatureConfig.extra_attributes names 'signup_tenure_days', a feature computed "
                "from signup_date at as_of; the customers table's column of that name would "
                "replace it with its value at the export. Rename that column (e.g. "
                "'crm_tenure_days') or drop it from extra_attributes."
            )
        if column not in wanted:
            wanted.append(column)
    personal = [c for c in wanted if is_personal_attribute(c)]
    if personal:
        raise SchemaError(
            f"{TABLE} columns {personal} look like personal data (name, e-mail, phone, address...) "
            "and are never features. Remove them from FeatureConfig.extra_attributes.",
            table=TABLE,
            column=personal[0],
        )
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{TABLE} has no column(s) {missing} asked for by the FeatureConfig; it has "
            f"{list(map(str, frame.columns))}.{index_hint(frame, missing)} Add them or change the "
            "config.",
            table=TABLE,
            column=missing[0],
        )
    return wanted


def _attribute_values(series: pd.Series, column: str) -> pd.Series:
    """An attribute column as a feature reads it: ``points_balance`` as numbers (refused as
    ``validate_customers`` refuses text that is none), yes/no values with a missing one as 0/1
    numbers (as without it), and text without surrounding blanks, a blank cell missing. A column
    of dates is refused: each day would be a level of its own, and dates after ``as_of`` (a last
    login at the export) the future."""
    kind = pd.api.types.infer_dtype(series, skipna=True)  # of the values, whatever the dtype
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or kind in ("datetime", "date"):
        raise SchemaError(
            f"{TABLE}.{column} holds dates; a date is no attribute (each day would be a level of "
            "its own, and dates after as_of, such as a last login at the export, carry the "
            "future). Pass them as events (loyalty_ml.validate_events: a 'login' kind gives "
            "event_login_days_since at each as_of), or drop the column from "
            "FeatureConfig.extra_attributes.",
            table=TABLE,
            column=column,
        )
    if column == C.POINTS_BALANCE:
        return coerce_float(series, table=TABLE, column=column, allow_na=True)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series
    if kind == "boolean":
        return series.astype("float64")  # True / False with a blank: 1 / 0 and NaN
    text = series.astype("string").str.strip()
    blank = (text.isna() | text.eq("")).fillna(True).to_numpy(dtype=bool)
    out = text.astype(object)
    out[blank] = None
    return out


#: A text attribute with distinct values for more than this share of the customers who hold one
#: (and at least ``_MANY_DISTINCT`` of them) names customers, not groups of them.
_DISTINCT_SHARE = 0.5
_MANY_DISTINCT = 50


def _refuse_one_level_per_customer(values: pd.Series, column: str) -> None:
    """SchemaError when a text attribute holds a value of its own for most customers (a card
    number under a name that does not say so, a free-text note, an address): each level would be
    one customer's value, stored in the model's categories, and it teaches nothing about others."""
    if values.dtype != object:
        return
    held = values.dropna()
    distinct = held.nunique()
    if distinct < _MANY_DISTINCT or distinct <= _DISTINCT_SHARE * len(held):
        return
    raise SchemaError(
        f"{TABLE}.{column} holds {distinct:,} distinct values for {len(held):,} customers: an "
        "identifier, an address or free text, not a trait customers share. It is never a "
        "feature (each level, one customer's value, would be stored in the model). Remove it "
        "from FeatureConfig.extra_attributes, or group it first (e.g. a postcode to its "
        "district).",
        table=TABLE,
        column=column,
    )


@dataclass(frozen=True)
class _Levels:
    """The categories of a text attribute, each value text's position among them, how many levels
    (value texts without surrounding blanks) held by the customers counted were pooled, and how
    many of those customers hold a value."""

    categories: list[str]
    position: dict[str, int]
    pooled: int = 0
    held: int = 0


def _as_feature(
    source: pd.Series, aligned: pd.Series, *, counted: np.ndarray, min_customers: int
) -> tuple[np.ndarray | pd.Categorical, _Levels | None]:
    """The feature of one attribute column (``aligned`` with the transactions' customers) and, for
    text, its levels; ``counted`` marks the customers of ``aligned`` the levels are counted over."""
    if pd.api.types.is_bool_dtype(source.dtype) or pd.api.types.is_numeric_dtype(source.dtype):
        return aligned.to_numpy(dtype="float64", na_value=np.nan), None
    # one set of categories for every cutoff: a value's category is its text. Text is made once
    # per distinct value, not once per customer.
    levels = _levels(source, aligned[counted], min_customers=min_customers)
    codes, values = pd.factorize(aligned.to_numpy(dtype=object))  # missing: -1
    # the last slot answers code -1 (missing) with -1
    lookup = np.array([levels.position.get(str(v), -1) for v in values] + [-1], dtype=np.int64)
    feature: pd.Categorical = pd.Categorical.from_codes(
        lookup[codes], categories=pd.Index(levels.categories)
    )  # type: ignore[assignment]
    return feature, levels


def _levels(source: pd.Series, held: pd.Series, *, min_customers: int) -> _Levels:
    """The categories of a text attribute: the text of its values in ``source`` (the customers
    table), sorted. With ``min_customers`` > 1 only the values held by at least that many of the
    customers in ``held`` keep a level (each value counted by its text without surrounding
    blanks); every other value is :data:`~loyalty_ml.schema.columns.RARE_LEVEL`, the last
    category."""
    texts = [str(value) for value in pd.unique(source.dropna().to_numpy(dtype=object))]
    if min_customers <= 1:
        categories = sorted(set(texts))
        return _Levels(categories, {text: i for i, text in enumerate(categories)})
    codes, distinct = pd.factorize(held.to_numpy(dtype=object))  # missing: -1
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
    customers: dict[str, int] = {}
    for value, count in zip(distinct, counts, strict=True):
        # "gold " is "gold", as LoyaltyPolicy.prepare reads it when scoring (unpooled): its own
        # level, it would be "(rare)" at training and "gold" at scoring
        level = str(value).strip()
        customers[level] = customers.get(level, 0) + int(count)
    kept = sorted(t for t, n in customers.items() if n >= min_customers and t != C.RARE_LEVEL)
    index = {text: i for i, text in enumerate(kept)}
    # every value not kept is the rare level
    position = {text: index.get(text.strip(), len(kept)) for text in texts}
    pooled = sum(1 for t in customers if t not in index and t != C.RARE_LEVEL)
    return _Levels([*kept, C.RARE_LEVEL], position, pooled, held=int(counts.sum()))


def levels_cutoff(prepared: Prepared, cutoffs: Sequence[pd.Timestamp]) -> pd.Timestamp:
    """The cut-off whose customers a feature table's category levels are counted over: the
    earliest of ``cutoffs`` with a customer (one before every purchase has no row to encode)."""
    first = int(prepared.ts.min()) if len(prepared.ts) else None
    dates = sorted(cutoffs)
    return next((c for c in dates if first is not None and c.value > first), dates[-1])


#: Attributes that describe loyalty-programme membership, unknown before a customer signs up.
_MEMBERSHIP = frozenset({C.TIER, C.POINTS_BALANCE})


def _not_member(signup_ns: np.ndarray, as_of_ns: int) -> np.ndarray:
    """True for customers who sign up at or after ``as_of`` (a missing signup, int64's minimum,
    is not): their membership attributes are the future there."""
    return signup_ns >= as_of_ns


def _counted(
    prepared: Prepared, signup: np.ndarray | None, as_of: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer of ``prepared``, the customers a level is counted over at ``as_of``: those
    with a purchase before it (the rows of the feature table there), and of those the members
    (signed up before it), for the membership attributes."""
    present = np.zeros(len(prepared.customer_ids), dtype=bool)
    present[prepared.cust[prepared.ts < as_of.value]] = True
    member = present if signup is None else present & ~_not_member(signup, as_of.value)
    return present, member


def prepare_attributes(
    customers: object,
    prepared: Prepared,
    config: FeatureConfig,
    *,
    levels_as_of: pd.Timestamp,
    last_as_of: pd.Timestamp | None = None,
) -> PreparedAttributes:
    """Check the customers table and align the attribute features with the transactions' customers.

    A text attribute's values held by fewer than ``config.min_level_customers`` customers are
    pooled into one level, ``"(rare)"``. The customers counted are those of the feature table at
    ``levels_as_of`` (a purchase before it; for ``tier``, signed up before it too), as each holds
    the value there: a customer who buys only later, or is in no transactions, changes no level.
    A column left with at most one level of its own by pooling is warned about (``_pooled_away``),
    and so is one left so by the few customers at ``levels_as_of`` that would keep two levels
    or more counted at ``last_as_of`` (the last cut-off of a table whose rows share the levels).

    ``points_balance`` is used only with ``FeatureConfig(include_points_balance=True)``: it is a
    snapshot of the export date, so in a training table over past cutoffs it carries the future.
    Protected attributes are used only with ``protected_as_features=True``. Customers missing from the
    table get missing attributes.
    """
    if (
        isinstance(customers, pd.DataFrame)
        and customers.index.name == C.CUSTOMER_ID
        and C.CUSTOMER_ID not in customers.columns
    ):
        # validate_customers returns the table indexed by customer_id: accept that shape too
        customers = customers.reset_index()
    frame = require(customers, (C.CUSTOMER_ID,), table=TABLE)
    refuse_repeated(frame, (C.CUSTOMER_ID,), table=TABLE)
    frame = with_decoded_ids(frame)  # categorical ids by value, as the transactions'
    # integer ids written as text ("123" from a CSV) read as the transactions' integers, and back
    frame = align_customer_ids(frame, id_table(prepared), table=TABLE, caller="build_features")
    duplicated = frame[C.CUSTOMER_ID].duplicated()
    if duplicated.any():
        repeated = frame.loc[duplicated, C.CUSTOMER_ID].drop_duplicates().tolist()
        raise SchemaError(
            f"{TABLE}.{C.CUSTOMER_ID} must be unique; "
            f"{format_ids(repeated, total=len(repeated))} appear "
            "more than once. Keep one row per customer.",
            table=TABLE,
            column=C.CUSTOMER_ID,
        )
    wanted = _selected(frame, config)
    refuse_repeated(frame, (C.SIGNUP_DATE, *wanted), table=TABLE)
    ids = frame[C.CUSTOMER_ID]
    if len(frame) and pd.api.types.is_numeric_dtype(ids.dtype) != pd.api.types.is_numeric_dtype(
        prepared.customer_ids.dtype
    ):
        raise SchemaError(
            f"{TABLE}.{C.CUSTOMER_ID} has dtype {ids.dtype} but transactions.{C.CUSTOMER_ID} has "
            f"{prepared.customer_ids.dtype}: no id could match. Convert one to the other's type.",
            table=TABLE,
            column=C.CUSTOMER_ID,
        )
    frame = frame.assign(**{column: _attribute_values(frame[column], column) for column in wanted})
    for column in wanted:
        _refuse_one_level_per_customer(frame[column], column)
    aligned = frame.set_index(C.CUSTOMER_ID).reindex(prepared.customer_ids)
    signup = _signup(aligned[C.SIGNUP_DATE]) if C.SIGNUP_DATE in aligned.columns else None
    present, member = _counted(prepared, signup, levels_as_of)
    later = None
    if last_as_of is not None and last_as_of > levels_as_of:
        later = _counted(prepared, signup, last_as_of)
    columns: dict[str, np.ndarray | pd.Categorical] = {}
    pooled: dict[str, _Levels] = {}
    lost: dict[str, int] = {}
    for column in wanted:
        columns[column], levels = _as_feature(
            frame[column],
            aligned[column],
            counted=member if column in _MEMBERSHIP else present,
            min_customers=config.min_level_customers,
        )
        if levels is None:
            continue
        if _pooled_away(levels, config.min_level_customers):
            pooled[column] = levels
        elif later is not None and config.min_level_customers > 1:
            counted_later = later[1] if column in _MEMBERSHIP else later[0]
            n_lost = _lost_to_the_first_cutoff(
                levels,
                _levels(
                    frame[column],
                    aligned[column][counted_later],
                    min_customers=config.min_level_customers,
                ),
            )
            if n_lost:
                lost[column] = n_lost
    note = None
    if pooled:
        note = _pooled_away_note(pooled, config, counted=int(present.sum()), as_of=levels_as_of)
    early = None
    if lost and later is not None and last_as_of is not None:
        early = _pooled_early_note(
            lost,
            config,
            counted=(int(present.sum()), int(later[0].sum())),
            dates=(levels_as_of, last_as_of),
        )
    return PreparedAttributes(signup, columns, note, early)


def _pooled_away(levels: _Levels, min_customers: int) -> bool:
    """Whether pooling, not the data, left a text attribute with at most one level of its own:
    two or more values merged into ``"(rare)"`` (one alone is only renamed), held by enough
    customers to have kept two levels (in a table of a handful, no column could)."""
    return levels.pooled >= 2 and len(levels.categories) <= 2 and levels.held >= 2 * min_customers


def _lost_to_the_first_cutoff(first: _Levels, last: _Levels) -> int:
    """How many levels a column left with at most one of its own at a table's first cut-off
    (``first``) would keep besides it at its last (``last``), when they are two or more: the
    feature is all but constant in every row for want of customers at the first cut-off, which
    :func:`_pooled_away` does not say when they were few (it keeps quiet in a table of a
    handful). A column that keeps two levels at the first cut-off pays the documented price of
    counting there (fewer levels), unwarned."""
    lost = set(last.categories) - set(first.categories)
    return len(lost) if len(first.categories) <= 2 and len(last.categories) > 2 else 0


def warn_pooled_away(attributes: PreparedAttributes) -> None:
    """Warn of the text attributes ``prepare_attributes`` left with at most one level of their
    own, or pooled for the few customers of the first cut-off (once all the inputs are checked:
    a table refused after them makes the warnings moot)."""
    for note in (attributes.pooled_away, attributes.pooled_early):
        if note is not None:
            warn_user(note, DataQualityWarning)


def _pooled_early_note(
    lost: dict[str, int],
    config: FeatureConfig,
    *,
    counted: tuple[int, int],
    dates: tuple[pd.Timestamp, pd.Timestamp],
) -> str:
    """The warning of text attributes whose values held by enough customers at the last cut-off
    are ``"(rare)"`` in every row, because the first cut-off's customers counted the levels."""
    described = "; ".join(f"{name!r}: {n}" for name, n in lost.items())
    fewest = config.min_level_customers
    return (
        f'customers columns {list(lost)} are "{C.RARE_LEVEL}" in every row for values held by '
        f"{fewest}+ of the {counted[1]} customers with a purchase before the last cut-off "
        f"{dates[1]} ({described} value(s)): the levels, shared by every cut-off, are counted "
        f"over the {counted[0]} customers with a purchase before the first one, {dates[0]}, so "
        "that no row's levels depend on a later purchase, and there they are held by fewer. "
        "Start the table at a later cut-off, with more customers; or, if the values hold no "
        "personal data, lower FeatureConfig.min_level_customers."
    )


def _pooled_away_note(
    pooled: dict[str, _Levels], config: FeatureConfig, *, counted: int, as_of: pd.Timestamp
) -> str:
    """The warning of text attributes left with at most one level of their own besides
    ``"(rare)"``: a constant (or all but constant) feature, such as an id-like column opted in."""
    described = "; ".join(
        f"{name!r}: {levels.pooled} of its {levels.pooled + len(levels.categories) - 1} values"
        for name, levels in pooled.items()
    )
    return (
        f"customers columns {list(pooled)} keep at most one level of their own: the values held "
        f"by fewer than {config.min_level_customers} of the {counted} customers with a purchase "
        f'before {as_of} are pooled into "{C.RARE_LEVEL}" ({described}), so each is a constant, '
        "or all but constant, feature (an id-like column such as a voucher code does that). "
        "Drop those columns from the customers table or from FeatureConfig.extra_attributes; "
        "if they hold no personal data, lower FeatureConfig.min_level_customers; or start a "
        "training or experiment table later (the customers of its first cut-off count the "
        "levels of all its rows)."
    )


def _signup(series: pd.Series) -> np.ndarray:
    if not pd.api.types.is_datetime64_dtype(series.dtype):
        raise SchemaError(
            f"{TABLE}.{C.SIGNUP_DATE} must be tz-naive datetime64; got dtype {series.dtype}. Convert "
            "it with pd.to_datetime or loyalty_ml.validate_customers.",
            table=TABLE,
            column=C.SIGNUP_DATE,
        )
    return nanoseconds(series, table=TABLE, column=C.SIGNUP_DATE).copy()


def attribute_features(
    snap: Snapshot, attributes: PreparedAttributes
) -> dict[str, np.ndarray | pd.Categorical]:
    """Attribute features of every customer in ``snap``.

    ``signup_tenure_days`` is the time from ``signup_date`` to ``as_of`` in days, NaN when the signup
    date is missing or not before ``as_of`` (not known yet at ``as_of``). ``tier`` and
    ``points_balance`` are missing for customers who sign up after ``as_of`` (guest purchases before
    joining): a membership status they could not have had then. Categorical attributes are pandas
    ``category`` dtype, with the categories ``prepare_attributes`` gave them.
    """
    out: dict[str, np.ndarray | pd.Categorical] = {}
    take = snap.customer_codes
    not_member = np.zeros(len(take), dtype=bool)
    if attributes.signup_ns is not None:
        signup = attributes.signup_ns[take]
        known = (signup != np.iinfo(np.int64).min) & (signup < snap.as_of_ns)
        out["signup_tenure_days"] = np.where(known, days_between(signup, snap.as_of_ns), np.nan)
        not_member = _not_member(signup, snap.as_of_ns)
    for name, values in attributes.columns.items():
        # a membership status (tier, points) of someone who joins after as_of is the future
        blank = not_member if name in _MEMBERSHIP else np.zeros(len(take), dtype=bool)
        if isinstance(values, pd.Categorical):
            codes = np.where(blank, -1, values.codes[take])
            out[name] = pd.Categorical.from_codes(codes, values.categories)
        else:
            out[name] = np.where(blank, np.nan, values[take])
    return out
