"""Tests that kill mutants which survived the suite (session 48's mutation run of the current offer
policy: choose_offers, its choice, noise, prudent cost, knapsack, inputs and reasons). Each test
names the mutant it kills."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, DataError
from loyalty_ml.policy._prudent_cost import MIN_CHECK_PURCHASES, band_purchases
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import PLAN_COLUMNS, choose_offers

ONE = OfferCatalog([Offer(offer_id="d10", cost_per_redemption=10.0, kind="discount")])


def _one_customer(
    catalog: OfferCatalog,
    effects: dict[str, float],
    *,
    baseline: float,
    attrs: dict | None = None,
    customer: object = 1,
    **options: Any,
) -> pd.DataFrame:
    """``choose_offers`` for one customer: ``effects`` per offer, ``attrs`` recorded on them."""
    index = pd.Index([customer], name="customer_id")
    frame = pd.DataFrame({offer: [effect] for offer, effect in effects.items()}, index=index)
    frame.attrs.update(attrs or {})
    return choose_offers(frame, catalog, baseline=pd.Series([baseline], index=index), **options)


def test_an_effect_past_certainty_pays_for_one_redemption_at_most() -> None:
    """O2 (expected cost priced on the unclipped p0 + u): p0 = 0.9 and u = 0.2 buy 0.1 more
    conversions, and the customer redeems at most once: cost 1.0 x 10 = 10, not 1.1 x 10 = 11."""
    plan = _one_customer(ONE, {"d10": 0.2}, baseline=0.9, value_per_conversion=200.0)
    assert plan.loc[1, "offer_id"] == "d10"
    assert plan.loc[1, "expected_uplift"] == pytest.approx(0.1)
    assert plan.loc[1, "expected_cost"] == pytest.approx(10.0)
    assert plan.loc[1, "expected_net_value"] == pytest.approx(0.1 * 200.0 - 10.0)


def test_an_effect_of_exactly_one_is_a_probability_change() -> None:
    """O8 (effects of |u| >= 1 refused): a customer certain not to buy (p0 = 0) whom the offer makes
    certain to buy has u = 1, inside [-1, 1]: cost 1 x 10, net value 40 - 10 = 30."""
    plan = _one_customer(ONE, {"d10": 1.0}, baseline=0.0, value_per_conversion=40.0)
    assert plan.loc[1, ["offer_id", "reason"]].tolist() == ["d10", "cheapest effective"]
    assert plan.loc[1, "expected_net_value"] == pytest.approx(30.0)


def test_the_held_out_check_prices_the_cheapest_offer_at_face_value_not_at_prudent_cost() -> None:
    """O17 (the check prices the offer cheapest by the factor rule, not at face value): coupon c
    (10 a redemption) costs 0.1 x 10 = 1.0 at face, the push p (a send of 1.2) 1.2, so c is the
    cheapest and the check (ratio 1) prices it at 1.0, which fits a budget of 1.1. By the factor
    rule c would count (0.05 + 2 x 0.05) x 10 = 1.5 and p 1.2: neither fits."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="c", cost_per_redemption=10.0, kind="discount"),
            Offer(offer_id="p", cost_per_redemption=0.0, cost_per_send=1.2, kind="non_monetary"),
        ]
    )
    band = {"effect_to": [np.inf], "predicted": [0.2], "observed": [0.2], "observed_se": [0.0]}
    plan = _one_customer(
        catalog,
        {"c": 0.05, "p": 0.05},
        baseline=0.05,
        attrs={"cost_calibration": {"c": band, "p": band}},
        value_per_conversion=100.0,
        strategy="max_net_value",
        budget=1.1,
        budget_reserve=0.0,
    )
    assert plan.attrs["cost_calibration"] is True
    assert plan.loc[1, ["offer_id", "reason"]].tolist() == ["c", "max net value"]
    assert plan.attrs["budget_cost"] == pytest.approx(1.0)


