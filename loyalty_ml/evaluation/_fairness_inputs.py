"""Inputs of a fairness audit: checked, aligned on the customer index, turned into plain arrays.

Everything :func:`~loyalty_ml.evaluation.fairness.fairness_report` needs is validated here once, so the
metric code can work on aligned numpy arrays without re-checking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

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
from loyalty_ml.policy.offers import EXPECTED_COST
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_bool, refuse_repeated_columns
from loyalty_ml.schema._ids import refuse_row_numbers
from loyalty_ml.schema.tables import is_personal_column

__all__ = [
    "MAX_NUMERIC_GROUPS",
    "MISSING_GROUP",
    "POOLED_GROUPS",
    "AuditData",
    "prepare_audit_data",
]

#: Label given to a missing attribute (or control) value: missing values form their own group.
MISSING_GROUP = "(missing)"
#: Label of the one row the published tables pool an attribute's small groups into.
POOLED_GROUPS = "(small groups)"
#: A numeric attribute with more distinct values is a raw value (an age in years), not groups.
MAX_NUMERIC_GROUPS = 20


@dataclass(frozen=True)
class AuditData:
    """Aligned inputs of one audit; every array has one entry per row of ``index``."""

    index: pd.Index
    #: attribute name -> group labels (str), with their display order
    groups: dict[str, tuple[np.ndarray, list[str]]]
    y_true: np.ndarray | None
    y_score: np.ndarray | None
    has_offer: np.ndarray | None
    offer_cost: np.ndarray | None
    control: tuple[np.ndarray, list[str]] | None
    control_name: str | None
    #: each customer's offer id as text ("" without an offer), when ``offers`` was given
    offer_ids: np.ndarray | None = None
    #: customers the policy could make an offer to (False: no marketing consent, or the holdout),
    #: when the plan says why a customer gets no offer
    contactable: np.ndarray | None = None
    #: numeric attributes with more than MAX_NUMERIC_GROUPS values -> how many (a raw value)
    raw_numeric: dict[str, int] = dataclasses.field(default_factory=dict)


def prepare_audit_data(
    sensitive: pd.DataFrame | pd.Series,
    *,
    y_true: Any = None,
    y_score: Any = None,
    offers: pd.DataFrame | None = None,
    control: Any = None,
) -> AuditData:
    """Check the inputs of a fairness audit and align them on the audited customers.

    The audited customers are those of the first of ``y_true``, ``y_score``, ``offers`` and
    ``control`` that carries a customer index (the scored or planned customers), else those of
    ``sensitive``. ``sensitive`` is then read for exactly them: rows of other customers are not
    audited, and audited customers without a row get the missing group of every attribute.
    """
    frame = _sensitive_frame(sensitive)
    population = _population(y_true, y_score, offers, control)
    if population is not None and not population[1].equals(frame.index):
        # customers[["age_band", "gender"]] of a table with customer_id as a column, or a plan read
        # back from CSV: row numbers matched to customer ids give customers someone else's values
        refuse_row_numbers(frame.index, population[1], name="sensitive", against=population[0])
        refuse_row_numbers(population[1], frame.index, name=population[0], against="sensitive")
        _refuse_disjoint(*population, frame.index)
        frame = frame.reindex(population[1])
    index = frame.index
    # arrays are read in the audited customers' order: the first indexed input's, else sensitive's
    order = "sensitive" if population is None else population[0]
    if y_true is None and y_score is None and offers is None:
        raise ConfigError(
            "fairness_report needs something to audit: pass y_true and/or y_score (churn scores), "
            "or offers (an offer plan with offer_id and expected_cost). Got none of them."
        )
    groups = {
        str(name): _attribute_groups(frame[name], what=f"sensitive[{name!r}]") for name in frame
    }
    truth = None
    if y_true is not None:
        truth = _binary(_align(y_true, index, name="y_true", order=order), name="y_true")
    score = None
    if y_score is not None:
        score = _probability(_align(y_score, index, name="y_score", order=order), name="y_score")
    has_offer = cost = offer_ids = contactable = None
    if offers is not None:
        has_offer, cost, offer_ids = _offer_arrays(offers, index, order=order)
        contactable = _contactable(offers.reindex(index))
    control_groups = None
    control_name = None
    if control is not None:
        aligned = _align(control, index, name="control", order=order)
        control_name = (
            str(control.name) if isinstance(control, pd.Series) and control.name else None
        )
        control_groups = _group_labels(aligned, what="control")
    return AuditData(
        index=index,
        groups=groups,
        y_true=truth,
        y_score=score,
        has_offer=has_offer,
        offer_cost=cost,
        control=control_groups,
        control_name=control_name,
        offer_ids=offer_ids,
        contactable=contactable,
        raw_numeric=_raw_numeric(frame),
    )


def _raw_numeric(frame: pd.DataFrame) -> dict[str, int]:
    """Numeric attributes with more than :data:`MAX_NUMERIC_GROUPS` distinct values, and how
    many: each value would be audited as a group of its own."""
    out = {}
    for name in frame:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            n = int(values.nunique())
            if n > MAX_NUMERIC_GROUPS:
                out[str(name)] = n
    return out


def _population(*inputs: Any) -> tuple[str, pd.Index] | None:
    """The name and customer index of the first pandas input, which defines who is audited."""
    for name, values in zip(("y_true", "y_score", "offers", "control"), inputs, strict=True):
        if isinstance(values, pd.Series | pd.DataFrame):
            _unique_index(values.index, name=name)
            if len(values) == 0:
                raise SchemaError(f"{name} is empty: there is no customer to audit.", table=name)
            return name, values.index
    return None


def _refuse_disjoint(name: str, population: pd.Index, ids: pd.Index) -> None:
    """SchemaError when no audited customer has a row in ``sensitive``.

    Everyone would land in the missing group: the ids differ in type (``"101"`` and ``101``) or in
    shape (``(as_of, customer_id)`` pairs), not in who they are.
    """
    if len(population.difference(ids, sort=False)) < len(population):
        return
    shape = _multi_index_fix(name, population) or _multi_index_fix("sensitive", ids)
    fix = (
        shape
        if shape is not None
        else f"Index both by the same {C.CUSTOMER_ID} values and type (e.g. .index.astype(str))"
    )
    raise SchemaError(
        f"None of the {len(population)} customers of {name} has a row in sensitive: {name} is indexed "
        f"by {format_ids(population[:3].tolist())} ({population.dtype}), sensitive by "
        f"{format_ids(ids[:3].tolist())} ({ids.dtype}). {fix}; or pass plain arrays if the rows "
        "are already in the order of sensitive.",
        table=name,
    )


#: Words of a column's name that make it an area (a zip or postcode, or its district).
_AREA_WORDS = ("zip", "postcode", "post_code", "postal", "plz")


def _names_an_area(name: object) -> bool:
    """Whether an attribute's name says it is an area (a zip or postcode, whatever its grain:
    groups under the audit's minimum size are neither judged nor published) and nothing else
    personal (``street_and_zip`` is an address)."""
    folded = str(name).casefold().replace(" ", "_").replace("-", "_")
    rest = folded
    for word in _AREA_WORDS:
        rest = rest.replace(word, "_")
    return rest != folded and not is_personal_column(rest)


def _sensitive_frame(sensitive: pd.DataFrame | pd.Series) -> pd.DataFrame:
    if isinstance(sensitive, pd.Series):
        sensitive = sensitive.to_frame(name=sensitive.name if sensitive.name else "attribute")
    if not isinstance(sensitive, pd.DataFrame):
        raise SchemaError(
            "sensitive must be a pandas DataFrame (index customer_id, one column per attribute) "
            f"or a Series; got {type(sensitive).__name__}.",
            table="sensitive",
        )
    if sensitive.shape[1] == 0 or len(sensitive) == 0:
        raise SchemaError(
            f"sensitive is empty ({len(sensitive)} rows, {sensitive.shape[1]} columns); pass at least "
            "one attribute column (e.g. customers[['age_band', 'gender']]) and one customer.",
            table="sensitive",
        )
    names = sensitive.columns.map(str)  # attributes are known by their text (0 and "0" collide)
    if names.duplicated().any():
        dup = names[names.duplicated()].unique().tolist()
        raise SchemaError(
            f"sensitive has duplicated column names {format_examples(dup)}; name each attribute once.",
            table="sensitive",
        )
    # an area (Hillstrom's zip_code: Urban, Suburban, Rural; a postcode district) is a usual
    # audit dimension, not one person's data, though a send log drops it as contact detail
    personal = [name for name in names if is_personal_column(name) and not _names_an_area(name)]
    if personal:
        # each value would be a group of its own: names, e-mails or card numbers as by_group's
        # labels, in the notebook and in any artifact the report is written to (DESIGN 7 and 9)
        raise SchemaError(
            f"sensitive holds personal data {format_examples(personal)}: each of its values would "
            "be a group label in by_group (and in MLflow when the report is logged). Audit bands "
            "instead: for a birth date or year, an age at the audit's date cut into bands, named "
            "age_band (pd.cut(age, [0, 25, 35, 50, 65, 120])); leave names, e-mails and card "
            "numbers out.",
            table="sensitive",
        )
    _unique_index(sensitive.index, name="sensitive")
    return sensitive


def _unique_index(index: pd.Index, *, name: str) -> None:
    dup = index[index.duplicated()].unique()
    if len(dup):
        raise SchemaError(
            f"{name} has duplicated {C.CUSTOMER_ID} values {format_ids(dup.tolist(), total=len(dup))}; "
            "the audit needs one row per customer (for a training table with several cutoffs, "
            f"select one: {name}.xs(as_of, level={C.AS_OF!r})).",
            table=name,
        )


def _align(values: Any, index: pd.Index, *, name: str, order: str) -> pd.Series:
    """Reindex a pandas input on ``index`` (same ids required); take arrays by position."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise SchemaError(
                f"{name} must be a Series or a one-column DataFrame; got columns "
                f"{format_examples(values.columns.tolist(), total=values.shape[1])}.",
                table=name,
            )
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        _unique_index(values.index, name=name)
        _same_ids(values.index, index, name=name, order=order)
        return values.reindex(index)
    array = np.asarray(values)
    if array.ndim != 1:
        raise SchemaError(
            f"{name} must be one-dimensional; got an array of shape {array.shape}.", table=name
        )
    if len(array) != len(index):
        raise SchemaError(
            f"{name} has {len(array)} values but {len(index)} customers are audited; positional "
            f"inputs (arrays, lists) are read as one value per row of {order}, in its order (or "
            "pass a Series indexed by customer_id).",
            table=name,
        )
    return pd.Series(array, index=index)


