"""Contracts of the optional tables: customers, offers catalog and campaign history."""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataQualityWarning,
    SchemaError,
    format_examples,
    format_ids,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    coerce_bool,
    coerce_customer_id,
    coerce_float,
    coerce_int,
    coerce_label,
    coerce_text,
    coerce_timestamp,
    refuse_containers,
    refuse_repeated,
    refuse_repeated_columns,
    require_columns,
)
from loyalty_ml.schema._coerce_time import (
    CLOCK_ATTR,
    check_timezone,
    table_clock,
    written_with_offsets,
)
from loyalty_ml.schema._consent_names import (
    refuse_consent_look_alikes,
    warn_all_consent_missing,
)
from loyalty_ml.schema._ids import suggest_id_matches
from loyalty_ml.schema.column_map import ColumnMap, check_column_map
from loyalty_ml.schema.report import CleaningReport
from loyalty_ml.schema.transactions import REPORT_ATTR

__all__ = [
    "looks_like_personal_data",
    "validate_campaigns",
    "validate_customers",
    "validate_offers",
]


def is_protected_attribute(column: object) -> bool:
    """True for a protected attribute or an encoding of one, in any case (``gender``,
    ``Gender_F``, ``gender=F``), and for the usual other names of one, whole (``sex``, ``age``,
    ``income``: a raw age or income is as protected as its band; ``generation``, an age band;
    ``age_of_account_days`` is not)
    or with a word that says it is a band (``AGE_DESC`` and ``INCOME_DESC``, dunnhumby's,
    ``age_group``, ``income_range``).

    Examples
    --------
    >>> [is_protected_attribute(c) for c in ("Gender", "gender_code", "sex", "Age", "region")]
    [True, True, True, True, False]
    >>> [is_protected_attribute(c) for c in ("AGE_DESC", "income_bracket", "age_group=25-34")]
    [True, True, True]
    >>> [is_protected_attribute(c) for c in ("age_of_account_days", "income_from_referrals")]
    [False, False]
    """
    name = str(column).casefold()
    if any(name == other or name.startswith(f"{other}=") for other in _WHOLE_NAMES):
        return True
    banded = (f"{other}_{word}" for other in _WHOLE_NAMES for word in _BAND_WORDS)
    if any(name == band or name.startswith((f"{band}_", f"{band}=")) for band in banded):
        return True
    return any(
        name == attribute or name.startswith((f"{attribute}_", f"{attribute}="))
        for attribute in (*C.PROTECTED_ATTRIBUTES, "sex")
    )


#: A raw age or income is as protected as its band, but only under that name whole:
#: age_of_account_days or income_from_referrals are not a person's age or income. A generation
#: (the coffee-shop sample's generations.csv: "Baby Boomers", "Gen X") is an age band.
_WHOLE_NAMES = ("age", "income", "generation")
#: Words after ``age_`` or ``income_`` that name a band of it, not another quantity.
_BAND_WORDS = ("desc", "group", "range", "bracket", "bucket", "class", "category", "cat", "level")


def looks_like_personal_data(column: str) -> bool:
    """True when a column name suggests personal data (name, e-mail, phone, address, ...).

    Markers are English and German (``Telefon``, ``Adresse``, ``Geburtsdatum``, ``Straße``);
    short ones (``IP``, ``DOB``, ``PLZ``, ``mobile``) count only as whole words of the name. The
    features :func:`build_features` names after a channel (``channel_share_mobile``) are not
    personal data.

    Examples
    --------
    >>> [looks_like_personal_data(c) for c in ("E-Mail", "IP", "tip_amount", "channel_share_mobile")]
    [True, True, False, False]
    >>> [looks_like_personal_data(c) for c in ("Straße", "MobileNo", "social_security_number")]
    [True, True, True]
    """
    name = str(column).casefold().replace(" ", "_")  # casefold: "Straße" reads "strasse"
    if name.startswith(_FEATURE_PREFIXES):
        return False
    if any(marker in name for marker in C.PERSONAL_DATA_MARKERS):
        return True
    return not C.PERSONAL_DATA_WORDS.isdisjoint(re.split(r"[^a-z0-9]+", name))


#: Prefixes of feature names the library builds from channel or category labels, not from people.
_FEATURE_PREFIXES = ("channel_share_",)