SENDS = OfferCatalog(
    [
        Offer(offer_id="mens", cost_per_redemption=0.0, cost_per_send=0.05, kind="non_monetary"),
        Offer(offer_id="womens", cost_per_redemption=0.0, cost_per_send=0.05, kind="non_monetary"),
    ]
)


def _two_emails(womens: float, budget: float | None = None) -> pd.DataFrame:
    """Max net value for one customer between two e-mails of one send cost: mens at an effect of
    0.070 and better on average in the experiment, womens at ``womens``; each level's se 0.003."""
    return _one_customer(
        SENDS,
        {"mens": 0.070, "womens": womens},
        baseline=0.1,
        attrs={"arm_average_effect": {"mens": 0.077, "womens": 0.045}},
        customer="a",
        value_per_conversion=2.0,
        strategy="max_net_value",
        arm_mean_se=pd.Series({"mens": 0.003, "womens": 0.003}),
        budget=budget,
    )


def test_with_a_budget_the_better_on_average_rule_does_not_relabel_the_knapsacks_pick() -> None:
    """O23 (the max_net_value noise rule kept on with a budget): womens leads mens by 0.002 x 2 =
    0.004, within the noise, and mens is better on average; the knapsack (budget ample) gives
    womens, the best, so the reason is "max net value", not "cheaper offer within budget" (womens
    is not cheaper: both cost 0.05)."""
    plan = _two_emails(womens=0.072, budget=10.0)
    assert plan.loc["a", ["offer_id", "reason"]].tolist() == ["womens", "max net value"]
    assert plan.loc["a", "expected_net_value"] == pytest.approx(0.072 * 2 - 0.05)


def test_the_noise_in_a_coupons_level_is_net_of_its_redemption_cost() -> None:
    """O24 (level sd v x se instead of |v - r| x se): coupon x (r = 10, u = 0.1, p0 = 0) and push y
    (a send of 1.0, u = 0.0875) both cost 1.0; net values 0.1 x 12 - 1 = 0.2 and 1.05 - 1 = 0.05,
    0.15 apart. The noise of the difference is sqrt((2 x 0.01)^2 + (12 x 0.01)^2) = 0.1217 < 0.15,
    so x stays; counted at v (0.12 for x too), 0.1697 would move the customer to y."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="x", cost_per_redemption=10.0, kind="discount"),
            Offer(offer_id="y", cost_per_redemption=0.0, cost_per_send=1.0, kind="non_monetary"),
        ]
    )
    plan = _one_customer(
        catalog,
        {"x": 0.1, "y": 0.0875},
        baseline=0.0,
        attrs={"arm_average_effect": {"x": 0.05, "y": 0.09}},
        value_per_conversion=12.0,
        strategy="max_net_value",
        arm_mean_se=pd.Series({"x": 0.01, "y": 0.01}),
    )
    assert plan.loc[1, ["offer_id", "reason"]].tolist() == ["x", "max net value"]
    assert plan.loc[1, "expected_net_value"] == pytest.approx(0.2)


def test_a_net_value_equal_to_its_noise_does_not_clear_it() -> None:
    """O26 (clears the noise at net >= margin): the push (a send of 2.5, u = 0.5, v = 10) nets
    5 - 2.5 = 2.5, exactly one standard error of its effect in money, 10 x 0.25 = 2.5: that does
    not exceed it, so the customer moves to the coupon (r = 8: cost 0.5 x 8 = 4, net 1, margin
    (10 - 8) x 0.25 = 0.5)."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="push", cost_per_redemption=0.0, cost_per_send=2.5, kind="non_monetary"),
            Offer(offer_id="coupon", cost_per_redemption=8.0, kind="discount"),
        ]
    )
    plan = _one_customer(
        catalog,
        {"push": 0.5, "coupon": 0.5},
        baseline=0.0,
        value_per_conversion=10.0,
        arm_mean_se=pd.Series({"push": 0.25, "coupon": 0.25}),
    )
    assert plan.loc[1, ["offer_id", "reason"]].tolist() == [
        "coupon",
        "cheapest offer clear of noise",
    ]
    assert plan.loc[1, "expected_net_value"] == pytest.approx(1.0)


