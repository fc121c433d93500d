"""Price sensitivity features: exact values on a tiny frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.features import build_features


def test_exact_values() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
            "amount": [30.0, 50.0, 20.0, 10.0],
            "discount": [10.0, 0.0, np.nan, 0.0],
        }
    )
    X = build_features(tx, as_of="2024-02-01")
    assert X.loc[1, "discount_share"] == 0.3
    assert X.loc[1, "discount_depth"] == 10.0 / 110.0
    assert (X.loc[2, "discount_share"], X.loc[2, "discount_depth"]) == (0.0, 0.0)


def test_absent_without_discount_column() -> None:
    tx = pd.DataFrame(
        {"customer_id": [1], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}
    )
    X = build_features(tx, as_of="2024-02-01")
    assert "discount_share" not in X.columns
