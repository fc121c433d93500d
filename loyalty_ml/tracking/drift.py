"""Population stability index (PSI): how far a scored population has moved from the training one.

``PSI = sum_b (a_b - e_b) * ln(a_b / e_b)`` over bins ``b``, with ``e_b`` the share of the reference
(training) population in the bin and ``a_b`` that of the scored population; shares are floored at
``1e-4`` so an empty bin gives a large but finite value. Usual reading: < 0.1 stable, 0.1-0.2 moderate
shift, > 0.2 a shift worth investigating (the default warning limit of scoring).

Bins come from the reference: deciles for numbers (plus a bin for missing values), the most frequent
levels for categories (plus "other" and missing). A :class:`DriftProfile` stores only those edges and
shares (aggregates, no rows), so it can travel inside a registered model; a :class:`DriftCounter`
accumulates counts batch by batch, so drift over a million rows needs memory for the bins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import ConfigError, SchemaError, format_examples

__all__ = [
    "ColumnProfile",
    "DriftCounter",
    "DriftProfile",
    "DriftWarning",
    "population_stability_index",
    "psi",
]

_FLOOR = 1e-4


class DriftWarning(UserWarning):
    """The scored population has moved away from the training one (PSI past the limit)."""


_MAX_LEVELS = 20


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI between two vectors of bin shares or counts over the same bins (each is normalised).

    Examples
    --------
    >>> psi(np.array([0.5, 0.5]), np.array([0.5, 0.5]))
    0.0
    >>> round(psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])), 4)
    0.2747
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape or e.ndim != 1:
        raise ConfigError(
            f"psi needs two 1-d vectors over the same bins; got {e.shape} and {a.shape}."
        )
    if e.sum() <= 0 or a.sum() <= 0:
        return float("nan")
    e = np.maximum(e / e.sum(), _FLOOR)
    a = np.maximum(a / a.sum(), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class ColumnProfile:
    """Bins and reference shares of one column. The last share is that of missing values."""

    name: str
    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...]
    levels: tuple[str, ...]
    expected: tuple[float, ...]

    def counts(self, values: pd.Series) -> np.ndarray:
        """Counts of ``values`` in this column's bins (same length as ``expected``)."""
        missing = values.isna().to_numpy()
        n_bins = len(self.expected)
        out = np.zeros(n_bins, dtype=np.int64)
        out[-1] = int(missing.sum())
        present = values[~missing]
        if self.kind == "numeric":
            codes = np.searchsorted(
                np.asarray(self.edges), present.to_numpy(dtype=np.float64), side="right"
            )
        else:
            lookup = {level: i for i, level in enumerate(self.levels)}
            other = len(self.levels)
            codes = present.astype(str).map(lambda v: lookup.get(v, other)).to_numpy(dtype=np.int64)
        out[:-1] += np.bincount(codes, minlength=n_bins - 1)[: n_bins - 1]
        return out

    @classmethod
    def from_values(cls, name: str, values: pd.Series, *, bins: int = 10) -> ColumnProfile:
        """Reference bins of one column: quantile edges for numbers, frequent levels for the rest."""
        present = values.dropna()
        if isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
            values
        ):
            top = present.astype(str).value_counts().index[:_MAX_LEVELS]
            profile = cls(name, "categorical", (), tuple(str(v) for v in top), ())
            n_bins = len(top) + 2  # levels, "other", missing
        else:
            numbers = present.to_numpy(dtype=np.float64)
            qs = np.linspace(0, 1, bins + 1)[1:-1]
            edges = np.unique(np.quantile(numbers, qs)) if len(numbers) else np.array([])
            profile = cls(name, "numeric", tuple(float(e) for e in edges), (), ())
            n_bins = len(edges) + 2  # len(edges) + 1 intervals, missing
        counts = cls(
            profile.name, profile.kind, profile.edges, profile.levels, (0.0,) * n_bins
        ).counts(values)
        shares = counts / max(int(counts.sum()), 1)
        return cls(
            profile.name,
            profile.kind,
            profile.edges,
            profile.levels,
            tuple(float(s) for s in shares),
        )


@dataclass(frozen=True)
class DriftProfile:
    """Reference bins and shares of several columns (e.g. the training features and churn scores)."""

    columns: tuple[ColumnProfile, ...]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, bins: int = 10) -> DriftProfile:
        """Profile every column of ``frame``.

        Examples
        --------
        >>> profile = DriftProfile.from_frame(pd.DataFrame({"x": np.arange(100.0)}))
        >>> float(profile.compare(pd.DataFrame({"x": np.arange(100.0)}))["x"])
        0.0
        """
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise ConfigError(
                f"The 'bins' parameter of DriftProfile must be an int >= 2. Got {bins!r} instead."
            )
        return cls(
            tuple(ColumnProfile.from_values(str(c), frame[c], bins=bins) for c in frame.columns)
        )

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def compare(self, frame: pd.DataFrame) -> pd.Series:
        """PSI of each profiled column of ``frame`` against the reference (one batch)."""
        counter = DriftCounter(self)
        counter.update(frame)
        return counter.psi()


class DriftCounter:
    """Accumulates bin counts of scored batches against a :class:`DriftProfile`."""

    def __init__(self, profile: DriftProfile) -> None:
        self.profile = profile
        self.counts_ = {c.name: np.zeros(len(c.expected), dtype=np.int64) for c in profile.columns}

    def update(self, frame: pd.DataFrame) -> None:
        """Add a batch; every profiled column must be present."""
        missing = [n for n in self.profile.names if n not in frame.columns]
        if missing:
            raise SchemaError(
                f"drift: the scored frame lacks profiled columns {format_examples(missing, total=len(missing))}.",
                table="features",
                column=missing[0],
            )
        for column in self.profile.columns:
            self.counts_[column.name] += column.counts(frame[column.name])

    def psi(self) -> pd.Series:
        """PSI per column over everything added so far (NaN before any row)."""
        return pd.Series(
            {
                c.name: psi(np.asarray(c.expected), self.counts_[c.name])
                for c in self.profile.columns
            },
            name="psi",
            dtype=np.float64,
        )


def population_stability_index(expected: object, actual: object, *, bins: int = 10) -> float:
    """PSI of ``actual`` against ``expected`` with decile bins of ``expected``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=5000)
    >>> population_stability_index(ref, rng.normal(size=5000)) < 0.01
    True
    >>> population_stability_index(ref, rng.normal(1.0, size=5000)) > 0.2
    True
    """
    ref = pd.Series(np.asarray(expected), name="x")
    column = ColumnProfile.from_values("x", ref, bins=bins)
    return psi(np.asarray(column.expected), column.counts(pd.Series(np.asarray(actual))))
