"""Which cells of a fairness audit's by-group tables to blank: small cells and their complements.

A figure over a handful of customers says something about those customers. A group under the
minimum cell is blanked, and so, by complementary suppression, are the next smallest groups, since
the attribute's total (known from any other attribute) minus the shown groups would give a single
blanked group back. Most figures are over a group's ``count``; some over part of its customers
(:func:`partial_figures`): the offer figures over its ``n_contactable`` customers (those the policy
could offer something to), the true positive rate over its churners, the false positive rate over
its non-churners (the AUC needs both). Each has the cell rule on its own count (:func:`few`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.evaluation._fairness_metrics import is_offer_figure, metric_base

__all__ = [
    "CHURN_BASES",
    "complement",
    "complement_conditional",
    "few",
    "lone_cell_groups",
    "offer_columns",
    "partial_figures",
    "pool_shows",
    "settle_cells",
    "shown_pools",
    "with_bases",
]

Keys = set[tuple[Any, ...]]

#: The count the offer figures are measured on (``metric_base``).
CONTACTABLE = "n_contactable"
#: The counts the TPR (churners) and FPR (non-churners) are measured on, added by
#: :func:`with_bases` for the cell rules only: the published tables give them as ``count`` times
#: ``observed_rate`` already.
CHURNERS = "_n_churners"
NON_CHURNERS = "_n_non_churners"
#: Both: the churn figures are withheld together (:func:`partial_figures`).
CHURN_BASES = (CHURNERS, NON_CHURNERS)


def offer_columns(by_group: pd.DataFrame) -> list[str]:
    """The columns of ``by_group`` measured on its ``n_contactable`` customers (none without it)."""
    if CONTACTABLE not in by_group.columns:
        return []  # every customer counts: the offer figures are over ``count``
    return [c for c in by_group.columns if is_offer_figure(c)]


def with_bases(by_group: pd.DataFrame) -> pd.DataFrame:
    """``by_group`` with the churners and non-churners its TPR, FPR and AUC are over
    (:func:`metric_base`), when it has those figures; else ``by_group`` itself."""
    rates = {"tpr", "fpr", "auc"} & set(by_group.columns)
    if not rates or "observed_rate" not in by_group.columns:
        return by_group
    out = by_group.copy()
    out[CHURNERS] = metric_base(by_group, "tpr")
    out[NON_CHURNERS] = metric_base(by_group, "fpr")
    return out


def partial_figures(by_group: pd.DataFrame) -> list[tuple[list[str], str]]:
    """``(columns, base)``: the figures of ``by_group`` (as :func:`with_bases` returns it) that
    are over part of a group's customers, and the column counting them. The offer figures are
    over ``n_contactable`` when the plan said who may be contacted (else over ``count``, with
    every other figure); the TPR over the churners and the FPR over the non-churners, the AUC
    over both. Each family of the churn figures withholds all three: a group's selected
    customers (``selection_rate`` times ``count``, over all of them) are its selected churners
    plus its selected non-churners, so its TPR shown beside a withheld FPR gives the FPR back,
    and the other way round."""
    out = []
    if offers := offer_columns(by_group):
        out.append((offers, CONTACTABLE))
    if CHURNERS in by_group.columns:
        churn = [c for c in ("tpr", "fpr", "auc") if c in by_group.columns]
        out.append((churn, CHURNERS))
        out.append((churn, NON_CHURNERS))
    return [(columns, base) for columns, base in out if columns]


def complement(
    by_group: pd.DataFrame,
    small: Keys,
    min_count: int,
    *,
    column: str = "count",
    known: Keys | None = None,
) -> Keys:
    """Groups to blank with ``small`` so that none can be recomputed from the others and the
    attribute's total (``column`` counts the customers the figures are over). The ``known``
    groups' figures can be had another way, so blanking them protects nothing."""
    added: Keys = set()
    for counts in _block_counts(by_group, ["attribute"], column):
        added |= _add_smallest(counts, small, min_count, known=known or set())
    return added