#: Names of a person's name in a send log; other ``*_name`` columns (segment_name, template_name,
#: campaign_name) name things.
_PERSON_NAMES = frozenset(
    {
        "name",
        "customer_name",
        "first_name",
        "last_name",
        "full_name",
        "firstname",
        "lastname",
        "surname",
        "fullname",
        "vorname",
        "nachname",
    }
)


#: Words before "name" that make it a person's name (customer_first-name, member_full_name); a
#: thing's name (customer_segment_name, store_name) is not one.
_PERSON_NAME_WORDS = frozenset(
    {"first", "last", "full", "given", "family", "middle", "maiden", "nick", "customer", "client"}
    | {"member", "person", "user", "holder", "cardholder", "contact"}
)


def is_personal_column(column: str) -> bool:
    """Whether a column holds a person's own data (e-mail, phone, address, birth date, card
    number, a person's name): personal data by :func:`looks_like_personal_data`, where "name"
    counts only as a person's name (``customer_name``, ``customer_first-name``), not a thing's
    (``segment_name``, ``campaign_name``, ``customer_segment_name``).

    Examples
    --------
    >>> [is_personal_column(c) for c in ("email", "campaign_email_to", "customer_name", "segment_name")]
    [True, True, True, False]
    >>> [is_personal_column(c) for c in ("customer_first-name", "birth_year", "region_name")]
    [True, True, False]
    """
    folded = column.casefold().replace(" ", "_").replace("-", "_")
    if folded in _PERSON_NAMES:
        return True
    words = re.split(r"[^a-z0-9]+", folded)
    if any(
        w == "name" and i > 0 and words[i - 1] in _PERSON_NAME_WORDS for i, w in enumerate(words)
    ):
        return True
    return looks_like_personal_data(folded.replace("name", ""))


#: Words before "name" in a customers table's column that make it a thing's name: the loyalty
#: tier's, the home store's, the region's (``tier_name``, ``home_store_name``). Any other
#: "name" there (``display_name``, ``username``, ``contact_name``) stays personal data.
_THING_NAME_WORDS = frozenset(
    {"tier", "level", "status", "segment", "store", "shop", "branch", "outlet", "region"}
    | {"country", "plan", "program", "programme", "scheme", "club", "brand", "channel"}
    | {"category", "campaign", "cohort", "group", "band"}
)


def is_personal_attribute(column: object) -> bool:
    """Whether a customers table's column holds personal data, so that it is dropped and never a
    feature: :func:`looks_like_personal_data`, except a thing's name (``tier_name``,
    ``home_store_name``, ``region_name``), which a loyalty programme's CRM export often holds.

    Examples
    --------
    >>> [is_personal_attribute(c) for c in ("tier_name", "home_store_name", "customer_name")]
    [False, False, True]
    >>> [is_personal_attribute(c) for c in ("username", "display_name", "store_email")]
    [True, True, True]
    """
    name = str(column).casefold().replace(" ", "_").replace("-", "_")
    if not looks_like_personal_data(name):
        return False
    words = re.split(r"[^a-z0-9]+", name)
    names = [i for i, w in enumerate(words) if w == "name"]
    if not names or not all(i > 0 and words[i - 1] in _THING_NAME_WORDS for i in names):
        return True
    return looks_like_personal_data("_".join(w for w in words if w != "name"))


def _no_duplicate_ids(frame: pd.DataFrame, column: str, *, table: str) -> None:
    dup = frame[column].duplicated(keep=False)
    if dup.any():
        ids = frame.loc[dup, column].drop_duplicates()
        shown = format_ids if column == C.CUSTOMER_ID else format_examples
        raise SchemaError(
            f"{table}.{column} must be unique; {shown(ids.tolist(), total=len(ids))} "
            "appear more than once. Keep one row per id.",
            table=table,
            column=column,
        )


#: Columns that hold an age in years ("age", "customer_age", "AGE"; not "age_band" or "page").
_AGE_COLUMN = re.compile(r"(?:^|_)age$", re.IGNORECASE)
#: Ages a customer can have; exports write 118, 999, -1 or 1900 (a birth year) for "unknown".
_AGE_RANGE = (1.0, 110.0)


