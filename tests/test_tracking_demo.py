"""The demo pipeline: the programme summary on tiny frames, and the demo run on a small simulation."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError
from loyalty_ml.tracking.demo import describe_programme, run_demo


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "order_id": [10, 10, 11, 10],  # order 10 of customer 3 is not order 10 of customer 1
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-05"]),
            "amount": [5.0, 2.5, 10.0, 1.25],
        }
    )


def test_describe_programme_counts_exactly() -> None:
    customers = pd.DataFrame(
        {"consent_marketing": [True, False, True, True], "consent_profiling": [True] * 3 + [False]},
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["a", "a", "b"],
            "customer_id": [1, 2, 1],
            "offer_id": ["x", "control", "x"],
        }
    )
    s = describe_programme(_tx(), customers=customers, campaigns=campaigns)
    assert (s.n_customers, s.n_transactions, s.n_orders) == (3, 4, 3)
    assert s.revenue == 18.75
    assert s.first_timestamp == pd.Timestamp("2024-01-01")
    assert s.last_timestamp == pd.Timestamp("2024-03-05")
    assert (s.consent_marketing_share, s.consent_profiling_share) == (0.75, 0.75)
    assert (s.n_campaigns, s.n_campaign_contacts) == (2, 3)
    text = s.to_text()
    assert "2024-01-01 .. 2024-03-05" in text
    assert "75.0%" in text


def test_describe_programme_without_orders_or_customers() -> None:
    s = describe_programme(_tx().drop(columns="order_id"))
    assert s.n_orders == 4
    assert math.isnan(s.consent_marketing_share)
    assert (s.n_campaigns, s.n_campaign_contacts) == (0, 0)
    assert "n/a" in s.to_text()


def test_describe_programme_names_missing_columns() -> None:
    with pytest.raises(ConfigError, match=r"missing the columns \['amount'\]"):
        describe_programme(_tx().drop(columns="amount"))


def test_run_demo_refuses_no_customers(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"n_customers must be an int >= 1\. Got 0"):
        run_demo(n_customers=0, report_dir=tmp_path)


def test_run_demo_without_training_writes_the_summary(tmp_path: Path) -> None:
    result = run_demo(n_customers=300, seed=1, report_dir=tmp_path / "report", train=False)
    assert result.training is None and result.scores is None
    assert result.summary.n_customers > 0
    assert result.summary.n_campaigns > 0
    text = (tmp_path / "report" / "summary.md").read_text(encoding="utf-8")
    assert "customers" in text and "Cleaning report" in text


def test_describe_programme_reads_consent_as_the_jobs_do() -> None:
    # astype(bool) read "no" and a missing flag as consent: 100% / 75% instead of 25% / 25%
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "consent_marketing": ["yes", "no", "no", None],
            "consent_profiling": [True, False, None, None],
        }
    )
    s = describe_programme(_tx(), customers=customers)
    assert (s.consent_marketing_share, s.consent_profiling_share) == (0.25, 0.25)
