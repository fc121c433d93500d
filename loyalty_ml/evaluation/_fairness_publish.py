"""Pooling of small groups in the published tables of a fairness audit.

A group label comes from the data and can itself be personal: a free-text gender, a tier held by
two customers. Blanking a small group's figures (``FairnessReport.without_small_groups``) still
publishes its label and count, so the tables that leave the process (MLflow artifacts, the HTML
report) pool every group under the minimum cell into one :data:`POOLED_GROUPS` row per attribute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.evaluation._fairness_cells import partial_figures, pool_shows, with_bases
from loyalty_ml.evaluation._fairness_inputs import POOLED_GROUPS
from loyalty_ml.evaluation._fairness_metrics import COUNT_COLUMNS, metric_base

__all__ = [
    "POOLED_COLUMNS",
    "POOLED_GROUPS",
    "pool_small_groups",
    "pooled_sentence",
    "with_integer_counts",
]

#: Columns of ``FairnessReport.pooled``: one row per attribute (within a stratum of the control
#: in the conditional table) whose small groups were pooled.
POOLED_COLUMNS = ["table", "control", "attribute", "groups", "count", "min_count"]


def pool_small_groups(
    original: pd.DataFrame,
    blanked: pd.DataFrame,
    min_count: int,
    *,
    conditional: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``blanked`` with its groups under ``min_count`` customers pooled, and what was pooled.

    Within each attribute (each stratum's attribute when ``conditional``) the rows under
    ``min_count`` become one :data:`POOLED_GROUPS` row: its count is theirs together, and its
    figures are those of the pooled customers (from ``original``, the unblanked figures) when
    the pool holds ``min_count`` customers, else blank (its offer figures need ``min_count``
    contactable customers, ``n_contactable``, too; its TPR ``min_count`` churners, its FPR as
    many non-churners). In the conditional table the pool keeps
    its count only: a stratum's pools added up and set against the raw pool would give back the
    few customers of a larger group who fall in a stratum. The other rows are ``blanked``'s.
    """
    levels = ["control", "attribute"] if conditional else ["attribute"]
    names = list(blanked.index.names)
    parts: list[pd.DataFrame] = []
    pooled_rows: list[dict[str, Any]] = []
    if blanked.empty:
        return blanked.copy(), pd.DataFrame(columns=POOLED_COLUMNS)
    for key, block in blanked.groupby(level=levels, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        small = (block["count"] < min_count).to_numpy()
        if not small.any():
            parts.append(block)
            continue
        figures = original.loc[block.index[small]]
        row = _pooled_row(figures, min_count, show=not conditional)
        _hide_beside_one_withheld(row, block.loc[~small], original.loc[block.index[~small]])
        pool = pd.DataFrame(
            [row], index=pd.MultiIndex.from_tuples([(*key, POOLED_GROUPS)], names=names)
        )
        parts.append(pd.concat([block.loc[~small], pool]))
        pooled_rows.append(
            {
                "table": "by_group_conditional" if conditional else "by_group",
                "control": key[0] if conditional else None,
                "attribute": key[-1],
                "groups": int(small.sum()),
                "count": int(row["count"]),
                "min_count": int(min_count),
            }
        )
    out = with_integer_counts(pd.concat(parts)[list(blanked.columns)])
    return out, pd.DataFrame(pooled_rows, columns=POOLED_COLUMNS)


def _hide_beside_one_withheld(
    row: dict[str, float], shown: pd.DataFrame, original: pd.DataFrame
) -> None:
    """Blank, in the pool's ``row``, each figure that one other row of its attribute withholds
    alone (``shown`` blanks it, ``original`` has it): the attribute's total minus the shown
    rows and the pool would give it back. With the pool's blanked too, two are withheld, and
    the pool holds ``min_count`` customers."""
    for metric, value in row.items():
        if metric in COUNT_COLUMNS or np.isnan(value):
            continue
        withheld = original[metric].notna().to_numpy() & shown[metric].isna().to_numpy()
        if int(withheld.sum()) == 1:
            row[metric] = np.nan


def with_integer_counts(by_group: pd.DataFrame) -> pd.DataFrame:
    """``by_group`` with its count columns as integers (nullable where blanked), so that a
    table shows ``138``, not ``138.0000``."""
    out = by_group.copy()
    out["count"] = out["count"].astype("int64")
    for column in COUNT_COLUMNS[1:]:
        if column in out.columns:
            out[column] = out[column].astype("Int64")
    return out


def _pooled_row(rows: pd.DataFrame, min_count: int, *, show: bool) -> dict[str, float]:
    """The figures of the customers of ``rows`` together (blank unless ``show`` and there are
    ``min_count`` of them): each rate weighted by the customers it is measured on, so the result
    is the rate of the pooled customers (the TPR over their churners, the FPR over their
    non-churners). The AUC is blank: ranks across groups cannot be rebuilt from their AUCs. A
    figure over part of the customers (the offer figures over the contactable ones, the TPR over
    the churners, the FPR over the non-churners) also needs ``min_count`` of them
    (:func:`pool_shows`)."""
    count = int(rows["count"].sum())
    out: dict[str, float] = {"count": float(count)}
    bases = with_bases(rows)
    hidden = {
        column
        for columns, base in partial_figures(bases)
        if not pool_shows(bases, min_count, base)
        for column in columns
    }
    for metric in rows.columns:
        if metric in COUNT_COLUMNS:
            if metric != "count":  # a count of the customers a figure is over: theirs together
                out[metric] = float(rows[metric].sum()) if show and count >= min_count else np.nan
            continue
        out[metric] = np.nan
        if not show or count < min_count or metric == "auc" or metric in hidden:
            continue
        values = rows[metric].to_numpy(dtype=float)
        weights = metric_base(rows, metric)
        ok = ~np.isnan(values) & (weights > 0)
        if weights[ok].sum() > 0:
            out[metric] = float((values[ok] * weights[ok]).sum() / weights[ok].sum())
    return out


def pooled_sentence(pooled: pd.DataFrame, control_name: str | None) -> str:
    """One sentence saying how many groups were pooled, where, for the published report."""
    if pooled.empty:
        return ""
    min_count = int(pooled["min_count"].iloc[0])
    raw = pooled[pooled["table"] == "by_group"]
    within = pooled[pooled["table"] != "by_group"]
    said = [f"{a}: {int(n)} group(s)" for a, n in zip(raw["attribute"], raw["groups"], strict=True)]
    if not within.empty:
        cells = within.groupby("attribute", sort=False)["groups"].sum()
        said += [
            f"{a} within {control_name or 'control'} strata: {int(n)} cell(s)"
            for a, n in cells.items()
        ]
    return (
        f"Groups under {min_count} customers are pooled into one `{POOLED_GROUPS}` row per "
        f"attribute (per stratum within the control), their labels withheld ({'; '.join(said)}). "
        f"A pool of {min_count}+ customers shows their figures together (not its AUC; its offer "
        f"figures only when {min_count}+ of them may be contacted), except within strata, where a "
        "pool shows its count only."
    )