def _warn_impossible_ages(
    series: pd.Series, *, table: str, column: str, report: CleaningReport
) -> None:
    """DataQualityWarning for ages outside 1-110: placeholders a model would learn as real ages."""
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    low, high = _AGE_RANGE
    bad = values.notna() & ~values.between(low, high)
    if not bad.any():
        return
    counts = values[bad].value_counts()
    shown = ", ".join(f"{v:g} on {n} row(s)" for v, n in counts.head(5).items())
    report.notes.append(f"{column}: {int(bad.sum())} value(s) outside {low:g}-{high:g}")
    warn_user(
        f"{table}.{column} has {int(bad.sum())} age(s) outside {low:g}-{high:g} ({shown}): "
        "placeholders for 'unknown' (some exports write 118 or 999) or typos, which features and "
        "fairness age groups would take for real ages. Replace them with NaN first, e.g. "
        f"col.where(col.between({low:g}, {high:g})).",
        DataQualityWarning,
    )


def validate_customers(
    raw: pd.DataFrame,
    *,
    columns: ColumnMap | None = None,
    drop_personal_data: bool = True,
    missing_consent: bool = False,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Check a customers table and return its canonical copy, indexed by ``customer_id``.

    - ``customer_id`` is required and unique (rows without one are refused: a profile needs an id;
      a row that repeats another exactly is kept once, with a warning).
    - ``signup_date`` (optional) becomes datetime64[ns] (aware values on the clock of ``timezone``,
      UTC by default, as in ``validate_transactions``); consent flags become booleans, and a missing
      flag is read as ``missing_consent`` (default False: no consent unless it was given), counted.
    - Columns whose names look like personal data (name, e-mail, phone, address...) are dropped and
      listed in the report when ``drop_personal_data`` (the default): the library never needs them.
      A thing's name is kept (``tier_name``, ``home_store_name``: :func:`is_personal_attribute`).
    - Every other attribute is kept as it is (age band, gender, region, tier, points balance...).

    Examples
    --------
    >>> raw = pd.DataFrame({"customer_id": [1, 2], "email": ["a@x", "b@x"],
    ...                     "consent_marketing": ["yes", "no"]})
    >>> validate_customers(raw).columns.tolist()
    ['consent_marketing']
    """
    table = "customers"
    if not isinstance(raw, pd.DataFrame):
        raise SchemaError(f"{table} must be a pandas DataFrame; got {type(raw).__name__}.")
    if not isinstance(missing_consent, bool | np.bool_):
        # "no" is truthy: anything but a bool could read as consent
        raise ConfigError(
            "The 'missing_consent' parameter of validate_customers must be True or False (how a "
            f"missing consent flag is read). Got {missing_consent!r} instead."
        )
    missing_consent = bool(missing_consent)
    frame = check_column_map(columns, f"validate_{table}").apply(raw, table=table)
    if frame.index.name == C.CUSTOMER_ID and C.CUSTOMER_ID not in frame.columns:
        frame = frame.reset_index()
    require_columns(frame, (C.CUSTOMER_ID,), table=table)
    refuse_repeated_columns(frame, what=table, table=table)  # which consent would count?
    # before personal data is dropped: "Accepts Email Marketing" is an answer, not an address
    refuse_consent_look_alikes(frame.columns, caller=f"validate_{table}")
    report = CleaningReport(table=table, rows_in=len(frame))
    out = frame.copy()
    out[C.CUSTOMER_ID] = coerce_customer_id(out[C.CUSTOMER_ID], table=table)
    missing = out[C.CUSTOMER_ID].isna()
    if missing.any():
        raise SchemaError(
            f"{table}.{C.CUSTOMER_ID} is missing on {int(missing.sum())} row(s) "
            f"(first: {format_examples(out.index[missing].tolist())}). Drop them first.",
            table=table,
            column=C.CUSTOMER_ID,
        )
    if out[C.CUSTOMER_ID].dtype == "Int64":
        out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype("int64")
    # a row repeated to the last value (an extract appended twice, a union): one customer, kept
    # once, as validate_transactions and validate_campaigns keep one of exact repeats
    repeated = exact_repeats(out, [C.CUSTOMER_ID])
    if repeated.any():
        warn_user(
            f"{table}: {int(repeated.sum()):,} rows repeat another row exactly; each is kept once.",
            DataQualityWarning,
        )
        report.notes.append(f"{int(repeated.sum())} exact duplicate rows kept once")
        out = out.loc[~repeated]
    _no_duplicate_ids(out, C.CUSTOMER_ID, table=table)
    personal = [c for c in out.columns if c != C.CUSTOMER_ID and is_personal_attribute(c)]
    if personal and drop_personal_data:
        out = out.drop(columns=personal)
        report.notes.append(f"dropped personal-data columns {personal}")
    if C.SIGNUP_DATE in out.columns:
        out[C.SIGNUP_DATE] = coerce_timestamp(
            out[C.SIGNUP_DATE], table=table, column=C.SIGNUP_DATE, allow_na=True, timezone=timezone
        )
    for flag in C.CONSENT_COLUMNS:
        if flag in out.columns:
            values = coerce_bool(out[flag], table=table, column=flag)
            n_missing = int(values.isna().sum())
            if len(values) and n_missing == len(values) and not missing_consent:
                warn_all_consent_missing(flag, n_missing)
            report.add(
                f"missing_{flag}",
                f"missing {flag} read as {missing_consent}",
                flagged=n_missing,
                removed=0,
                action="fill",
            )
            out[flag] = values.fillna(missing_consent).astype(bool)
    for col in out.columns:
        if _AGE_COLUMN.search(str(col)):
            _warn_impossible_ages(out[col], table=table, column=str(col), report=report)
    if C.POINTS_BALANCE in out.columns:
        out[C.POINTS_BALANCE] = coerce_float(
            out[C.POINTS_BALANCE], table=table, column=C.POINTS_BALANCE, allow_na=True
        )
    out = out.set_index(C.CUSTOMER_ID)
    report.rows_out = len(out)
    out.attrs = {REPORT_ATTR: report.to_json()}
    return out


#: The columns of an offers table the validator reads (a repeated one is ambiguous).
_OFFER_COLUMNS = (
    C.OFFER_ID,
    C.COST_PER_REDEMPTION,
    C.COST_PER_SEND,
    C.KIND,
    C.CHANNEL,
    C.MIN_BASKET,
    C.MAX_PER_MONTH,
    C.BREAKAGE,
    "name",
)


def validate_offers(raw: pd.DataFrame, *, columns: ColumnMap | None = None) -> pd.DataFrame:
    """Check an offers catalog and return its canonical copy, indexed by ``offer_id``.

    ``offer_id`` unique and not the control label; ``cost_per_redemption`` >= 0 (required);
    ``cost_per_send`` >= 0 (default 0); ``kind`` one of ``OFFER_KINDS`` when present; ``min_basket`` >= 0
    and ``max_per_month`` a whole number >= 0 when present (0: a retired offer, never offered).
    ``raw`` is the catalog as read (one row
    per offer, or indexed by ``offer_id``); ``columns`` names its columns where they differ from the
    canonical ones (see :class:`ColumnMap`).

    Examples
    --------
    >>> validate_offers(pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [1.5]})).to_dict("index")
    {'d5': {'cost_per_redemption': 1.5, 'cost_per_send': 0.0}}
    """
    table = "offers"
    if not isinstance(raw, pd.DataFrame):
        raise SchemaError(f"{table} must be a pandas DataFrame; got {type(raw).__name__}.")
    frame = check_column_map(columns, f"validate_{table}").apply(raw, table=table)
    if frame.index.name == C.OFFER_ID and C.OFFER_ID not in frame.columns:
        frame = frame.reset_index()
    require_columns(frame, (C.OFFER_ID, C.COST_PER_REDEMPTION), table=table)
    refuse_repeated(frame, _OFFER_COLUMNS, table=table)
    out = frame.copy()
    out[C.OFFER_ID] = coerce_label(out[C.OFFER_ID], table=table, column=C.OFFER_ID)
    if out[C.OFFER_ID].isna().any():
        raise SchemaError(f"{table}.{C.OFFER_ID} has missing ids.", table=table, column=C.OFFER_ID)
    for reserved, use in (
        (C.CONTROL, "the control arm"),
        (C.CONTACT, "the contacts made without an offer (nightly_sends writes them)"),
    ):
        if (out[C.OFFER_ID] == reserved).any():
            raise SchemaError(
                f"{table}.{C.OFFER_ID}: {reserved!r} is reserved for {use} and cannot be an "
                "offer id. Rename that offer.",
                table=table,
                column=C.OFFER_ID,
            )
    _no_duplicate_ids(out, C.OFFER_ID, table=table)
    for col in (C.KIND, C.CHANNEL, "name"):
        if col in out.columns:
            refuse_containers(out[col], table=table, column=col)
    if C.COST_PER_SEND not in out.columns:
        out[C.COST_PER_SEND] = 0.0
    for col in (C.COST_PER_REDEMPTION, C.COST_PER_SEND, C.MIN_BASKET, C.BREAKAGE):
        if col not in out.columns:
            continue
        optional = col in (C.MIN_BASKET, C.BREAKAGE)
        values = coerce_float(out[col], table=table, column=col, allow_na=optional)
        negative = values < 0
        if negative.any():
            raise SchemaError(
                f"{table}.{col} must be >= 0; offers "
                f"{format_examples(out.loc[negative, C.OFFER_ID].tolist(), total=int(negative.sum()))}"
                f" have {format_examples(values[negative].tolist())}.",
                table=table,
                column=col,
            )
        out[col] = values
    if C.KIND in out.columns:
        # kind is optional per offer (Offer.kind=None): a missing one is not an unknown one
        unknown = out[C.KIND].notna().to_numpy() & ~out[C.KIND].isin(C.OFFER_KINDS).to_numpy()
        if unknown.any():
            raise SchemaError(
                f"{table}.{C.KIND} must be one of {list(C.OFFER_KINDS)}; got "
                f"{format_examples(out.loc[unknown, C.KIND].unique().tolist())} for offers "
                f"{format_examples(out.loc[unknown, C.OFFER_ID].tolist())}.",
                table=table,
                column=C.KIND,
            )
    if C.MAX_PER_MONTH in out.columns:
        values = coerce_int(out[C.MAX_PER_MONTH], table=table, column=C.MAX_PER_MONTH)
        if (values < 0).any():
            raise SchemaError(
                f"{table}.{C.MAX_PER_MONTH} must be >= 0 (0 retires the offer; missing for no "
                "cap).",
                table=table,
                column=C.MAX_PER_MONTH,
            )
        out[C.MAX_PER_MONTH] = values
    return out.set_index(C.OFFER_ID)


# labels a control group often goes by, in any case, with blanks, "-" or "_" between words
_CONTROL_LIKE = re.compile(
    r"(control|control[ _-]*group|hold[ _-]*out|hold[ _-]*out[ _-]*group|no[ _-]*offer|"
    r"no[ _-]*treatment|untreated)",
    re.IGNORECASE,
)


def _warn_if_control_goes_by_another_name(offer_ids: pd.Series, label: str, *, table: str) -> None:
    """DataQualityWarning when no row carries the control label but some label reads as one
    (``"Control"``, ``"Holdout"``, ``"no_offer"``): those rows would count as an offer sent."""
    if (offer_ids == label).any():
        return
    alike = sorted(
        str(v)
        for v in pd.unique(offer_ids)
        if v != C.CONTROL and _CONTROL_LIKE.fullmatch(str(v).strip())
    )
    if alike:
        warn_user(
            f"{table}.{C.OFFER_ID} has no rows labelled {label!r} (the control label), but "
            f"{format_examples(alike, total=len(alike))} read(s) like a control group: those "
            f"rows count as an offer sent. Pass control={alike[0]!r} if they are the control.",
            DataQualityWarning,
        )


def _canonical_control(offer_ids: pd.Series, control: str, *, table: str) -> pd.Series:
    """``offer_ids`` with the ``control`` label written as the canonical ``"control"``."""
    if offer_ids.isna().any():
        missing = offer_ids.isna().to_numpy()
        raise SchemaError(
            f"{table}.{C.OFFER_ID} is missing on {int(missing.sum())} rows (first rows "
            f"{format_examples(offer_ids.index[missing].tolist())}). Every campaign row names the "
            f"offer sent, or the control label ({control!r}) for the control group.",
            table=table,
            column=C.OFFER_ID,
        )
    label = str(control).strip()
    _warn_if_control_goes_by_another_name(offer_ids, label, table=table)
    if label == C.CONTROL:
        return offer_ids
    if (offer_ids == C.CONTROL).any() and (offer_ids == label).any():
        raise SchemaError(
            f"{table}.{C.OFFER_ID} has both the control label {label!r} and {C.CONTROL!r}: which "
            "rows are the control group? Relabel one of them.",
            table=table,
            column=C.OFFER_ID,
        )
    return offer_ids.mask(offer_ids == label, C.CONTROL)


def _redeemed_flags(flag: pd.Series, when: pd.Series | None, *, table: str) -> pd.Series:
    """The ``redeemed`` flags, their missing values filled and counted: redeemed where a
    ``redeemed_at`` time says so, else not; a flag False next to a redemption time is warned
    about (the campaign features read the flag and drop that time)."""
    missing = flag.isna().to_numpy()
    timed = np.zeros(len(flag), dtype=bool) if when is None else when.to_numpy(dtype=bool)
    filled = flag.fillna(False).to_numpy(dtype=bool) | (missing & timed)
    if missing.any():
        warn_user(
            f"{table}.{C.REDEEMED} is missing on {int(missing.sum())} row(s): read as redeemed "
            f"where {C.REDEEMED_AT} is set ({int((missing & timed).sum())}), else as not "
            f"redeemed ({int((missing & ~timed).sum())}). Fill the flag to decide otherwise.",
            DataQualityWarning,
        )
    clash = ~missing & ~filled & timed
    if clash.any():
        warn_user(
            f"{table}: {int(clash.sum())} row(s) have {C.REDEEMED}=False and a {C.REDEEMED_AT} "
            f"time (first rows {format_examples(flag.index[clash].tolist())}); they are read as "
            "not redeemed and their redemption time is ignored. Fix whichever is wrong.",
            DataQualityWarning,
        )
    return pd.Series(filled, index=flag.index)


def refuse_early_redemptions(
    early: np.ndarray, index: pd.Index, *, table: str, hint: str = ""
) -> None:
    """SchemaError naming the rows where ``early`` (redeemed before sent) holds: a redemption dated
    before its offer existed would count as a response before any cutoff between the two."""
    if early.any():
        raise SchemaError(
            f"{table}: {int(early.sum())} row(s) were redeemed before they were sent "
            f"(first rows {format_examples(index[early].tolist())}). Fix {C.REDEEMED_AT}{hint}.",
            table=table,
            column=C.REDEEMED_AT,
        )


def exact_repeats(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Rows that repeat an earlier row of ``frame`` exactly (every column), as a boolean mask.

    Only rows that share their ``key`` can repeat one another: comparing every column of those
    alone keeps the common case (no key shared) at one check. Cells that cannot be hashed (lists
    or dicts: a tracker's event properties) are compared by their text, so that an export
    appended twice is still found; the callers' own checks refuse what they cannot read.
    """
    shared = np.flatnonzero(frame.duplicated(key, keep=False).to_numpy())
    repeated = np.zeros(len(frame), dtype=bool)
    if len(shared):
        rows = frame.iloc[shared]
        try:
            repeated[shared] = rows.duplicated(keep="first").to_numpy()
        except TypeError:
            texts = rows.apply(lambda col: col.map(repr) if col.dtype == object else col)
            with contextlib.suppress(TypeError):
                repeated[shared] = texts.duplicated(keep="first").to_numpy()
    return repeated


