"""Tests of loyalty_ml.kpis.clv: the three CLV forms and their inputs from transactions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError
from loyalty_ml.kpis import clv_discounted, clv_inputs, clv_lifetime, clv_margin_churn


def test_clv_lifetime_by_hand() -> None:
    # 40 per order x 5 orders a year x 3 years = 600
    assert clv_lifetime(aov=40.0, purchase_frequency=5.0, lifetime=3.0) == 600.0


def test_clv_margin_churn_by_hand() -> None:
    # 40 x 5 x 0.3 = 60 margin a year; churn 0.25 -> lifetime 4 years -> 240
    assert clv_margin_churn(
        aov=40.0, purchase_frequency=5.0, margin_rate=0.3, churn_rate=0.25
    ) == pytest.approx(240.0)


def test_clv_per_customer_series_align_on_index() -> None:
    aov = pd.Series({"a": 10.0, "b": 20.0})
    freq = pd.Series({"b": 2.0, "a": 1.0})  # other order: aligned by customer_id
    out = clv_lifetime(aov=aov, purchase_frequency=freq, lifetime=2.0)
    # a: 10 x 1 x 2 = 20; b: 20 x 2 x 2 = 80
    assert out.to_dict() == {"a": 20.0, "b": 80.0}


def test_clv_discounted_constant_margin_by_hand() -> None:
    # 100 / 1.1 + 100 x 0.8 / 1.1^2 = 90.9090... + 66.1157... = 157.0247...
    got = clv_discounted(100.0, discount_rate=0.1, retention_rate=0.8, periods=2)
    assert got == pytest.approx(100 / 1.1 + 80 / 1.21)


def test_clv_discounted_per_period_margins_by_hand() -> None:
    margins = pd.DataFrame({"y1": [10.0, 0.0], "y2": [20.0, 50.0]}, index=["a", "b"])
    got = clv_discounted(margins, discount_rate=0.0, retention_rate=0.5)
    # a: 10 + 20 x 0.5 = 20; b: 0 + 50 x 0.5 = 25 (no discounting)
    assert got.to_dict() == {"a": 20.0, "b": 25.0}
    got = clv_discounted(margins, discount_rate=1.0)
    # a: 10 / 2 + 20 / 4 = 10; b: 0 + 50 / 4 = 12.5
    assert got.to_dict() == {"a": 10.0, "b": 12.5}


def test_clv_discounted_series_of_constant_margins() -> None:
    got = clv_discounted(pd.Series({"a": 1.0, "b": 2.0}), discount_rate=0.0, periods=3)
    assert got.to_dict() == {"a": 3.0, "b": 6.0}  # 3 undiscounted periods


@settings(max_examples=50, deadline=None)
@given(
    st.floats(1, 1e4),
    st.floats(0.01, 1.0),
    st.floats(0.0, 0.5),
)
def test_discounted_infinite_horizon_tends_to_closed_form(
    margin: float, retention: float, discount: float
) -> None:
    # sum_t m r^(t-1)/(1+d)^t -> m / (1 + d - r); with r = 1 - churn and d = 0 that is m / churn,
    # the clv_margin_churn form.
    long = clv_discounted(margin, discount_rate=discount, retention_rate=retention, periods=5000)
    limit = margin / (1 + discount - retention) if (1 + discount - retention) > 0 else np.inf
    if np.isfinite(limit) and retention / (1 + discount) < 0.99:
        assert long == pytest.approx(limit, rel=1e-6)
    # more periods never lower a positive CLV
    short = clv_discounted(margin, discount_rate=discount, retention_rate=retention, periods=3)
    assert short <= long + 1e-9


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: clv_lifetime(aov=-1.0, purchase_frequency=1.0, lifetime=1.0),
            r"aov must be finite and in \[0.0, inf\); got \[-1.0\]",
        ),
        (
            lambda: clv_lifetime(aov=1.0, purchase_frequency=float("nan"), lifetime=1.0),
            r"purchase_frequency must be finite.*\[nan\]",
        ),
        (
            lambda: clv_margin_churn(
                aov=1.0, purchase_frequency=1.0, margin_rate=0.3, churn_rate=0.0
            ),
            r"churn_rate must be finite and in \(0.0, 1.0\]; got \[0.0\]",
        ),
        (
            lambda: clv_margin_churn(
                aov=1.0, purchase_frequency=1.0, margin_rate=30.0, churn_rate=0.2
            ),
            r"margin_rate must be finite and in \[0.0, 1.0\]; got \[30.0\]",
        ),
        (
            lambda: clv_lifetime(
                aov=pd.Series({"a": 1.0, "b": -2.0}), purchase_frequency=1.0, lifetime=1.0
            ),
            r"aov .* got \[-2.0\] at \['b'\]",
        ),
        (
            lambda: clv_lifetime(aov="40", purchase_frequency=1.0, lifetime=1.0),
            "aov must be a number or a Series",
        ),
        (
            lambda: clv_discounted(1.0, discount_rate=0.1, periods=0),
            "periods must be an int >= 1",
        ),
        (
            lambda: clv_discounted(1.0, discount_rate=0.1),
            "periods must be an int >= 1",
        ),
        (
            lambda: clv_discounted(pd.DataFrame({"y1": [1.0]}), discount_rate=0.1, periods=2),
            "periods must be None when margins is a DataFrame",
        ),
        (
            lambda: clv_discounted(1.0, discount_rate=0.1, retention_rate=1.5, periods=2),
            r"retention_rate must be finite and in \[0.0, 1.0\]",
        ),
        (
            lambda: clv_discounted(float("inf"), discount_rate=0.1, periods=2),
            r"margins must be finite.*\[inf\]",
        ),
    ],
)
def test_bad_assumptions_are_refused(call, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        call()


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c"],
            "order_id": [1, 1, 2, 3, 4],
            "timestamp": pd.to_datetime(
                ["2024-01-10", "2024-01-10", "2024-03-05", "2024-06-30", "2024-07-01"]
            ),
            "amount": [10.0, 20.0, 30.0, 50.0, 99.0],
            "margin": [3.0, 6.0, 9.0, 0.0, 9.0],
        }
    )


def test_clv_inputs_by_hand(tx: pd.DataFrame) -> None:
    # window 2024-01-01 .. 2024-07-01 = 182 days; c's order on 2024-07-01 is outside
    got = clv_inputs(tx, period_start="2024-01-01", period_end="2024-07-01", period_days=364.0)
    assert got.index.tolist() == ["a", "b"]
    # a: orders {1, 2} = 2, revenue 60, aov 30, frequency 2 x 364 / 182 = 4 a year, margin 18 -> 0.3
    assert got.loc["a"].to_dict() == {
        "orders": 2.0,
        "revenue": 60.0,
        "aov": 30.0,
        "purchase_frequency": 4.0,
        "margin": 18.0,
        "margin_rate": 0.3,
    }
    # b: 1 order of 50, margin 0
    assert got.loc["b", "purchase_frequency"] == 2.0
    assert got.loc["b", "margin_rate"] == 0.0
    # feeds the CLV forms: a's margin CLV at churn 0.5 = 30 x 4 x 0.3 / 0.5 = 72
    clv = clv_margin_churn(
        aov=got["aov"],
        purchase_frequency=got["purchase_frequency"],
        margin_rate=got["margin_rate"],
        churn_rate=0.5,
    )
    assert clv["a"] == pytest.approx(72.0)


def test_clv_inputs_without_margin_or_order_id(tx: pd.DataFrame) -> None:
    got = clv_inputs(
        tx.drop(columns=["margin", "order_id"]), period_start="2024-01-01", period_end="2024-07-01"
    )
    assert "margin_rate" not in got.columns
    # without order_id an order is a (customer, timestamp): a's two lines of 2024-01-10 are one
    assert got.loc["a", "orders"] == 2.0
    assert got.loc["a", "aov"] == 30.0


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_clv_inputs_errors(tx: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="no rows in"):
        clv_inputs(tx, period_start="2030-01-01", period_end="2030-02-01")
    with pytest.raises(ConfigError, match="period_end must be after period_start"):
        clv_inputs(tx, period_start="2024-02-01", period_end="2024-01-01")
    with pytest.raises(ConfigError, match=r"period_days must be finite and in \(0.0"):
        clv_inputs(tx, period_start="2024-01-01", period_end="2024-02-01", period_days=0.0)
    with pytest.raises(SchemaError, match="missing required column"):
        clv_inputs(tx.drop(columns="amount"), period_start="2024-01-01", period_end="2024-02-01")


# -- per-customer rates (session 42: a Series of rates was read as one rate per *period*) ----------
def _one_by_one(margins, discount, retention, periods=None):
    """The scalar formula applied to each customer in turn."""
    out = {}
    for c in discount.index if isinstance(discount, pd.Series) else retention.index:
        d = discount[c] if isinstance(discount, pd.Series) else discount
        r = retention[c] if isinstance(retention, pd.Series) else retention
        if isinstance(margins, pd.DataFrame):
            m = margins.loc[[c]]
        elif isinstance(margins, pd.Series):
            m = margins[c]
        else:
            m = margins
        value = clv_discounted(m, discount_rate=float(d), retention_rate=float(r), periods=periods)
        out[c] = float(value.iloc[0]) if isinstance(value, pd.Series) else float(value)
    return pd.Series(out, name="clv")


@pytest.mark.parametrize("periods", [1, 3, 7, 400])
def test_per_customer_rates_equal_the_formula_customer_by_customer(periods: int) -> None:
    ids = pd.Index(["a", "b", "c", "d", "e"], name="customer_id")
    retention = pd.Series([0.9, 0.5, 0.1, 1.0, 0.0], index=ids)
    discount = pd.Series([0.1, 0.0, 0.3, 0.0, 0.05], index=ids)
    margins = pd.Series([100.0, 80.0, -5.0, 10.0, 60.0], index=ids)
    shuffled = margins.iloc[[3, 0, 4, 2, 1]]  # rates are read by customer, not by position
    got = clv_discounted(
        shuffled, discount_rate=discount, retention_rate=retention, periods=periods
    )
    want = _one_by_one(margins, discount, retention, periods)
    pd.testing.assert_series_equal(
        got.sort_index(), want.sort_index(), check_index_type=False, check_names=False, rtol=1e-10
    )
    assert got.index.tolist() == shuffled.index.tolist()
    # a programme-wide margin, customer rates: a Series on the rates' customers
    flat = clv_discounted(50.0, discount_rate=0.1, retention_rate=retention, periods=periods)
    pd.testing.assert_series_equal(
        flat,
        _one_by_one(50.0, 0.1, retention, periods),
        check_index_type=False,
        check_names=False,
        rtol=1e-10,
    )


def test_per_customer_rates_with_margins_by_period() -> None:
    ids = pd.Index([1, 2, 3], name="customer_id")
    margins = pd.DataFrame(
        {"y1": [100.0, 50.0, 10.0], "y2": [90.0, 55.0, 0.0], "y3": [80.0, 60.0, 5.0]}, index=ids
    )
    retention = pd.Series([0.9, 0.5, 0.2], index=ids)
    got = clv_discounted(margins, discount_rate=0.1, retention_rate=retention)
    want = _one_by_one(margins, 0.1, retention)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)
    assert got.index.equals(ids)


@pytest.mark.parametrize(
    ("retention", "message"),
    [
        (pd.Series([0.9, 0.5], index=["a", "z"]), "same customers"),
        (pd.Series([0.9, 0.5, 0.4], index=["a", "a", "b"]), r"lists customer\(s\) \['a'\] more"),
        (pd.Series([1.2, 0.5], index=["a", "b"]), "retention_rate must be finite and in"),
    ],
)
def test_rates_on_other_or_repeated_customers_are_refused(retention, message) -> None:
    margins = pd.Series([100.0, 80.0], index=["a", "b"])
    with pytest.raises(ConfigError, match=message):
        clv_discounted(margins, discount_rate=0.1, retention_rate=retention, periods=2)


def test_repeated_customers_are_refused_where_series_meet() -> None:
    """aov on [a, a, b] against a frequency on [a, b, a] gave five rows (every pair for a)."""
    aov = pd.Series([10.0, 12.0, 8.0], index=["a", "a", "b"])
    freq = pd.Series([2.0, 3.0, 1.0], index=["a", "b", "a"])
    with pytest.raises(ConfigError, match="more than once"):
        clv_lifetime(aov=aov, purchase_frequency=freq, lifetime=2.0)


def test_lines_without_a_margin_are_warned_of_and_left_out_of_the_rate() -> None:
    # a missing margin was a margin of 0 on revenue that still counted: rate 0.15 instead of 0.30
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.kpis import clv_inputs

    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-30", "2024-01-29"]),
            "amount": [100.0, 100.0, 50.0],
            "margin": [30.0, None, 10.0],
        }
    )
    with pytest.warns(DataQualityWarning, match=r"1 of 3 lines .* no margin \(1 of 2 customers"):
        out = clv_inputs(tx, period_start="2024-01-01", period_end="2024-02-01")
    assert out["margin_rate"].tolist() == pytest.approx([0.30, 0.20])
    assert out["margin"].tolist() == [30.0, 10.0]


def test_clv_inputs_aov_leaves_out_refunds_of_orders_begun_before_the_window() -> None:
    """a's March refund of a February order (its order id) made a's AOV -70, which
    clv_lifetime refused; the refund belongs to February's order. Revenue still counts it."""
    import loyalty_ml as lml

    rows = [
        ("a", "o1", "2024-02-25", 100.0),
        ("a", "o1", "2024-03-05", -100.0),  # refund of the February order, with its id
        ("a", "o2", "2024-03-10", 30.0),
        ("b", "o3", "2024-03-12", 50.0),
        ("b", "o3", "2024-03-20", -20.0),  # return inside the March order
        ("b", "r1", "2024-03-15", -5.0),  # refund-only order: not linked to a purchase
        ("c", "o4", "2024-02-29 22:00", 40.0),
        ("c", "o4", "2024-03-01 08:00", 10.0),  # later line of a February order
    ]
    raw = pd.DataFrame(rows, columns=["customer_id", "order_id", "timestamp", "amount"])
    tx = lml.validate_transactions(raw, returns="keep", observation_end="2024-04-01")
    got = clv_inputs(tx, period_start="2024-03-01", period_end="2024-04-01")
    assert got.index.tolist() == ["a", "b"]  # c's only March line is of a February order
    assert got["revenue"].tolist() == [-70.0, 25.0]
    assert got["aov"].tolist() == [30.0, 25.0]  # b: 50 - 20 in o3, and its refund-only -5
    clv = clv_lifetime(aov=got["aov"], purchase_frequency=got["purchase_frequency"], lifetime=1.0)
    assert (clv > 0).all()
    assert got.attrs["purchase_frequency"] == "orders per 365 days"
