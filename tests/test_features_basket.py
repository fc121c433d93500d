"""Basket breadth features: exact values on a tiny frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml.features import FeatureConfig, build_features


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-05",
                    "2024-01-09",
                    "2024-01-02",
                    "2024-01-03",
                    "2024-02-01",  # after as_of: must not move category rates
                ]
            ),
            "amount": [10.0, 20.0, 10.0, 40.0, 5.0, 5.0, 100.0],
            "category": ["a", "b", "a", "c", "b", None, "b"],
            "margin": [5.0, 2.0, 5.0, 8.0, 0.5, np.nan, 90.0],
            "product_id": ["p1", "p2", "p1", "p3", "p2", "p4", "p9"],
            "quantity": [1.0, 2.0, 1.0, 4.0, 1.0, 1.0, 1.0],
        }
    )


def test_exact_values() -> None:
    X = build_features(_tx(), as_of="2024-01-20", config=FeatureConfig(high_margin_threshold=0.2))
    # customer 1: lines a, b, a, c -> p = (1/2, 1/4, 1/4)
    assert X.loc[1, "n_categories"] == 3.0
    assert np.isclose(X.loc[1, "category_entropy"], -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25)))
    # category margin rates before as_of: a 10/20 = .5, b 2.5/25 = .1, c 8/40 = .2 (>= .2: high)
    assert np.isclose(X.loc[1, "high_margin_share"], (10 + 10 + 40) / 80)
    assert np.isclose(X.loc[1, "margin_rate"], 20 / 80)
    assert X.loc[1, "n_products"] == 3.0
    assert X.loc[1, "items_per_order"] == 8.0 / 3  # 3 orders (two lines share a timestamp)
    # customer 2: one categorised line (b), one missing; the line without a margin is left out
    # of the rate (0.5 on 5), not read as sold at no margin (0.5 on 10)
    assert X.loc[2, "n_categories"] == 1.0
    assert X.loc[2, "category_entropy"] == 0.0
    assert X.loc[2, "high_margin_share"] == 0.0
    assert X.loc[2, "margin_rate"] == 0.1
    assert X.loc[2, "n_products"] == 2.0


def test_threshold_moves_the_high_margin_set() -> None:
    X = build_features(_tx(), as_of="2024-01-20", config=FeatureConfig(high_margin_threshold=0.3))
    assert np.isclose(X.loc[1, "high_margin_share"], 20 / 80)  # only a


def test_each_column_needs_its_input() -> None:
    tx = _tx()
    X = build_features(tx.drop(columns=["margin", "product_id"]), as_of="2024-01-20")
    assert {"n_categories", "category_entropy", "items_per_order"} <= set(X.columns)
    assert not {"high_margin_share", "margin_rate", "n_products"} & set(X.columns)
    X = build_features(tx.drop(columns=["category", "quantity"]), as_of="2024-01-20")
    assert {"margin_rate", "n_products"} <= set(X.columns)
    assert not {"n_categories", "category_entropy", "high_margin_share", "items_per_order"} & set(
        X.columns
    )


def test_customer_without_categorised_lines_has_nan_entropy() -> None:
    tx = _tx().assign(category=lambda f: f["category"].where(f["customer_id"] != 2))
    X = build_features(tx, as_of="2024-01-20")
    assert X.loc[2, "n_categories"] == 0.0
    assert np.isnan(X.loc[2, "category_entropy"])