def drop_repeated_sends(frame: pd.DataFrame, *, table: str = "campaigns") -> pd.DataFrame:
    """``frame`` (campaign rows) with each row that repeats another exactly kept once, and a
    :class:`DataQualityWarning` naming their campaigns.

    A row repeated to the last value is one send recorded twice (a night's sends appended twice by
    a retried job), as :func:`validate_transactions` keeps one of exact repeated lines. Counted
    twice, it would double the customer's offers received and halve their redemption rate.
    """
    if C.CUSTOMER_ID not in frame.columns:
        # ids as the index: rows of different customers would compare equal; the caller's checks
        # refuse such a table with the fix
        return frame
    repeated = exact_repeats(
        frame, [c for c in (C.CAMPAIGN_ID, C.CUSTOMER_ID, C.SENT_AT) if c in frame.columns]
    )
    if not repeated.any():
        return frame
    named = C.CAMPAIGN_ID if C.CAMPAIGN_ID in frame.columns else C.SENT_AT
    again = sorted(map(str, frame.loc[repeated, named].unique()))
    warn_user(
        f"{table}: {int(repeated.sum()):,} rows repeat another row exactly "
        f"({'campaigns' if named == C.CAMPAIGN_ID else 'sent at'} "
        f"{format_examples(again, total=len(again))}); each is kept once. A night's sends "
        "appended twice look like this.",
        DataQualityWarning,
    )
    return frame.loc[~repeated]


