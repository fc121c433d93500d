"""Basket values an export leaves out, and signs only validation reads, in ``build_features``.

A missing margin or quantity is unknown, not zero: reading it as 0 made a customer whose lines
carry no margin look like one who sells at no margin (``kpis.clv_inputs`` already leaves such
lines out), and one whose lines carry no quantity look like one who buys no items. A table that
skipped ``validate_transactions`` may still hold the signs it reads or refuses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import SchemaError, build_features


def _tx(**columns: list[float]) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "order_id": ["a", "a", "b", "c", "d", "e"],
            "timestamp": pd.to_datetime(
                ["2024-01-02", "2024-01-02", "2024-01-09", "2024-01-03", "2024-01-05", "2024-01-04"]
            ),
            "amount": [10.0, 30.0, 20.0, 8.0, 12.0, 5.0],
        }
    )
    return base.assign(**columns)


def test_lines_without_a_margin_are_left_out_of_the_margin_rates() -> None:
    margin = [2.0, np.nan, 4.0, np.nan, np.nan, 1.0]
    X = build_features(_tx(margin=margin), as_of="2024-02-01")
    # customer 1: 6 on the 30 of known margin (was 6 on 60); customer 2 has none: unknown
    assert X.loc[1, "margin_rate"] == pytest.approx(0.2)
    assert np.isnan(X.loc[2, "margin_rate"])
    assert X.loc[3, "margin_rate"] == pytest.approx(0.2)


def test_lines_without_a_margin_do_not_lower_their_category_rate() -> None:
    # category x: 10 sold at a margin of 5 and 20 of unknown margin: rate 0.5 (high at 0.3), not
    # 5 / 30 = 0.17 (low); y: 4 on 20 of known margin, 0.2 (low)
    tx = _tx(
        margin=[5.0, np.nan, 4.0, np.nan, 1.0, np.nan],
        category=["x", "x", "y", "x", "y", "x"],
    ).assign(amount=[10.0, 20.0, 20.0, 8.0, 5.0, 5.0])
    X = build_features(tx, as_of="2024-02-01")
    assert X.loc[1, "high_margin_share"] == pytest.approx(30 / 50)
    assert X.loc[3, "high_margin_share"] == 1.0


def test_lines_without_a_quantity_are_left_out_of_items_per_order() -> None:
    quantity = [1.0, 2.0, np.nan, np.nan, np.nan, 4.0]
    X = build_features(_tx(quantity=quantity), as_of="2024-02-01")
    # customer 1: order a holds 3 items, order b's are unknown: 3 items an order, not 1.5
    assert X.loc[1, "items_per_order"] == 3.0
    assert np.isnan(X.loc[2, "items_per_order"])  # no known quantity: unknown, not 0 items
    assert X.loc[3, "items_per_order"] == 4.0
    known = build_features(_tx(quantity=[1.0, 2.0, 3.0, 1.0, 1.0, 4.0]), as_of="2024-02-01")
    assert known.loc[1, "items_per_order"] == 3.0  # (1 + 2 + 3) / 2 orders


def test_a_negative_discount_on_a_purchase_is_refused_without_validation() -> None:
    with pytest.raises(
        SchemaError, match=r"discount .*cannot be negative.*rows \[0, 2, 4\].*flip the"
    ):
        build_features(_tx(discount=[-1.0, 0.0, -2.0, 0.0, -0.5, 0.0]), as_of="2024-02-01")
    # a refund may give its discount back
    refund = _tx(discount=[1.0, 0.0, -2.0, 0.0, 0.0, 0.0]).assign(
        amount=[10.0, 30.0, -20.0, 8.0, 12.0, 5.0]
    )
    assert build_features(refund, as_of="2024-02-01").loc[1, "discount_share"] >= 0


def test_a_negative_quantity_on_a_purchase_is_refused_without_validation() -> None:
    with pytest.raises(
        SchemaError, match=r"quantity is negative .*rows \[4\].*validate_transactions"
    ):
        build_features(_tx(quantity=[1.0, 2.0, 1.0, 1.0, -3.0, 1.0]), as_of="2024-02-01")