@pytest.mark.parametrize("strategy", ["cheapest_effective", "max_net_value"])
def test_offers_tied_on_cost_and_value_go_to_the_lower_offer_id(strategy: str) -> None:
    """O43 (offers kept in the catalog's order): "b" listed before "a", the same costs and
    effects: the tie goes to "a", whatever the catalog's order."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="b", cost_per_redemption=5.0, kind="discount"),
            Offer(offer_id="a", cost_per_redemption=5.0, kind="discount"),
        ]
    )
    plan = _one_customer(
        catalog,
        {"b": 0.1, "a": 0.1},
        baseline=0.1,
        value_per_conversion=40.0,
        strategy=strategy,  # type: ignore[arg-type]
    )
    assert plan.loc[1, "offer_id"] == "a"
    assert plan.loc[1, "expected_net_value"] == pytest.approx(0.1 * 40 - 0.2 * 5)


@pytest.mark.parametrize("min_uplift", [float("nan"), float("inf"), "0.01"])
def test_a_min_uplift_that_is_not_a_finite_number_is_refused(min_uplift: object) -> None:
    """O53 (no check of min_uplift): NaN or inf would silently make no offer effective."""
    with pytest.raises(ConfigError, match="'min_uplift' parameter"):
        _one_customer(
            ONE,
            {"d10": 0.2},
            baseline=0.1,
            value_per_conversion=100.0,
            min_uplift=min_uplift,  # type: ignore[arg-type]
        )


def test_an_infinite_effect_is_named_as_infinite() -> None:
    """O56 (no check for infinite effects): inf would still be refused, but as an effect outside
    [-1, 1] on spend or margin; the error must name it as infinite and say NaN makes the offer
    unavailable."""
    index = pd.Index([1, 2], name="customer_id")
    with pytest.raises(DataError, match=r"has 1 infinite values .*'d10'.*set them to NaN"):
        choose_offers(
            pd.DataFrame({"d10": [0.2, -np.inf]}, index=index),
            ONE,
            baseline=pd.Series([0.1, 0.1], index=index),
            value_per_conversion=100.0,
        )


def test_the_noise_of_a_difference_counts_both_offers_levels() -> None:
    """C4 (the gap is the other offer's level sd alone, not the sd of the difference): womens leads
    mens by 0.0035 x 2 = 0.007; each level's sd is 2 x 0.003 = 0.006, their difference's
    sqrt(2) x 0.006 = 0.0085: within the noise, so the customer gets mens, better on average."""
    plan = _two_emails(womens=0.0735)
    assert plan.loc["a", ["offer_id", "reason"]].tolist() == [
        "mens",
        "offer better on average within noise",
    ]
    assert plan.loc["a", "expected_net_value"] == pytest.approx(0.070 * 2 - 0.05)


def _budgeted(attrs: dict) -> pd.DataFrame:
    return _one_customer(
        ONE,
        {"d10": 0.2},
        baseline=0.1,
        attrs=attrs,
        value_per_conversion=100.0,
        budget=100.0,
        arm_mean_se=pd.Series({"d10": 0.01}),
    )


def test_a_recorded_effect_standard_error_of_zero_is_accepted() -> None:
    """N7 (arm_effect_se must be > 0): an effect known exactly has a standard error of 0, a valid
    one; the prudent cost is then (0.1 + 2 x (0.2 + 0)) x 10 = 5."""
    plan = _budgeted({"arm_effect_se": {"d10": 0.0}})
    assert plan.loc[1, "offer_id"] == "d10"
    assert plan.attrs["arm_effect_se"] == {"d10": 0.0}
    assert plan.attrs["budget_cost"] == pytest.approx(5.0)


def test_a_recorded_control_standard_error_of_zero_is_accepted() -> None:
    """N9 (control_mean_se must be > 0): a control mean known exactly has a standard error of 0;
    the effect's is then sqrt(0.01^2 + 0) = 0.01, a prudent cost of (0.1 + 2 x 0.21) x 10 = 5.2."""
    plan = _budgeted({"control_mean_se": 0.0})
    assert plan.attrs["control_mean_se"] == 0.0
    assert plan.attrs["arm_effect_se"] == pytest.approx({"d10": 0.01})
    assert plan.attrs["budget_cost"] == pytest.approx(5.2)


def _checked(observed_se: float) -> pd.DataFrame:
    """One customer, p0 = 0.1 and u = 0.1 (a face cost of 0.2 x 10 = 2), a check whose one band
    predicted 0.2 and observed 0.2 with the given standard error."""
    band = {
        "effect_to": [np.inf],
        "predicted": [0.2],
        "observed": [0.2],
        "observed_se": [observed_se],
    }
    return _one_customer(
        ONE,
        {"d10": 0.1},
        baseline=0.1,
        attrs={"cost_calibration": {"d10": band}},
        value_per_conversion=100.0,
        budget=100.0,
        budget_reserve=0.0,
    )


def test_the_check_adds_three_standard_errors() -> None:
    """P1 (CHECK_Z 2): the upper ratio is (0.2 + 3 x 0.02) / 0.2 = 1.3, a price of 2 x 1.3 = 2.6
    (with 2 standard errors, 2.4)."""
    plan = _checked(0.02)
    assert plan.attrs["cost_calibration"] is True
    assert plan.attrs["budget_cost"] == pytest.approx(2.6)


def test_a_band_of_exactly_twenty_purchases_prices_the_budget() -> None:
    """P2 (a band needs more than 20 purchases, not at least 20): 100 rows buying at 0.2 (the
    standard error of the rate smoothed to 21 / 102) are 20 purchases, enough: the price is
    2 x (0.2 + 3 se) / 0.2, not the factor rule's (0.1 + 2 x 0.1) x 10 = 3."""
    smoothed = 21.0 / 102.0
    se = float(np.sqrt(smoothed * (1.0 - smoothed) / 100.0))
    band = {"observed": np.array([0.2]), "observed_se": np.array([se])}
    assert band_purchases(band)[0] == MIN_CHECK_PURCHASES == 20.0
    plan = _checked(se)
    assert plan.attrs["budget_cost"] == pytest.approx(2.0 * (0.2 + 3.0 * se) / 0.2)
    assert plan.attrs["budget_cost"] != pytest.approx(3.0)


def test_an_offer_unavailable_to_a_customer_leaves_the_other_their_cheapest() -> None:
    """P7 (a NaN cost taken into the row's minimum): the customer's d20 effect is NaN, so d10 is
    their cheapest offer and the check prices it at face (ratio 1): 0.2 x 10 = 2, not the factor
    rule's floor (0.1 + 2 x 0.1) x 10 = 3."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="d10", cost_per_redemption=10.0, kind="discount"),
            Offer(offer_id="d20", cost_per_redemption=20.0, kind="discount"),
        ]
    )
    band = {"effect_to": [np.inf], "predicted": [0.2], "observed": [0.2], "observed_se": [0.0]}
    plan = _one_customer(
        catalog,
        {"d10": 0.1, "d20": np.nan},
        baseline=0.1,
        attrs={"cost_calibration": {"d10": band, "d20": band}},
        value_per_conversion=100.0,
        budget=100.0,
        budget_reserve=0.0,
    )
    assert plan.loc[1, "offer_id"] == "d10"
    assert plan.attrs["budget_cost"] == pytest.approx(2.0)


def test_a_check_with_no_band_is_refused() -> None:
    """P11 (no check for an empty record): a check of no band would fail as an IndexError when it
    prices a customer; it is a DataError naming the offer."""
    empty: dict = {"effect_to": [], "predicted": [], "observed": [], "observed_se": []}
    with pytest.raises(DataError, match=r"\['cost_calibration'\]\['d10'\] must hold one number"):
        _one_customer(
            ONE,
            {"d10": 0.1},
            baseline=0.1,
            attrs={"cost_calibration": {"d10": empty}},
            value_per_conversion=100.0,
            budget=100.0,
        )


def test_the_budgets_upper_bound_is_the_lp_relaxation() -> None:
    """K9 (steps that fit after the first that did not are added to the bound): sends of 1 and 2,
    a budget of 2; by efficiency a (cost 1, net 10), b (cost 2, net 10), c (cost 1, net 2). The LP
    takes a and half of b: 10 + 5 = 15; the plan takes a and c (12). Adding c's 2 after the split
    would report 17, not the LP bound."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="s1", cost_per_redemption=0.0, cost_per_send=1.0, kind="non_monetary"),
            Offer(offer_id="s2", cost_per_redemption=0.0, cost_per_send=2.0, kind="non_monetary"),
        ]
    )
    index = pd.Index(["a", "b", "c"], name="customer_id")
    effects = pd.DataFrame({"s1": [0.11, np.nan, 0.03], "s2": [np.nan, 0.12, np.nan]}, index=index)
    plan = choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.0, index=index),
        value_per_conversion=100.0,
        strategy="max_net_value",
        budget=2.0,
    )
    assert plan["offer_id"].isna().tolist() == [False, True, False]
    assert plan.loc[["a", "c"], "offer_id"].tolist() == ["s1", "s1"]
    assert plan.loc["b", "reason"] == "budget exhausted"
    assert plan["expected_net_value"].sum() == pytest.approx(12.0)
    assert plan.attrs["budget_reserve"] == 0.0
    assert plan.attrs["budget_upper_bound"] == pytest.approx(15.0)


