"""Audit of the fairness report, the churn triggers and the activity boundaries on messy inputs.

Regression tests for defects an audit found: each asserts the behaviour a user needs (a correct
number, or a clear loyalty_ml error) where the library used to drop customers, mislabel or crash.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.fairness import FairnessLimits, fairness_report
from loyalty_ml.exceptions import ConfigError, DataError, LoyaltyMLError, SchemaError
from loyalty_ml.features.boundaries import estimate_boundaries
from loyalty_ml.policy.triggers import TriggerPolicy

ONE = FairnessLimits(min_group_size=1)
T0 = pd.Timestamp("2024-01-01")


# -- fairness report ------------------------------------------------------------------------------
def test_codes_mixing_int_and_float_keep_every_customer() -> None:
    # two store exports concatenated: one wrote the region code as int, the other as float
    region = pd.concat(
        [pd.Series([1, 2, 1], dtype=object), pd.Series([1.0, 2.0, 1.0], dtype=object)],
        ignore_index=True,
    )
    ids = pd.Index(range(6), name="customer_id")
    sensitive = pd.DataFrame({"region": region.to_numpy()}, index=ids)
    y_score = pd.Series([0.9, 0.1, 0.8, 0.2, 0.7, 0.3], index=ids)
    try:
        report = fairness_report(sensitive, y_score=y_score, limits=ONE)
    except SchemaError:
        return  # refusing the mixed column with a clear error is fine too
    assert report.by_group["count"].sum() == 6


def test_threshold_outside_the_probability_range_is_refused() -> None:
    ids = pd.Index(range(8), name="customer_id")
    sensitive = pd.Series(list("aaaabbbb"), index=ids, name="gender")
    y_true = pd.Series([0, 0, 0, 1, 0, 0, 0, 1], index=ids)
    y_score = pd.Series([0.9, 0.8, 0.7, 0.9, 0.3, 0.2, 0.2, 0.3], index=ids)
    # at 0.6 the gap is total: group a is always selected, group b never
    assert not fairness_report(
        sensitive, y_true=y_true, y_score=y_score, threshold=0.6, limits=ONE
    ).passed
    with pytest.raises(ConfigError, match="threshold"):
        fairness_report(sensitive, y_true=y_true, y_score=y_score, threshold=60, limits=ONE)


def test_calibration_gap_has_no_ratio() -> None:
    ids = pd.Index(range(8), name="customer_id")
    sensitive = pd.Series(list("aaaabbbb"), index=ids, name="gender")
    y_true = pd.Series([0, 0, 0, 1, 0, 0, 0, 1], index=ids)
    y_score = pd.Series([0.9, 0.8, 0.7, 0.9, 0.3, 0.2, 0.2, 0.3], index=ids)
    summary = fairness_report(sensitive, y_true=y_true, y_score=y_score, limits=ONE).summary
    assert summary.loc[("gender", "calibration_gap"), "difference"] == pytest.approx(0.575)
    assert np.isnan(summary.loc[("gender", "calibration_gap"), "ratio"])


# -- boundaries -----------------------------------------------------------------------------------
def _weekly_meal_kit() -> pd.DataFrame:
    """200 subscribers ordering every 7 days for a year, 100 who stopped after a few weeks."""
    rng = np.random.default_rng(0)
    rows = []
    for customer in range(300):
        n_orders = 52 if customer < 200 else int(rng.integers(2, 10))
        for k in range(n_orders):
            hour = int(rng.integers(8, 20))
            rows.append((customer, T0 + pd.Timedelta(days=7 * k, hours=hour)))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp"]).assign(amount=10.0)


def test_boundaries_of_a_weekly_rhythm_can_drive_the_trigger_policy() -> None:
    bounds = estimate_boundaries(_weekly_meal_kit())
    assert bounds.sleep_days < bounds.churn_days
    policy = TriggerPolicy(boundaries=bounds)
    assert policy.resolved_boundaries() == (bounds.sleep_days, bounds.churn_days)


def _mostly_two_order_shop() -> pd.DataFrame:
    """Most customers order exactly twice (a starter kit and one refill): churn(1) < churn(2)."""
    rng = np.random.default_rng(0)
    counts = np.r_[np.full(100, 1), np.full(600, 2), np.full(150, 3), np.full(150, 4)]
    rows = []
    for customer, n_orders in enumerate(counts):
        day = rng.uniform(0, 60)
        for _ in range(n_orders):
            rows.append((customer, T0 + pd.Timedelta(days=float(day))))
            day += rng.exponential(10) + 1
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp"])
    # one late customer stretches the observation to a year and a half
    late = pd.DataFrame(
        {
            "customer_id": [9999, 9999],
            "timestamp": [T0 + pd.Timedelta(days=150), T0 + pd.Timedelta(days=520)],
        }
    )
    return pd.concat([tx, late], ignore_index=True).assign(amount=5.0)


def test_frequency_boundaries_when_one_order_customers_churn_least() -> None:
    bounds = estimate_boundaries(_mostly_two_order_shop())
    assert bounds.sleep_days < bounds.churn_days
    first, loyalty = bounds.first_repeat_orders, bounds.loyalty_orders
    assert (first is None) == (loyalty is None)
    if first is not None and loyalty is not None:
        assert first <= loyalty


# -- triggers -------------------------------------------------------------------------------------
X = pd.DataFrame(
    {
        "recency_days": [10.0, 70.0, 150.0, 20.0],
        "n_orders": [5.0, 2.0, 1.0, 3.0],
        "spend": [500.0, 80.0, 20.0, 90.0],
    },
    index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
)


def test_assign_aligns_a_one_column_frame_of_probabilities() -> None:
    p = pd.DataFrame(
        {"churn_probability": [0.1, 0.2, 0.3, 0.9]},
        index=pd.Index(["d", "c", "b", "a"], name="customer_id"),
    )
    try:
        out = TriggerPolicy().assign(X, p)
    except LoyaltyMLError:
        return  # refusing a frame with a clear error is fine too
    expected = p["churn_probability"].reindex(X.index)
    pd.testing.assert_series_equal(out["churn_probability"], expected, check_names=False)


def test_spend_quantile_vip_rule_with_flat_spend_is_not_everyone() -> None:
    ids = pd.Index([f"c{i}" for i in range(20)], name="customer_id")
    flat = pd.DataFrame(
        {"recency_days": np.linspace(1.0, 40.0, 20), "n_orders": 3.0, "spend": 29.97}, index=ids
    )
    policy = TriggerPolicy(vip_rule="spend_quantile", vip_spend_quantile=0.9)
    out = policy.assign(flat, np.full(20, 0.8))
    assert out["valuable"].mean() <= 1 - policy.vip_spend_quantile
    assert (out["channel"] == "call").mean() <= 1 - policy.vip_spend_quantile


def test_assign_names_the_customers_a_probability_series_lacks_or_adds() -> None:
    p = pd.Series([0.1, 0.2, 0.3, 0.9], index=pd.Index(["a", "b", "c", "zz"], name="customer_id"))
    with pytest.raises(DataError, match=r"\['zz'\] only in p, \['d'\] only in X"):
        TriggerPolicy().assign(X, p)
    two = pd.DataFrame({"p0": [0.9] * 4, "p1": [0.1] * 4}, index=X.index)
    with pytest.raises(DataError, match="DataFrame with 2 columns"):
        TriggerPolicy().assign(X, two)


def test_sensitive_by_row_number_is_not_matched_to_customer_ids() -> None:
    # customers[["gender"]] of a table that keeps customer_id as a column (ids 1..4, rows 0..3):
    # matched by label, customer 1 would get row 1's gender, and so on
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "gender": list("FMFM")})
    scores = pd.Series([0.9, 0.2, 0.8, 0.1], index=pd.Index([1, 2, 3, 4], name="customer_id"))
    with pytest.raises(SchemaError, match="indexed by row numbers"):
        fairness_report(customers[["gender"]], y_score=scores, limits=ONE)
    report = fairness_report(
        customers.set_index("customer_id")[["gender"]], y_score=scores, limits=ONE
    )
    assert report.by_group["count"].tolist() == [2, 2]


def test_an_input_indexed_by_row_numbers_is_not_matched_to_customer_ids() -> None:
    # A plan saved to CSV and read back (customer_id became a column) or y_true = pd.Series(labels)
    # defined the audited customers by row number: row i got customer i's attributes, and a
    # 100-point offer gap read as 1 point with the audit passed.
    ids = np.arange(1, 401)
    sensitive = pd.DataFrame(
        {"gender": np.where(ids <= 200, "F", "M")}, index=pd.Index(ids, name="customer_id")
    )
    plan = pd.DataFrame(
        {
            "offer_id": np.where(ids <= 200, "A", None),
            "expected_cost": np.where(ids <= 200, 2.0, 0),
        },
        index=pd.Index(ids, name="customer_id"),
    )
    limits = FairnessLimits(min_group_size=50)
    read_back = plan.sample(frac=1, random_state=0).reset_index()
    with pytest.raises(SchemaError, match="offers is indexed by row numbers"):
        fairness_report(sensitive, offers=read_back, limits=limits)
    with pytest.raises(SchemaError, match="y_true is indexed by row numbers"):
        fairness_report(sensitive, y_true=pd.Series((ids <= 200).astype(int)), limits=limits)
    report = fairness_report(sensitive, offers=read_back.set_index("customer_id"), limits=limits)
    assert report.by_group["offer_rate"].tolist() == [1.0, 0.0]


def test_arrays_are_read_in_the_first_indexed_inputs_order_and_the_message_says_so() -> None:
    ids = pd.Index([1, 2, 3, 4], name="customer_id")
    sensitive = pd.DataFrame({"gender": list("FFMM")}, index=ids)
    y_true = pd.Series([1, 1, 0, 0], index=ids).iloc[::-1]  # customers 4, 3, 2, 1
    with pytest.raises(SchemaError, match="one value per row of y_true, in its order"):
        fairness_report(sensitive, y_true=y_true, y_score=[0.9, 0.8, 0.1], limits=ONE)
    report = fairness_report(sensitive, y_true=y_true, y_score=[0.1, 0.2, 0.8, 0.9], limits=ONE)
    assert report.by_group["mean_score"].tolist() == pytest.approx([0.85, 0.15])