def complement_conditional(
    by_group: pd.DataFrame, small: Keys, min_count: int, *, column: str = "count"
) -> Keys:
    """Cells (stratum, attribute, group) to blank with the small ones: within each stratum's
    attribute, and across each group's strata (whose raw row gives their sum). A cell alone in
    a stratum of ``min_count`` customers is that stratum's total, which a table by stratum
    publishes: it is no partner across strata."""
    blanked = set(small)
    alone = _alone_cells(by_group, min_count, column)
    table = by_group.iloc[[_key(k) not in alone for k in by_group.index]]
    blocks = _block_counts(by_group, ["control", "attribute"], column)
    blocks += _block_counts(table, ["attribute", "group"], column)
    before = -1
    while len(blanked) != before:  # the two directions feed each other until they settle
        before = len(blanked)
        for counts in blocks:
            blanked |= _add_smallest(counts, blanked, min_count)
    return blanked - set(small)


def settle_cells(
    by_group: pd.DataFrame,
    conditional: pd.DataFrame | None,
    rows: Keys,
    cells: Keys,
    min_count: int,
    *,
    column: str = "count",
    pools: list[Keys] | None = None,
) -> tuple[Keys, Keys]:
    """The raw rows and the cells (stratum, attribute, group) to blank, with ``rows`` and
    ``cells`` (the small ones), so that no equation between published figures gives one back.

    Within each stratum's attribute and across each group's strata the next smallest cells are
    blanked (:func:`complement_conditional`), so a group's raw row minus its shown cells leaves
    two or more blanked cells and the raw row stays shown; only a group with one blanked cell
    (found in a single stratum) loses its raw row (:func:`lone_cell_groups`). Within each
    attribute the next smallest raw rows are blanked (:func:`complement`); a raw row blanked
    that way whose cells are all shown would be their sum, so its smallest cell is blanked too,
    and the two rules run again until they settle. ``column`` counts the customers the figures
    are over; ``pools`` are raw rows published as one pool each with its figures shown: they
    count as one shown row.
    """
    shown_pools = set().union(*pools) if pools else set()
    table = by_group.iloc[[_key(k) not in shown_pools for k in by_group.index]]
    rows = set(rows) - shown_pools
    if conditional is None:
        return rows | complement(table, rows, min_count, column=column), set()
    seeds = set(cells)
    derived = _stratum_totals(conditional, min_count, column)
    while True:
        blanked = seeds | complement_conditional(conditional, seeds, min_count, column=column)
        lone = lone_cell_groups(conditional, blanked, min_count, column=column)
        withheld = rows | lone
        withheld |= complement(table, withheld, min_count, column=column, known=derived)
        hidden = {k[1:] for k in _hiding(conditional, blanked, min_count, column)}
        bare = _smallest_cells(conditional, withheld - hidden, column)
        if bare <= seeds:
            return withheld, blanked
        seeds |= bare


def lone_cell_groups(
    conditional: pd.DataFrame, cells: Keys, min_count: int, *, column: str = "count"
) -> Keys:
    """The groups (attribute, group) with exactly one cell (stratum, attribute, group) of
    ``cells`` that hides a figure (:func:`_hiding`): their raw row minus their shown cells would
    give that cell back."""
    counts: dict[tuple[Any, ...], int] = {}
    for key in _hiding(conditional, cells, min_count, column):
        counts[key[1:]] = counts.get(key[1:], 0) + 1
    return {group for group, n in counts.items() if n == 1}


def _hiding(conditional: pd.DataFrame, cells: Keys, min_count: int, column: str) -> Keys:
    """The cells of ``cells`` whose blank hides something: not those without customers in
    ``column`` (their figures are NaN anyway) nor those alone in their stratum (its total)."""
    counts = dict(zip(map(_key, conditional.index), conditional[column], strict=True))
    alone = _alone_cells(conditional, min_count, column)
    return {k for k in cells if counts.get(k, 0) > 0 and k not in alone}


def _stratum_totals(conditional: pd.DataFrame, min_count: int, column: str) -> Keys:
    """The groups (attribute, group) whose every cell with customers (in ``column``) is alone
    in its stratum (:func:`_alone_cells`): their raw figures are a sum of strata totals, which
    a table by stratum publishes, so they are no partner to blank beside another group."""
    alone = _alone_cells(conditional, min_count, column)
    filled: dict[tuple[Any, ...], bool] = {}
    for key, n in zip(map(_key, conditional.index), conditional[column], strict=True):
        if n > 0:
            filled[key[1:]] = filled.get(key[1:], True) and key in alone
    return {group for group, all_alone in filled.items() if all_alone}