def test_what_the_greedy_leaves_is_spent_on_more_than_one_customer() -> None:
    """K18 (one upgrade round after the greedy): sends of 1 (net 100 x 0.02 - 1 = 1) and 10
    (net 60 - 10 = 50) for three like customers, a budget of 12. The greedy gives x the send of
    10 and cannot fit another; the 2 left buy the send of 1 for both y and z (net 52 in all)."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="s1", cost_per_redemption=0.0, cost_per_send=1.0, kind="non_monetary"),
            Offer(offer_id="s10", cost_per_redemption=0.0, cost_per_send=10.0, kind="non_monetary"),
        ]
    )
    index = pd.Index(["x", "y", "z"], name="customer_id")
    effects = pd.DataFrame({"s1": [0.02] * 3, "s10": [0.6] * 3}, index=index)
    plan = choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.0, index=index),
        value_per_conversion=100.0,
        strategy="max_net_value",
        budget=12.0,
    )
    assert plan["offer_id"].tolist() == ["s10", "s1", "s1"]
    assert plan["reason"].tolist() == ["max net value"] + ["cheaper offer within budget"] * 2
    assert plan["expected_net_value"].sum() == pytest.approx(52.0)
    assert plan.attrs["budget_cost"] == pytest.approx(12.0)


def test_a_free_offer_is_a_customers_first_step_not_their_last() -> None:
    """K20 (a free step ranked at efficiency 0 instead of infinity): a's free mention (net 1) then
    the send of 1 (net 3, a step of 2 for 1); b's send of 1 nets 1.5. A budget of 1 buys a's send:
    3 in all. Ranked last, a's free step would block a's dearer one, and the plan would give a the
    mention and b the send (2.5)."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="free", cost_per_redemption=0.0, kind="non_monetary"),
            Offer(offer_id="send", cost_per_redemption=0.0, cost_per_send=1.0, kind="non_monetary"),
        ]
    )
    index = pd.Index(["a", "b"], name="customer_id")
    effects = pd.DataFrame({"free": [0.01, np.nan], "send": [0.04, 0.025]}, index=index)
    plan = choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.0, index=index),
        value_per_conversion=100.0,
        strategy="max_net_value",
        budget=1.0,
    )
    assert plan["offer_id"].isna().tolist() == [False, True]
    assert plan.loc["a", ["offer_id", "reason"]].tolist() == ["send", "max net value"]
    assert plan.loc["b", "reason"] == "budget exhausted"
    assert plan["expected_net_value"].sum() == pytest.approx(3.0)


