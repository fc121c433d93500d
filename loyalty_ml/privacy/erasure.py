"""Erasure on request: remove given customers from every table, and report what was removed."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataError, DataQualityWarning, SchemaError
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._id_text import id_texts
from loyalty_ml.schema.report import CleaningReport
from loyalty_ml.schema.transactions import REPORT_ATTR

__all__ = ["ErasureReport", "erase_customers"]


@dataclass(frozen=True)
class ErasureReport:
    """What :func:`erase_customers` removed. Holds counts only, never the ids themselves.

    Attributes
    ----------
    n_requested : int
        Distinct ids asked to be erased.
    n_found : int
        Of those, the ids found in at least one table.
    rows_before, rows_removed : dict of str to int
        Per table name.
    """

    n_requested: int
    n_found: int
    rows_before: dict[str, int]
    rows_removed: dict[str, int]

    @property
    def total_rows_removed(self) -> int:
        return sum(self.rows_removed.values())

    def to_frame(self) -> pd.DataFrame:
        """One row per table: ``rows_before``, ``rows_removed``, ``rows_after``."""
        out = pd.DataFrame(
            {
                "rows_before": pd.Series(self.rows_before, dtype="int64"),
                "rows_removed": pd.Series(self.rows_removed, dtype="int64"),
            }
        )
        out["rows_after"] = out["rows_before"] - out["rows_removed"]
        out.index.name = "table"
        return out

    def __str__(self) -> str:
        lines = [
            f"Erasure: {self.n_found} of {self.n_requested} requested customer(s) found, "
            f"{self.total_rows_removed:,} row(s) removed"
        ]
        lines += [
            f"  {t:<20} {n:>10,} of {self.rows_before[t]:,}" for t, n in self.rows_removed.items()
        ]
        return "\n".join(lines)


def erase_customers(
    ids: Iterable[Any], /, **tables: pd.DataFrame | None
) -> tuple[dict[str, pd.DataFrame | None], ErasureReport]:
    """Remove the given customers from every table.

    Ids are matched by their text without surrounding blanks, so ``17``, ``"17"``, ``" 17 "``,
    ``17.0`` and ``"17.0"`` (an integer id read back from a CSV with missing values) are the same
    customer (a request typed differently from the table must not silently erase nothing). A table
    may hold ``customer_id`` as a column, as its index, or as an index level (e.g. a training table
    indexed by (as_of, customer_id)); a row goes when any of them matches. Tables passed as None
    are returned as None.
    Inputs are not modified.

    It erases from the tables it is given, nothing else. What the jobs stored in MLflow holds no
    customer id or personal value (aggregates, a synthetic input example; pooled category
    levels), but a model registered before the erasure was fitted on the erased customers'
    history, and past score files written by ``score_customers`` list them. Whether that history
    must also leave the models is the data controller's call; when it must, retrain on the erased
    tables (``train_and_register``) and delete the earlier versions
    (``mlflow.MlflowClient().delete_model_version``), and delete or re-write the old score files.

    Parameters
    ----------
    ids : iterable
        The customers to erase (positional); one customer is ``[id]``.
    **tables : DataFrame or None
        The tables, by name (``transactions=tx, customers=customers, campaigns=campaigns``...).

    Returns
    -------
    tables : dict
        The same names, each table without the erased customers' rows.
    report : ErasureReport

    Raises
    ------
    ConfigError
        ``ids`` is a single id (a str would be read one character at a time) instead of a list.
    SchemaError
        A table has no ``customer_id`` column or index level.
    DataError
        A requested id is missing (None/NaN).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [5.0, 6.0, 7.0]})
    >>> customers = pd.DataFrame({"tier": ["a", "b"]}, index=pd.Index([1, 2], name="customer_id"))
    >>> out, report = erase_customers(["1"], transactions=tx, customers=customers)
    >>> out["transactions"]["customer_id"].tolist(), report.rows_removed
    ([2], {'transactions': 2, 'customers': 1})
    """
    requested = id_texts(ids, caller="erase_customers")
    if pd.isna(requested).any():
        raise DataError("erase_customers got a missing id (None or NaN); pass real customer ids.")
    targets = set(requested)
    out: dict[str, pd.DataFrame | None] = {}
    before: dict[str, int] = {}
    removed: dict[str, int] = {}
    found: set[str] = set()
    for name, table in tables.items():
        if table is None:
            out[name] = None
            continue
        if not isinstance(table, pd.DataFrame):
            raise SchemaError(
                f"erase_customers: table {name!r} must be a DataFrame; got {type(table).__name__}.",
                table=name,
            )
        keys = _id_texts(table, name)
        hit = np.zeros(len(table), dtype=bool)
        for texts in keys:
            matched = np.asarray(pd.Index(texts).isin(targets), dtype=bool)
            hit |= matched
            found.update(texts[matched].tolist())
        kept = _without_unused_ids(table.loc[~hit].copy(), table)
        kept.attrs = _without_erased_rows(table.attrs, int(hit.sum()))
        out[name] = kept
        before[name] = len(table)
        removed[name] = int(hit.sum())
    report = ErasureReport(
        n_requested=len(targets), n_found=len(found), rows_before=before, rows_removed=removed
    )
    if len(found) < len(targets):
        # a request typed unlike the tables ("007" for 7, "C7" for 7) must not pass unnoticed
        warn_user(
            f"erase_customers: {len(targets) - len(found)} of the {len(targets)} requested "
            "customers were found in none of the tables, so nothing of theirs was erased. Check "
            "how their ids are written (e.g. '007' is not 7, nor 'C7'; '7.0' is 7); "
            "report.n_found says how many were.",
            DataQualityWarning,
        )
    return out, report


def _without_unused_ids(table: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """``table`` (``before`` less the erased rows) without the values only the erased rows held
    that would survive in its metadata: a MultiIndex keeps its levels' unused values, a
    categorical column or index its unused categories (a pickled "erased" training table still
    held the id in ``X.index.levels``). Categories no row held before are left as declared."""

    def gone(kept: pd.Categorical | pd.CategoricalIndex, was: object) -> list[object]:
        held_before = set(pd.unique(np.asarray(was, dtype=object)))
        held_now = set(pd.unique(np.asarray(kept, dtype=object)))
        return [c for c in kept.categories if c in held_before and c not in held_now]

    if isinstance(table.index, pd.MultiIndex):
        table.index = table.index.remove_unused_levels()
    elif isinstance(table.index, pd.CategoricalIndex):
        table.index = table.index.remove_categories(gone(table.index, before.index))
    for column in table.columns:
        values = table[column]
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            dropped = gone(values.array, before[column])
            if dropped:
                table[column] = values.cat.remove_categories(dropped)
    return table


def _without_erased_rows(attrs: Mapping[Hashable, Any], n_removed: int) -> dict[Hashable, Any]:
    """A table's ``attrs`` with its cleaning report counting as if the erased rows had never been
    there (rows in and out both less them: the steps still add up, and the next run's logged
    counts hold no trace of the erased customers); other entries as they were."""
    out = dict(attrs)
    report = CleaningReport.from_json(out.get(REPORT_ATTR)) if REPORT_ATTR in out else None
    if report is not None and n_removed:
        report.rows_in -= n_removed
        report.rows_out -= n_removed
        out[REPORT_ATTR] = report.to_json()
    return out


def _id_texts(table: pd.DataFrame, name: str) -> list[np.ndarray]:
    """The text form of every customer id column / index level of ``table``."""
    keys: list[pd.Series | pd.Index] = []
    if C.CUSTOMER_ID in table.columns:
        column = table[C.CUSTOMER_ID]
        if isinstance(column, pd.DataFrame):
            # the label repeated, or the top of a column MultiIndex: every column under it is ids
            keys.extend(column.iloc[:, j] for j in range(column.shape[1]))
        else:
            keys.append(column)
    if C.CUSTOMER_ID in table.index.names:
        keys.append(table.index.get_level_values(C.CUSTOMER_ID))
    if not keys:
        raise SchemaError(
            f"erase_customers: table {name!r} has no {C.CUSTOMER_ID!r} column or index level, so "
            f"its rows cannot be matched to customers; it has {table.columns.tolist()} and index "
            f"{list(table.index.names)}. Leave it out, or name its id column {C.CUSTOMER_ID!r}.",
            table=name,
            column=C.CUSTOMER_ID,
        )
    return [id_texts(k, caller="erase_customers") for k in keys]
