"""Regression tests from an audit of the linear blend of UpliftModel and of the prudent budget."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pandas as pd

from loyalty_ml.models.uplift import UpliftModel
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import choose_offers


def _experiment(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "spend": rng.lognormal(3, 1, n),
            "visits": rng.poisson(4, n).astype(float),
            "channel": rng.choice(["store", "online", "app"], n),
        }
    )
    t = rng.choice(["control", "coupon", "points"], n)
    y = (rng.uniform(size=n) < 0.2 + 0.1 * (t == "coupon")).astype(int)
    return X, y, t


def test_constant_numeric_column_at_fit_binary() -> None:
    X, y, t = _experiment()
    model = UpliftModel(n_estimators=10, random_state=0).fit(X.assign(z=3.0), y, treatment=t)
    assert model.linear_weight_ == 0.5
    same = model.predict_effects(X.assign(z=3.0).head(5))
    other = model.predict_effects(X.assign(z=4.0).head(5))
    # A column with one value at fit carries nothing: its value at predict cannot matter.
    np.testing.assert_allclose(other.to_numpy(), same.to_numpy(), atol=0.02)
    baseline = model.predict_baseline(X.assign(z=np.nan).head(5))
    np.testing.assert_allclose(baseline, model.predict_baseline(X.assign(z=3.0).head(5)), atol=0.02)


def test_constant_numeric_column_at_fit_continuous() -> None:
    X, y, t = _experiment(n=600)
    spend = 10.0 * y + np.random.default_rng(1).normal(size=len(y))
    model = UpliftModel(n_estimators=5, random_state=0).fit(X.assign(z=1.0), spend, treatment=t)
    effects = model.predict_effects(X.assign(z=2.0).head(5)).to_numpy()
    assert np.abs(effects).max() < 20.0  # the outcome's whole range is about 15


def test_high_cardinality_category_memory() -> None:
    rng = np.random.default_rng(0)
    n = 2_000
    X = pd.DataFrame(
        {"spend": rng.lognormal(3, 1, n), "store": rng.integers(0, 1_000, n).astype(str)}
    )
    t = rng.choice(["control", "a", "b", "c", "d"], n)
    y = (rng.uniform(size=n) < 0.2).astype(int)
    tracemalloc.start()
    try:
        UpliftModel(n_estimators=5, random_state=0).fit(X, y, treatment=t)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The trees alone peak at about 1 MB here; the blend at about 150 MB.
    assert peak < 50e6


def test_linear_weight_accepts_numpy_integers() -> None:
    X, y, t = _experiment(n=300)
    model = UpliftModel(n_estimators=5, random_state=0, linear_weight=np.int64(1))
    assert model.fit(X, y, treatment=t).linear_weight_ == 1.0


def _single_offer(cost_per_redemption: float, cost_per_send: float) -> OfferCatalog:
    return OfferCatalog(
        [
            Offer(
                offer_id="a",
                cost_per_redemption=cost_per_redemption,
                cost_per_send=cost_per_send,
                kind="discount",
            )
        ]
    )


def test_budget_cost_attr_never_exceeds_budget() -> None:
    idx = pd.Index([0, 1, 2, 3], name="customer_id")
    effects = pd.DataFrame({"a": [0.3, 0.2, 0.2, 0.1]}, index=idx)
    baseline = pd.Series([0.2, 0.3, 0.3, 0.3], index=idx)
    budget = 1.61  # the four prudent costs 0.44 + 0.41 + 0.41 + 0.35
    plan = choose_offers(
        effects,
        _single_offer(0.3, 0.2),
        baseline=baseline,
        value_per_conversion=100.0,
        budget=budget,
    )
    assert plan["offer_id"].notna().all()
    assert plan.attrs["budget_cost"] <= budget


def test_budget_that_fits_exactly_is_used() -> None:
    idx = pd.Index([0, 1, 2, 3], name="customer_id")
    budget = 0.4
    assert math.fsum([0.1] * 4) <= budget
    plan = choose_offers(
        pd.DataFrame({"a": [0.2] * 4}, index=idx),
        _single_offer(0.0, 0.1),
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=10.0,
        budget=budget,
    )
    assert plan["offer_id"].notna().sum() == 4
