"""RFM segments by the 25/50/25 split, and how customers migrate between segments.

Each axis is split into three classes: 1 for the worst quarter, 2 for the middle half and 3 for the
best quarter, where "best" is the smallest ``recency_days``, the largest ``n_orders`` and the largest
``spend``. A customer's class is set by the share of customers strictly worse than them (``p``):
``1`` when ``p < 0.25``, ``3`` when ``p >= 0.75``, else ``2``. Tied customers therefore always share a
class and the result never depends on row order; without ties the classes hold 25/50/25 % of the
customers, with ties (e.g. the many one-order customers on F) a tie group is not split.

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

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import SchemaError

__all__ = ["SEGMENTS", "rfm_segments", "segment_migration"]

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


def _classes(values: np.ndarray) -> np.ndarray:
    # share of customers strictly worse: the "min" rank of a tie group, divided by the count
    n = len(values)
    ordered = np.sort(values)
    worse = np.searchsorted(ordered, values, side="left") / max(n, 1)
    return np.where(worse < 0.25, 1, np.where(worse >= 0.75, 3, 2)).astype("int64")


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


def rfm_segments(features: pd.DataFrame) -> pd.DataFrame:
    """RFM classes and a readable segment for every customer of a feature table.

    Parameters
    ----------
    features : DataFrame
        Indexed by ``customer_id`` with ``recency_days``, ``n_orders`` and ``spend`` (as returned by
        :func:`build_features`).

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
    if not isinstance(features, pd.DataFrame):
        raise SchemaError(
            f"features must be a pandas DataFrame; got {type(features).__name__}.", table="features"
        )
    out: dict[str, np.ndarray] = {}
    for axis, column, direction in _AXES:
        if column not in features.columns:
            raise SchemaError(
                f"features is missing column {column!r} needed for the {axis} axis of RFM segments; "
                f"it has {list(map(str, features.columns))}. Pass the output of build_features.",
                table="features",
                column=column,
            )
        values = features[column].to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(values).any():
            raise SchemaError(
                f"features.{column} has {int(np.isnan(values).sum())} missing values; RFM classes "
                "need a value for every customer.",
                table="features",
                column=column,
            )
        out[axis] = _classes(direction * values)
    r, f, m = out["R"], out["F"], out["M"]
    code = np.char.add(
        np.char.add(np.char.add("R", r.astype(str)), np.char.add("F", f.astype(str))),
        np.char.add("M", m.astype(str)),
    )
    return pd.DataFrame(
        {"R": r, "F": f, "M": m, "rfm_code": code.astype(object), "segment": _names(r, f, m)},
        index=features.index,
    ).astype({"rfm_code": "str", "segment": "str"})


def segment_migration(features_then: pd.DataFrame, features_now: pd.DataFrame) -> pd.DataFrame:
    """How customers moved between segments from one feature table to a later one.

    Classes are computed within each table (the quarters of then, and of now). Customers in the first
    table but not the second count as ``"gone"`` (they have no purchase before the later ``as_of``,
    which cannot happen for the same transactions, or were erased); customers only in the second are
    ``"absent"`` then (new customers).

    Parameters
    ----------
    features_then, features_now : DataFrame
        Feature tables (indexed by ``customer_id``) at an earlier and a later ``as_of``.

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
    then = rfm_segments(features_then)["segment"]
    now = rfm_segments(features_now)["segment"]
    index = then.index.union(now.index)
    before = then.reindex(index).fillna(ABSENT)
    after = now.reindex(index).fillna(GONE)
    table = pd.crosstab(before.rename("segment_then"), after.rename("segment_now"))
    order = [*SEGMENTS, ABSENT, GONE]
    rows = [s for s in order if s in table.index]
    columns = [s for s in order if s in table.columns]
    return table.loc[rows, columns]
