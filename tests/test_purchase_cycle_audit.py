"""Audit: businesses whose purchase cycle is unlike a cafe's.

An annual garden centre, a monthly subscription, an extract with a month missing and a shop opened a
few months ago went through the README's churn flow (validate_transactions, training_table,
ChurnModel, estimate_boundaries, TriggerPolicy). Checked and right: no look-ahead in any of them
(features on the full table equal features on the table cut at ``as_of``), boundaries of 362/401 days
for the garden centre with 1.5 cycles of history and 33/34 days for the subscription, calibration by
tenure in a fast-growing shop.

Defects found, fixed, and kept as regression tests (each step was right by its own definition, but
nothing said that the result misleads):

- a horizon shorter than the purchase cycle labelled loyal annual buyers churned (every customer at
  three of five cut-offs; 53% of live subscribers with ``horizon_days=14`` on a 30-day cycle), and the
  triggers contacted 910 customers the library's own boundaries called active;
- a missing month of the extract made every customer churned at the cut-off before it, and shifted
  the 90-day churn rate of every cut-off whose window met it (0.50 against 0.47, 0.56 against 0.50),
  with no warning anywhere (now ``validate_transactions`` names the hole in its report and a warning,
  and the label builders name the cut-offs whose windows meet it; 11-13 days shut is a closure);
- cut-offs before a young shop's first purchase added no rows, and ``ChurnModel.fit`` skipped early
  stopping and calibration (its hold-out had too few of a class) without a word, though risk bands
  are read from the uncalibrated probabilities (customers scored 0.1-0.3 churned at 40%).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning


def _table(rows: list[tuple[int, pd.Timestamp]]) -> pd.DataFrame:
    raw = pd.DataFrame(rows, columns=["customer_id", "timestamp"]).assign(amount=20.0)
    return lml.validate_transactions(raw)


def _garden_centre(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Each customer buys once a year in April-May, from 2021-2023 on; 20% stop each year."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        first = int(rng.choice([2021, 2022, 2023], p=[0.5, 0.3, 0.2]))
        for year in range(first, 2025):
            if year > first and rng.uniform() < 0.2:
                break
            day = pd.Timedelta(days=float(rng.uniform(0, 60)))
            rows.append((c, pd.Timestamp(f"{year}-04-01") + day))
    return _table(rows)


def _regulars(
    n: int = 300, gap_days: float = 30.0, jitter: float = 2.0, seed: int = 0, lapsed: int = 0
) -> pd.DataFrame:
    """Customers who buy every ``gap_days`` (+/- ``jitter``) through 2024, starting in January;
    the first ``lapsed`` of them stop for good on days spread evenly over the year (without any,
    nobody is ever labelled churned, which is warned about)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=float(rng.uniform(0, gap_days)))
        stop = pd.Timestamp("2024-12-31")
        if c < lapsed:
            stop = pd.Timestamp("2024-01-15") + pd.Timedelta(days=350.0 * c / lapsed)
        while t < stop:
            rows.append((c, t))
            t += pd.Timedelta(days=float(gap_days + rng.uniform(-jitter, jitter)))
    return _table(rows)


def _messages(caught: list[warnings.WarningMessage]) -> str:
    return " | ".join(str(w.message) for w in caught if issubclass(w.category, DataQualityWarning))


def test_an_annual_business_on_a_90_day_horizon_is_warned_about() -> None:
    with pytest.warns(
        DataQualityWarning, match="no transactions at all from 2021-05-30 to 2022-03"
    ):
        tx = _garden_centre()  # closed out of season
    cutoffs = pd.date_range(end="2024-04-01", periods=5, freq="45D")  # the README's pattern
    with (
        pytest.warns(DataQualityWarning, match=r"every customer is labelled churned at 2023-10-04"),
        pytest.warns(DataQualityWarning, match=r"horizon_days=90 is shorter .* \(36\d days"),
        # the off-season is a stretch with no purchase at all, as a closure would be
        pytest.warns(DataQualityWarning, match=r"cut-off\(s\) 2023-10-04, .* overlaps days with"),
        # and so is this season's end, up to the stated observation_end
        pytest.warns(DataQualityWarning, match=r"2024-04-01 overlaps .* 2024-05-31 to 2024-12-30"),
    ):
        lml.training_table(tx, cutoffs=cutoffs, horizon_days=90, observation_end="2024-12-31")


def test_a_subscription_with_a_horizon_shorter_than_its_cycle_is_warned_about() -> None:
    tx = _regulars(lapsed=30)
    with pytest.warns(DataQualityWarning, match=r"horizon_days=14 is shorter .*\(30 days") as got:
        y = lml.churn_labels(tx, as_of="2024-10-01", horizon_days=14)
    assert "at least 30" in str(got[0].message) or "at least 31" in str(got[0].message)
    assert 0.3 < y.mean() < 0.7  # about half of the live subscribers labelled churned
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lml.churn_labels(tx, as_of="2024-10-01", horizon_days=45)  # a horizon past the cycle: quiet


