"""A customer id read as a column, not as the index, is refused as a feature by both models.

Left in, the models learned from the numbering and their saved trees kept split points that are
raw customer ids (session 46's outside check found both fits silent)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import ChurnModel, FeatureConfig, UpliftModel, build_features
from loyalty_ml.datasets import simulate
from loyalty_ml.exceptions import ConfigError, SchemaError


def _frame(id_column: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({id_column: np.arange(n) + 10_000, "spend": rng.gamma(2.0, 20.0, n)})
    y = pd.Series(rng.integers(0, 2, n))
    treatment = pd.Series(np.where(np.arange(n) % 2 == 0, "coupon", "control"))
    return X, y, treatment


@pytest.mark.parametrize(
    "name",
    [
        "customer_id",
        "Customer ID",
        "CustomerNo",
        "cust_id",
        "card_number",
        "loyalty_id",
        "customer_id_x",  # a merge's suffix
        "customer_id_x_y",  # two merges
        "customer_id.1",  # a repeated CSV header
        "customer_id_x.1",  # a merge, then a repeated header
        "Kundennummer",
        "Kd.-Nr.",
        "Mitgliedsnummer",
        "Kartennummer",
    ],
)
def test_both_models_refuse_an_id_column(name: str) -> None:
    X, y, treatment = _frame(name)
    with pytest.raises(
        SchemaError, match=rf"column '{name}', which reads as a customer id.*set_index"
    ) as info:
        ChurnModel(n_estimators=5).fit(X, y)
    assert info.value.column == name
    with pytest.raises(
        SchemaError, match=rf"column '{name}', which reads as a customer id.*set_index"
    ):
        UpliftModel(n_estimators=5).fit(X, y, treatment=treatment)


# "ID" is what pd.get_dummies names Idaho's (or Indonesia's) column
@pytest.mark.parametrize(
    "name",
    [
        "store_id",
        "idle_days",
        "paid",
        "ID",
        "order_id",
        "n_cards",
        "tax_x",
        "member_no_shows",
        "Kundenwert",
        "Kartentyp",
        "kd_umsatz",
    ],
)
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


def test_extra_attributes_naming_an_id_are_refused_at_the_config() -> None:
    """A CRM's member number asked for as an attribute is refused where it is named, not later
    inside the model's fit with advice about X the caller never held."""
    data = simulate(n_customers=60, start="2024-01-01", end="2024-06-30", seed=0)
    customers = data.customers.assign(member_no=range(len(data.customers)))
    config = FeatureConfig(extra_attributes=("member_no",))
    with pytest.raises(ConfigError, match="extra_attributes names 'member_no', which reads as"):
        build_features(data.transactions, as_of="2024-06-01", customers=customers, config=config)


@pytest.mark.parametrize(
    "name",
    [
        "Customer Id (CRM)",
        "customer_id [hashed]",
        "Card No. (loyalty)",
        "member_no (old)",
        "[Customer ID]",  # a SQL Server export
        "Customer (ID)",
        "(customer_id)",
    ],
)
def test_an_id_with_a_note_in_brackets_is_refused(name: str) -> None:
    """Exports write a source or a unit in brackets after a name; the id is still an id."""
    X, y, _ = _frame(name)
    with pytest.raises(SchemaError, match=re.escape(f"column '{name}', which reads as")):
        ChurnModel(n_estimators=5).fit(X, y)


@pytest.mark.parametrize("name", ["spend (EUR)", "store_id (CRM)", "visits [90d]", "(customer)"])
def test_a_feature_with_a_note_in_brackets_is_a_feature(name: str) -> None:
    X, y, _ = _frame(name)
    assert name in ChurnModel(n_estimators=5).fit(X, y).feature_names_in_
