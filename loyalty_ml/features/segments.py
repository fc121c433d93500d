"""RFM segments by the 25/50/25 split, and how customers migrate between segments.

Each axis is split into three classes: 1 for the worst quarter, 2 for the middle half and 3 for the
best quarter, where "best" is the smallest ``recency_days``, the largest ``n_orders`` and the largest
``spend``. A customer's class is set by the share of customers strictly worse than them (``p``):
``1`` when ``p < 0.25``, ``3`` when ``p >= 0.75``, else ``2``. Tied customers therefore always share a
class and the result never depends on row order; without ties the classes hold 25/50/25 % of the
customers, with ties (e.g. the many one-order customers on F) a tie group is not split. Values
within one part in a billion of a class edge count as on it (so that a value sent through JSON,
rounded to 10 decimals, stays in its class): 3e9 + 1 is read as tied with 3e9.

The quarters are those of a reference population: by default the table being segmented. For
decisions made in batches (a served model scoring a few customers at a time), freeze them once with
:func:`rfm_edges` on the whole customer base and pass ``edges=``: a customer's segment then no longer
depends on who else is in the batch.

Segment names, first matching rule wins:

==================  =========================  ==================================================
segment             rule                       meaning
==================  =========================  ==================================================
``core``            R3 F3 M3                   the best customers on every axis
``loyal``           R3 F3 (M1-2)               frequent and recent, smaller baskets
``new``             R3 F1                      recent first purchases
``active``          R3 F2                      recent, building a habit
``big spenders``    R2 M3                      high spend, not the most recent
``needs attention`` R2 F2-3                    regulars whose recency is slipping
``one-off``         R2 F1                      a single purchase some time ago
``at risk``         R1 and (F3 or M3)          valuable customers who stopped buying
``hibernating``     R1 F2                      occasional customers gone quiet
``lost``            R1 F1                      one purchase long ago
==================  =========================  ==================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml._checks import is_real
from loyalty_ml.exceptions import ConfigError, SchemaError, format_ids
from loyalty_ml.features.boundaries import recency_in_days
from loyalty_ml.schema._bad_rows import bad_rows
from loyalty_ml.schema._coerce import numbers_or_refuse, refuse_repeated

__all__ = ["SEGMENTS", "RFMEdges", "rfm_edges", "rfm_segments", "segment_migration"]

#: Segment names in the order of the rules above.
SEGMENTS: tuple[str, ...] = (
    "core",
    "loyal",
    "new",
    "active",
    "big spenders",
    "needs attention",
    "one-off",
    "at risk",
    "hibernating",
    "lost",
)
#: Rows and columns of ``segment_migration`` for customers absent then, or gone now.
ABSENT = "absent"
GONE = "gone"
_AXES = (("R", "recency_days", -1.0), ("F", "n_orders", 1.0), ("M", "spend", 1.0))
#: The features RFM classes are read from: every customer needs a value of each.
RFM_INPUTS: tuple[str, ...] = tuple(column for _, column, _ in _AXES)


@dataclass(frozen=True)
class RFMEdges:
    """Where each RFM axis changes class, from a reference population (see :func:`rfm_edges`).

    Each axis holds ``(edge_2, edge_3)`` in its own units: a customer is in class 2 or better when
    strictly better than ``edge_2`` and in class 3 when strictly better than ``edge_3`` ("better" is
    a smaller ``recency_days``, a larger ``n_orders`` or ``spend``). These are the classes the
    reference population gets by the 25/50/25 rule of the module docstring.
    """

    recency_days: tuple[float, float]
    n_orders: tuple[float, float]
    spend: tuple[float, float]

    def __post_init__(self) -> None:
        for axis, column, direction in _AXES:
            edges = getattr(self, column)
            ok = (
                isinstance(edges, tuple)
                and len(edges) == 2
                and all(is_real(e, finite=True) for e in edges)
                and direction * edges[0] <= direction * edges[1]
            )
            if not ok:
                raise ConfigError(
                    f"The {column!r} edges of RFMEdges ({axis} axis) must be two finite numbers, "
                    f"the class-2 edge not better than the class-3 one. Got {edges!r} instead."
                )
            # np.int64(3) as 3.0: edges read from a frame compare and print as plain numbers
            object.__setattr__(self, column, (float(edges[0]), float(edges[1])))


_NO_EDGES = RFMEdges(recency_days=(0.0, 0.0), n_orders=(0.0, 0.0), spend=(0.0, 0.0))


def _values(features: pd.DataFrame, axis: str, column: str) -> np.ndarray:
    if column not in features.columns:
        raise SchemaError(
            f"features is missing column {column!r} needed for the {axis} axis of RFM segments; "
            f"it has {list(map(str, features.columns))}. Pass the output of build_features.",
            table="features",
            column=column,
        )
    if column == "recency_days":
        # Timedeltas (as_of - last purchase) in days, as Boundaries.state reads them
        values = recency_in_days(features[column], what=f"features.{column}")
    else:
        numbers = numbers_or_refuse(
            features[column],
            what=f"features.{column}",
            hint="Pass the output of build_features.",
            table="features",
        )
        values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    if not np.isfinite(values).all():
        bad = ~np.isfinite(values)
        raise SchemaError(
            f"features.{column} has {int(bad.sum())} missing or infinite values "
            f"{bad_rows(features[column], bad)}; RFM classes need a value for every customer "
            "(build_features gives one to everyone with a purchase). Fix or drop those rows.",
            table="features",
            column=column,
        )
    return values


def _checked_frame(features: object) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise SchemaError(
            f"features must be a pandas DataFrame; got {type(features).__name__}.", table="features"
        )
    if isinstance(features.index, pd.MultiIndex):
        # a stacked training table: its cutoffs would be pooled into one set of classes
        raise SchemaError(
            f"features has a MultiIndex {list(features.index.names)}; RFM classes are of one "
            "as_of. Pass one cutoff's features indexed by customer_id, e.g. "
            "X.xs(as_of, level='as_of').",
            table="features",
        )
    refuse_repeated(features, tuple(column for _, column, _ in _AXES), table="features")
    return features


def rfm_edges(features: pd.DataFrame) -> RFMEdges:
    """The RFM class edges of a reference population (e.g. every customer at the training date).

    Raises
    ------
    SchemaError
        A needed column is missing or has missing values, or ``features`` has no rows.

    Examples
    --------
    >>> X = pd.DataFrame({"recency_days": [1.0, 5, 9, 30], "n_orders": [9.0, 3, 3, 1],
    ...                   "spend": [90.0, 30, 40, 5]})
    >>> rfm_edges(X)
    RFMEdges(recency_days=(30.0, 5.0), n_orders=(1.0, 3.0), spend=(5.0, 40.0))
    """
    frame = _checked_frame(features)
    if len(frame) == 0:
        raise SchemaError(
            "rfm_edges needs at least one customer; features is empty.", table="features"
        )
    edges: dict[str, tuple[float, float]] = {}
    n = len(frame)
    for axis, column, direction in _AXES:
        ordered = np.sort(direction * _values(frame, axis, column))
        # class >= 2 when at least ceil(n/4) customers are strictly worse: better than the
        # ceil(n/4)-th worst value; class 3 likewise with ceil(3n/4)
        low, high = ordered[math.ceil(0.25 * n) - 1], ordered[math.ceil(0.75 * n) - 1]
        edges[column] = (float(direction * low), float(direction * high))
    return RFMEdges(**edges)


#: Relative slack of the class edges: a value sent through JSON (10 decimals) that was on an edge
#: (a training customer's own float, e.g. 196.56999999999996 sent as 196.57) stays on it.
_EDGE_SLACK = 1e-9


def _classes(values: np.ndarray, edges: tuple[float, float], direction: float) -> np.ndarray:
    oriented = direction * values
    low, high = direction * edges[0], direction * edges[1]
    low += _EDGE_SLACK * max(1.0, abs(low))
    high += _EDGE_SLACK * max(1.0, abs(high))
    return (1 + (oriented > low).astype("int64") + (oriented > high).astype("int64")).astype(
        "int64"
    )


def _names(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    rules = [
        (r == 3) & (f == 3) & (m == 3),
        (r == 3) & (f == 3),
        (r == 3) & (f == 1),
        r == 3,
        (r == 2) & (m == 3),
        (r == 2) & (f >= 2),
        r == 2,
        (f == 3) | (m == 3),
        f == 2,
    ]
    return np.select(rules, list(SEGMENTS[:-1]), default=SEGMENTS[-1])


def rfm_segments(features: pd.DataFrame, *, edges: RFMEdges | None = None) -> pd.DataFrame:
    """RFM classes and a readable segment for every customer of a feature table.

    Parameters
    ----------
    features : DataFrame
        Indexed by ``customer_id`` with ``recency_days``, ``n_orders`` and ``spend`` (as returned by
        :func:`build_features`).
    edges : RFMEdges, optional
        Class edges of a reference population (:func:`rfm_edges`); by default those of ``features``
        itself.

    Returns
    -------
    DataFrame
        Same index: ``R``, ``F``, ``M`` (int64 classes 1..3, 3 best), ``rfm_code`` (e.g. ``"R3F3M3"``)
        and ``segment`` (see the module docstring for the table of names).

    Raises
    ------
    SchemaError
        A needed column is missing or has missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame(
    ...     {"recency_days": [1.0, 5, 9, 30], "n_orders": [9.0, 3, 3, 1], "spend": [90.0, 30, 40, 5]},
    ...     index=pd.Index([1, 2, 3, 4], name="customer_id"),
    ... )
    >>> rfm_segments(X)["rfm_code"].tolist()
    ['R3F3M3', 'R2F2M2', 'R2F2M2', 'R1F1M1']
    """
    frame = _checked_frame(features)
    if edges is None:
        edges = rfm_edges(frame) if len(frame) else _NO_EDGES  # no rows: any edges do
    elif not isinstance(edges, RFMEdges):
        raise ConfigError(
            "The 'edges' parameter of rfm_segments must be an RFMEdges (from rfm_edges) or None. "
            f"Got {type(edges).__name__} instead."
        )
    out = {
        axis: _classes(_values(frame, axis, column), getattr(edges, column), direction)
        for axis, column, direction in _AXES
    }
    r, f, m = out["R"], out["F"], out["M"]
    code = np.char.add(
        np.char.add(np.char.add("R", r.astype(str)), np.char.add("F", f.astype(str))),
        np.char.add("M", m.astype(str)),
    )
    return pd.DataFrame(
        {"R": r, "F": f, "M": m, "rfm_code": code.astype(object), "segment": _names(r, f, m)},
        index=features.index,
    ).astype({"rfm_code": "str", "segment": "str"})


def _by_customer(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame`` indexed by ``customer_id``: a ``customer_id`` column becomes the index (a table
    read back from Parquet); another index, such as a training table's (as_of, customer_id), is
    refused rather than matched by row number or position."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"segment_migration: {name} must be a feature table (a DataFrame); got "
            f"{type(frame).__name__}.",
            table="features",
        )
    if frame.index.name == "customer_id" and frame.index.nlevels == 1:
        return frame
    if "customer_id" in frame.columns:
        return frame.set_index("customer_id")
    raise SchemaError(
        f"segment_migration: {name} is indexed by {list(frame.index.names)}, not by customer_id; "
        "pass one feature table per date, as build_features returns it (for a training_table, "
        "X.xs(as_of, level='as_of') is the table of one cutoff).",
        table="features",
        column="customer_id",
    )


def segment_migration(features_then: pd.DataFrame, features_now: pd.DataFrame) -> pd.DataFrame:
    """How customers moved between segments from one feature table to a later one.

    Classes are computed within each table (the quarters of then, and of now). Customers in the first
    table but not the second count as ``"gone"`` (they have no purchase before the later ``as_of``,
    which cannot happen for the same transactions, or were erased); customers only in the second are
    ``"absent"`` then (new customers).

    Parameters
    ----------
    features_then, features_now : DataFrame
        Feature tables (indexed by ``customer_id``, or with it as a column) at an earlier and a
        later ``as_of``.

    Returns
    -------
    DataFrame
        Counts of customers, rows the segment then (``index.name == "segment_then"``), columns the
        segment now (``"segment_now"``), in the order of ``SEGMENTS`` then ``absent``/``gone``; empty
        rows and columns are dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> then = pd.DataFrame(
    ...     {"recency_days": [1.0, 5, 9, 30], "n_orders": [9.0, 3, 3, 1], "spend": [90.0, 30, 40, 5]},
    ...     index=pd.Index([1, 2, 3, 4], name="customer_id"),
    ... )
    >>> now = then.drop(index=[4]).assign(recency_days=[60.0, 2, 9])
    >>> segment_migration(then, now).loc["core"].to_dict()
    {'one-off': 0, 'hibernating': 1, 'gone': 0}
    """
    features_then = _by_customer(features_then, "features_then")
    features_now = _by_customer(features_now, "features_now")
    for name, frame in (("features_then", features_then), ("features_now", features_now)):
        if isinstance(frame, pd.DataFrame) and frame.index.has_duplicates:
            twice = frame.index[frame.index.duplicated()].unique().tolist()
            raise SchemaError(
                f"segment_migration: {name} lists customer_id values more than once "
                f"{format_ids(twice)}; a feature table has one row per customer (a merge may have "
                "duplicated rows).",
                table="features",
                column="customer_id",
            )
    then = rfm_segments(features_then)["segment"]
    now = rfm_segments(features_now)["segment"]
    gone = then.index[~then.index.isin(now.index)]
    new = now.index[~now.index.isin(then.index)]
    # ids of another type (text "1" against integer 1) would read as gone and new at once
    clash = pd.Index(gone.astype(str)).intersection(pd.Index(new.astype(str)))
    if len(clash):
        raise SchemaError(
            f"segment_migration: customers (customer_id) "
            f"{format_ids(clash.tolist(), total=len(clash))} "
            f"are in both tables under ids of different types ({then.index.dtype} against "
            f"{now.index.dtype}), so each would count as gone and as new: convert one index to "
            "the other's type.",
            table="features",
            column="customer_id",
        )
    index = then.index.union(now.index)
    before = then.reindex(index).fillna(ABSENT)
    after = now.reindex(index).fillna(GONE)
    table = pd.crosstab(before.rename("segment_then"), after.rename("segment_now"))
    order = [*SEGMENTS, ABSENT, GONE]
    rows = [s for s in order if s in table.index]
    columns = [s for s in order if s in table.columns]
    return table.loc[rows, columns]