@pytest.mark.parametrize("name", ["baseline", "value_per_conversion"])
def test_a_boolean_baseline_or_value_is_refused(name: str) -> None:
    """I2 (no refusal of booleans): a mask passed as the baseline would read as p0 = 1 or 0, and
    one passed as the value as a margin of 1 or 0."""
    index = pd.Index([1, 2], name="customer_id")
    args: dict = {
        "baseline": pd.Series([0.1, 0.1], index=index),
        "value_per_conversion": 100.0,
        name: pd.Series([True, False], index=index),
    }
    with pytest.raises(DataError, match=rf"{name} holds booleans"):
        choose_offers(pd.DataFrame({"d10": [0.2, 0.2]}, index=index), ONE, **args)


NUMBERED = OfferCatalog([Offer(offer_id="101", cost_per_redemption=10.0, kind="discount")])


def _eligible_plan(eligible: pd.DataFrame) -> pd.DataFrame:
    index = pd.Index([1, 2], name="customer_id")
    return choose_offers(
        pd.DataFrame({"101": [0.2, 0.2]}, index=index),
        NUMBERED,
        baseline=pd.Series([0.1, 0.1], index=index),
        value_per_conversion=100.0,
        eligible=eligible,
    )


def test_eligible_columns_that_name_no_offer_are_refused() -> None:
    """I9 (no check that eligible's columns name an offer): a misspelt header would make every
    customer silently not eligible."""
    eligible = pd.DataFrame({"O101": [True, True]}, index=pd.Index([1, 2], name="customer_id"))
    with pytest.raises(DataError, match="none of eligible's columns"):
        _eligible_plan(eligible)


