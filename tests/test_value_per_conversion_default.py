"""The value of a conversion when train_and_register is not told it.

DESIGN section 5 values a conversion at its margin. Without a ``margin`` column the job took the mean
revenue per order, in silence: on Online Retail II, 464 a conversion, and the plan gave a 12-pound
discount to 547 customers it would not have offered anything at a margin of 40.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning

CHURN = {"n_estimators": 20, "early_stopping_rounds": 5}
UPLIFT = {"n_estimators": 7, "learning_rate": 0.1}


def _train(tmp_path: Path, data: lml.datasets.LoyaltyData, **given: object) -> float:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        result = lml.train_and_register(
            data.transactions.drop(columns="margin"),
            as_of="2024-12-01",
            customers=data.customers,
            campaigns=data.campaigns,
            offers=data.offers,
            tracking_uri=f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}",
            churn_params=CHURN,
            uplift_params=UPLIFT,
            **given,  # type: ignore[arg-type]
        )
    return float(result.policy.value_per_conversion)


def test_revenue_as_the_value_of_a_conversion_is_warned_about(tmp_path: Path) -> None:
    data = lml.datasets.simulate(n_customers=600, start="2023-01-01", end="2024-12-31", seed=3)
    with warnings.catch_warnings(record=True) as caught:  # (MLflow's own warnings pass by)
        warnings.simplefilter("always")
        value = _train(tmp_path, data)
    said = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert any("no 'margin' column, so a conversion is valued" in m for m in said), said
    tx = data.transactions.loc[data.transactions["timestamp"] < "2024-12-01"]
    assert value == pytest.approx(tx["amount"].sum() / tx["order_id"].nunique(), rel=0.05)
    with warnings.catch_warnings():  # stated: nothing to warn about
        warnings.simplefilter("error", DataQualityWarning)
        assert _train(tmp_path, data, value_per_conversion=3.0) == 3.0