def _same_ids(got: pd.Index, expected: pd.Index, *, name: str, order: str) -> None:
    """SchemaError when ``got`` and the audited customers ``expected`` (``order``'s) differ."""
    missing = expected.difference(got, sort=False)
    extra = got.difference(expected, sort=False)
    if not len(missing) and not len(extra):
        return
    parts = []
    if len(missing):
        parts.append(
            f"is missing {len(missing)} id(s) of {order} {format_ids(missing.tolist(), total=len(missing))}"
        )
    if len(extra):
        parts.append(
            f"has {len(extra)} id(s) not in {order} {format_ids(extra.tolist(), total=len(extra))}"
        )
    shape = _multi_index_fix(name, got) or _multi_index_fix(order, expected)
    if shape is not None:
        fix = shape
    elif len(missing):
        # order's customers are the audited ones: when name lacks some, both must be cut down
        fix = (
            f"Were they made for different cutoffs or customers? Take both from the same run, or "
            f"restrict both to the customers they share: ids = {order}.index.intersection("
            f"{name}.index), then {order}.loc[ids] and {name}.loc[ids]"
        )
    else:
        fix = f"Restrict it to the audited customers: {name}.loc[{order}.index]"
    raise SchemaError(
        f"{name} is not aligned with {order} on {C.CUSTOMER_ID} ({order}, the first input indexed "
        f"by {C.CUSTOMER_ID}, sets who is audited): it "
        + " and ".join(parts)
        + f". {fix}; or pass a plain array if the rows are already in {order}'s order.",
        table=name,
    )


