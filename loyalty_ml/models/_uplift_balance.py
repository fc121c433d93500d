"""Balance check: do an experiment's arms differ from its control before the treatment?

A randomised experiment gives every arm the same kind of customers as its control, so a feature's
distribution differs between them by chance alone. An arm sent to lapsing customers while loyal
ones were kept as control is not randomised: the difference between the arms is partly who was
chosen. Each arm is compared with the control (within each group, e.g. campaign, when given):

* on every numeric or boolean feature by ranks, the Mann-Whitney AUC (feature values are
  heavy-tailed, where a difference of means flags outliers), flagged when it is further than
  :data:`AUC_GAP` from 1/2 (about a standardised mean difference of 0.2);
* on every text or category feature by the share of each level, flagged when a level's shares
  differ by more than :data:`SMD_GAP` standard deviations of that level's indicator (the same 0.2:
  41% against 51% of the customers in the north, say);

and in both cases by more than :data:`Z` standard errors, since many features, levels, arms and
groups are compared. Randomisation keeps both within a few standard errors. A level expected on
fewer than 5 rows of either side (or missing from fewer than 5) is too rare for the normal
approximation: its count among the control rows is tested exactly (hypergeometric, two-sided) at
the same level of significance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import hypergeom, norm

__all__ = ["AUC_GAP", "MAX_ROWS", "SMD_GAP", "Imbalance", "Z", "imbalances"]

#: Flag an arm whose AUC against the control on a numeric feature is further than this from 1/2
#: (about a standardised mean difference of 0.2) ...
AUC_GAP = 0.06
#: ... or whose share of a level of a text feature differs from the control's by more than this many
#: standard deviations of the level's indicator ...
SMD_GAP = 0.2
#: ... and, either way, by more than this many standard errors.
Z = 5.0
#: A level expected on fewer rows than this on the smaller side is tested exactly, not by its z.
_MIN_EXPECTED = 5.0
#: Two-sided tail probability of :data:`Z` standard errors, the exact test's level.
_P_FLAG = float(2 * norm.sf(Z))
#: Rows of each side compared, at most (a random subset beyond): with 20,000 a side the standard
#: error of the AUC is 0.003, far below the gap flagged, and the check costs no more on 1M rows.
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Imbalance:
    """One arm that differs from its control on a feature: its largest gap."""

    severity: float  # the gap over the gap flagged (AUC_GAP or SMD_GAP): > 1
    group: int  # position of the group (0 without groups)
    arm: str
    feature: str
    detail: str  # "AUC 0.71", or "level 'north' 62% vs 41%" (arm vs control)


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
    numeric, levels = _columns(X)
    if not (numeric or levels) or len(X) == 0:
        return []
    code, labels = pd.factorize(pd.Series(arms, dtype=object), use_na_sentinel=False)
    names = [str(label) for label in labels]
    if str(control) not in names:
        return []
    control_code = names.index(str(control))
    group = np.zeros(len(X), dtype=np.int64) if groups is None else np.asarray(groups)
    rng = np.random.RandomState(0)
    found: list[Imbalance] = []
    for g in np.unique(group):
        in_group = group == g
        control_rows = _at_most(np.flatnonzero(in_group & (code == control_code)), rng)
        if len(control_rows) < 2:
            continue
        control_values = _values(X[numeric], control_rows)
        for k in sorted(set(code[in_group].tolist()) - {control_code}, key=lambda c: names[c]):
            treated_rows = _at_most(np.flatnonzero(in_group & (code == k)), rng)
            if len(treated_rows) < 2:
                continue
            gaps = _numeric_gaps(numeric, _values(X[numeric], treated_rows), control_values)
            gaps += _level_gaps(levels, treated_rows, control_rows)
            if gaps:
                severity, feature, detail = max(gaps)
                found.append(Imbalance(severity, int(g), names[k], feature, detail))
    return sorted(found, key=lambda item: -item.severity)


def _columns(X: pd.DataFrame) -> tuple[list[str], list[tuple[str, np.ndarray, list[str]]]]:
    """Numeric (and boolean) columns, and text or category ones as (name, level codes, levels)."""
    numeric: list[str] = []
    levels: list[tuple[str, np.ndarray, list[str]]] = []
    for name in X.columns:
        column = X[name]
        if pd.api.types.is_complex_dtype(column):
            continue
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            numeric.append(name)
            continue
        codes, uniques = pd.factorize(column, use_na_sentinel=True)  # missing: -1, left out
        if len(uniques) >= 2:
            levels.append((str(name), np.asarray(codes), [str(u) for u in uniques]))
    return numeric, levels


def _at_most(rows: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    return rows if len(rows) <= MAX_ROWS else np.sort(rng.choice(rows, MAX_ROWS, replace=False))


def _values(frame: pd.DataFrame, rows: np.ndarray) -> list[np.ndarray]:
    """Each column's finite values on ``rows`` (missing and infinite ones left out)."""
    out = []
    for name in frame.columns:
        column = frame[name].iloc[rows].to_numpy(dtype=np.float64, na_value=np.nan)
        out.append(column[np.isfinite(column)])
    return out


