"""Audit: a marketplace of one-off buyers and a fashion shop with heavy returns.

Synthetic shops (85-97% of customers buying once; 35% of orders with a return 2-30 days later and
half the lines discounted) went through the README flow. Checked and right: with returns inside
their purchase orders, features, labels and boundaries are the same under ``returns="drop"`` and
``"keep"``; labels never count a return-only order as a purchase; RFM classes with massive ties
split as documented (no NaN thresholds); one-off buyers get "has bought only once" reasons; the
churn model learns from rhythm and recency, not tenure alone (AUC 0.66-0.76 among one-order buyers).

Defects found, fixed, and kept as regression tests:

- a return line reversing its discount (amount -40, discount -10, as refund exports write it) was
  refused as a "surcharge", with ``returns="drop"`` too (9,391 such lines blocked a whole export);
- ``discount_depth`` with kept returns read a line bought at 20% off and returned as 1.0 (75
  customers at 0.5 or more where the deepest real discount was 0.30);
- ``threshold_for_capacity`` asked for 300 customers selected none, silently, when an isotonic
  calibrator put 1,343 customers on one probability;
- with ``returns="keep"``, the KPIs (summary, active_members, cohorts, clv_inputs, tier visits)
  counted a return line as activity and as an order in the period of the return, where features and
  labels count an order at its first line's time and never a return alone as a purchase (on the
  fashion shop's Q3: 1,105 active customers, 3,917 orders, retention 0.704, against 1,076, 3,659 and
  0.693 by order time; ``clv_inputs`` gave a customer an AOV of -20 that ``clv_lifetime`` refused).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning, SchemaError


def _refund_export() -> pd.DataFrame:
    """Customer 1 buys a line for 40 after a 10 discount, then returns it, reversing both."""
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "order_id": ["A", "A", "B"],
            "timestamp": ["2024-01-02", "2024-01-20", "2024-01-03"],
            "amount": [40.0, -40.0, 25.0],
            "discount": [10.0, -10.0, 0.0],
        }
    )


def test_a_return_line_may_reverse_its_discount() -> None:
    tx, report = lml.validate_transactions(_refund_export(), return_report=True)
    assert len(tx) == 2 and report.removed("negative_amount") == 1
    kept = lml.validate_transactions(_refund_export(), returns="keep")
    assert sorted(kept["discount"]) == [-10.0, 0.0, 10.0]


def test_a_negative_discount_on_a_purchase_line_is_still_refused() -> None:
    raw = _refund_export()
    raw.loc[2, "discount"] = -5.0  # customer 2's purchase: a surcharge, not a refund
    with pytest.raises(SchemaError, match=r"cannot be negative; got \[-5.0\]"):
        lml.validate_transactions(raw, returns="keep")


@pytest.mark.parametrize("returned_discount", [10.0, -10.0])  # unsigned, or reversed with the line
def test_discount_depth_is_the_depth_of_what_was_bought_when_returns_are_kept(
    returned_discount: float,
) -> None:
    raw = _refund_export().assign(discount=[10.0, returned_discount, 0.0])
    raw.loc[2, ["amount", "discount"]] = [40.0, 10.0]  # customer 2 keeps the same line
    kept = lml.validate_transactions(raw, returns="keep")
    X = lml.build_features(kept, as_of="2024-02-01")
    assert X.loc[1, "discount_depth"] == pytest.approx(0.2)
    assert X.loc[2, "discount_depth"] == pytest.approx(0.2)
    dropped = lml.build_features(lml.validate_transactions(raw), as_of="2024-02-01")
    assert dropped.loc[1, "discount_depth"] == pytest.approx(0.2)


def test_capacity_lost_to_tied_probabilities_is_warned_about() -> None:
    p = np.r_[np.full(1_343, 0.99956), np.linspace(0.2, 0.9, 1_339)]
    with pytest.warns(DataQualityWarning, match="1343 customers share the score 0.99956") as got:
        threshold = lml.threshold_for_capacity(p, 300)
    assert (p >= threshold).sum() == 0
    assert "predict_proba_uncalibrated" in str(got[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a small tie at the cut costs a few places, not half the capacity: quiet
        q = np.r_[np.linspace(0.5, 0.99, 290), np.full(20, 0.4), np.linspace(0.0, 0.3, 500)]
        assert (q >= lml.threshold_for_capacity(q, 300)).sum() == 290


def _return_in_july() -> pd.DataFrame:
    """Customer 1 buys on June 28 and returns a line of that order on July 5; 2 buys twice."""
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2],
            "order_id": ["A", "A", "A", "B", "C"],
            "timestamp": [
                "2024-06-28 10:00",
                "2024-06-28 10:00",
                "2024-07-05 12:00",
                "2024-06-20",
                "2024-07-20",
            ],
            "amount": [40.0, 20.0, -20.0, 30.0, 30.0],
        }
    )
    return lml.validate_transactions(raw, returns="keep")


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_a_kept_return_is_not_activity_in_the_kpis() -> None:
    tx = _return_in_july()
    labels = lml.churn_labels(tx, as_of="2024-07-01", horizon_days=30, observation_end="2024-08-01")
    assert labels.to_dict() == {1: 1, 2: 0}
    july = lml.kpis.summary(
        tx, period_start="2024-07-01", period_end="2024-08-01", previous_start="2024-06-01"
    )
    assert july["active_customers"] == 1 and july["orders"] == 1, july.to_dict()
    assert july["retention_rate"] == pytest.approx(0.5), july.to_dict()
    assert july["revenue"] == pytest.approx(10.0)  # net of the return, at its own time
    members = lml.kpis.active_members(tx, as_of="2024-08-01", window_days=31)
    assert members.tolist() == [2.0, 1.0, 0.5]
    assert lml.kpis.cohort_counts(tx, freq="M").loc["2024-06"].tolist() == [2.0, 1.0]
    inputs = lml.kpis.clv_inputs(tx, period_start="2024-07-01", period_end="2024-08-01")
    assert inputs.index.tolist() == [2] and inputs.loc[2, "aov"] == 30.0


def test_without_returns_the_kpis_read_the_table_as_it_is() -> None:
    tx = _return_in_july()
    bought = tx.loc[tx["amount"] >= 0]
    from loyalty_ml.kpis._common import purchase_lines

    assert purchase_lines(bought) is bought