def test_eligible_columns_are_read_as_offer_id_text() -> None:
    """I10 (eligible's columns not read as text): a column 101 (an integer read from a file) is
    offer "101"; customer 1 is eligible and gets it (cost 0.3 x 10 = 3, net 20 - 3 = 17),
    customer 2 is not."""
    eligible = pd.DataFrame({101: [True, False]}, index=pd.Index([1, 2], name="customer_id"))
    plan = _eligible_plan(eligible)
    assert plan.loc[1, ["offer_id", "reason"]].tolist() == ["101", "cheapest effective"]
    assert plan.loc[1, "expected_net_value"] == pytest.approx(17.0)
    assert plan.loc[2, "reason"] == "not eligible"


def test_eligible_with_two_columns_for_one_offer_is_refused() -> None:
    """I11 (no check for repeated columns): columns "101" and 101 are one offer read as text; which
    one holds would be a guess (pandas fails with a bare ValueError on the reindex)."""
    eligible = pd.DataFrame(
        [[True, False], [True, False]],
        columns=["101", 101],
        index=pd.Index([1, 2], name="customer_id"),
    )
    with pytest.raises(DataError, match=r"more than one column for offers \['101'\]"):
        _eligible_plan(eligible)


def test_a_baseline_with_words_is_refused_by_name() -> None:
    """I14 (text that is not a number read as NaN): customer 2's baseline "n/a" would silently
    price nothing; numbers written as text ("0.1") are read."""
    index = pd.Index([1, 2], name="customer_id")
    with pytest.raises(DataError, match=r"baseline holds values that are not numbers \['n/a'\]"):
        choose_offers(
            pd.DataFrame({"d10": [0.2, 0.2]}, index=index),
            ONE,
            baseline=pd.Series(["0.1", "n/a"], index=index),
            value_per_conversion=100.0,
        )


def test_plan_columns_lists_the_plans_columns_in_their_order() -> None:
    """R2 (PLAN_COLUMNS in another order): the public constant is the plan's header, in order."""
    plan = _one_customer(ONE, {"d10": 0.2}, baseline=0.1, value_per_conversion=100.0)
    assert (
        list(plan.columns)
        == list(PLAN_COLUMNS)
        == [
            "offer_id",
            "expected_uplift",
            "expected_cost",
            "expected_net_value",
            "reason",
            "in_holdout",
        ]
    )
