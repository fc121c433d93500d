"""Data minimisation: use only the columns a step needs, and never personal data as features.

Protected attributes (age band, gender, income band) are kept for fairness audits; they become model
features only when the caller opts in explicitly (``allow_protected=True``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from loyalty_ml.exceptions import SchemaError, index_hint
from loyalty_ml.schema._coerce import require_columns
from loyalty_ml.schema._id_text import as_list
from loyalty_ml.schema.tables import is_protected_attribute, looks_like_personal_data

__all__ = [
    "check_no_personal_data",
    "is_protected_attribute",
    "personal_data_columns",
    "select_needed_columns",
]


def personal_data_columns(columns: Iterable[object], *, protected: bool = True) -> list[str]:
    """The columns that look like personal data, plus protected attributes when ``protected``.

    A column of a MultiIndex (a tuple such as ``("gender", "")`` from ``groupby().agg``) is
    flagged when any of its parts is.
    """

    def flagged(label: object) -> bool:
        return looks_like_personal_data(str(label)) or (protected and is_protected_attribute(label))

    return [
        str(c)
        for c in columns
        if flagged(c) or (isinstance(c, tuple) and any(flagged(part) for part in c))
    ]


def check_no_personal_data(
    columns: pd.DataFrame | Iterable[object],
    *,
    allow_protected: bool = False,
    table: str = "features",
) -> None:
    """Refuse personal-data-looking columns (and protected attributes, unless allowed) as features.

    Parameters
    ----------
    columns : DataFrame or iterable of column names
    allow_protected : bool, default False
        Let protected attributes through: an explicit opt-in, e.g. for a model that must correct for
        them. Personal-data-looking columns (name, e-mail, phone, address...) are always refused.
    table : str
        Name used in the error message.

    Raises
    ------
    SchemaError
        Listing the offending columns.
    ConfigError
        When ``columns`` is a single str instead of a list of names.

    Examples
    --------
    >>> check_no_personal_data(["recency_days", "frequency"])
    >>> check_no_personal_data(["gender_F", "frequency"], allow_protected=True)
    """
    names = (
        list(columns.columns)
        if isinstance(columns, pd.DataFrame)
        else as_list(columns, name="columns", caller="check_no_personal_data")
    )
    personal = [str(c) for c in names if looks_like_personal_data(str(c))]
    protected = [str(c) for c in names if is_protected_attribute(c) and str(c) not in personal]
    problems = []
    if personal:
        problems.append(f"columns that look like personal data {personal}")
    if protected and not allow_protected:
        problems.append(
            f"protected attributes {protected} (kept for fairness audits; pass "
            "allow_protected=True to use them as features on purpose)"
        )
    if problems:
        raise SchemaError(
            f"{table} must not hold " + " and ".join(problems) + ". Drop them before training.",
            table=table,
        )


def select_needed_columns(
    frame: pd.DataFrame, needed: Iterable[str], *, table: str = "customers"
) -> pd.DataFrame:
    """A copy of ``frame`` with only the ``needed`` columns, in that order (index kept).

    Raises
    ------
    SchemaError
        When ``frame`` is not a DataFrame, or a needed column is absent (naming it and listing what
        is there).
    ConfigError
        When ``needed`` is a single str instead of a list.

    Examples
    --------
    >>> frame = pd.DataFrame({"tier": ["gold"], "email": ["a@x"], "region": ["N"]})
    >>> select_needed_columns(frame, ["region", "tier"]).columns.tolist()
    ['region', 'tier']
    """
    require_columns(frame, (), table=table)
    wanted = list(dict.fromkeys(as_list(needed, name="needed", caller="select_needed_columns")))
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{table} lacks needed column(s) {missing}; it has {frame.columns.tolist()}."
            f"{index_hint(frame, missing)}",
            table=table,
            column=missing[0],
        )
    return frame.loc[:, wanted].copy()
