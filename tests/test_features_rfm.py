"""RFM features: exact values on a tiny frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.features import FeatureConfig, build_features


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                format="ISO8601",
                arg=[
                    "2024-01-01",
                    "2024-01-11 12:00:00",
                    "2024-01-31",
                    "2024-01-05",
                    "2024-01-05",  # same timestamp: one order without order_id
                    "2024-02-10",  # on as_of: excluded
                ],
            ),
            "amount": [10.0, 30.0, 20.0, 5.0, 7.0, 1.0],
        }
    )


def test_exact_values(tx: pd.DataFrame) -> None:
    X = build_features(tx, as_of="2024-02-10", config=FeatureConfig(windows=(10, 30)))
    assert list(X.index) == [1, 2]
    expected = pd.DataFrame(
        {
            "recency_days": [10.0, 36.0],
            "tenure_days": [40.0, 36.0],
            "n_orders": [3.0, 1.0],
            "spend": [60.0, 12.0],
            "aov": [20.0, 12.0],
            "n_orders_10d": [1.0, 0.0],
            "spend_10d": [20.0, 0.0],
            "n_orders_30d": [2.0, 0.0],
            "spend_30d": [50.0, 0.0],
        },
        index=pd.Index([1, 2], name="customer_id"),
    )
    pd.testing.assert_frame_equal(X[expected.columns], expected)


def test_window_start_is_inclusive(tx: pd.DataFrame) -> None:
    # 2024-01-31 is exactly 10 days before as_of: inside [as_of - 10d, as_of)
    X = build_features(tx, as_of="2024-02-10", config=FeatureConfig(windows=(10,)))
    assert X.loc[1, "n_orders_10d"] == 1.0
    X = build_features(tx, as_of="2024-02-10 00:00:01", config=FeatureConfig(windows=(10,)))
    assert X.loc[1, "n_orders_10d"] == 0.0


def test_order_id_groups_lines_and_uses_first_line_time() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "order_id": ["o1", "o1", "o2"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"]),
            "amount": [1.0, 2.0, 4.0],
        }
    )
    X = build_features(tx, as_of="2024-01-11")
    assert X.loc["a", "n_orders"] == 2.0
    assert X.loc["a", "aov"] == 3.5
    assert X.loc["a", "tenure_days"] == 10.0
    assert X.loc["a", "ipi_median"] == 4.0  # from o1's first line to o2
    # an order straddling as_of keeps only its lines before as_of
    X = build_features(tx, as_of="2024-01-02")
    assert X.loc["a", "spend"] == 1.0
    assert np.isnan(X.loc["a", "ipi_mean"])
