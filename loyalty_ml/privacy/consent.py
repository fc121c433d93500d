"""Consent: who may be profiled (trained on, scored) and who may be sent offers.

Consent is opt-in: a flag that is False or missing, or a customer absent from the customers table, means
no consent. Every customer left out is listed with the reason, so exclusions can be counted and shown.
Customers are matched by the text of their id, as in erasure and pseudonyms: a customers table with
text ids ``"17"`` serves transactions with integer ids ``17``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml._repr import summary_repr
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, SchemaError, format_ids
from loyalty_ml.policy.offers import (
    EXPECTED_COST,
    EXPECTED_NET_VALUE,
    EXPECTED_UPLIFT,
    NO_CONSENT,
    REASON,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_bool, refuse_missing_ids
from loyalty_ml.schema._consent_names import (
    NO_CONSENT_MEANS,
    refuse_consent_look_alikes,
    warn_all_consent_missing,
)
from loyalty_ml.schema._id_text import id_texts, ids_in

__all__ = [
    "ConsentSplit",
    "exclude_without_profiling_consent",
    "marketing_consent",
    "may_profile",
    "profiled_only",
    "split_by_consent",
    "withhold_offers_without_marketing_consent",
]

Purpose = Literal["profiling", "marketing"]
_FLAGS: dict[str, str] = {"profiling": C.CONSENT_PROFILING, "marketing": C.CONSENT_MARKETING}
_EFFECT = {purpose: NO_CONSENT_MEANS[flag] for purpose, flag in _FLAGS.items()}
#: Plan columns set to 0 when an offer is withheld (the customer costs and yields nothing).
_PLAN_ZEROS = (EXPECTED_UPLIFT, EXPECTED_COST, EXPECTED_NET_VALUE)


@dataclass(frozen=True, eq=False)
class ConsentSplit:
    """Who may be profiled and who may be sent offers.

    Attributes
    ----------
    profiling_allowed : Index
        Customers who may be trained on and scored (``consent_profiling`` True).
    marketing_allowed : Index
        Customers who may receive offers (``consent_marketing`` True).
    exclusions : DataFrame
        One row per (customer, purpose) left out, indexed by ``customer_id``, with ``purpose``
        ("profiling" or "marketing") and ``reason``.
    """

    profiling_allowed: pd.Index
    marketing_allowed: pd.Index
    exclusions: pd.DataFrame

    __repr__ = summary_repr  # customer ids stay out of printed output

    def counts(self) -> dict[str, int]:
        """Allowed and excluded customers per purpose, e.g. for ``mlflow.log_metrics``."""
        excluded = self.exclusions["purpose"].value_counts()
        return {
            "n_profiling_allowed": len(self.profiling_allowed),
            "n_marketing_allowed": len(self.marketing_allowed),
            "n_excluded_profiling": int(excluded.get("profiling", 0)),
            "n_excluded_marketing": int(excluded.get("marketing", 0)),
        }


def split_by_consent(
    customers: pd.DataFrame, *, assume_consent_when_absent: bool = False
) -> ConsentSplit:
    """Split customers by ``consent_profiling`` and ``consent_marketing``.

    Parameters
    ----------
    customers : DataFrame
        Indexed by ``customer_id`` (as ``validate_customers`` returns it) or with a ``customer_id``
        column. Flags may be booleans, 0/1 or yes/no text; a missing value means no consent.
    assume_consent_when_absent : bool, default False
        What to do when a flag column is absent: refuse (the default, since consent cannot be assumed
        silently) or treat every customer as consenting to that purpose, when consent is managed
        upstream and only consenting customers are in the table.

    Examples
    --------
    >>> customers = pd.DataFrame({"consent_profiling": [True, False],
    ...                           "consent_marketing": [True, None]},
    ...                          index=pd.Index([1, 2], name="customer_id"))
    >>> split = split_by_consent(customers)
    >>> split.profiling_allowed.tolist(), split.marketing_allowed.tolist()
    ([1], [1])
    >>> split.exclusions["reason"].tolist()
    ['consent_profiling is False: not profiled (no training, no personalised score)', \
'consent_marketing is missing, read as no consent: no offer']
    """
    ids = _customer_ids(customers)
    allowed: dict[str, pd.Index] = {}
    parts = []
    for purpose, flag in _FLAGS.items():
        if flag not in customers.columns and not assume_consent_when_absent:
            raise SchemaError(
                f"customers has no {flag!r} column, so consent for {purpose} is unknown; it has "
                f"{customers.columns.tolist()}. Add the flag (True where the customer agreed), or "
                "pass assume_consent_when_absent=True if only consenting customers are listed.",
                table="customers",
                column=flag,
            )
        if _managed_upstream(customers, purpose):
            allowed[purpose] = ids
            continue
        values = coerce_bool(customers[flag].reset_index(drop=True), table="customers", column=flag)
        given = values.fillna(False).to_numpy(dtype=bool)
        missing = values.isna().to_numpy(dtype=bool)
        if len(missing) and missing.all():
            warn_all_consent_missing(flag, len(missing))
        allowed[purpose] = ids[given]
        why = np.where(
            missing[~given],
            f"{flag} is missing, read as no consent: {_EFFECT[purpose]}",
            f"{flag} is False: {_EFFECT[purpose]}",
        )
        parts.append(
            pd.DataFrame(
                {"purpose": purpose, REASON: why},
                index=pd.Index(ids[~given], name=C.CUSTOMER_ID),
            )
        )
    exclusions = (
        pd.concat(parts)
        if parts
        else pd.DataFrame({"purpose": [], REASON: []}, index=pd.Index([], name=C.CUSTOMER_ID))
    )
    return ConsentSplit(
        profiling_allowed=allowed["profiling"],
        marketing_allowed=allowed["marketing"],
        exclusions=exclusions,
    )


def _managed_upstream(customers: pd.DataFrame, purpose: str) -> bool:
    """True when ``customers`` has no flag for ``purpose``: consent is managed upstream. A column
    that looks like the flag (``Consent_Marketing``, ``Accepts Email Marketing``, ``do_not_contact``)
    is refused rather than read so: it would include every customer who said no
    (:func:`loyalty_ml.schema._consent_names.consent_look_alikes`)."""
    flag = _FLAGS[purpose]
    if flag in customers.columns:
        return False
    refuse_consent_look_alikes(customers.columns, caller="consent check", flags=(flag,))
    return True


def may_profile(customer_ids: object, customers: pd.DataFrame | None) -> np.ndarray:
    """Boolean mask over ``customer_ids``: True where the customer may be trained on and scored.

    Without a customers table, or one without ``consent_profiling``, consent is managed upstream and
    every customer may be profiled. With the flag, consent is opt-in: a customer whose flag is False
    or missing, or who is not in the customers table at all, may not.

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3],
    ...                           "consent_profiling": [True, "no", None]})
    >>> may_profile([1, 2, 3, 4], customers).tolist()
    [True, False, False, False]
    >>> may_profile([1, 4], None).tolist()
    [True, True]
    """
    ids = id_texts(customer_ids, caller="may_profile", name="customer_ids")
    allowed = _profiling_allowed(customers)
    if allowed is None:
        return np.ones(len(ids), dtype=bool)
    return _ids_in(ids, allowed, caller="may_profile")


def profiled_only(
    transactions: pd.DataFrame, customers: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, np.ndarray]:
    """The transactions and customers of those who may be profiled (the rule of :func:`may_profile`).

    Returns the kept transactions, the kept customers (None without a table) and the mask over the
    rows of ``transactions``, so that callers can report who was left out.
    """
    allowed = _profiling_allowed(customers)
    if allowed is None or customers is None:
        # shallow copies (copy-on-write): writing into the kept tables never reaches the caller's
        kept = None if customers is None else customers.copy(deep=False)
        return transactions.copy(deep=False), kept, np.ones(len(transactions), dtype=bool)
    ids = _ids_of(transactions, table="transactions")
    mask = _ids_in(ids, allowed, caller="profiled_only")
    if len(ids) and not mask.any():
        unique = pd.Index(pd.unique(ids))
        if not listed_in(unique, customers).any():
            # not "nobody consents": the two tables name their customers differently
            warn_user(
                f"profiled_only: none of the {len(unique):,} customers of the transactions (e.g. "
                f"{format_ids(unique[:3].tolist())}) has a row in the customers table (e.g. "
                f"{format_ids(_customer_ids(customers)[:3].tolist())}), so every transaction is "
                "left out as without consent. Check that both tables use the same customer_id.",
                DataQualityWarning,
            )
    people = customers.loc[ids_in(_customer_ids(customers), allowed)]
    return transactions.loc[mask], people, mask


def _profiling_allowed(customers: pd.DataFrame | None) -> pd.Index | None:
    """Who may be profiled, or None when consent is managed upstream (no table or no flag)."""
    if customers is None:
        return None
    if _managed_upstream(customers, "profiling"):
        return None
    return split_by_consent(customers, assume_consent_when_absent=True).profiling_allowed


def _customer_ids(customers: pd.DataFrame) -> pd.Index:
    if not isinstance(customers, pd.DataFrame):
        raise SchemaError(
            f"customers must be a DataFrame; got {type(customers).__name__}.", table="customers"
        )
    if C.CUSTOMER_ID in customers.columns:
        ids = pd.Index(customers[C.CUSTOMER_ID].to_numpy(), name=C.CUSTOMER_ID)
    elif customers.index.name == C.CUSTOMER_ID:
        ids = customers.index
    else:
        raise SchemaError(
            f"customers has no {C.CUSTOMER_ID!r} column or index; it has "
            f"{customers.columns.tolist()}. Run validate_customers first.",
            table="customers",
            column=C.CUSTOMER_ID,
        )
    refuse_missing_ids(pd.DataFrame({C.CUSTOMER_ID: ids}), table="customers")
    # one customer by text, as consent is matched (7 and "7", "C7" and " C7 "): two rows of one
    # customer could carry contradictory flags, and the one that says yes would win
    keys = ids if ids.dtype.kind in "iu" else pd.Index(id_texts(ids, caller="consent"))
    if keys.has_duplicates:
        repeated = ids[keys.duplicated(keep=False)].unique()
        raise SchemaError(
            f"customers lists {C.CUSTOMER_ID} values more than once "
            f"{format_ids(repeated.tolist(), total=len(repeated))}; consent must be one row "
            "per customer. Run validate_customers first.",
            table="customers",
            column=C.CUSTOMER_ID,
        )
    return ids


def _ids_in(ids: np.ndarray, allowed: pd.Index, *, caller: str) -> np.ndarray:
    """Mask over ``ids``: True where the customer is one of ``allowed`` (matched by text).

    Integer ids on both sides are matched directly: the text of an integer is unique, so the
    result is the same, without writing millions of transaction ids as text.
    """
    if ids.dtype.kind in "iu" and allowed.dtype.kind in "iu":
        return ids_in(ids, allowed)
    return ids_in(id_texts(ids, caller=caller), id_texts(allowed, caller="consent"))


def listed_in(ids: pd.Index, customers: pd.DataFrame) -> np.ndarray:
    """Mask over ``ids``: True where the customer has a row in ``customers`` (matched by text, as
    consent is), so that a customer read as not consenting because the table lacks them can be
    told from one who said no."""
    return _ids_in(np.asarray(ids), _customer_ids(customers), caller="consent")


def _ids_of(frame: pd.DataFrame, *, table: str) -> np.ndarray:
    """The customer id of every row of ``frame``: its ``customer_id`` column or index level."""
    if C.CUSTOMER_ID in frame.columns:
        return frame[C.CUSTOMER_ID].to_numpy()
    if C.CUSTOMER_ID in frame.index.names:
        return frame.index.get_level_values(C.CUSTOMER_ID).to_numpy()
    raise SchemaError(
        f"{table} has no {C.CUSTOMER_ID!r} column or index level; it has "
        f"{frame.columns.tolist()} and index {list(frame.index.names)}.",
        table=table,
        column=C.CUSTOMER_ID,
    )


def _not_allowed(
    ids: np.ndarray, split: ConsentSplit, purpose: Purpose
) -> tuple[np.ndarray, pd.DataFrame]:
    """Mask of rows without consent and one reason row per such customer."""
    allowed = split.profiling_allowed if purpose == "profiling" else split.marketing_allowed
    refused = ~_ids_in(ids, allowed, caller="consent")
    texts = id_texts(ids[refused], caller="consent")
    first = ~pd.Series(texts).duplicated().to_numpy()  # one row per refused customer
    known = split.exclusions[split.exclusions["purpose"] == purpose][REASON]
    by_text = pd.Series(known.to_numpy(), index=id_texts(known.index, caller="consent"))
    reasons = by_text[~by_text.index.duplicated()].reindex(texts[first])
    unknown = f"not in customers, so consent is unknown and read as no consent: {_EFFECT[purpose]}"
    return refused, pd.DataFrame(
        {REASON: reasons.fillna(unknown).to_numpy()},
        index=pd.Index(ids[refused][first], name=C.CUSTOMER_ID),
    )


def exclude_without_profiling_consent(
    frame: pd.DataFrame, split: ConsentSplit, *, table: str = "features"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the rows of customers who may be profiled; list the others with the reason.

    Parameters
    ----------
    frame : DataFrame
        Keyed by ``customer_id`` (index, index level such as in a training table indexed by
        (as_of, customer_id), or column).
    split : ConsentSplit
        From :func:`split_by_consent`.
    table : str
        Name of ``frame`` for error messages.

    Returns
    -------
    kept : DataFrame
        The rows that may be used for training or scoring (a copy).
    not_profiled : DataFrame
        One row per excluded customer, indexed by ``customer_id``, with ``reason``.
    """
    refused, reasons = _not_allowed(_ids_of(frame, table=table), split, "profiling")
    return frame.loc[~refused].copy(), reasons


