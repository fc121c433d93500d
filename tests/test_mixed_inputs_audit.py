"""Inputs a retailer's data scientist passes by mistake to the KPIs, features and triggers:
ids of two kinds, Timedeltas for days, repeated names, NumPy scalars (session 41's fuzzing)."""

from __future__ import annotations

import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml import kpis
from loyalty_ml.exceptions import SchemaError


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
