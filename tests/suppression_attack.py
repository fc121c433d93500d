"""An attacker for the small-cell protection of a published fairness audit.

It knows every count, the published figures, and the totals (the whole population's, and each
stratum's: from any other attribute, or the backtest metrics), and tries every one-equation
recovery of a figure that was not published: an attribute's total minus its published rows,
a stratum's total minus its published cells, a published raw row minus its published strata
cells, and a blanked raw row as the sum of its published strata cells. A figure is a count of
customers (selected, offered, churned): the published rate times the customers it is over.

Each figure is a sum of *cells*, the customers of one group within one stratum (one stratum
only without a control). The attacker works on which cells each published row sums and
whether the row's figure is shown, so a recovery is found whatever the values are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.evaluation._fairness_metrics import metric_base
from loyalty_ml.evaluation.fairness import POOLED_GROUPS, FairnessReport

Cells = frozenset[tuple[Any, Any]]
#: A published row: the cells (stratum, group) it sums, and whether its figure is known.
Row = tuple[Cells, bool]


def recoveries(
    report: FairnessReport, public: FairnessReport, column: str, min_count: int
) -> list[str]:
    """The figures of ``column`` over fewer than ``min_count`` customers that ``public``
    withholds and the equations give back, each equation used once a figure it needs is known
    (a withheld figure of a large group may be the step to a small one)."""
    found = []
    for attribute in report.by_group.index.get_level_values("attribute").unique():
        zero = _zero_cells(report, column, attribute)  # their figures are known: none
        kinds, equations = [], []
        for kind, (whole, known), parts in _equations(report, public, column, min_count, attribute):
            kinds.append(kind)
            equations.append(((whole - zero, known), [(cells - zero, k) for cells, k in parts]))
        shown = {cells for whole, parts in equations for cells, k in [whole, *parts] if k}
        known = _closure(equations, shown)
        # what the totals alone give (a stratum holding one group) is no fault of the report
        totals = {
            whole
            for kind, (whole, known) in zip(kinds, (e[0] for e in equations), strict=True)
            if kind == "total" and known
        }
        given = _closure(equations, totals)
        size = _sizes(report, column, attribute)
        withheld = {cells for whole, parts in equations for cells, k in [whole, *parts] if not k}
        found += [
            f"{column} of {attribute} {sorted(map(str, cells))}"
            for cells in (withheld & known) - given
            if 0 < sum(size[c] for c in cells) < min_count
        ]
    return found


def _closure(equations: list[tuple[Row, list[Row]]], known: set[Cells]) -> set[Cells]:
    """Every figure the ``known`` ones give, each equation used once all but one of its terms
    are known."""
    known = {frozenset()} | known
    changed = True
    while changed:
        changed = False
        for (whole, _), parts in equations:
            unknown = [cells for cells, _ in parts if cells not in known]
            if whole in known and len(unknown) == 1:
                known.add(unknown[0])
                changed = True
            elif whole not in known and not unknown:
                known.add(whole)
                changed = True
    return known


def _sizes(report: FairnessReport, column: str, attribute: Any) -> dict[tuple[Any, Any], int]:
    """The customers each cell's figure of ``column`` is over (its churners for the TPR, its
    non-churners for the FPR, its contactable customers for the offer figures)."""
    table = report.by_group_conditional
    raw = table is None
    rows = (report.by_group if raw else table).xs(attribute, level="attribute")
    counts = pd.Series(np.nan_to_num(metric_base(rows, column)), index=rows.index)
    return {(("", k) if raw else k): int(n) for k, n in counts.items()}


def _equations(
    report: FairnessReport, public: FairnessReport, column: str, min_count: int, attribute: Any
) -> Iterator[tuple[str, Row, list[Row]]]:
    """(kind, whole, parts): the whole sums the parts' cells, each cell in exactly one part;
    the kind is "total" for an attribute's or a stratum's total, "group" for a raw row."""
    cells = _cells(report, attribute)
    zero = _zero_cells(report, column, attribute)
    raw = _raw_rows(report, public, column, min_count, attribute, zero)
    size = _sizes(report, column, attribute)
    everyone = frozenset(cells.index)
    yield "total", (everyone, sum(size.values()) >= min_count), raw
    within = _stratum_rows(report, public, column, min_count, attribute, zero)
    for stratum, rows in within.items():
        members = frozenset(k for k in cells.index if k[0] == stratum)
        # a stratum's total is known (a table by stratum) unless it is a small cell itself,
        # which that table would withhold (with a partner, so it cannot be derived either)
        yield "total", (members, sum(size[c] for c in members) >= min_count), rows
    by_cell = {c: row for rows in within.values() for row in rows for c in row[0]}
    for group_cells, known in raw:
        if len(group_cells) and _is_one_group(group_cells):
            parts = [
                (c, by_cell[c][1] and len(by_cell[c][0]) == 1) for c in sorted(group_cells, key=str)
            ]
            yield "group", (group_cells, known), [(frozenset([c]), k) for c, k in parts]


def _is_one_group(cells: Cells) -> bool:
    return len({group for _, group in cells}) == 1


def _cells(report: FairnessReport, attribute: Any) -> pd.Series:
    """The count of each (stratum, group) cell of ``attribute`` with customers."""
    table = report.by_group_conditional
    if table is None:
        counts = report.by_group.xs(attribute, level="attribute")["count"]
        return pd.Series(counts.to_numpy(), index=[("", g) for g in counts.index])
    counts = table.xs(attribute, level="attribute")["count"]
    counts = counts[counts > 0]
    return pd.Series(counts.to_numpy(), index=list(counts.index))


def _zero_cells(report: FairnessReport, column: str, attribute: Any) -> set[tuple[Any, Any]]:
    """Cells whose figure is NaN before any blanking (no contactable customer): known zeros."""
    table = report.by_group_conditional
    if table is None:
        values = report.by_group.xs(attribute, level="attribute")[column]
        return {("", g) for g, v in values.items() if pd.isna(v)}
    values = table.xs(attribute, level="attribute")[column]
    return {k for k, v in values.items() if pd.isna(v)}


def _raw_rows(
    report: FairnessReport,
    public: FairnessReport,
    column: str,
    min_count: int,
    attribute: Any,
    zero: set[tuple[Any, Any]],
) -> list[Row]:
    cells = _cells(report, attribute).index
    full = report.by_group.xs(attribute, level="attribute")
    shown = public.by_group.xs(attribute, level="attribute")[column].notna()
    rows: list[Row] = []
    pooled: set[tuple[Any, Any]] = set()
    for group, count in full["count"].items():
        members = frozenset(c for c in cells if c[1] == group)
        if count < min_count and public.pooled is not None:
            pooled |= members
            continue
        rows.append((members, bool(shown[group]) or members <= zero))
    if pooled:
        rows.append((frozenset(pooled), bool(shown.get(POOLED_GROUPS, False)) or pooled <= zero))
    return rows


def _stratum_rows(
    report: FairnessReport,
    public: FairnessReport,
    column: str,
    min_count: int,
    attribute: Any,
    zero: set[tuple[Any, Any]],
) -> dict[Any, list[Row]]:
    cells = _cells(report, attribute)
    if public.by_group_conditional is None:
        raw = _raw_rows(report, public, column, min_count, attribute, zero)
        return {"": raw}
    shown = public.by_group_conditional.xs(attribute, level="attribute")[column].notna()
    out: dict[Any, list[Row]] = {}
    for stratum in dict.fromkeys(s for s, _ in cells.index):
        rows: list[Row] = []
        pooled = set()
        for cell, count in cells.items():
            if cell[0] != stratum:
                continue
            if count < min_count and public.pooled is not None:
                pooled.add(cell)
                continue
            rows.append((frozenset([cell]), bool(shown[cell]) or cell in zero))
        if pooled:
            rows.append((frozenset(pooled), bool(shown.get((stratum, POOLED_GROUPS), False))))
        out[stratum] = rows
    return out


def random_audit(seed: int) -> tuple[pd.Series, pd.Series, pd.Series, pd.DataFrame, pd.Series]:
    """Customers of 2-5 groups of 1-300 in 2-4 strata (unevenly), with scores, an offer plan
    whose customers consent at a rate of their group's, churn at a rate of their group's, and the
    strata: ``sensitive, y_true,
    y_score, plan, control``."""
    from loyalty_ml.policy._plan_reasons import CHEAPEST, NO_CONSENT
    from loyalty_ml.schema import columns as C

    rng = np.random.default_rng(seed)
    n_groups, n_strata = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    scale = rng.choice([10, 40, 301], size=n_groups)
    sizes = [int(rng.integers(1, s)) for s in scale]
    labels = np.repeat([f"g{i}" for i in range(n_groups)], sizes)
    strata = np.concatenate(
        [rng.choice(n_strata, size=n, p=rng.dirichlet(np.full(n_strata, 0.7))) for n in sizes]
    )
    consent = rng.uniform(size=len(labels)) < np.repeat(rng.uniform(0.2, 1.0, n_groups), sizes)
    offered = consent & (rng.uniform(size=len(labels)) < 0.4)
    # churn rates of 1-50% by group, so that some large groups have few churners
    churned = rng.uniform(size=len(labels)) < np.repeat(rng.uniform(0.01, 0.5, n_groups), sizes)
    ids = pd.RangeIndex(len(labels), name=C.CUSTOMER_ID)
    plan = pd.DataFrame(
        {
            C.OFFER_ID: np.where(offered, "A", None),
            "expected_cost": np.where(offered, 2.0, 0.0),
            "reason": np.where(consent, CHEAPEST, NO_CONSENT),
        },
        index=ids,
    )
    return (
        pd.Series(labels, index=ids, name="tier"),
        pd.Series(churned.astype(int), index=ids),
        pd.Series(rng.uniform(size=len(ids)), index=ids),
        plan,
        pd.Series(np.array([f"s{k}" for k in strata]), index=ids, name="risk_band"),
    )
