"""Population stability index (PSI): how far a scored population has moved from the training one.

``PSI = sum_b (a_b - e_b) * ln(a_b / e_b)`` over bins ``b``, with ``e_b`` the share of the reference
(training) population in the bin and ``a_b`` that of the scored population; shares are floored at
``1e-4`` so an empty bin gives a large but finite value. Usual reading: < 0.1 stable, 0.1-0.2 moderate
shift, > 0.2 a shift worth investigating (the default warning limit of scoring).

Bins come from the reference: deciles for numbers (plus a bin for missing values; the top bin does not
lump a heavy value, such as the zeros of a rarely used channel or a constant, with the values above
it), the most frequent levels for categories (plus "other" and missing). A :class:`DriftProfile`
stores only those edges and shares (aggregates, no rows), so it can travel inside a registered model;
a :class:`DriftCounter` accumulates counts batch by batch, so drift over a million rows needs memory
for the bins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import ConfigError, SchemaError, format_examples
from loyalty_ml.schema._coerce import distinct_values, refuse_repeated_columns

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
    for label, v in (("expected", e), ("actual", a)):
        if not np.isfinite(v).all() or (v < 0).any():
            raise ConfigError(
                f"psi needs shares or counts >= 0 in each bin; {label} is {v.tolist()[:10]}."
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
                np.asarray(self.edges), _numbers(present, self.name), side="right"
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
        _check_bins(bins)
        present = values.dropna()
        if isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
            values
        ):
            top = present.astype(str).value_counts().index[:_MAX_LEVELS]
            profile = cls(name, "categorical", (), tuple(str(v) for v in top), ())
            n_bins = len(top) + 2  # levels, "other", missing
        else:
            numbers = _numbers(present, name)
            edges = _edges(numbers[np.isfinite(numbers)], bins)
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
        _check_bins(bins)
        _check_frame(frame)
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
        _check_frame(frame)
        # profiles name columns by their text (0 and "0" are one name: _check_frame refuses both)
        by_name = {str(c): c for c in frame.columns}
        missing = [n for n in self.profile.names if n not in by_name]
        if missing:
            raise SchemaError(
                f"drift: the scored frame lacks profiled columns {format_examples(missing, total=len(missing))}.",
                table="features",
                column=missing[0],
            )
        for column in self.profile.columns:
            self.counts_[column.name] += column.counts(frame[by_name[column.name]])

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


def _check_bins(bins: object) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or not 2 <= bins <= 1000:
        raise ConfigError(
            f"The 'bins' parameter of DriftProfile must be an int from 2 to 1000. Got {bins!r} "
            "instead."
        )


def _check_frame(frame: object) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"drift: expected a DataFrame of features; got {type(frame).__name__}.",
            table="features",
        )
    refuse_repeated_columns(frame, what="drift: the frame", table="features")
    names = pd.Index([str(c) for c in frame.columns])
    if names.has_duplicates:
        raise SchemaError(
            f"drift: columns {format_examples(sorted(set(names[names.duplicated()])))} are named "
            "twice once read as text (e.g. 0 and '0'); profiles name columns by their text. "
            "Rename one of them.",
            table="features",
        )


def _numbers(values: pd.Series, name: str) -> np.ndarray:
    """Non-missing values of a numeric column as float64; text that is not a number is refused."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        found = distinct_values(values[bad])
        raise SchemaError(
            f"drift: column {name!r} is numeric in the reference but holds values that are not "
            f"numbers {format_examples(found, total=int(bad.sum()))}.",
            table="features",
            column=name,
        )
    return numbers.to_numpy(dtype=np.float64)


def _edges(numbers: np.ndarray, bins: int) -> np.ndarray:
    """Quantile edges of ``numbers`` (finite); a heavy value's bin holds that value alone.

    Bins are ``[edge_i, edge_i+1)``, the last one open to infinity. A value holding at least
    1/bins of the reference (the zeros of a rarely used channel, a constant) is an edge, and its
    bin would hold it and every larger value up to the next edge, so a move of that mass to
    slightly larger values would go unseen (48% of customers starting to use the app a little
    read PSI 0): the bin is closed halfway to the next value of the reference (or to the next
    edge, when one is interpolated between them), even when the next edge is that value (20% of
    customers moving from 0 to 0.6 read PSI 0 when the next edge was 1), or, when it is the
    largest value (a constant, a share capped at 1), just above it.

    Examples
    --------
    >>> _edges(np.r_[np.zeros(95), np.ones(5)], 10).tolist()  # 0 and 1 were one bin
    [0.0, 0.5]
    >>> _edges(np.full(20, 5.0), 10).tolist()  # a constant: below, exactly 5, above
    [5.0, 5.000000000000001]
    >>> _edges(np.r_[np.zeros(5), np.ones(95)], 10).tolist()  # the heavy top: ones, and above
    [1.0, 1.0000000000000002]
    >>> _edges(np.r_[np.zeros(30), np.arange(1.0, 71.0)], 5).round(1).tolist()  # not 0 to 10.6
    [0.0, 0.5, 10.6, 30.4, 50.2]
    >>> _edges(np.r_[np.zeros(20), np.ones(20), np.arange(2.0, 63.0)], 10)[:5].tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    if not len(numbers):
        return np.array([])
    edges = np.unique(np.quantile(numbers, np.linspace(0, 1, bins + 1)[1:-1]))
    closers = []
    for i, edge in enumerate(edges):
        if np.count_nonzero(numbers == edge) * bins < len(numbers):
            continue
        above = numbers[numbers > edge]
        if not len(above):  # the largest value (a constant, or a share capped at 1)
            closers.append(np.nextafter(edge, np.inf))
        else:
            # halfway to the next value, or to the next edge when that comes first (an edge
            # interpolated between the two): a move off the heavy value by half a step is seen
            nxt = above.min() if i + 1 == len(edges) else min(above.min(), edges[i + 1])
            closers.append((edge + nxt) / 2)
    return np.unique(np.r_[edges, closers]) if closers else edges


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
    ref, now = np.asarray(expected), np.asarray(actual)
    if ref.ndim != 1 or now.ndim != 1:
        raise ConfigError(
            "population_stability_index needs two 1-d arrays of values; got shapes "
            f"{ref.shape} and {now.shape}."
        )
    column = ColumnProfile.from_values("x", pd.Series(ref, name="x"), bins=bins)
    return psi(np.asarray(column.expected), column.counts(pd.Series(now)))
