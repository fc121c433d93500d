"""A customer id read as a column, not as the index, is refused as a feature by both models.

Left in, the models learned from the numbering and their saved trees kept split points that are
raw customer ids (session 46's outside check found both fits silent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import ChurnModel, UpliftModel
from loyalty_ml.exceptions import SchemaError


def _frame(id_column: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({id_column: np.arange(n) + 10_000, "spend": rng.gamma(2.0, 20.0, n)})
    y = pd.Series(rng.integers(0, 2, n))
    treatment = pd.Series(np.where(np.arange(n) % 2 == 0, "coupon", "control"))
    return X, y, treatment


@pytest.mark.parametrize("name", ["customer_id", "Customer ID", "CustomerID", "cust_id", "ID"])
def test_both_models_refuse_an_id_column(name: str) -> None:
    X, y, treatment = _frame(name)
    with pytest.raises(SchemaError, match=rf"column '{name}', a customer id.*set_index") as info:
        ChurnModel(n_estimators=5).fit(X, y)
    assert info.value.column == name
    with pytest.raises(SchemaError, match=rf"column '{name}', a customer id.*set_index"):
        UpliftModel(n_estimators=5).fit(X, y, treatment=treatment)


@pytest.mark.parametrize("name", ["store_id", "idle_days", "paid"])
def test_columns_that_merely_contain_id_are_features(name: str) -> None:
    X, y, treatment = _frame(name)
    assert name in ChurnModel(n_estimators=5).fit(X, y).feature_names_in_
    fitted = UpliftModel(n_estimators=5, cost_folds=0).fit(X, y, treatment=treatment)
    assert name in fitted.encoding_.feature_names


def test_the_id_as_index_is_fine() -> None:
    X, y, treatment = _frame("customer_id")
    X = X.set_index("customer_id")
    y.index = treatment.index = X.index
    ChurnModel(n_estimators=5).fit(X, y)
    UpliftModel(n_estimators=5, cost_folds=0).fit(X, y, treatment=treatment)
