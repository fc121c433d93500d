"""A budget priced by the model's held-out check of its purchase probabilities (choose_offers'
``cost_calibration``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, DataError
from loyalty_ml.models.uplift import UpliftModel
from loyalty_ml.policy._prudent_cost import CHECK_Z, MIN_CHECK_PURCHASES, band_purchases
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import choose_offers, summarize_plan

_CATALOG = OfferCatalog([Offer(offer_id="a", cost_per_redemption=10.0, kind="discount")])


def _effects(uplift: list[float], check: dict | None) -> tuple[pd.DataFrame, pd.Series]:
    idx = pd.Index(range(len(uplift)), name="customer_id")
    effects = pd.DataFrame({"a": uplift}, index=idx)
    if check is not None:
        effects.attrs["cost_calibration"] = check
    return effects, pd.Series(0.1, index=idx)


def _band(observed: float, se: float = 0.0) -> dict:
    return {
        "effect_to": [math.inf],
        "predicted": [0.2],
        "observed": [observed],
        "observed_se": [se],
    }


def _plan(
    effects: pd.DataFrame, baseline: pd.Series, budget: float, **kwargs: object
) -> pd.DataFrame:
    options = {"budget_reserve": 0.0, "value_per_conversion": 100.0, **kwargs}
    return choose_offers(effects, _CATALOG, baseline=baseline, budget=budget, **options)  # type: ignore[arg-type]


def test_a_check_that_finds_probabilities_too_low_raises_the_prudent_cost() -> None:
    # p = 0.1 + 0.1 = 0.2, a face cost of 2.0; the check says such customers buy at 0.4: 4.0 each
    effects, baseline = _effects([0.1] * 10, {"a": _band(0.4)})
    plan = _plan(effects, baseline, budget=20.0)
    assert plan["offer_id"].notna().sum() == 5
    assert plan.attrs["budget_cost"] == pytest.approx(20.0)
    assert plan.attrs["cost_calibration"] is True
    assert plan["expected_cost"].sum() == pytest.approx(10.0)  # what the plan reports is at face
    # without it, the factor rule: 0.1 + 2 x 0.1 = 0.3, 3.0 each
    by_factor = _plan(effects, baseline, budget=20.0, cost_calibration=None)
    assert by_factor["offer_id"].notna().sum() == 6
    assert by_factor.attrs["cost_calibration"] is False


def test_the_standard_error_is_added_before_the_ratio() -> None:
    effects, baseline = _effects([0.1] * 10, {"a": _band(0.2, se=0.02)})
    plan = _plan(effects, baseline, budget=100.0)
    offered = plan["offer_id"].notna()
    factor = (0.2 + CHECK_Z * 0.02) / 0.2
    assert plan.attrs["budget_cost"] == pytest.approx(offered.sum() * 2.0 * factor)


def test_a_check_that_finds_probabilities_too_high_never_prices_below_face() -> None:
    effects, baseline = _effects([0.1] * 10, {"a": _band(0.1)})
    plan = _plan(effects, baseline, budget=20.0)
    assert plan["offer_id"].notna().sum() == 10
    assert plan.attrs["budget_cost"] == pytest.approx(plan["expected_cost"].sum())
    assert plan["expected_cost"].sum() <= 20.0


def test_each_customer_is_priced_by_the_band_of_their_effect() -> None:
    check = {
        "a": {
            "effect_to": [0.05, math.inf],
            "predicted": [0.15, 0.2],
            "observed": [0.15, 0.4],  # the model is right below 0.05 and half too low above
            "observed_se": [0.0, 0.0],
        }
    }
    effects, baseline = _effects([0.03, 0.1], check)
    plan = _plan(effects, baseline, budget=100.0)
    assert plan["offer_id"].notna().all()
    assert plan.attrs["budget_cost"] == pytest.approx(0.13 * 10 + 0.2 * 10 * 2)
    # a band the model never predicts a purchase in prices nothing it cannot see
    check["a"]["predicted"][0] = 0.0
    again = _plan(effects, baseline, budget=100.0)
    assert np.isfinite(again.attrs["budget_cost"])


def test_a_check_that_misses_an_offer_leaves_the_factor_rule() -> None:
    catalog = OfferCatalog(
        [
            Offer(offer_id="a", cost_per_redemption=10.0),
            Offer(offer_id="b", cost_per_redemption=1.0),
        ]
    )
    effects, baseline = _effects([0.1] * 4, {"a": _band(0.4)})
    effects["b"] = 0.01
    plan = choose_offers(
        effects, catalog, baseline=baseline, value_per_conversion=100.0, budget=50.0
    )
    assert plan.attrs["cost_calibration"] is False
    summary = summarize_plan(plan)
    assert summary.budget is not None


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([1, 2], "must map offer ids to their bands"),
        ({"a": {"predicted": [0.2]}}, "must hold the lists"),
        ({"a": {**_band(0.2), "observed": [0.1, 0.2]}}, "one number per band"),
        ({"a": {**_band(0.2), "observed": [float("nan")]}}, "one number per band"),
    ],
)
def test_a_malformed_check_is_refused(record: object, message: str) -> None:
    effects, baseline = _effects([0.1] * 3, None)
    effects.attrs["cost_calibration"] = record
    with pytest.raises(DataError, match=message):
        _plan(effects, baseline, budget=5.0)
    # without a budget the check is not read
    choose_offers(effects, _CATALOG, baseline=baseline, value_per_conversion=100.0)


@pytest.mark.parametrize("value", ["yes", True, 1])
def test_cost_calibration_is_validated(value: object) -> None:
    effects, baseline = _effects([0.1], None)
    with pytest.raises(ConfigError, match=r"'cost_calibration' parameter of choose_offers"):
        _plan(effects, baseline, budget=5.0, cost_calibration=value)


def test_a_shrunk_model_keeps_its_plan_within_budget_on_the_truth() -> None:
    """Five trees at a low learning rate leave the largest effects far below the truth: a budget
    priced at face value overspends on the true costs; priced by the check it does not."""
    rng = np.random.default_rng(4)
    n = 24_000
    X = pd.DataFrame({"x": rng.uniform(size=n), "noise": rng.normal(size=n)})
    true_uplift = 0.5 * X["x"].to_numpy() ** 2
    t = rng.choice(["control", "a"], n)
    y = (rng.uniform(size=n) < 0.1 + true_uplift * (t == "a")).astype(int)
    train = rng.uniform(size=n) < 0.5
    model = UpliftModel(n_estimators=5, learning_rate=0.05, linear_weight=0.0, random_state=0)
    model.fit(X[train], y[train], treatment=t[train])
    scored = X[~train].set_axis(pd.Index(np.flatnonzero(~train), name="customer_id"))
    effects, baseline = model.predict_effects(scored), model.predict_baseline(scored)
    truth = pd.Series(0.1 + true_uplift[~train], index=scored.index)

    def true_cost(plan: pd.DataFrame) -> float:
        return float(truth[plan["offer_id"].notna()].sum() * 10.0)

    budget = 1_500.0
    options = {"value_per_conversion": 100.0, "budget_reserve": 0.0}
    at_face = choose_offers(
        effects,
        _CATALOG,
        baseline=baseline,
        budget=budget,
        budget_uplift_factor=1.0,
        arm_mean_se=None,
        cost_calibration=None,
        **options,  # type: ignore[arg-type]
    )
    assert true_cost(at_face) > 1.1 * budget  # the case bites
    checked = choose_offers(effects, _CATALOG, baseline=baseline, budget=budget, **options)  # type: ignore[arg-type]
    assert checked.attrs["cost_calibration"] is True
    assert true_cost(checked) <= budget
    assert checked["offer_id"].notna().sum() > 0.5 * at_face["offer_id"].notna().sum()


def test_a_dearer_offer_keeps_the_factor_rule_as_its_floor() -> None:
    """A dearer offer given over a cheaper one rests on both offers' estimates, which no band of
    its own effect sees: the check prices a customer's cheapest offer alone."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="a", cost_per_redemption=10.0),
            Offer(offer_id="b", cost_per_redemption=1.0),
        ]
    )
    right = {"effect_to": [math.inf], "predicted": [0.2], "observed": [0.2], "observed_se": [0.0]}
    effects, baseline = _effects([0.3] * 20, {"a": right, "b": right})
    effects["b"] = 0.01
    plan = choose_offers(
        effects,
        catalog,
        baseline=baseline,
        value_per_conversion=100.0,
        strategy="max_net_value",
        budget=100.0,
        budget_reserve=0.0,
    )
    given = plan["offer_id"].eq("a")
    assert given.sum() == 14  # (0.1 + 2 x 0.3) x 10 = 7.0 each, not the face value 4.0
    # the six left get the cheap offer, priced by the check alone: at face value, 0.11 x 1.0,
    # which the check found right
    assert plan["offer_id"].eq("b").sum() == 6
    assert plan.attrs["budget_cost"] == pytest.approx(14 * 7.0 + 6 * 0.11)
    cheap = choose_offers(
        effects[["b"]],
        catalog,
        baseline=baseline,
        value_per_conversion=100.0,
        budget=1.0,
        budget_reserve=0.0,
    )
    assert cheap.attrs["budget_cost"] == pytest.approx(cheap["expected_cost"].sum())