def _multi_index_fix(name: str, index: pd.Index) -> str | None:
    """How to index ``name`` by customer_id alone when it has a MultiIndex (None otherwise).

    A training table is indexed by (as_of, customer_id): with one cutoff, dropping ``as_of`` is
    enough; with several, each customer would be repeated, so one cutoff must be chosen.
    """
    if not isinstance(index, pd.MultiIndex):
        return None
    levels = list(index.names)
    if C.AS_OF in levels:
        cutoffs = index.get_level_values(C.AS_OF).unique()
        if len(cutoffs) > 1:
            last = cutoffs[-1]  # training_table stacks its cutoffs in order: the latest
            # a date as text selects the Timestamp level, and reads back as the cutoff it is
            literal = repr(last)
            if isinstance(last, pd.Timestamp):
                literal = repr(str(last.date()) if last == last.normalize() else str(last))
            return (
                f"{name} holds {len(cutoffs)} cutoffs ({C.AS_OF}); audit one cutoff at a time, "
                f"e.g. {name}.xs({literal}, level={C.AS_OF!r}) (dropping the level would "
                "repeat each customer once per cutoff)"
            )
        return f"{name} holds one cutoff: index it by {C.CUSTOMER_ID} alone, e.g. {name}.droplevel({C.AS_OF!r})"
    if C.CUSTOMER_ID not in levels:
        return f"{name} has a MultiIndex {levels}: index it by {C.CUSTOMER_ID} alone"
    # unnamed levels are dropped by position
    others = [n if n is not None else i for i, n in enumerate(levels) if n != C.CUSTOMER_ID]
    drop = repr(others[0]) if len(others) == 1 else repr(others)
    return (
        f"{name} has a MultiIndex {levels}: index it by {C.CUSTOMER_ID} alone, e.g. "
        f"{name}.droplevel({drop}) if that leaves one row per customer"
    )


