"""Purchases refunded in full net exactly 0, whatever the row order or the currency unit.

0.1 + 0.2 + 0.3 - 0.6 is 1e-16 summed in one order and 0 or -1e-16 in another: spend_trend then
read -1 (a customer who stopped) or NaN (no spend in either window) by the row order, and the
currency unit changed it too (a probe found it on Online Retail II's customer 12755).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml

MONEY = ["spend", "spend_365d", "spend_trend", "aov_trend"]


def _refunded() -> pd.DataFrame:
    """One customer: an order of three lines refunded in full, and one of 5.0 refunded too."""
    return pd.DataFrame(
        {
            "customer_id": 1,
            "timestamp": pd.to_datetime(
                ["2024-01-10"] * 3 + ["2024-01-12", "2024-05-01", "2024-05-02"]
            ),
            "amount": [0.1, 0.2, 0.3, -0.6, 5.0, -5.0],
            "order_id": ["A", "A", "A", "RA", "B", "RB"],
        }
    )


def _money(tx: pd.DataFrame) -> dict[str, float]:
    return lml.build_features(tx, as_of="2024-06-01")[MONEY].iloc[0].to_dict()


def test_a_full_refund_nets_zero_in_any_row_order() -> None:
    tx = _refunded()
    want = _money(tx)
    assert want["spend"] == 0.0 and want["spend_365d"] == 0.0  # 2.8e-17 before
    assert np.isnan(want["spend_trend"])  # no spend in either window; -1.0 before
    for rows in itertools.permutations(range(3)):  # the order's three lines in any order
        shuffled = tx.iloc[[*rows, 3, 4, 5]]
        got = _money(shuffled)
        assert got == pytest.approx(want, nan_ok=True)
        assert got["spend_365d"] == 0.0


@pytest.mark.parametrize("unit", [10.0, 1000.0, 0.01])
def test_a_full_refund_nets_zero_in_any_currency_unit(unit: float) -> None:
    tx = _refunded()
    got = _money(tx.assign(amount=tx["amount"] * unit))
    assert got["spend"] == 0.0 and got["spend_365d"] == 0.0
    assert np.isnan(got["spend_trend"])


def test_a_real_net_amount_is_kept() -> None:
    # a partial refund is money, however small next to the order: only float residue is zeroed
    tx = _refunded().assign(amount=[0.1, 0.2, 0.3, -0.59, 5.0, -5.0])
    assert _money(tx)["spend_365d"] == pytest.approx(0.01)