def _numeric_gaps(
    names: list[str], treated: list[np.ndarray], control: list[np.ndarray]
) -> list[tuple[float, str, str]]:
    """(severity, feature, detail) of each numeric feature flagged, by rank AUC."""
    out = []
    for name, t, c in zip(names, treated, control, strict=True):
        n1, n0 = float(len(t)), float(len(c))
        if n1 < 2 or n0 < 2:
            continue
        ordered, queries = np.sort(c), np.sort(t)  # sorted queries: a cache-friendly search
        below = np.searchsorted(ordered, queries, side="left")
        tied = np.searchsorted(ordered, queries, side="right") - below
        auc = (below.sum() + 0.5 * tied.sum()) / (n1 * n0)  # P(treated > control), ties half
        se = np.sqrt((n1 + n0 + 1) / (12 * n1 * n0))  # under randomisation
        gap = abs(auc - 0.5)
        if gap > AUC_GAP and gap > Z * se:
            out.append((gap / AUC_GAP, str(name), f"AUC {auc:.2f}"))
    return out


def _level_gaps(
    columns: list[tuple[str, np.ndarray, list[str]]], treated: np.ndarray, control: np.ndarray
) -> list[tuple[float, str, str]]:
    """(severity, feature, detail) of each text feature flagged, on its worst level."""
    out = []
    for name, codes, levels in columns:
        t, c = codes[treated], codes[control]
        t, c = t[t >= 0], c[c >= 0]
        n1, n0 = float(len(t)), float(len(c))
        if n1 < 2 or n0 < 2:
            continue
        k1, k0 = np.bincount(t, minlength=len(levels)), np.bincount(c, minlength=len(levels))
        p1, p0 = k1 / n1, k0 / n0
        pooled = (p1 * n1 + p0 * n0) / (n1 + n0)
        sd = np.sqrt(pooled * (1 - pooled))
        gap = np.abs(p1 - p0)
        with np.errstate(divide="ignore", invalid="ignore"):
            smd = np.where(sd > 0, gap / sd, 0.0)
            z = np.where(sd > 0, gap / (sd * np.sqrt(1 / n1 + 1 / n0)), 0.0)
        # the normal approximation wants a few rows at the level, and a few not at it, on each
        # side (a rare level's one row in a small control group is 1% of it, and far from
        # nothing in a large arm; so is the other level of a two-level feature): a rarer
        # level's count among the control rows is tested exactly
        common = np.minimum(pooled, 1 - pooled) * min(n1, n0) >= _MIN_EXPECTED
        flagged = (smd > SMD_GAP) & np.where(common, z > Z, False)
        rare = np.flatnonzero((smd > SMD_GAP) & ~common)
        if len(rare):
            in_all = k0[rare] + k1[rare]
            flagged[rare] = _exact_p(k0[rare], in_all, len(c), len(c) + len(t)) < _P_FLAG
        if flagged.any():
            # the worst level; of two alike (a two-level feature), the one the arm has more of
            rank = np.where(flagged, np.round(smd, 9) + 1e-12 * (p1 > p0), -1.0)
            worst = int(np.argmax(rank))
            detail = f"level {levels[worst]!r} {p1[worst]:.0%} vs {p0[worst]:.0%}"
            out.append((float(smd[worst]) / SMD_GAP, name, detail))
    return out


def _exact_p(in_control: np.ndarray, in_all: np.ndarray, n_control: int, n_all: int) -> np.ndarray:
    """Two-sided p-values of ``in_control`` of the ``in_all`` rows at each level falling among
    the ``n_control`` control rows of ``n_all``, were the rows dealt to the arms at random.

    A level too small to reach :data:`_P_FLAG` however its rows fell gets 1 without the exact
    tail (most levels of a text feature with many levels): the most lopsided split of its K rows,
    all on the side that holds more than its share (of size n), has a probability of at least
    ((n - K + 1) / (n_all - K + 1)) ** K, and the two-sided p-value is at least twice that.
    """
    in_control = np.asarray(in_control, dtype=np.int64)
    in_all = np.asarray(in_all, dtype=np.int64)
    side = np.where(in_control * n_all >= in_all * n_control, n_control, n_all - n_control)
    fits = in_all <= side  # else every split is possible only with rows on both sides
    base = np.where(fits, (side - in_all + 1) / np.maximum(n_all - in_all + 1, 1), 0.0)
    with np.errstate(under="ignore"):
        least = np.where(fits, 2 * base ** np.where(fits, in_all, 1), 0.0)
    p = np.ones(len(in_all))
    exact = least < _P_FLAG
    if exact.any():
        dealt = hypergeom(n_all, in_all[exact], n_control)
        k = in_control[exact]
        p[exact] = np.minimum(1.0, 2 * np.minimum(dealt.cdf(k), dealt.sf(k - 1)))
    return p