def strip_offer_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text offer ids stripped of surrounding blanks, as ``validate_campaigns``
    strips them; a blank one becomes missing. The same table when none has blanks.

    For the steps that read a campaign table without that validation: a fixed-width export
    (``CHAR(16)``) writes ``"control         "``, which compared as it is would count the control
    rows as offers sent.
    """
    if C.OFFER_ID not in frame.columns:
        return frame
    ids = frame[C.OFFER_ID]
    if not (ids.dtype == object or isinstance(ids.dtype, pd.StringDtype | pd.CategoricalDtype)):
        return frame  # numbers hold no blanks
    text = ids.astype("string")
    stripped = text.str.strip()
    # an empty one too: a blank cell is a missing offer id, as validate_campaigns reads it
    padded = ((stripped != text) | (stripped == "")).fillna(False).to_numpy(dtype=bool)
    if not padded.any():
        return frame
    values = ids.astype(object).to_numpy(copy=True)
    values[padded] = stripped[padded].mask(stripped[padded] == "").astype(object).to_numpy()
    values[pd.isna(values)] = None
    return frame.assign(**{C.OFFER_ID: pd.Series(values, index=frame.index, dtype=object)})


def is_contact(offer_ids: pd.Series) -> np.ndarray:
    """Rows of ``"contact"`` (a contact made without an offer, which ``nightly_sends`` records for
    a policy without an offer model; surrounding blanks ignored, as ``validate_campaigns`` strips
    them): no arm of an experiment, since the policy chose who got it and held nobody out."""
    return offer_ids.astype("string").str.strip().eq(C.CONTACT).fillna(False).to_numpy(dtype=bool)


def validate_campaigns(
    raw: pd.DataFrame,
    *,
    columns: ColumnMap | None = None,
    offers: pd.DataFrame | None = None,
    control: str = C.CONTROL,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Check a campaign history (or experiment) table and return its canonical copy.

    Required: ``customer_id``, ``offer_id`` (``control`` for the control arm), ``sent_at``. Optional:
    ``campaign_id`` (default: the send date, ``YYYY-MM-DD``), ``redeemed`` (bool, default False) and
    ``redeemed_at``. Checks: every row has an offer id; offers known to the catalog when ``offers`` is
    given (``"contact"``, a contact made without an offer, as ``nightly_sends`` records a trigger's
    contact of a policy without an offer model, is not an offer and needs no catalog row); a customer at most once per campaign (a row repeated exactly, as a night's sends
    appended twice, is kept once with a DataQualityWarning); ``redeemed_at >= sent_at``; control
    rows never redeemed. Offer ids lose surrounding blanks, and the rows of a custom ``control`` label (say
    ``"Holdout"``) are relabelled ``"control"``, the label every later step knows. Aware
    ``sent_at`` / ``redeemed_at`` values are put on the clock of ``timezone`` (UTC by default):
    give the ``timezone`` the transactions were validated with, so that a send at 18:00 in Los
    Angeles is not 02:00 the next day next to purchases on Los Angeles' clock (the default
    ``campaign_id`` is the send date on that clock too). ``raw`` is one row per customer contacted
    (or held out) per campaign; ``columns`` names its columns where they differ from the canonical
    ones (see :class:`ColumnMap`). Columns whose names look like personal data (the e-mail or
    phone a send went to) are dropped with a :class:`DataQualityWarning`.
    """
    table = "campaigns"
    if not isinstance(raw, pd.DataFrame):
        raise SchemaError(f"{table} must be a pandas DataFrame; got {type(raw).__name__}.")
    frame = check_column_map(columns, f"validate_{table}").apply(raw, table=table)
    require_columns(frame, (C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT), table=table)
    refuse_repeated_columns(frame, what=table, table=table)
    out = frame.copy()
    out[C.CUSTOMER_ID] = coerce_customer_id(out[C.CUSTOMER_ID], table=table)
    if out[C.CUSTOMER_ID].isna().any():
        raise SchemaError(
            f"{table}.{C.CUSTOMER_ID} is missing on {int(out[C.CUSTOMER_ID].isna().sum())} rows.",
            table=table,
            column=C.CUSTOMER_ID,
        )
    if out[C.CUSTOMER_ID].dtype == "Int64":
        out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype("int64")
    out[C.OFFER_ID] = _canonical_control(
        coerce_label(out[C.OFFER_ID], table=table, column=C.OFFER_ID), control, table=table
    )
    # the clock the sends are on is known when it is named, or when zone-aware times were put on
    # UTC; naive times without a timezone may be any clock, and record none
    aware = isinstance(out[C.SENT_AT].dtype, pd.DatetimeTZDtype) or written_with_offsets(
        out[C.SENT_AT]
    )
    # validated again (naive by then): the clock it recorded the first time
    clock = check_timezone(timezone) if timezone is not None or aware else table_clock(raw)
    out[C.SENT_AT] = coerce_timestamp(
        out[C.SENT_AT], table=table, column=C.SENT_AT, timezone=timezone
    )
    if C.CAMPAIGN_ID not in out.columns:
        out[C.CAMPAIGN_ID] = out[C.SENT_AT].dt.strftime("%Y-%m-%d")
    else:
        out[C.CAMPAIGN_ID] = coerce_text(out[C.CAMPAIGN_ID], table=table, column=C.CAMPAIGN_ID)
    if offers is not None:
        catalog_ids = validate_offers(offers).index.tolist()
        # a contact without an offer (nightly_sends, a policy without an offer model) is no offer
        unknown = ~out[C.OFFER_ID].isin({*catalog_ids, C.CONTROL, C.CONTACT})
        if unknown.any():
            bad = out.loc[unknown, C.OFFER_ID].unique().tolist()
            raise SchemaError(
                f"{table}.{C.OFFER_ID} has ids that are not in the offers catalog nor the control "
                f"label {control!r}: {format_examples(bad, total=len(bad))}."
                f"{suggest_id_matches(bad, catalog_ids)}",
                table=table,
                column=C.OFFER_ID,
            )
    pair = [C.CAMPAIGN_ID, C.CUSTOMER_ID]
    out = drop_repeated_sends(out, table=table)
    twice = out.duplicated(pair, keep=False).to_numpy()
    if twice.any():
        pairs = out.loc[twice, pair].drop_duplicates()
        campaigns = sorted(map(str, pairs[C.CAMPAIGN_ID].unique()))
        raise SchemaError(
            f"{table}: a customer appears more than once in a campaign, with different values "
            f"(campaigns {format_examples(campaigns, total=len(campaigns))}; (campaign_id, "
            f"customer_id) pairs "
            f"{format_ids(list(pairs.itertuples(index=False, name=None)), total=len(pairs))}). "
            "Keep one row per (campaign_id, customer_id).",
            table=table,
            column=C.CUSTOMER_ID,
        )
    flag = (
        coerce_bool(out[C.REDEEMED], table=table, column=C.REDEEMED)
        if C.REDEEMED in out.columns
        else None
    )
    if C.REDEEMED_AT in out.columns:
        out[C.REDEEMED_AT] = coerce_timestamp(
            out[C.REDEEMED_AT], table=table, column=C.REDEEMED_AT, allow_na=True, timezone=timezone
        )
        when = out[C.REDEEMED_AT].notna()
        out[C.REDEEMED] = when if flag is None else _redeemed_flags(flag, when, table=table)
        refuse_early_redemptions(
            (out[C.REDEEMED_AT] < out[C.SENT_AT]).to_numpy(), out.index, table=table
        )
    elif flag is None:
        out[C.REDEEMED] = False
    else:
        out[C.REDEEMED] = _redeemed_flags(flag, None, table=table)
    control_redeemed = (out[C.OFFER_ID] == C.CONTROL) & out[C.REDEEMED]
    if control_redeemed.any():
        raise SchemaError(
            f"{table}: {int(control_redeemed.sum())} control row(s) are marked redeemed; the control "
            f"arm ({control!r}) gets no offer. Fix the offer_id or the redeemed flag.",
            table=table,
            column=C.REDEEMED,
        )
    order = [C.CAMPAIGN_ID, C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT, C.REDEEMED]
    if C.REDEEMED_AT in out.columns:
        order.append(C.REDEEMED_AT)
    # DESIGN 9, only needed columns: a send log exported with the contact details it was sent to
    # (e-mail, phone, name) keeps none of them, as validate_customers keeps none
    personal = [str(c) for c in out.columns if c not in order and is_personal_column(str(c))]
    if personal:
        out = out.drop(columns=personal)
        warn_user(
            f"{table}: dropped columns that look like personal data {format_examples(personal)}; "
            "the library never needs them. Rename a column that is not personal data.",
            DataQualityWarning,
        )
    rest = [c for c in out.columns if c not in order]
    canonical = (
        out[order + rest]
        # customer and offer break the ties, so a shuffled table gives the same canonical copy
        .sort_values([C.SENT_AT, C.CAMPAIGN_ID, C.CUSTOMER_ID, C.OFFER_ID], kind="stable")
        .reset_index(drop=True)
    )
    canonical.attrs = {} if clock is None else {CLOCK_ATTR: clock}
    return canonical