def _binary(values: pd.Series, *, name: str) -> np.ndarray:
    if values.isna().any():
        bad = values.index[values.isna().to_numpy()]
        raise SchemaError(
            f"{name} is missing for {len(bad)} customer(s) {format_ids(bad.tolist(), total=len(bad))}; "
            "drop them from every input or fill the outcome.",
            table=name,
        )
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float)
    numeric = pd.to_numeric(values, errors="coerce")
    bad_mask = ~numeric.isin([0, 1]).to_numpy(dtype=bool)
    if bad_mask.any():
        values_bad = values[bad_mask].unique().tolist()
        raise SchemaError(
            f"{name} must hold 0/1 (or True/False) outcomes; got other values "
            f"{format_examples(values_bad, total=len(values_bad))}.",
            table=name,
        )
    return numeric.to_numpy(dtype=float)


def _probability(values: pd.Series, *, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        raise SchemaError(
            f"{name} must be numeric scores; got dtype {values.dtype}.",
            table=name,
        )
    array = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(array)
    if bad.any():
        ids = values.index[bad]
        raise SchemaError(
            f"{name} is missing or infinite for {len(ids)} customer(s) "
            f"{format_ids(ids.tolist(), total=len(ids))}; score every audited customer.",
            table=name,
        )
    outside = (array < 0) | (array > 1)
    if outside.any():
        ids = values.index[outside]
        raise SchemaError(
            f"{name} must be probabilities in [0, 1] (mean_score and calibration_gap compare it "
            f"with observed rates); got {format_examples(array[outside].tolist())} for "
            f"{len(ids)} customer(s) {format_ids(ids.tolist(), total=len(ids))}. "
            "Pass predict_proba(X)[:, 1].",
            table=name,
        )
    return array


def _offer_arrays(
    offers: pd.DataFrame, index: pd.Index, *, order: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per audited customer: 1.0 with an offer, its expected cost (0 without), its offer id text."""
    if not isinstance(offers, pd.DataFrame):
        raise SchemaError(
            f"offers must be a DataFrame (a plan from choose_offers); got {type(offers).__name__}.",
            table="offers",
        )
    refuse_repeated_columns(offers, what="offers", table="offers")
    if C.OFFER_ID not in offers.columns:
        raise SchemaError(
            f"offers lacks column {C.OFFER_ID!r}; it has {offers.columns.tolist()}. Pass the plan "
            f"from choose_offers or the decisions of score_customers, or any frame indexed by "
            f"{C.CUSTOMER_ID} with {C.OFFER_ID} (NA = no offer) and, for the spend figures, "
            f"{EXPECTED_COST}.",
            table="offers",
        )
    _unique_index(offers.index, name="offers")
    _same_ids(offers.index, index, name="offers", order=order)
    plan = offers.reindex(index)
    # blank ids are "no offer" too, as a plan written to CSV and read back has them
    offer_ids = plan[C.OFFER_ID].astype("string").str.strip()
    has_offer = (offer_ids.notna() & (offer_ids != "")).to_numpy(dtype=bool)
    offer_text = np.asarray(offer_ids.fillna(""), dtype=object)
    if EXPECTED_COST not in plan.columns:
        # decisions without costs (score_customers' output): offer rates only, spend unknown
        return has_offer.astype(float), np.full(len(index), np.nan), offer_text
    cost = pd.to_numeric(plan[EXPECTED_COST], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    for bad, problem in (
        (has_offer & ~np.isfinite(cost), "is missing or not a number"),
        (has_offer & (cost < 0), "is negative"),
    ):
        if bad.any():
            ids = index[bad]
            raise SchemaError(
                f"offers.{EXPECTED_COST} {problem} for {len(ids)} customer(s) who get an offer "
                f"{format_ids(ids.tolist(), total=len(ids))}; every offer needs its expected "
                "cost, a number >= 0.",
                table="offers",
                column=EXPECTED_COST,
            )
    # A customer without an offer costs nothing, whatever the plan holds in that row.
    return has_offer.astype(float), np.where(has_offer, cost, 0.0), offer_text


#: The plan's column saying why a customer gets no offer: choose_offers', then decide's and
#: score_customers'.
REASON_COLUMNS = ("reason", "offer_reason")


def _contactable(plan: pd.DataFrame) -> np.ndarray | None:
    """False for the customers the plan gave no offer because they refused marketing or are in
    the holdout: the policy could not offer them anything, so they are no part of who it offers
    (where consent differs by group, counting them as "not offered" is a gap the policy did not
    make). The holdout is the plan's ``in_holdout`` where it has one (every customer drawn, also
    those whose reason says what they would have had instead of an offer withheld), and the
    reason "holdout" (an offer withheld) besides. None when the plan has no reason column."""
    from loyalty_ml.policy._plan_reasons import (
        HOLDOUT,
        HOLDOUT_OFFER,
        IN_HOLDOUT,
        NO_CONSENT,
        NOT_PROFILED,
    )

    column = next((c for c in REASON_COLUMNS if c in plan.columns), None)
    if column is None:
        return None
    reason = plan[column].astype("string").str.strip()
    # score_customers' customers without profiling consent are offered nothing either
    out = ~reason.isin([NO_CONSENT, NOT_PROFILED, HOLDOUT]).to_numpy(dtype=bool, na_value=False)
    if (
        IN_HOLDOUT not in plan.columns
        and HOLDOUT_OFFER in plan.columns
        and bool(reason.eq(HOLDOUT).any())
    ):
        # decide's and score_customers' plans (with holdout_offer_id, without in_holdout) name
        # only the holdout's customers an offer was withheld from; the others (no trigger
        # fired, no effective offer) would read as not offered
        warn_user(
            f"fairness_report: the plan has held-out customers ({column} {HOLDOUT!r}) but no "
            f"{IN_HOLDOUT!r} column, so only those an offer was withheld from are left out; the "
            "holdout's other customers count as not offered, which lowers every group's offer "
            "rate, the low ones most. Add the column, e.g. "
            f"plan.assign({IN_HOLDOUT}=policy.holdout_mask(plan.index)) with the LoyaltyPolicy "
            "that made the plan.",
            DataQualityWarning,
        )
    if IN_HOLDOUT in plan.columns:
        # "True"/"False" or "yes"/"no" from a plan read back from a CSV, read as the flags they are
        flags = coerce_bool(plan[IN_HOLDOUT], table="offers", column=IN_HOLDOUT)
        held = flags.to_numpy(dtype=bool, na_value=False)
        out &= ~held
    return out


def _attribute_groups(values: pd.Series, *, what: str) -> tuple[np.ndarray, list[str]]:
    """:func:`_group_labels` of a sensitive attribute, which may not use the pool's label."""
    labels, text = _group_labels(values, what=what)
    if POOLED_GROUPS in text:
        raise SchemaError(
            f"{what} holds the value {POOLED_GROUPS!r}, the label published reports give the "
            "groups too small to show, so it would be read as them. Rename that value.",
            table=what,
        )
    return labels, text


def _label_text(value: object) -> str:
    """A group's label: whole numbers as integers, so that codes 1 and 2 read "1" and "2" also
    where a missing value made the column float ("1.0" and "2.0").

    Examples
    --------
    >>> [_label_text(v) for v in (1.0, np.float64(2.0), 2.5, "a", 3)]
    ['1', '2', '2.5', 'a', '3']
    """
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _group_labels(values: pd.Series, *, what: str) -> tuple[np.ndarray, list[str]]:
    """Text labels for each row, with missing values as their own group, and the display order."""
    missing = values.isna().to_numpy(dtype=bool)
    present = values[~missing]
    if isinstance(values.dtype, pd.CategoricalDtype):
        observed = set(present.tolist())
        order: list[Hashable] = [c for c in values.cat.categories if c in observed]
    else:
        uniques = present.unique().tolist()
        try:
            order = sorted(uniques)
        except TypeError:  # mixed types cannot be compared: order by their text
            order = sorted(uniques, key=str)
    text = [_label_text(v) for v in order]
    if missing.any() and MISSING_GROUP in text:
        raise SchemaError(
            f"{what} holds the value {MISSING_GROUP!r} as well as missing values; they would be "
            "one group counted twice. Rename that value or fill the missing ones with it.",
            table=what,
        )
    if len(set(text)) != len(text):
        raise SchemaError(
            f"{what} holds distinct values with the same text {format_examples(text)}; "
            "convert the column to one type first.",
            table=what,
        )
    # each row takes its group's text by value, so 1.0 joins group 1 (equal values, one group)
    by_value = dict(zip(order, text, strict=True))
    labels = np.asarray(
        values.astype(object).map(by_value).where(~missing, MISSING_GROUP), dtype=object
    )
    if missing.any():
        text.append(MISSING_GROUP)
    return labels, text
