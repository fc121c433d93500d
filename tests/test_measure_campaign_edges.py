"""measure_campaign on campaign logs as sent, and on arms with no conversion at all.

Both were found by a probe (session 63): a customer listed in two arms of one send, or sent a
reminder of the same offer, had their purchases counted once per row; and an arm where nobody (or
everybody) converted got an interval of width 0, as if its rate were known exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import DataError
from loyalty_ml.kpis import measure_campaign

OFFERS = pd.DataFrame({"offer_id": ["A"], "cost_per_redemption": [2.0], "cost_per_send": [0.5]})


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 1, 3, 5],
            "timestamp": pd.to_datetime(
                ["2024-01-01"] * 4 + ["2024-02-03", "2024-02-05", "2024-04-01"]
            ),
            "amount": [10.0, 10, 10, 10, 20, 30, 1],
        }
    )


def _sends(offer: list[str], sent: list[str], **extra: list[object]) -> pd.DataFrame:
    n = len(offer)
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 1][:n],
            "offer_id": offer,
            "sent_at": pd.to_datetime(sent),
            "redeemed": [True] + [False] * (n - 1),
            **extra,
        }
    )


def test_a_customer_in_two_arms_of_one_send_is_refused() -> None:
    # customer 1 in A and in control: n_treated 2, n_control 3, and their purchase in both
    sends = _sends(["A", "A", "control", "control", "control"], ["2024-02-01"] * 5)
    with pytest.raises(DataError, match=r"1 customer\(s\) more than once .*different arms"):
        measure_campaign(sends, _tx(), OFFERS, window_days=30)


def test_a_reminder_in_the_same_campaign_is_refused() -> None:
    sends = _sends(
        ["A", "A", "control", "control", "A"],
        ["2024-02-01"] * 4 + ["2024-02-03"],
        campaign_id=["c1"] * 5,
    )
    with pytest.raises(
        DataError, match=r"campaign_id\) within 30 days, in the same arm .*\('c1', 1\)"
    ):
        measure_campaign(sends, _tx(), OFFERS, window_days=30, by=["campaign_id", "offer_id"])
    # the first send of each customer measures the campaign
    first = sends.sort_values("sent_at").drop_duplicates(["campaign_id", "customer_id"])
    out = measure_campaign(first, _tx(), OFFERS, window_days=30, by=["campaign_id", "offer_id"])
    assert out["n_treated"].tolist() == [2]
    # without a campaign_id, sends on other days are other campaigns (nightly sends)
    later = sends.drop(columns="campaign_id")
    assert measure_campaign(later, _tx(), OFFERS, window_days=30)["n_treated"].tolist() == [3]
    # a campaign id reused for sends further apart than the window measures separate responses
    assert measure_campaign(sends, _tx(), OFFERS, window_days=2, by=["campaign_id", "offer_id"])[
        "n_treated"
    ].tolist() == [3]


def _no_conversions(n: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = np.arange(2 * n)
    tx = pd.DataFrame(
        {"customer_id": ids, "timestamp": pd.Timestamp("2024-01-01"), "amount": 10.0, "margin": 3.0}
    )
    sends = pd.DataFrame(
        {
            "customer_id": ids,
            "offer_id": ["A"] * n + ["control"] * n,
            "sent_at": pd.Timestamp("2024-02-01"),
            "redeemed": False,
        }
    )
    return tx, sends


def test_an_arm_without_conversions_is_not_measured_exactly() -> None:
    tx, sends = _no_conversions()
    row = measure_campaign(sends, tx, OFFERS, window_days=7, observation_end="2024-03-01").iloc[0]
    assert row["uplift"] == 0.0
    # 0 of 40 in each arm: Agresti and Caffo's variance, q = 1/42, not Wald's 0
    q = 1 / 42
    half = 1.959964 * np.sqrt(2 * q * (1 - q) / 42)
    assert row["uplift_high"] == pytest.approx(half, rel=1e-5)
    assert row["uplift_low"] == pytest.approx(-half, rel=1e-5)
    # nobody bought in either arm: the spread of revenue says nothing of its noise
    for column in ("incremental_revenue", "incremental_profit"):
        assert np.isnan(row[f"{column}_low"]) and np.isnan(row[f"{column}_high"])


def test_rates_between_0_and_1_keep_walds_interval() -> None:
    tx, sends = _no_conversions()
    late = pd.DataFrame(
        {
            "customer_id": [0, 1, 40],
            "timestamp": pd.Timestamp("2024-02-02"),
            "amount": 5.0,
            "margin": 1.0,
        }
    )
    row = measure_campaign(
        sends, pd.concat([tx, late]), OFFERS, window_days=7, observation_end="2024-03-01"
    ).iloc[0]
    p_t, p_c = 2 / 40, 1 / 40
    half = 1.959964 * np.sqrt(p_t * (1 - p_t) / 40 + p_c * (1 - p_c) / 40)
    assert row["uplift_high"] - row["uplift"] == pytest.approx(half, rel=1e-5)
    assert row["incremental_revenue_high"] > row["incremental_revenue"]