def withhold_offers_without_marketing_consent(
    plan: pd.DataFrame, split: ConsentSplit
) -> pd.DataFrame:
    """A copy of an offer plan in which customers without marketing consent get no offer.

    Their ``offer_id`` becomes NA, the ``expected_*`` columns 0, and ``reason`` becomes
    ``"no marketing consent"`` (the plan's own wording; the column is added when absent). Other rows
    are unchanged. ``choose_offers`` can apply consent itself; this helper covers plans made
    without it.
    """
    if C.OFFER_ID not in plan.columns:
        raise SchemaError(
            f"plan has no {C.OFFER_ID!r} column; it has {plan.columns.tolist()}. Pass the plan from "
            "choose_offers.",
            table="plan",
            column=C.OFFER_ID,
        )
    refused, _ = _not_allowed(_ids_of(plan, table="plan"), split, "marketing")
    out = plan.copy()
    out[C.OFFER_ID] = out[C.OFFER_ID].mask(refused)
    for column in _PLAN_ZEROS:
        if column in out.columns:
            out[column] = out[column].mask(refused, 0.0)
    reason = (
        out[REASON].astype(object).to_numpy(copy=True)
        if REASON in out.columns
        else np.full(len(out), None, dtype=object)
    )
    reason[refused] = NO_CONSENT
    out[REASON] = pd.Series(reason, index=out.index, dtype="str")
    return out


def marketing_consent(customers: pd.DataFrame | None) -> pd.Series | None:
    """Per customer id, whether offers may be sent (``consent_marketing``; a missing flag is no
    consent), or None when the customers table or its flag is absent (the jobs then assume consent)."""
    if customers is None:
        return None
    if _managed_upstream(customers, "marketing"):
        return None
    split = split_by_consent(customers, assume_consent_when_absent=True)
    ids = _customer_ids(customers)
    return pd.Series(ids.isin(split.marketing_allowed), index=ids)
