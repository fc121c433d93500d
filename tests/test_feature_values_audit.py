"""Audit of feature VALUES against hand computations on tiny tables.

Families: basket, price, channel, rhythm, trends, campaign and attributes. Each expected number
below was computed by hand from the module docstrings; the last tests guard defects an audit found
(narrow integer codes overflowing, shares pushed out of [0, 1] by kept returns).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import validate_transactions
from loyalty_ml.features import FeatureConfig, build_features

AS_OF = "2024-03-25"
CONFIG = FeatureConfig(windows=(30,), trend_window_days=30)


def _lines() -> pd.DataFrame:
    """Four customers; returns and zero amounts kept by validation."""
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 1, 2, 2, 3, 4, 4],
            "order_id": ["A", "A", "A", "B", "B", "C", "D", "E", "F", "G"],
            "timestamp": [
                "2024-03-01 10:00",
                "2024-03-01 10:00",
                "2024-03-01 10:00",
                "2024-03-05 00:00",
                "2024-03-05 00:00",
                "2024-03-02 00:00",  # C and D: two orders at the same instant
                "2024-03-02 00:00",
                "2024-01-15 00:00",  # a one-order customer outside both trend windows
                "2024-02-10 00:00",  # previous trend window only
                "2024-03-20 00:00",  # a return in its own order, latest window
            ],
            "amount": [10.0, 20.0, -5.0, 0.0, 40.0, 8.0, 12.0, 30.0, 50.0, -60.0],
            "quantity": [1.0, 2.0, -1.0, np.nan, 4.0, 1.0, 1.0, 3.0, 1.0, -1.0],
            "discount": [0.0, 5.0, np.nan, 2.0, 0.0, 1.0, 0.0, 0.0, 10.0, 0.0],
            "margin": [3.0, 6.0, -1.0, 0.0, 4.0, 2.0, 6.0, 9.0, 20.0, -20.0],
            "category": ["x", "y", "y", "x", "z", "x", "x", "z", "y", "y"],
            "product_id": ["p1", "p2", "p2", "p1", "p3", "p1", "p4", "p3", "p2", "p2"],
            "channel": ["web", "web", "web", "store", "store", "app", "web", "store", "web", "web"],
            "store_id": [1, 1, 1, 2, 2, 3, 3, 1, 2, 2],
        }
    )
    return validate_transactions(raw, returns="keep", zero_amounts="keep")


# -- checked by hand and right -------------------------------------------------------------------


def test_basket_price_channel_values_by_hand() -> None:
    X = build_features(_lines(), as_of=AS_OF, config=CONFIG)
    c1 = X.loc[1]
    # categories by purchase line (the -5 return left out, the 0 line in): x 2, y 1, z 1
    entropy = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    assert c1["n_categories"] == 3.0
    assert c1["category_entropy"] == pytest.approx(entropy)
    # category margin rates over all rows: x 11/30, y 5/5 (high), z 13/70 (not high)
    # shares are over purchase lines (10 + 20 + 40 = 70; the -5 return and the 0 line left out)
    assert c1["high_margin_share"] == pytest.approx(30 / 70)  # x 10 and y 20 are high-margin
    assert c1["margin_rate"] == pytest.approx(12 / 65)
    assert c1["n_products"] == 3.0
    # (1 + 2 - 1 + 4) / 2 orders: the line without a quantity is left out
    assert c1["items_per_order"] == 3.0
    assert c1["discount_share"] == pytest.approx(20 / 70)  # purchase lines with discount > 0: 20
    # over the purchase lines (10, 20, 0, 40; the -5 return is not one): NaN discount is none
    assert c1["discount_depth"] == pytest.approx(7 / 77)
    assert c1["channel_share_web"] == 0.5
    assert c1["channel_share_store"] == 0.5
    assert c1["channel_share_app"] == 0.0
    assert c1["n_channels"] == 2.0
    assert c1["n_stores"] == 2.0
    assert X.loc[2, "channel_share_app"] == 0.5  # two orders at the same instant, one each
    assert X.loc[2, "n_stores"] == 1.0
    assert X.loc[2, "high_margin_share"] == 1.0
    assert X.loc[3, "high_margin_share"] == 0.0
    assert X.loc[3, "category_entropy"] == 0.0
    # 50 paid after 10 off, then returned in an order of its own: the depth of what was bought
    assert X.loc[4, "discount_depth"] == pytest.approx(10 / 60)
    assert set(X.dtypes.astype(str)) == {"float64"}


def test_rhythm_and_trend_values_by_hand() -> None:
    X = build_features(_lines(), as_of=AS_OF, config=CONFIG)
    assert X.loc[1, "ipi_mean"] == pytest.approx(3 + 14 / 24)
    assert X.loc[1, "overdue_ratio"] == pytest.approx(20 / (3 + 14 / 24))
    assert X.loc[1, "days_overdue"] == pytest.approx(20 - (3 + 14 / 24))
    # two orders at one instant: interval 0, ratio and cv NaN, days_overdue = recency
    assert X.loc[2, "ipi_median"] == 0.0
    assert np.isnan(X.loc[2, "overdue_ratio"])
    assert np.isnan(X.loc[2, "ipi_cv"])
    assert X.loc[2, "days_overdue"] == 23.0
    assert X.loc[3, ["ipi_mean", "ipi_median", "ipi_std", "overdue_ratio"]].isna().all()
    # latest [02-24, 03-25), previous [01-25, 02-24)
    assert X.loc[1, ["freq_trend", "spend_trend"]].tolist() == [1.0, 1.0]
    assert np.isnan(X.loc[1, "aov_trend"])  # no previous order
    # the return in an order of its own (03-20) is not an order: it joins the 02-10 purchase, so
    # the customer is not recent, and the latest window has no order
    assert X.loc[4, ["n_orders", "recency_days"]].tolist() == [1.0, 44.0]
    assert X.loc[4, "n_orders_prev_30d"] == 1.0
    assert X.loc[4, "freq_trend"] == -1.0
    assert np.isnan(X.loc[4, "spend_trend"])  # previous window nets to -10, counted as 0
    assert np.isnan(X.loc[4, "aov_trend"])  # no order in the latest window


def test_orders_without_order_id_and_trend_window_edges() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1],
            "timestamp": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 09:00", "2024-01-01 18:00", "2024-01-04 09:00"]
            ),
            "amount": [1.0, 2.0, 3.0, 4.0],
            "quantity": [1.0, 1.0, 1.0, 1.0],
        }
    )
    row = build_features(tx, as_of="2024-01-10").loc[1]
    assert row["n_orders"] == 3.0  # same day, different times: distinct orders
    assert row["ipi_mean"] == pytest.approx(1.5)  # 9 h and 63 h
    assert row["ipi_std"] == pytest.approx(1.125)  # population std
    assert row["items_per_order"] == pytest.approx(4 / 3)
    edges = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-31", "2024-03-01"]),
            "amount": [1.0, 2.0, 4.0],
        }
    )
    X = build_features(edges, as_of="2024-03-01", config=CONFIG)
    # 01-31 is exactly as_of - 30 d (latest window), 03-01 is as_of (out)
    assert X.loc[1, "n_orders_prev_30d"] == 1.0
    assert X.loc[1, "freq_trend"] == 0.0
    assert X.loc[1, "aov_trend"] == pytest.approx(1 / 3)


def test_distinct_counts_on_the_sparse_path_match_pandas() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 400, n),
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 100, n), "D"),
            "amount": rng.integers(1, 50, n).astype(float),
            "product_id": rng.integers(0, 2000, n).astype(str),  # 400 x 2000 cells: sparse path
            "category": rng.integers(0, 300, n).astype(str),
            "store_id": rng.integers(0, 400, n),
        }
    )
    X = build_features(tx, as_of="2024-03-01")
    grouped = tx[tx["timestamp"] < "2024-03-01"].groupby("customer_id")
    for feature, column in [
        ("n_products", "product_id"),
        ("n_categories", "category"),
        ("n_stores", "store_id"),
    ]:
        expected = grouped[column].nunique().reindex(X.index).astype(float)
        np.testing.assert_array_equal(X[feature].to_numpy(), expected.to_numpy())


def test_campaign_values_by_hand() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 4],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-05"]),
            "amount": [1.0, 1.0, 1.0],
        }
    )
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 4],
            "offer_id": ["a", "b", "a", "a", "control", "a"],
            "sent_at": pd.to_datetime(
                [
                    "2024-01-05 00:00",
                    "2024-01-10 12:00",
                    "2024-01-05 00:00",
                    "2024-01-31 23:59",
                    "2024-01-20 00:00",
                    "2024-01-10 00:00",
                ]
            ),
            "redeemed_at": pd.to_datetime(
                ["2024-01-06", "2024-02-01", "2024-01-07", None, "2024-01-21", None]
            ),
        }
    )
    X = build_features(tx, as_of="2024-02-01", campaigns=campaigns)
    assert X.index.tolist() == [1, 2]  # customer 4 buys after as_of
    assert X.loc[1, "offers_received"] == 3.0
    assert X.loc[1, "offers_redeemed"] == 2.0  # the redemption exactly at as_of is out
    assert X.loc[1, "redemption_rate"] == pytest.approx(2 / 3)
    assert X.loc[1, "days_since_last_offer"] == 21.5
    assert X.loc[1, "days_since_last_redemption"] == 25.0
    assert X.loc[2, "offers_received"] == 1.0  # control is not an offer
    assert X.loc[2, "days_since_last_offer"] == pytest.approx(1 / 24 / 60)
    assert X.loc[2, "redemption_rate"] == 0.0
    assert np.isnan(X.loc[2, "days_since_last_redemption"])


def test_attribute_values_and_dtypes_by_hand() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"]),
            "amount": [1.0, 1.0, 1.0, 1.0],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 9],
            "signup_date": pd.to_datetime(
                ["2023-12-31 12:00", "2024-02-01 00:00", None, "2020-01-01 00:00"]
            ),
            "tier": ["gold", "silver", None, "bronze"],
            "points_balance": [10, 20, None, 5],
            "vip": [True, False, True, False],
            "region": ["N", "S", None, "E"],
        }
    )
    config = FeatureConfig(
        include_points_balance=True, extra_attributes=("vip", "region"), min_level_customers=1
    )
    X = build_features(tx, as_of="2024-02-01", customers=customers, config=config)
    assert X.loc[1, "signup_tenure_days"] == 31.5
    assert np.isnan(X.loc[2, "signup_tenure_days"])  # signs up exactly at as_of
    assert pd.isna(X.loc[2, "tier"]) and np.isnan(X.loc[2, "points_balance"])
    assert X.loc[2, "vip"] == 0.0  # not a membership attribute: kept
    assert X.loc[4, ["signup_tenure_days", "points_balance", "vip"]].isna().all()
    assert str(X["tier"].dtype) == "category" and str(X["region"].dtype) == "category"
    assert X["region"].cat.categories.tolist() == ["E", "N", "S"]  # the whole table's values
    for column in ("signup_tenure_days", "points_balance", "vip"):
        assert X[column].dtype == np.float64


# -- defects ---------------------------------------------------------------------------------------


def test_narrow_integer_store_ids_are_counted() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": [1.0, 1.0, 1.0],
            "store_id": np.array([-1, 127, 5], dtype="int8"),  # -1: an "unknown store" code
        }
    )
    tx = validate_transactions(raw)  # keeps the int8 dtype
    X = build_features(tx, as_of="2024-01-10")
    assert X["n_stores"].tolist() == [2.0, 1.0]


def _return_inside_order() -> pd.DataFrame:
    # the case validate_transactions documents for returns="keep": a return inside the purchase
    # order it corrects (a discounted, low-margin item bought, another item returned)
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "order_id": ["A", "A"],
            "timestamp": ["2024-01-05", "2024-01-05"],
            "amount": [50.0, -40.0],
            "discount": [10.0, 0.0],
            "category": ["x", "y"],
            "margin": [5.0, -30.0],
        }
    )
    return validate_transactions(raw, returns="keep")


def test_discount_share_stays_a_share_with_a_return_in_the_order() -> None:
    X = build_features(_return_inside_order(), as_of="2024-02-01")
    share = X.loc[1, "discount_share"]
    assert np.isnan(share) or 0.0 <= share <= 1.0, share


def test_high_margin_share_stays_a_share_with_a_return_in_the_order() -> None:
    X = build_features(_return_inside_order(), as_of="2024-02-01")
    share = X.loc[1, "high_margin_share"]
    assert np.isnan(share) or 0.0 <= share <= 1.0, share