def _alone_cells(conditional: pd.DataFrame, min_count: int, column: str) -> Keys:
    """The cells that are the only one with customers (in ``column``) of their stratum's
    attribute, when it holds ``min_count`` of them: their figures are the stratum's."""
    out: Keys = set()
    for counts in _block_counts(conditional, ["control", "attribute"], column):
        filled = [(k, n) for k, n in counts.items() if n > 0]
        if len(filled) == 1 and filled[0][1] >= min_count:
            out.add(filled[0][0])
    return out


def few(by_group: pd.DataFrame, min_count: int, column: str) -> Keys:
    """The rows whose figures over ``column``'s customers are over 1 to ``min_count - 1`` of
    them (none without the column). A row with none is not blanked for itself: those figures
    are NaN already."""
    if column not in by_group.columns:
        return set()
    base = by_group[column].to_numpy(dtype=float)
    return {_key(k) for k, n in zip(by_group.index, base, strict=True) if 0 < n < min_count}


def _smallest_cells(conditional: pd.DataFrame, groups: Keys, column: str) -> Keys:
    """For each of ``groups`` (attribute, group), its cell with the fewest customers in
    ``column`` (above none: a cell without any has its figures NaN already)."""
    out: Keys = set()
    keys = [_key(k) for k in conditional.index]
    counts = conditional[column].to_numpy(dtype=float)
    for group in groups:
        cells = [
            (n, str(k), k) for k, n in zip(keys, counts, strict=True) if k[1:] == group and n > 0
        ]
        if cells:
            out.add(min(cells)[2])
    return out


def _key(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)


def _add_smallest(
    counts: dict[tuple[Any, ...], float],
    blanked: Keys,
    min_count: int,
    *,
    known: Keys | None = None,
) -> Keys:
    """The rows of one block (``counts`` by full key) to blank besides ``blanked``: the next
    smallest until at least two are blanked and they hold ``min_count`` customers together.
    Rows without customers do not count: their figures are NaN, blanked or not; nor do the
    ``known`` rows, whose figures can be had another way."""
    known = known or set()
    counts = {k: n for k, n in counts.items() if n > 0}
    inside = [k for k in counts if k in blanked and k not in known]
    if not inside:
        return set()
    added: Keys = set()
    order = sorted(
        (k for k in counts if k not in blanked and k not in known),
        key=lambda k: (counts[k], str(k)),
    )
    total = sum(counts[k] for k in inside)
    for key in order:
        if len(inside) + len(added) >= 2 and total >= min_count:
            break
        added.add(key)
        total += counts[key]
    return added


def _block_counts(
    by_group: pd.DataFrame, levels: list[str], column: str
) -> list[dict[tuple[Any, ...], float]]:
    """The ``column`` of ``by_group`` split into blocks by ``levels``, each keyed by full key
    (plain dicts: these tables are small, and pandas' indexing by tuples costs more than the
    arithmetic)."""
    names = list(by_group.index.names)
    at = [names.index(level) for level in levels]
    blocks: dict[tuple[Any, ...], dict[tuple[Any, ...], float]] = {}
    values = by_group[column].to_numpy(dtype=float)
    for key, n in zip(map(_key, by_group.index), values, strict=True):
        blocks.setdefault(tuple(key[a] for a in at), {})[key] = float(n)
    return list(blocks.values())


def pool_shows(rows: pd.DataFrame, min_count: int, column: str) -> bool:
    """Whether the published pool of ``rows`` (groups under ``min_count`` customers) shows its
    figures over ``column``'s customers (:func:`partial_figures`): it needs ``min_count``
    customers and ``min_count`` of those (``rows`` as :func:`with_bases` returns them)."""
    if int(rows["count"].sum()) < min_count:
        return False
    return column not in rows.columns or float(np.nansum(rows[column])) >= min_count


def shown_pools(by_group: pd.DataFrame, small: Keys, min_count: int, column: str) -> list[Keys]:
    """The raw table's pools (the ``small`` groups of each attribute) whose figures over
    ``column``'s customers the published copy shows (:func:`pool_shows`)."""
    keys = pd.Index([_key(k) for k in by_group.index])
    pools = []
    for attribute in by_group.index.get_level_values("attribute").unique():
        members = {k for k in keys if k[0] == attribute and k in small}
        rows = by_group.iloc[[k in members for k in keys]]
        if members and pool_shows(rows, min_count, column):
            pools.append(members)
    return pools
