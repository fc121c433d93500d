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
@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
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
    with pytest.raises(
        ConfigError, match=r"'window_days' parameter of \w+ must be an int from 1 to 3,650"
    ):
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


def test_clv_reads_numbers_written_as_text() -> None:
    """aov "10" passed the check (read as a number) and was repeated as text: '1010'."""
    aov = pd.Series(["10", "20"], index=pd.Index([1, 2], name="customer_id"))
    assert kpis.clv_lifetime(aov=aov, purchase_frequency=2, lifetime=1).tolist() == [20.0, 40.0]
    out = kpis.clv_margin_churn(aov=aov, purchase_frequency=2, margin_rate=0.5, churn_rate=0.5)
    assert out.tolist() == [20.0, 40.0]
    margins = pd.DataFrame({"y1": ["10", "5"], "y2": [10.0, 5.0]}, index=aov.index)
    found = kpis.clv_discounted(margins, discount_rate=0.0)
    assert found.tolist() == [20.0, 10.0]


def test_clv_margins_with_a_repeated_period_are_refused() -> None:
    margins = pd.DataFrame([[10.0, 12.0], [5.0, 6.0]], columns=["2025", "2025"], index=[1, 2])
    with pytest.raises(SchemaError, match=r"margins has repeated columns \['2025'\]"):
        kpis.clv_discounted(margins, discount_rate=0.1)


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_kpis_take_transactions_indexed_by_their_own_column() -> None:
    """set_index("customer_id", drop=False): 'both an index level and a column label' crashed."""
    tx = _tiers_tx()
    flat = kpis.summary(tx, period_start="2024-02-01", period_end="2024-04-01")
    for column in ("customer_id", "timestamp"):
        indexed = tx.set_index(column, drop=False)
        out = kpis.summary(indexed, period_start="2024-02-01", period_end="2024-04-01")
        pd.testing.assert_series_equal(out, flat)
        kpis.cohort_retention(indexed)
        kpis.propose_tiers(indexed, as_of="2024-07-01")


def test_rfm_refuses_a_repeated_axis_column_and_reads_numpy_edges() -> None:
    X = pd.DataFrame(
        {"recency_days": [1.0, 5, 9, 30], "n_orders": [9.0, 3, 3, 1], "spend": [90.0, 30, 40, 5]},
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    with pytest.raises(SchemaError, match=r"several columns named \['spend'\]"):
        lml.rfm_segments(pd.concat([X, X[["spend"]]], axis=1))
    edges = lml.rfm_edges(X)
    numpy_edges = type(edges)(
        recency_days=tuple(np.float64(e) for e in edges.recency_days),  # type: ignore[arg-type]
        n_orders=tuple(np.int64(e) for e in edges.n_orders),  # type: ignore[arg-type]
        spend=edges.spend,
    )
    assert numpy_edges == edges
    as_timedelta = X.assign(recency_days=pd.to_timedelta(X["recency_days"], unit="D"))
    assert lml.rfm_edges(as_timedelta) == edges


def test_boundary_settings_take_numpy_scalars() -> None:
    data = lml.datasets.simulate(n_customers=300, seed=0)
    found = lml.estimate_boundaries(
        data.transactions,
        as_of="2024-06-30",
        min_at_risk=np.int64(30),
        sleep_level=np.float32(0.75),
    )
    plain = lml.estimate_boundaries(
        data.transactions, as_of="2024-06-30", min_at_risk=30, sleep_level=0.75
    )
    assert found.sleep_days == plain.sleep_days
    recency = pd.Series([10.0, 400.0])
    pd.testing.assert_series_equal(
        plain.state(recency, winback_days=np.int64(90)), plain.state(recency, winback_days=90)
    )


def test_segment_migration_refuses_ids_of_two_kinds_for_some_customers() -> None:
    """Only the 'no id shared at all' case was refused: 3 and '3' counted as gone and new."""
    then = pd.DataFrame(
        {"recency_days": [1.0, 5, 9, 30], "n_orders": [9.0, 3, 3, 1], "spend": [90.0, 30, 40, 5]},
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    now = then.set_axis(pd.Index([1, 2, "3", "4"], dtype=object, name="customer_id"))
    with pytest.raises(SchemaError, match=r"customers \(customer_id\) \['3', '4'\]"):
        lml.segment_migration(then, now)


def test_retention_curves_do_not_depend_on_row_order() -> None:
    data = lml.datasets.simulate(n_customers=200, seed=1)
    tx = data.transactions
    ids = tx["customer_id"].unique()
    groups = pd.Series(["north", "south", "east"] * len(ids), dtype=object).iloc[: len(ids)]
    groups.index = pd.Index(ids, name="customer_id")
    forward = kpis.retention_curves(tx, groups=groups)
    backward = kpis.retention_curves(tx.iloc[::-1], groups=groups)
    assert list(forward.columns) == ["east", "north", "south"]
    pd.testing.assert_frame_equal(forward, backward)


def test_cohorts_of_an_empty_table_say_it_is_empty() -> None:
    empty = _tiers_tx().iloc[:0]
    with pytest.raises(DataError, match=r"no purchase \(the table has no rows\)"):
        kpis.cohort_retention(empty)
