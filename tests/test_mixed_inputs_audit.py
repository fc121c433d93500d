"""Inputs a retailer's data scientist passes by mistake to the KPIs, features and triggers:
ids of two kinds, Timedeltas for days, repeated names, NumPy scalars (session 41's fuzzing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml import kpis
from loyalty_ml.exceptions import ConfigError, DataError, SchemaError


def _mixed_ids() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [7, "7", 7, 8],
            "timestamp": pd.to_datetime(["2024-02-01", "2024-02-02", "2024-02-03", "2024-02-04"]),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda tx: kpis.summary(tx, period_start="2024-01-01", period_end="2024-03-01"),
        lambda tx: kpis.clv_inputs(tx, period_start="2024-01-01", period_end="2024-03-01"),
        lambda tx: lml.churn_labels(tx, as_of="2024-02-03", horizon_days=1),
        lambda tx: lml.build_features(tx, as_of="2024-02-03"),
    ],
    ids=["summary", "clv_inputs", "churn_labels", "build_features"],
)
def test_ids_of_two_kinds_are_refused(call: object) -> None:
    """7 and "7" counted as two customers (summary's active customers 3 for 2), where
    validate_transactions reads them as one."""
    with pytest.raises(SchemaError, match=r"customer_id mixes kinds of id \(int, str\)"):
        call(_mixed_ids())  # type: ignore[operator]
    validated = lml.validate_transactions(_mixed_ids())
    out = kpis.summary(validated, period_start="2024-01-01", period_end="2024-03-01")
    assert out["active_customers"] == 2


def _tiers_tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]),
            "amount": [5.0, 50.0, 500.0, 60.0],
        }
    )


def test_a_tier_named_twice_is_refused() -> None:
    """Both 'base' rows got the combined count: 7 members for 4 customers."""
    tiers = pd.DataFrame(
        {"min_value": [-np.inf, 10.0, 100.0], "max_value": [10.0, 100.0, np.inf]},
        index=["base", "base", "gold"],
    )
    benefits = {"base": kpis.TierBenefit(), "gold": kpis.TierBenefit()}
    with pytest.raises(ConfigError, match=r"tiers lists \['base'\] more than once"):
        kpis.estimate_tier_costs(_tiers_tx(), tiers, benefits=benefits, as_of="2024-07-01")


def test_tier_bounds_written_as_text_are_read_as_numbers() -> None:
    """Compared as text, "100" < "20": the ranges were refused as overlapping."""
    tiers = pd.DataFrame(
        {"min_value": ["-inf", "20", "100"], "max_value": ["20", "100", "inf"]},
        index=["base", "silver", "gold"],
    )
    benefits = {t: kpis.TierBenefit() for t in tiers.index}
    out = kpis.estimate_tier_costs(_tiers_tx(), tiers, benefits=benefits, as_of="2024-07-01")
    assert out["members"].tolist() == [1, 2, 1]
    words = tiers.assign(max_value=["20", "lots", "inf"])
    with pytest.raises(ConfigError, match=r"tiers.max_value holds values that are not numbers"):
        kpis.estimate_tier_costs(_tiers_tx(), words, benefits=benefits, as_of="2024-07-01")


def test_tiers_over_refunds_only_are_a_data_error() -> None:
    refunds = _tiers_tx().assign(amount=-5.0)
    with pytest.raises(DataError, match=r"no purchase in the 365 days .* only refunds"):
        kpis.propose_tiers(refunds, as_of="2024-07-01")


@pytest.mark.parametrize("function", [kpis.active_members, kpis.propose_tiers])
def test_windows_past_ten_years_are_refused(function: object) -> None:
    """200,000 days overflowed pandas' Timedelta (OutOfBoundsTimedelta)."""
    with pytest.raises(ConfigError, match=r"window_days must be an int from 1 to 3,650"):
        function(_tiers_tx(), as_of="2024-07-01", window_days=200_000)  # type: ignore[operator]


def test_points_liability_of_large_balances_does_not_wrap() -> None:
    out = kpis.points_liability(
        pd.Series([2**62] * 3, dtype="int64"), point_value=1.0, breakage_rate=0.2
    )
    assert out["points_outstanding"] == pytest.approx(3 * 2.0**62)


def test_trigger_policy_reads_timedelta_recency_as_days() -> None:
    """Timedeltas were read as nanoseconds: every customer 'lost', no contact."""
    data = lml.datasets.simulate(n_customers=300, seed=0)
    X = lml.build_features(data.transactions, as_of="2024-06-30")
    p = pd.Series(0.5, index=X.index)
    policy = lml.TriggerPolicy(sleep_days=60, churn_days=120)
    days = policy.assign(X, p)
    as_timedelta = X.assign(recency_days=pd.to_timedelta(X["recency_days"], unit="D"))
    pd.testing.assert_frame_equal(policy.assign(as_timedelta, p), days)
    assert (days["boundary_state"] != "lost").any()


def test_threshold_for_capacity_refuses_both_columns_of_predict_proba() -> None:
    """A (n, 2) array was flattened: 2n values, the wrong threshold."""
    p = np.column_stack([np.linspace(0.9, 0.1, 20), np.linspace(0.1, 0.9, 20)])
    with pytest.raises(DataError, match=r"p has shape \(20, 2\)"):
        lml.threshold_for_capacity(p, k=5)
    assert lml.threshold_for_capacity(p[:, 1:], k=5) == lml.threshold_for_capacity(p[:, 1], k=5)
