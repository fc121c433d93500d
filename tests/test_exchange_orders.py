"""Orders that start with a return and are paid later (an exchange): split at the first purchase
line, and then read in the order of their times (session 42, defects found by an audit of the
features against a pandas reference)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning


def _features(tx: pd.DataFrame, as_of: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return lml.build_features(tx, as_of=as_of)


def test_a_refund_between_an_exchange_and_its_payment_joins_the_purchase_before() -> None:
    """Refund C (03-12) joined the purchase part of B, dated 04-20, after as_of: recency -36."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1],
            "order_id": ["A", "B", "B", "C"],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-10", "2024-04-20", "2024-03-12"]),
            "amount": [10.0, -3.0, 20.0, -2.0],
        }
    )
    X = _features(tx, "2024-03-15")
    row = X.loc[1]
    assert (row["recency_days"], row["tenure_days"], row["n_orders"]) == (14.0, 14.0, 1.0)
    assert row["spend"] == pytest.approx(5.0)
    # the row after as_of changes nothing at as_of
    pd.testing.assert_frame_equal(X, _features(tx[tx["timestamp"] < "2024-03-15"], "2024-03-15"))


def test_a_customer_whose_only_purchase_comes_later_is_not_a_customer_yet() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [2, 2, 2, 3, 3],
            "order_id": ["B", "B", "C", "D", "E"],
            "timestamp": pd.to_datetime(
                ["2024-03-10", "2024-04-20", "2024-03-12", "2024-03-01", "2024-05-01"]
            ),
            "amount": [-3.0, 20.0, -2.0, 5.0, 5.0],
        }
    )
    X = _features(tx, "2024-03-15")
    assert X.index.tolist() == [3]
    labels = lml.churn_labels(tx, as_of="2024-03-15", horizon_days=30)
    assert labels.index.tolist() == [3]
    X_train, y_train = lml.training_table(tx, cutoffs=["2024-03-15"], horizon_days=30)
    assert X_train.index.get_level_values("customer_id").tolist() == [3]
    assert len(y_train) == 1


def test_an_order_inside_an_exchange_keeps_the_orders_in_time_order() -> None:
    """B: a return on 02-06, paid on 03-09; A on 03-04 lies in between. Recency and tenure were
    swapped and the gap between the two orders read -4.96 days."""
    tx = pd.DataFrame(
        {
            "customer_id": [2, 2, 2],
            "order_id": ["B", "A", "B"],
            "timestamp": pd.to_datetime(
                ["2024-02-06 10:00", "2024-03-04 11:00", "2024-03-09 10:00"]
            ),
            "amount": [-3.0, 20.0, 20.0],
        }
    )
    row = _features(tx, "2024-05-16").loc[2]
    assert row["recency_days"] == pytest.approx(67 + 14 / 24)
    assert row["tenure_days"] == pytest.approx(72 + 13 / 24)
    assert row["ipi_mean"] == pytest.approx(4 + 23 / 24)
    assert row["ipi_median"] == pytest.approx(4 + 23 / 24)
    assert row["ipi_std"] == 0.0


def test_boundaries_read_an_exchange_spanning_other_orders() -> None:
    """A negative gap between orders stopped estimate_boundaries with a raw NumPy ValueError."""
    rng = np.random.default_rng(0)
    rows = []
    for c in range(80):
        t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=float(rng.uniform(0, 30)))
        for k in range(5):
            rows.append((c, f"{c}-{k}", t, 10.0))
            t += pd.Timedelta(days=float(rng.exponential(10)))
    rows += [(0, "X", pd.Timestamp("2023-12-01"), -3.0), (0, "X", pd.Timestamp("2024-12-01"), 5.0)]
    tx = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        bounds = lml.estimate_boundaries(tx)
        plain = lml.estimate_boundaries(tx[tx["order_id"] != "X"])
    assert 0 < bounds.sleep_days <= bounds.churn_days
    assert abs(bounds.churn_days - plain.churn_days) <= 3


def test_a_refund_at_the_instant_of_an_order_does_not_change_its_channel() -> None:
    t = pd.Timestamp("2024-03-01 12:00")
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "order_id": ["P1", "P2", "R1"],
            "timestamp": [pd.Timestamp("2024-02-01"), t, t],
            "amount": [10.0, 30.0, -5.0],
            "channel": ["web", "web", "app"],
        }
    )
    row = _features(tx, "2024-04-01").loc[1]
    assert row["channel_share_web"] == 1.0
    assert row["channel_share_app"] == 0.0
    assert row["n_channels"] == 1.0  # bought in one channel; the app saw a refund only


def test_a_refund_in_another_category_product_or_store_adds_no_breadth() -> None:
    # n_channels left refunds out; n_categories, category_entropy, n_products and n_stores counted
    # them (2, 0.693, 2, 2 for a customer who bought in one of each)
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "order_id": ["A1", "R1"],
            "timestamp": [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-20")],
            "amount": [30.0, -8.0],
            "category": ["bakery", "toys"],
            "product_id": ["p1", "p9"],
            "store_id": ["s1", "s2"],
            "channel": ["web", "store"],
        }
    )
    row = _features(tx, "2024-02-01").loc[1]
    assert row[["n_categories", "n_products", "n_stores", "n_channels"]].tolist() == [1, 1, 1, 1]
    assert row["category_entropy"] == 0.0
