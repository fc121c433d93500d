"""Regression tests from an analyst-persona audit of KPIs, cohorts, fairness and plots.

Each test documents a defect reproduced on the current code and is marked xfail(strict=True).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.churn_metrics import evaluate_churn, lift_table
from loyalty_ml.exceptions import LoyaltyMLError
from loyalty_ml.kpis import (
    active_members,
    clv_inputs,
    cohort_retention,
    plot_cohort_heatmap,
    plot_retention_curves,
    summary,
)


def _paris_tx() -> pd.DataFrame:
    """Zone-aware transactions around the 2024 spring-forward day in Europe/Paris."""
    ts = pd.to_datetime(["2024-03-30 10:00", "2024-03-31 12:00", "2024-04-02 09:00"])
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ts.tz_localize("Europe/Paris"),
            "amount": [10.0, 20.0, 30.0],
        }
    )


@pytest.mark.xfail(
    strict=True,
    reason="to_bound: a naive bound that does not exist on the data's clock (DST gap) raises a "
    "bare pandas ValueError instead of a loyalty_ml error",
)
def test_summary_bound_in_dst_gap_is_a_clear_error() -> None:
    with pytest.raises(LoyaltyMLError):
        summary(_paris_tx(), period_start="2024-03-31 02:30", period_end="2024-04-30")


@pytest.mark.xfail(
    strict=True,
    reason="to_bound: an ambiguous naive bound (DST fall-back hour) raises a bare pandas ValueError",
)
def test_cohort_as_of_in_ambiguous_hour_is_a_clear_error() -> None:
    ts = pd.to_datetime(["2023-10-01 10:00", "2023-11-02 10:00"]).tz_localize("Europe/Paris")
    tx = pd.DataFrame({"customer_id": [1, 1], "timestamp": ts, "amount": [1.0, 2.0]})
    with pytest.raises(LoyaltyMLError):
        cohort_retention(tx, as_of="2023-10-29 02:30")


@pytest.mark.xfail(
    strict=True,
    reason="to_bound (shared by active_members, clv_inputs): DST-gap bound gives bare ValueError",
)
def test_active_members_and_clv_inputs_bound_in_dst_gap_are_clear_errors() -> None:
    tx = _paris_tx()
    with pytest.raises(LoyaltyMLError):
        active_members(tx, as_of="2024-03-31 02:30")
    with pytest.raises(LoyaltyMLError):
        clv_inputs(tx, period_start="2024-03-31 02:30", period_end="2024-05-01")


@pytest.mark.xfail(
    strict=True,
    reason="lift_table splits tied scores by row order: a constant score gets a top-decile lift "
    "of 3.33 or 0.0 depending on how rows are sorted (expected 1.0, order-independent)",
)
def test_lift_with_tied_scores_does_not_depend_on_row_order() -> None:
    y = np.array([1] * 30 + [0] * 70)
    p = np.full(100, 0.3)
    forward = lift_table(y, p)["lift"].iloc[0]
    backward = lift_table(y[::-1], p)["lift"].iloc[0]
    assert forward == pytest.approx(backward)
    assert evaluate_churn(y, p).lift_top_decile == pytest.approx(1.0)


@pytest.mark.xfail(
    strict=True,
    reason="plot_cohort_heatmap on an empty retention table emits a matplotlib UserWarning "
    "(identical ylims) instead of a clear error or a clean empty plot",
)
def test_cohort_heatmap_of_empty_table_emits_no_warning() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-02-05"]),
            "amount": [1.0, 1.0],
        }
    )
    empty = cohort_retention(tx).iloc[:0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with contextlib.suppress(LoyaltyMLError):
            plot_cohort_heatmap(empty)


@pytest.mark.xfail(
    strict=True,
    reason="plot_retention_curves on a table without curves emits a matplotlib legend UserWarning",
)
def test_retention_curves_plot_without_curves_emits_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with contextlib.suppress(LoyaltyMLError):
            plot_retention_curves(pd.DataFrame(index=pd.RangeIndex(0, name="period")))