def test_a_cafe_on_the_readme_horizon_is_not_warned_about() -> None:
    tx = _regulars(gap_days=7.0, jitter=3.0, lapsed=30)
    cutoffs = pd.date_range(end="2024-09-01", periods=4, freq="30D")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lml.training_table(tx, cutoffs=cutoffs, horizon_days=90)
    assert _messages(caught) == ""


def test_a_month_missing_from_the_extract_is_named_where_it_comes_in_and_where_labels_meet_it() -> (
    None
):
    tx = _regulars(gap_days=7.0, jitter=3.0, lapsed=30)
    march = (tx["timestamp"] >= "2024-03-01") & (tx["timestamp"] < "2024-04-01")
    hole = r"2024-03-01 to 2024-03-31 \(31 days; about \d+ a day around it\)"
    with pytest.warns(
        DataQualityWarning, match=f"validate_transactions: no transactions at all from {hole}"
    ):
        gapped, report = lml.validate_transactions(tx.loc[~march], return_report=True)
    assert any("2024-03-01 to 2024-03-31" in note for note in report.notes), report.notes
    with (
        pytest.warns(DataQualityWarning, match="every customer is labelled churned at 2024-03-01"),
        pytest.warns(DataQualityWarning, match=f"cut-off\\(s\\) 2024-03-01 overlaps .*{hole}"),
    ):
        y = lml.churn_labels(gapped, as_of="2024-03-01", horizon_days=30)
    assert y.mean() == 1.0
    # a 90-day window that only partly covers the hole: not everyone churned, still named
    cutoffs = ["2024-02-01", "2024-02-20", "2024-05-01"]
    with pytest.warns(DataQualityWarning, match=r"cut-off\(s\) 2024-02-01, 2024-02-20 overlaps"):
        lml.training_table(gapped, cutoffs=cutoffs, horizon_days=90)


def test_a_holiday_closure_and_a_quiet_small_shop_are_not_called_gaps() -> None:
    tx = _regulars(gap_days=7.0, jitter=3.0)
    christmas = (tx["timestamp"] >= "2024-12-21") & (tx["timestamp"] < "2025-01-04")
    shut = tx.loc[~((tx["timestamp"] >= "2024-06-10") & (tx["timestamp"] < "2024-06-23"))]
    small = _regulars(n=8, gap_days=21.0, jitter=10.0)  # one purchase every ~3 days in all
    small = small.loc[~((small["timestamp"] >= "2024-05-01") & (small["timestamp"] < "2024-05-21"))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lml.validate_transactions(tx.loc[~christmas])
        lml.validate_transactions(shut)  # 13 days shut: a closure, not a hole
        lml.validate_transactions(small)


def test_a_few_customers_all_churned_is_not_warned_about() -> None:
    """Below 100 labelled customers, everyone churning can be chance (the hole is still named)."""
    tx = _regulars(n=60, gap_days=7.0, jitter=3.0)
    march = (tx["timestamp"] >= "2024-03-01") & (tx["timestamp"] < "2024-04-01")
    with pytest.warns(DataQualityWarning, match="overlaps days with no purchase") as got:
        y = lml.churn_labels(tx.loc[~march], as_of="2024-03-01", horizon_days=30)
    assert y.mean() == 1.0
    assert not any("every customer" in str(w.message) for w in got), [str(w.message) for w in got]


def test_a_young_shop_is_told_about_empty_cut_offs_and_an_uncalibrated_model() -> None:
    rng = np.random.default_rng(5)
    start = pd.Timestamp("2024-05-01")
    rows = []
    for c in range(1_500):  # opened 2024-05-01; most customers joined in the last three months
        t = 153 * rng.beta(3, 1)
        rows.append((c, start + pd.Timedelta(days=t)))
        while rng.uniform() < 0.6 and (t := t + rng.exponential(14)) < 244:
            rows.append((c, start + pd.Timedelta(days=t)))
    tx = _table(rows)
    cutoffs = pd.date_range(end="2024-07-03", periods=5, freq="45D")  # README's pattern
    with pytest.warns(DataQualityWarning, match=r"cut-off\(s\) 2024-01-05, 2024-02-19, 2024-04-04"):
        X, y = lml.training_table(tx, cutoffs=cutoffs, horizon_days=90)
    assert set(X.index.get_level_values("as_of")) == set(cutoffs[3:])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = lml.ChurnModel(n_estimators=20, random_state=0).fit(X, y)
    assert model.calibration_ == "none"
    message = _messages(caught)  # also: aov_trend is NaN everywhere (a history this short)
    assert "Early stopping was skipped (all 20 trees were grown)" in message, message
    assert "probabilities are not calibrated" in message, message


def test_turning_calibration_off_still_says_early_stopping_was_skipped() -> None:
    X = pd.DataFrame({"a": np.arange(20.0)})
    y = pd.Series(np.r_[np.zeros(10), np.ones(10)].astype(int))
    with pytest.warns(DataQualityWarning, match="Early stopping was skipped") as got:
        lml.ChurnModel(n_estimators=5, min_child_samples=2, calibration="none").fit(X, y)
    assert "calibrated" not in str(got[0].message)
