"""Balance check: do an experiment's arms differ from its control before the treatment?

A randomised experiment gives every arm the same kind of customers as its control, so a feature's
distribution differs between them by chance alone. An arm sent to lapsing customers while loyal
ones were kept as control is not randomised: the difference between the arms is partly who was
chosen. Each arm is compared with the control (within each group, e.g. campaign, when given) on
every numeric or boolean feature by ranks, the Mann-Whitney AUC: feature values are heavy-tailed,
where a difference of means flags outliers. Randomisation keeps the AUC within a few standard
errors of 1/2; an arm is flagged when it is further than :data:`AUC_GAP` **and** :data:`Z`
standard errors from it (many features, arms and groups are compared).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["AUC_GAP", "MAX_ROWS", "Imbalance", "Z", "imbalances"]

#: Flag an arm whose AUC against the control on some feature is further than this from 1/2 (about
#: a standardised mean difference of 0.2) ...
AUC_GAP = 0.06
#: ... and further than this many standard errors.
Z = 5.0
#: Rows of each side compared, at most (a random subset beyond): with 20,000 a side the standard
#: error of the AUC is 0.003, far below the gap flagged, and the check costs no more on 1M rows.
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Imbalance:
    """One arm that differs from its control on a feature: its largest gap."""

    auc: float
    group: int  # position of the group (0 without groups)
    arm: str
    feature: str


def imbalances(
    X: pd.DataFrame,
    arms: np.ndarray,
    control: str,
    groups: np.ndarray | None = None,
) -> list[Imbalance]:
    """Each (group, arm) that differs from the group's control rows by more than chance allows, on
    its worst feature, the worst first. ``arms`` holds each row's arm label (as text), ``groups``
    each row's group code (0, 1, ...). Rows of other labels (and missing feature values) are left
    out; a comparison with fewer than 2 rows on either side is skipped."""
    numeric = [
        c
        for c in X.columns
        if (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))
        and not pd.api.types.is_complex_dtype(X[c])
    ]
    if not numeric or len(X) == 0:
        return []
    frame = X[numeric]
    group = np.zeros(len(X), dtype=np.int64) if groups is None else np.asarray(groups)
    rng = np.random.RandomState(0)
    found: list[Imbalance] = []
    code, labels = pd.factorize(pd.Series(arms, dtype=object), use_na_sentinel=False)
    names = [str(label) for label in labels]
    if str(control) not in names:
        return []
    control_code = names.index(str(control))
    for g in np.unique(group):
        in_group = group == g
        control_rows = _at_most(np.flatnonzero(in_group & (code == control_code)), rng)
        if len(control_rows) < 2:
            continue
        control_values = _values(frame, control_rows)
        for k in sorted(set(code[in_group].tolist()) - {control_code}, key=lambda c: names[c]):
            arm = names[k]
            treated_rows = _at_most(np.flatnonzero(in_group & (code == k)), rng)
            if len(treated_rows) < 2:
                continue
            auc, se = _rank_auc(_values(frame, treated_rows), control_values)
            gap = np.abs(auc - 0.5)
            flagged = (gap > AUC_GAP) & (gap > Z * se)
            if flagged.any():
                worst = int(np.nanargmax(np.where(flagged, gap, np.nan)))
                found.append(Imbalance(float(auc[worst]), int(g), str(arm), str(numeric[worst])))
    return sorted(found, key=lambda item: -abs(item.auc - 0.5))


def _at_most(rows: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    return rows if len(rows) <= MAX_ROWS else np.sort(rng.choice(rows, MAX_ROWS, replace=False))


def _values(frame: pd.DataFrame, rows: np.ndarray) -> list[np.ndarray]:
    """Each column's finite values on ``rows`` (missing and infinite ones left out)."""
    out = []
    for name in frame.columns:
        column = frame[name].iloc[rows].to_numpy(dtype=np.float64, na_value=np.nan)
        out.append(column[np.isfinite(column)])
    return out


def _rank_auc(
    treated: list[np.ndarray], control: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: P(treated value > control value) (ties count half), and its standard error
    under randomisation; NaN where either side has fewer than 2 values."""
    auc = np.full(len(treated), np.nan)
    se = np.full(len(treated), np.nan)
    for k, (t, c) in enumerate(zip(treated, control, strict=True)):
        n1, n0 = float(len(t)), float(len(c))
        if n1 < 2 or n0 < 2:
            continue
        ordered, queries = np.sort(c), np.sort(t)  # sorted queries: a cache-friendly search
        below = np.searchsorted(ordered, queries, side="left")
        tied = np.searchsorted(ordered, queries, side="right") - below
        auc[k] = (below.sum() + 0.5 * tied.sum()) / (n1 * n0)
        se[k] = np.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    return auc, se
