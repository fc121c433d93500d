"""Rhythm features: exact values on a tiny frame, and the group median helper."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from loyalty_ml.features import build_features
from loyalty_ml.features.rhythm import group_median


def test_exact_values() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                format="ISO8601",
                arg=[
                    "2024-01-01",
                    "2024-01-03",
                    "2024-01-09",
                    "2024-01-19",
                    "2024-01-10",
                    "2024-01-10 12:00",
                    "2024-01-20",
                ],
            ),
            "amount": [1.0] * 7,
        }
    )
    X = build_features(tx, as_of="2024-01-25")
    # customer 1: gaps 2, 6, 10 days; recency 6
    row = X.loc[1]
    assert row["ipi_mean"] == 6.0
    assert row["ipi_median"] == 6.0
    assert np.isclose(row["ipi_std"], np.sqrt(32 / 3))
    assert np.isclose(row["ipi_cv"], np.sqrt(32 / 3) / 6)
    assert row["overdue_ratio"] == 1.0
    assert row["days_overdue"] == 0.0
    # customer 2: one gap of half a day; std with ddof=0 is 0
    row = X.loc[2]
    assert (row["ipi_mean"], row["ipi_median"], row["ipi_std"]) == (0.5, 0.5, 0.0)
    # recency is 14.5 days (last order 2024-01-10 12:00)
    assert row["overdue_ratio"] == 14.5 / 0.5
    assert row["days_overdue"] == 14.0
    # customer 3: a single order has no interval
    assert (
        X.loc[3, ["ipi_mean", "ipi_median", "ipi_std", "overdue_ratio", "days_overdue"]]
        .isna()
        .all()
    )


def test_zero_median_interval_gives_nan_ratio() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "order_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "amount": [1.0, 1.0],
        }
    )
    X = build_features(tx, as_of="2024-01-03")
    assert X.loc[1, "ipi_median"] == 0.0
    assert np.isnan(X.loc[1, "overdue_ratio"])
    assert np.isnan(X.loc[1, "ipi_cv"])
    assert X.loc[1, "days_overdue"] == 2.0


@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.floats(-1e6, 1e6, allow_nan=False)), min_size=0, max_size=40
    )
)
def test_group_median_matches_numpy(pairs: list[tuple[int, float]]) -> None:
    groups = np.array([g for g, _ in pairs], dtype="int64")
    values = np.array([v for _, v in pairs], dtype="float64")
    got = group_median(values, groups, 5)
    for g in range(5):
        chosen = values[groups == g]
        if len(chosen):
            assert np.isclose(got[g], np.median(chosen))
        else:
            assert np.isnan(got[g])