def _band_of(purchases: float, rows: float) -> dict:
    """A band whose standard error is the model's for this many purchases in this many rows."""
    smoothed = (purchases + 1.0) / (rows + 2.0)
    return _band(purchases / rows, se=math.sqrt(smoothed * (1.0 - smoothed) / rows))


def test_band_purchases_reads_the_count_back_from_the_standard_error() -> None:
    for purchases, rows in ((10.0, 2000.0), (150.0, 500.0), (0.0, 1000.0)):
        bands = {k: np.asarray(v, dtype=float) for k, v in _band_of(purchases, rows).items()}
        assert band_purchases(bands)[0] == pytest.approx(purchases, abs=1e-6)
    assert band_purchases({k: np.asarray(v) for k, v in _band(0.3).items()})[0] == math.inf


def test_a_band_checked_on_too_few_purchases_leaves_the_factor_rule() -> None:
    """With purchases at 0.5-1%, a band's check rests on a handful of events, and the customers a
    budget picked from one bought 40% more than its upper ratio allowed (a plan cost 1.03x its
    budget): such a band prices nothing, the factor rule does."""
    # p = 0.2 at face (2.0 each); the factor rule 0.1 + 2 x 0.1 = 0.3 (3.0 each)
    few = _band_of(MIN_CHECK_PURCHASES / 2, 25.0)  # 10 purchases in 25 rows: 0.4, se 0.098
    effects, baseline = _effects([0.1] * 10, {"a": few})
    assert _plan(effects, baseline, budget=29.0)["offer_id"].notna().sum() == 9
    # the same rate on 40 purchases prices by the check: (0.4 + 3 x 0.049) / 0.2 x 2.0 = 5.47 each
    enough = _band_of(2 * MIN_CHECK_PURCHASES, 100.0)
    effects, baseline = _effects([0.1] * 10, {"a": enough})
    assert _plan(effects, baseline, budget=29.0)["offer_id"].notna().sum() == 5
