"""Tests of loyalty_ml.kpis.health: active members, points liability, tiers and their costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError
from loyalty_ml.kpis import (
    TierBenefit,
    active_members,
    estimate_tier_costs,
    points_liability,
    propose_tiers,
    tier_distribution,
)


@pytest.fixture
def tx() -> pd.DataFrame:
    # spend in the year before 2025-01-01: a 10, b 20, c 30, d 40 (2 orders), e 100 (3 orders)
    rows = [
        ("a", "2024-02-01", 10.0, 1),
        ("b", "2024-11-15", 20.0, 2),
        ("c", "2024-12-31 23:00", 30.0, 3),
        ("d", "2024-05-01", 15.0, 4),
        ("d", "2024-12-01", 25.0, 5),
        ("e", "2024-03-01", 50.0, 6),
        ("e", "2024-06-01", 30.0, 7),
        ("e", "2024-10-01", 20.0, 8),
        ("f", "2023-06-01", 500.0, 9),  # before the window
        ("a", "2025-01-01", 70.0, 10),  # at as_of: excluded
    ]
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
            "amount": [r[2] for r in rows],
            "order_id": [r[3] for r in rows],
        }
    )


def test_active_members_from_transactions(tx: pd.DataFrame) -> None:
    got = active_members(tx, as_of="2025-01-01", window_days=90)
    # members: a..f bought before as_of = 6; active in [2024-10-03, 2025-01-01): b, c, d = 3
    # (e's last order 2024-10-01 is 92 days before)
    assert got.to_dict() == {"members": 6.0, "active_members": 3.0, "active_share": 0.5}


def test_active_members_with_customers_table(tx: pd.DataFrame) -> None:
    customers = pd.DataFrame(
        {
            "customer_id": ["b", "c", "x", "y"],
            "signup_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2024-01-01", "2025-02-01"]),
        }
    )
    got = active_members(tx, as_of="2025-01-01", window_days=90, customers=customers)
    # members signed up before as_of: b, c, x = 3 (y joins later); active among them: b, c
    assert got.to_dict() == {"members": 3.0, "active_members": 2.0, "active_share": 2 / 3}


def test_active_members_errors(tx: pd.DataFrame) -> None:
    with pytest.raises(
        ConfigError,
        match=r"'window_days' parameter of active_members must be an int from 1 to 3,650 \(ten years\)\. Got 0",
    ):
        active_members(tx, as_of="2025-01-01", window_days=0)
    with pytest.raises(SchemaError, match="customers is missing required column"):
        active_members(tx, as_of="2025-01-01", customers=pd.DataFrame({"id": [1]}))
    empty = active_members(tx, as_of="2000-01-01")
    assert empty["members"] == 0 and np.isnan(empty["active_share"])


def test_points_liability_by_hand() -> None:
    customers = pd.DataFrame({"points_balance": [1000, 0, 4000]})
    got = points_liability(customers, point_value=0.01, breakage_rate=0.15)
    # 5000 points x 0.01 = 50; breakage 15% = 7.5; expected redemptions 42.5
    assert got["points_outstanding"] == 5000.0
    assert got["gross_liability"] == 50.0
    assert got["expected_breakage"] == pytest.approx(7.5)
    assert got["net_liability"] == pytest.approx(42.5)


def test_points_liability_errors() -> None:
    with pytest.raises(SchemaError, match=r"points_balance must be numbers >= 0; got \[-5\]"):
        points_liability(pd.Series([10, -5]), point_value=0.01, breakage_rate=0.2)
    with pytest.raises(SchemaError, match=r"got \[nan\] at rows \[1\]"):
        points_liability(pd.Series([10, np.nan]), point_value=0.01, breakage_rate=0.2)
    with pytest.raises(
        ConfigError, match=r"breakage_rate must be a number in \[0.0, 1.0\]; got 20"
    ):
        points_liability(pd.Series([10]), point_value=0.01, breakage_rate=20)
    with pytest.raises(SchemaError, match="missing required column"):
        points_liability(pd.DataFrame({"points": [1]}), point_value=0.01, breakage_rate=0.2)
    with pytest.raises(SchemaError, match="balances must be a customers DataFrame"):
        points_liability([1, 2], point_value=0.01, breakage_rate=0.2)  # type: ignore[arg-type]


def test_tier_distribution_by_hand() -> None:
    customers = pd.DataFrame({"tier": ["gold", "base", None, "base", "silver"]})
    got = tier_distribution(customers, order=["base", "silver", "gold", "platinum"])
    assert got.index.tolist() == ["base", "silver", "gold", "platinum", "no tier"]
    assert got["members"].tolist() == [2, 1, 1, 0, 1]
    assert got["share"].tolist() == [0.4, 0.2, 0.2, 0.0, 0.2]
    unordered = tier_distribution(customers["tier"])
    assert unordered.index.tolist() == ["base", "gold", "silver", "no tier"]
    with pytest.raises(ConfigError, match=r"order must list every tier; \['silver'\]"):
        tier_distribution(customers, order=["base", "gold"])


def test_propose_tiers_on_spend_by_hand(tx: pd.DataFrame) -> None:
    got = propose_tiers(tx, as_of="2025-01-01", window_days=365)
    # spend of a..e in [2024-01-02, 2025-01-01): [10, 20, 30, 40, 100]
    # quantiles (linear): 25% -> 20, 75% -> 40
    assert got.index.tolist() == ["base", "silver", "gold"]
    assert got["min_value"].tolist() == [-np.inf, 20.0, 40.0]
    assert got["max_value"].tolist() == [20.0, 40.0, np.inf]
    # base {a}, silver {b, c} (20 <= x < 40), gold {d, e} (ties at 40 go up)
    assert got["members"].tolist() == [1, 2, 2]
    assert got["share"].tolist() == [0.2, 0.4, 0.4]
    assert got["spend"].tolist() == [10.0, 50.0, 140.0]
    assert got["visits"].tolist() == [1.0, 2.0, 5.0]


def test_propose_tiers_on_visits_rounds_up(tx: pd.DataFrame) -> None:
    got = propose_tiers(tx, as_of="2025-01-01", basis="visits", names=("blue", "silver", "gold"))
    # visits [1, 1, 1, 2, 3]: 25% -> 1, 75% -> 2
    assert got["min_value"].tolist() == [-np.inf, 1.0, 2.0]
    assert got.loc["blue", "members"] == 0  # nobody has fewer than 1 visit
    assert got["members"].tolist() == [0, 3, 2]


def test_estimate_tier_costs_by_hand(tx: pd.DataFrame) -> None:
    tiers = propose_tiers(tx, as_of="2025-01-01")
    benefits = {
        "base": TierBenefit(),
        "silver": TierBenefit(spend_rate=0.02),
        "gold": TierBenefit(spend_rate=0.05, fixed_per_member=3.0, breakage_rate=0.2),
    }
    got = estimate_tier_costs(tx, tiers, benefits=benefits, as_of="2025-01-01")
    # base 0; silver 50 x .02 = 1; gold 140 x .05 x .8 + 2 x 3 = 5.6 + 6 = 11.6
    assert got["benefit_cost"].tolist() == pytest.approx([0.0, 1.0, 11.6])
    assert got["cost_share"].tolist() == pytest.approx([0.0, 0.02, 11.6 / 140])
    # the same thresholds on a later year: only a's 70 (at 2025-01-01) is in [2025-01-01, 2026-01-01)
    later = estimate_tier_costs(tx, tiers, benefits=benefits, as_of="2026-01-01")
    assert later["members"].tolist() == [0, 0, 1]
    assert later.loc["gold", "benefit_cost"] == pytest.approx(70 * 0.05 * 0.8 + 3.0)


def test_tier_errors(tx: pd.DataFrame) -> None:
    tiers = propose_tiers(tx, as_of="2025-01-01")
    with pytest.raises(ConfigError, match=r"benefits has no TierBenefit for tiers \['gold'\]"):
        estimate_tier_costs(
            tx,
            tiers,
            benefits={"base": TierBenefit(), "silver": TierBenefit()},
            as_of="2025-01-01",
        )
    with pytest.raises(ConfigError, match="benefits values must be TierBenefit"):
        estimate_tier_costs(
            tx, tiers, benefits=dict.fromkeys(tiers.index, 0.02), as_of="2025-01-01"
        )
    with pytest.raises(ConfigError, match="tiers do not cover spend values"):
        estimate_tier_costs(
            tx,
            tiers.iloc[1:],
            benefits=dict.fromkeys(tiers.index, TierBenefit()),
            as_of="2025-01-01",
        )
    with pytest.raises(DataError, match="no rows in the 365 days before"):
        propose_tiers(tx, as_of="2000-01-01")
    with pytest.raises(ConfigError, match="basis must be 'spend' or 'visits'"):
        propose_tiers(tx, as_of="2025-01-01", basis="margin")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="names must be three distinct"):
        propose_tiers(tx, as_of="2025-01-01", names=("a", "a", "b"))
    with pytest.raises(
        ConfigError, match=r"TierBenefit.spend_rate must be a number in \[0.0, 1.0\]"
    ):
        TierBenefit(spend_rate=2.0)
    with pytest.raises(ConfigError, match=r"TierBenefit\.fixed_per_member"):
        TierBenefit(fixed_per_member=-1.0)
    with pytest.raises(TypeError, match="positional"):
        TierBenefit(0.1)  # type: ignore[misc]  # keyword-only


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(1.0, 1e4, allow_nan=False), min_size=1, max_size=40))
def test_tiers_partition_customers(spends: list[float]) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": range(len(spends)),
            "timestamp": pd.Timestamp("2024-06-01"),
            "amount": spends,
        }
    )
    got = propose_tiers(tx, as_of="2025-01-01")
    assert got["members"].sum() == len(spends)  # every customer in exactly one tier
    assert got["spend"].sum() == pytest.approx(sum(spends))
    assert (got["min_value"].diff().dropna() >= 0).all()  # thresholds ordered
    # the top quarter is never empty: the largest spend is at least the 75% quantile
    assert got.loc["gold", "members"] >= 1


def test_tier_costs_read_the_basis_the_tiers_were_proposed_on() -> None:
    # visit thresholds (1 and 9 visits) were read as money by default: members [0, 433, 2803]
    # instead of the proposal's split
    from loyalty_ml.datasets import simulate
    from loyalty_ml.exceptions import ConfigError
    from loyalty_ml.kpis import TierBenefit, estimate_tier_costs, propose_tiers

    tx = simulate(n_customers=800, start="2023-01-01", end="2023-12-31", seed=3).transactions
    tiers = propose_tiers(tx, as_of="2024-01-01", basis="visits")
    benefits = {name: TierBenefit(spend_rate=0.05) for name in tiers.index}
    costs = estimate_tier_costs(tx, tiers, benefits=benefits, as_of="2024-01-01")
    assert costs["members"].tolist() == tiers["members"].tolist()
    with pytest.raises(ConfigError, match="proposed on 'visits'"):
        estimate_tier_costs(tx, tiers, benefits=benefits, as_of="2024-01-01", basis="spend")
