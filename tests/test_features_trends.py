"""Trend features: exact values on a tiny frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.features import FeatureConfig, build_features


def test_exact_values() -> None:
    # as_of 2024-03-01, T = 10 days: latest [02-20, 03-01), previous [02-10, 02-20)
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 4],
            "timestamp": pd.to_datetime(
                [
                    "2024-02-11",  # previous
                    "2024-02-19",  # previous
                    "2024-02-25",  # latest
                    "2024-02-20",  # latest (window start is inclusive)
                    "2024-02-21",  # latest
                    "2024-02-15",  # previous only
                    "2024-01-01",  # before both windows
                ]
            ),
            "amount": [10.0, 30.0, 60.0, 5.0, 5.0, 8.0, 1.0],
        }
    )
    X = build_features(tx, as_of="2024-03-01", config=FeatureConfig(trend_window_days=10))
    # customer 1: orders 1 vs 2, spend 60 vs 40, aov 60 vs 20
    assert X.loc[1, "n_orders_prev_10d"] == 2.0
    assert np.isclose(X.loc[1, "freq_trend"], (1 - 2) / 3)
    assert np.isclose(X.loc[1, "spend_trend"], (60 - 40) / 100)
    assert np.isclose(X.loc[1, "aov_trend"], (60 - 20) / 80)
    # customer 2: all in the latest window
    assert (X.loc[2, "freq_trend"], X.loc[2, "spend_trend"]) == (1.0, 1.0)
    assert np.isnan(X.loc[2, "aov_trend"])
    # customer 3: stopped
    assert (X.loc[3, "freq_trend"], X.loc[3, "spend_trend"]) == (-1.0, -1.0)
    # customer 4: no order in either window: undefined, not zero
    assert X.loc[4, ["freq_trend", "spend_trend", "aov_trend"]].isna().all()
