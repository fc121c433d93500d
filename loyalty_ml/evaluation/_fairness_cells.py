"""Which cells of a fairness audit's by-group tables to blank: small cells and their complements.

A figure over a handful of customers says something about those customers. A group under the
minimum cell is blanked, and so, by complementary suppression, are the next smallest groups, since
the attribute's total (known from any other attribute) minus the shown groups would give a single
blanked group back. Most figures are over a group's ``count``; the offer figures are over its
``n_contactable`` customers (those the policy could offer something to), so they have a cell rule
of their own on that count (:func:`offer_cells`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.evaluation._fairness_metrics import is_offer_figure

__all__ = [
    "complement",
    "complement_conditional",
    "offer_cells",
    "offer_columns",
    "pool_shows_offers",
    "shown_offer_pools",
]

Keys = set[tuple[Any, ...]]

#: The count the offer figures are measured on (``metric_base``).
CONTACTABLE = "n_contactable"


def offer_columns(by_group: pd.DataFrame) -> list[str]:
    """The columns of ``by_group`` measured on its ``n_contactable`` customers (none without it)."""
    if CONTACTABLE not in by_group.columns:
        return []  # every customer counts: the offer figures are over ``count``
    return [c for c in by_group.columns if is_offer_figure(c)]


def complement(
    by_group: pd.DataFrame, small: Keys, min_count: int, *, column: str = "count"
) -> Keys:
    """Groups to blank with ``small`` so that none can be recomputed from the others and the
    attribute's total (``column`` counts the customers the figures are over)."""
    added: Keys = set()
    for counts in _block_counts(by_group, ["attribute"], column):
        added |= _add_smallest(counts, small, min_count)
    return added


def complement_conditional(
    by_group: pd.DataFrame, small: Keys, min_count: int, *, column: str = "count"
) -> Keys:
    """Cells (stratum, attribute, group) to blank with the small ones: within each stratum's
    attribute, and across each group's strata (whose raw row gives their sum)."""
    blanked = set(small)
    for _ in range(4):  # the two directions can feed each other; a few passes settle it
        before = len(blanked)
        for levels in (["control", "attribute"], ["attribute", "group"]):
            for counts in _block_counts(by_group, levels, column):
                blanked |= _add_smallest(counts, blanked, min_count)
        if len(blanked) == before:
            break
    return blanked - set(small)


def offer_cells(
    by_group: pd.DataFrame,
    blanked: Keys,
    min_count: int,
    *,
    conditional: bool,
    pools: list[Keys] | None = None,
) -> Keys:
    """The rows of ``by_group`` whose offer figures are blanked: those under ``min_count``
    contactable customers, the rows ``blanked`` already (by the rule on ``count``), and by
    complementary suppression on ``n_contactable`` the next smallest, within each attribute (and
    across a group's strata when ``conditional``), so that the total offers of an attribute minus
    the shown rows cannot give back the offers of fewer than ``min_count`` customers.

    A row with no contactable customer is not blanked for itself: its offer figures are NaN
    already. ``pools`` are the rows pooled into one published row each whose offer figures are
    shown: they count as one shown row, so the other blanked rows must protect each other.
    Empty without an ``n_contactable`` column (the offer figures are then over ``count``).
    """
    if not offer_columns(by_group):
        return set()
    keys = [k if isinstance(k, tuple) else (k,) for k in by_group.index]
    contactable = by_group[CONTACTABLE].to_numpy(dtype=float)
    few = {k for k, n in zip(keys, contactable, strict=True) if 0 < n < min_count}
    shown_pools = set().union(*pools) if pools else set()
    start = (few | blanked) - shown_pools
    table = by_group.iloc[[k not in shown_pools for k in keys]]
    if conditional:
        return start | complement_conditional(table, start, min_count, column=CONTACTABLE)
    return start | complement(table, start, min_count, column=CONTACTABLE)


def _add_smallest(counts: pd.Series, blanked: Keys, min_count: int) -> Keys:
    """The rows of one block (``counts`` by full key) to blank besides ``blanked``: the next
    smallest until at least two are blanked and they hold ``min_count`` customers together."""
    inside = [k for k in counts.index if k in blanked]
    if not inside:
        return set()
    added: Keys = set()
    order = sorted((k for k in counts.index if k not in blanked), key=lambda k: (counts[k], str(k)))
    total = float(counts[inside].sum())
    for key in order:
        if len(inside) + len(added) >= 2 and total >= min_count:
            break
        added.add(key)
        total += float(counts[key])
    return added


def _block_counts(by_group: pd.DataFrame, levels: list[str], column: str) -> list[pd.Series]:
    """The ``column`` of ``by_group`` split into blocks by ``levels``, keyed by full key."""
    counts = by_group[column].astype(float)
    counts.index = pd.Index([k if isinstance(k, tuple) else (k,) for k in by_group.index])
    keys = by_group.index.to_frame(index=False)
    return (
        [
            counts.iloc[np.asarray(rows)]
            for _, rows in keys.groupby(levels, sort=False).indices.items()
        ]
        if len(keys)
        else []
    )


def pool_shows_offers(rows: pd.DataFrame, min_count: int) -> bool:
    """Whether the published pool of ``rows`` (groups under ``min_count`` customers) shows its
    offer figures: it needs ``min_count`` customers and, when the offer figures are over fewer
    (``n_contactable``), ``min_count`` contactable ones."""
    if int(rows["count"].sum()) < min_count:
        return False
    return CONTACTABLE not in rows.columns or float(rows[CONTACTABLE].sum()) >= min_count


def shown_offer_pools(by_group: pd.DataFrame, small: Keys, min_count: int) -> list[Keys]:
    """The raw table's pools (the ``small`` groups of each attribute) whose offer figures the
    published copy shows (:func:`pool_shows_offers`)."""
    keys = pd.Index([k if isinstance(k, tuple) else (k,) for k in by_group.index])
    pools = []
    for attribute in by_group.index.get_level_values("attribute").unique():
        members = {k for k in keys if k[0] == attribute and k in small}
        rows = by_group.iloc[[k in members for k in keys]]
        if members and pool_shows_offers(rows, min_count):
            pools.append(members)
    return pools
