"""Tests that kill mutants which survived the suite (session 44's mutation run of the offer policy
and the uplift evaluation). Each test names the mutant it kills."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.uplift_metrics import policy_value, uplift_at_k, uplift_auc_score
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.policy._knapsack import solve_knapsack
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import choose_offers

# --- uplift_metrics -------------------------------------------------------------------------------


def test_uplift_at_k_is_a_difference_of_rates_not_of_counts() -> None:
    # U3 (mean -> sum): top 4 rows hold 3 treated (2 buy) and 1 control (buys): 2/3 - 1 = -1/3,
    # where counts would give 2 - 1 = 1.
    y = np.array([1, 1, 0, 1, 0, 0])
    t = np.array([1, 1, 1, 0, 0, 1])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    assert uplift_at_k(y, t, s, k=4 / 6) == pytest.approx(2 / 3 - 1.0)
    # by_group: top half of 4 treated (rows 0, 1: both buy) and of 2 control (row 3: buys)
    assert uplift_at_k(y, t, s, k=0.5, strategy="by_group") == pytest.approx(0.0)
    assert uplift_at_k(y, t, s, k=1.0) == pytest.approx(2 / 4 - 1 / 2)


def _sklift_uplift_auc(y: np.ndarray, w: np.ndarray, s: np.ndarray) -> float:
    """scikit-uplift's uplift_auc_score, written out (its perfect curve included)."""

    y, w = y.astype(float), w.astype(float)

    def curve(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(score, kind="mergesort")[::-1]
        yy, ww, ss = y[order], w[order], score[order]
        ends = np.r_[np.flatnonzero(np.diff(ss)), len(ss) - 1]
        n = ends + 1.0
        n_t = np.cumsum(ww)[ends]
        n_c = n - n_t
        y_t = np.cumsum(yy * ww)[ends]
        y_c = np.cumsum(yy * (1 - ww))[ends]
        rt = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t > 0)
        rc = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c > 0)
        return np.r_[0.0, n], np.r_[0.0, (rt - rc) * n]

    cr = np.sum((y == 1) & (w == 0))  # control responders
    tn = np.sum((y == 0) & (w == 1))  # treated non-responders
    x_p, v_p = curve(2.0 * (y == w) + (y if cr > tn else w))
    x, v = curve(s)
    base = np.trapezoid([0.0, v_p[-1]], [0.0, x_p[-1]])
    return float((np.trapezoid(v, x) - base) / (np.trapezoid(v_p, x_p) - base))


@pytest.mark.parametrize("share_buying", [0.2, 0.8])
def test_uplift_auc_matches_sklift_whichever_group_is_larger(share_buying: float) -> None:
    # U11: sklift's perfect uplift curve adds y when the control's responders outnumber the
    # treated non-responders, else w; both branches are taken here (few buyers: tn > cr; many:
    # cr > tn), and the two choices give different perfect areas.
    rng = np.random.default_rng(3)
    w = rng.integers(0, 2, 60)
    y = (rng.uniform(size=60) < share_buying).astype(int)
    s = rng.normal(size=60)
    cr, tn = np.sum((y == 1) & (w == 0)), np.sum((y == 0) & (w == 1))
    assert cr != tn
    assert uplift_auc_score(y, w, s) == pytest.approx(_sklift_uplift_auc(y, w, s), rel=1e-12)


# --- policy_value ---------------------------------------------------------------------------------

Y4 = np.array([1.0, 0.0, 0.0, 1.0])
T4 = np.array(["a", "control", "a", "control"])


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_policy_value_standard_error_by_hand_with_known_shares() -> None:
    # V6 (sum of squares / n instead of / (n - 1)): terms 1 / 0.5 * [1, 0, 0, 0] = [2, 0, 0, 0],
    # value 0.5, influence [1.5, -.5, -.5, -.5]: sqrt(3 / 3) / sqrt(4) = 0.5.
    pv = policy_value(Y4, T4, ["a"] * 4, propensity=pd.Series({"a": 0.5, "control": 0.5}))
    assert pv.value == pytest.approx(0.5)
    assert pv.std_error == pytest.approx(0.5)
    z = 1.959963984540054
    assert (pv.ci_low, pv.ci_high) == pytest.approx((0.5 - z * 0.5, 0.5 + z * 0.5))


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_doubly_robust_standard_error_counts_the_outcome_models_spread() -> None:
    # V7 (the DR influence without its outcome-model part, baseline - mean(baseline)):
    # p = 0.5 (observed shares); terms = mu + match * (y - mu) / p = [1.8, 0.4, -0.6, 0.8], value
    # 0.6; the weighted part [1.6, 0, -1.2, 0] centred within arms: [1.4, 0, -1.4, 0]; plus
    # mu - 0.5 = [-.3, -.1, .1, .3]: influence [1.1, -.1, -1.3, .3], sum of squares 3, se
    # sqrt(3 / 3) / 2 = 0.5 (without the outcome model's part: sqrt(3.92 / 3) / 2 = 0.57).
    mu = pd.DataFrame({"a": [0.2, 0.4, 0.6, 0.8], "control": [0.0, 0.0, 0.0, 0.0]})
    pv = policy_value(Y4, T4, ["a"] * 4, method="dr", mu=mu)
    assert pv.value == pytest.approx(0.6)
    assert pv.std_error == pytest.approx(0.5)


# --- the budget's knapsack ------------------------------------------------------------------------


def test_free_options_are_all_taken_however_many_customers_have_one() -> None:
    # K1 (hull steps need a positive cost): a free option of positive value is a step of infinite
    # efficiency; without it, only the greedy's fill (50 rounds) could take free options, so a
    # zero budget would reach 50 of the 80 customers.
    n = 80
    cost = np.column_stack([np.zeros(n), np.full(n, 1.0)])
    value = np.column_stack([np.full(n, 1.0), np.full(n, 1.5)])
    result = solve_knapsack(cost, value, 0.0)
    assert (result.choice == 0).all()
    assert result.value == pytest.approx(n * 1.0) and result.cost == 0.0


def test_of_two_options_on_one_line_the_cheaper_is_the_first_step() -> None:
    # K2 (ties in slope broken by the dearer option): customer 0's offers (1, 2) and (2, 4) lie on
    # one line; as one step of cost 2 it does not fit a budget of 1, and customer 1's less
    # efficient (1, 1.5) takes the budget instead of customer 0's cheaper offer (value 2).
    cost = np.array([[1.0, 2.0], [1.0, np.nan]])
    value = np.array([[2.0, 4.0], [1.5, np.nan]])
    result = solve_knapsack(cost, value, 1.0)
    assert result.choice.tolist() == [0, -1]
    assert result.value == pytest.approx(2.0)


def test_a_budget_one_rounding_short_of_two_costs_takes_one() -> None:
    # K9 (no final exact check): 0.141 + c exceeds the budget by less than one unit in the last
    # place, but budget - 0.141 rounds to c, so the fill after the greedy would take c too.
    a, c, budget = 0.141, 0.3458993121967997, 0.48689931219679966
    assert a + c > budget and budget - a >= c  # the float trap itself
    result = solve_knapsack(np.array([[a], [c]]), np.array([[1.0], [1.0]]), budget)
    assert result.choice.tolist() == [0, -1]
    assert result.cost <= budget


# --- the budget's prudent cost from the model's held-out check ------------------------------------

ONE_COUPON = OfferCatalog([Offer(offer_id="a", cost_per_redemption=10.0, kind="discount")])


def _checked_plan(uplift: list[float], baseline: float, check: dict, budget: float) -> pd.DataFrame:
    idx = pd.Index(range(len(uplift)), name="customer_id")
    effects = pd.DataFrame({"a": uplift}, index=idx)
    effects.attrs["cost_calibration"] = {"a": check}
    return choose_offers(
        effects,
        ONE_COUPON,
        baseline=pd.Series(baseline, index=idx),
        value_per_conversion=100.0,
        budget=budget,
        budget_reserve=0.0,
    )


def test_an_effect_on_a_bands_upper_edge_is_priced_by_that_band() -> None:
    # P3 (band lookup side="right"): the check's bands hold effects up to and including their
    # effect_to (the model's cost check cuts them with searchsorted(side="left") too). An effect of
    # exactly 0.05 is in the first band (model right: p = 0.15, 1.5), not the second (half too
    # low: 0.3, 3.0).
    check = {
        "effect_to": [0.05, math.inf],
        "predicted": [0.15, 0.2],
        "observed": [0.15, 0.4],
        "observed_se": [0.0, 0.0],
    }
    plan = _checked_plan([0.05], 0.1, check, budget=100.0)
    assert plan.attrs["budget_cost"] == pytest.approx(1.5)


def test_a_checked_price_never_counts_a_probability_above_one() -> None:
    # P5 (no clip of p * factor to [0, 1]): p = 0.8, the check finds the model half too low, so
    # P(buy) is priced at min(1.6, 1) = 1: the coupon costs 10, never 16; two fit in a budget of 20.
    check = {"effect_to": [math.inf], "predicted": [0.2], "observed": [0.4], "observed_se": [0.0]}
    plan = _checked_plan([0.1, 0.1], 0.7, check, budget=20.0)
    assert plan["offer_id"].notna().all()
    assert plan.attrs["budget_cost"] == pytest.approx(20.0)


# --- the catalog ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [{"cost_per_redemption": -0.5}, {"cost_per_redemption": 1.0, "cost_per_send": -0.01}],
)
def test_an_offer_with_a_slightly_negative_cost_is_refused(field: dict) -> None:
    # C5 (costs checked against -1 instead of 0): a negative cost would be a payment to the
    # business per send or redemption; a cost of -0.5 or -0.01 is refused like -1.
    with pytest.raises(ConfigError, match=">= 0"):
        Offer(offer_id="x", **field)


# --- holdout, consent ------------------------------------------------------------------------------


def test_the_holdout_size_is_the_rounded_share_of_the_consenting_customers() -> None:
    # F6 (int instead of round): 0.3 of 9 consenting customers is 2.7, so 3 are held out, not 2;
    # the 3 without consent are never drawn.
    idx = pd.Index(range(12), name="customer_id")
    plan = choose_offers(
        pd.DataFrame({"a": 0.2}, index=idx),
        ONE_COUPON,
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=100.0,
        holdout_fraction=0.3,
        consent=pd.Series(np.arange(12) >= 3, index=idx),
        random_state=0,
    )
    assert (plan["reason"] == "holdout").sum() == 3
    assert (plan["reason"] == "no marketing consent").sum() == 3
    assert plan["offer_id"].notna().sum() == 6


# --- what is effective ------------------------------------------------------------------------------


def test_an_uplift_equal_to_min_uplift_is_effective() -> None:
    # F12 (uplift > min_uplift): the rule is u >= min_uplift (DESIGN.md section 5, the module
    # docstring); an uplift of exactly 0.1 with min_uplift=0.1 is offered, 0.0999 is not.
    idx = pd.Index([1, 2], name="customer_id")
    plan = choose_offers(
        pd.DataFrame({"a": [0.1, 0.0999]}, index=idx),
        ONE_COUPON,
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=100.0,
        min_uplift=0.1,
    )
    assert plan["offer_id"].tolist()[0] == "a"
    assert pd.isna(plan.loc[2, "offer_id"]) and plan.loc[2, "reason"] == "no effective offer"


def test_an_offer_that_only_breaks_even_is_not_effective() -> None:
    # F13 (net >= 0): effective needs NV > 0; a mail of send cost 1 and uplift 0.25 at a margin
    # of 4 earns exactly what it costs (0.25 * 4 - 1 = 0, exact in floats), so nobody gets it.
    mail = OfferCatalog([Offer(offer_id="mail", cost_per_redemption=0.0, cost_per_send=1.0)])
    idx = pd.Index([1, 2], name="customer_id")
    plan = choose_offers(
        pd.DataFrame({"mail": [0.25, 0.5]}, index=idx),
        mail,
        baseline=pd.Series(0.5, index=idx),
        value_per_conversion=4.0,
    )
    assert pd.isna(plan.loc[1, "offer_id"]) and plan.loc[1, "reason"] == "no effective offer"
    assert plan.loc[2, "offer_id"] == "mail" and plan.loc[2, "expected_net_value"] == 1.0


# --- noise rules ------------------------------------------------------------------------------------


def test_the_clear_of_noise_margin_nets_out_the_redemption_cost() -> None:
    # F20 (margin v * se instead of |v - r| * se): one more conversion earns v = 30 but redeems
    # r = 20, so a standard error of 0.05 in the coupon's effect moves its net value by 0.5, not
    # 1.5; its net value 30 * 0.5 - 0.7 * 20 = 1.0 clears the noise, and the push (0.29, within
    # 30 * 0.011 = 0.33 of 0) gives way to it.
    catalog = OfferCatalog(
        [
            Offer(offer_id="push", cost_per_redemption=0.0, cost_per_send=0.01),
            Offer(offer_id="coupon", cost_per_redemption=20.0),
        ]
    )
    idx = pd.Index(["a"], name="customer_id")
    plan = choose_offers(
        pd.DataFrame({"push": [0.01], "coupon": [0.5]}, index=idx),
        catalog,
        baseline=pd.Series(0.2, index=idx),
        value_per_conversion=30.0,
        arm_mean_se=pd.Series({"push": 0.011, "coupon": 0.05}),
    )
    assert plan.loc["a", "expected_net_value"] == pytest.approx(1.0)
    assert plan.loc["a", ["offer_id", "reason"]].tolist() == [
        "coupon",
        "cheapest offer clear of noise",
    ]


# --- monthly caps -------------------------------------------------------------------------------------


def _capped_plan(history: pd.DataFrame, as_of: pd.Timestamp, max_per_month: int) -> pd.DataFrame:
    catalog = OfferCatalog(
        [Offer(offer_id="a", cost_per_redemption=10.0, max_per_month=max_per_month)]
    )
    idx = pd.Index([1, 2, 3], name="customer_id")
    return choose_offers(
        pd.DataFrame({"a": 0.2}, index=idx),
        catalog,
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=100.0,
        history=history,
        as_of=as_of,
    )


def test_a_send_at_as_of_itself_is_not_yet_counted_by_the_monthly_cap() -> None:
    # S1 (sends up to and including as_of): as for the cool-down, the night itself is not yet a
    # past send (a retry of the night answers alike); one earlier in the month is.
    as_of = pd.Timestamp("2024-07-20")
    history = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["a", "a"],
            "sent_at": [as_of, as_of - pd.Timedelta(hours=1)],
        }
    )
    plan = _capped_plan(history, as_of, max_per_month=1)
    assert plan["reason"].tolist() == [
        "cheapest effective",
        "monthly cap reached",
        "cheapest effective",
    ]


def test_a_send_row_appended_twice_counts_once_towards_the_monthly_cap() -> None:
    # S3 (no de-duplication): customer 1's one send, written twice by a retried feedback step, is
    # one of the two a month allowed; customer 2 had two real sends (two days) and is capped.
    as_of = pd.Timestamp("2024-07-20")
    day = pd.Timedelta(days=1)
    history = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "offer_id": ["a"] * 4,
            "sent_at": [as_of - day, as_of - day, as_of - day, as_of - 2 * day],
        }
    )
    plan = _capped_plan(history, as_of, max_per_month=2)
    assert plan["reason"].tolist() == [
        "cheapest effective",
        "monthly cap reached",
        "cheapest effective",
    ]


def test_a_customers_upgrade_step_is_never_taken_without_the_step_before_it() -> None:
    # K6 (a customer's step taken without its earlier steps): after the first steps of customers
    # 0 and 2 (1.41 of 1.5), customer 3's first step (0.53) does not fit but its second (the
    # upgrade 0.53 -> 0.56, 0.03) does; taken alone it would hand customer 3 the first option
    # unpaid for, and the repair of the overspent budget leaves a plan worth 8.19, not 10.01.
    cost = np.array([[0.77, 0.79], [0.83, 0.29], [0.24, 0.64], [0.53, 0.56]])
    value = np.array([[5.390000000000001, 5.53], [5.81, 2.03], [1.68, 4.48], [3.71, 3.92]])
    result = solve_knapsack(cost, value, 1.5)
    assert result.cost <= 1.5
    assert result.value >= 10.0


def test_the_upper_bound_is_never_below_the_plans_own_value() -> None:
    # K11 (the bound without max(upper, value)): summed step by step, the LP bound can come out
    # one rounding below the value of the very plan it bounds (0.1627 here, all options taken).
    cost = np.array([[0.137, 0.343, 0.016], [0.421, 0.119, 0.568], [0.677, 0.716, 0.104]])
    value = np.array([[0.0137, 0.0343, 0.0016], [0.0421, 0.0119, 0.0568], [0.0677, 0.0716, 0.0104]])
    result = solve_knapsack(cost, value, 2.6)
    assert result.upper_bound >= result.value


def test_a_budget_one_rounding_short_drops_the_pick_that_loses_least() -> None:
    # Session 44's K9 case: the greedy and its fill take all seven (exact total 0.40017606968654235)
    # in a budget one rounding smaller. Dropping the least efficient pick (row 0, value 2.31) cost
    # 1.95 of value; dropping the pick of least value whose cost covers the excess (row 2, value
    # 0.36) is the brute-force best, 19.8743.
    cost = np.array(
        [
            [0.3054619161676705],
            [1.1842425926511622e-06],
            [6.432048685397752e-07],
            [0.024433017217299305],
            [0.06954679303535842],
            [0.0007325158187528858],
            [3.4241832160104235e-17],
        ]
    )
    value = np.array(
        [
            [2.313779448030085],
            [4.736232789038889],
            [0.3635117715966334],
            [2.3316574394362735],
            [3.764260017813098],
            [2.450813496305453],
            [4.277557456210968],
        ]
    )
    budget = 0.4001760696865423
    assert math.fsum(cost[:, 0]) > budget  # the float trap itself
    result = solve_knapsack(cost, value, budget)
    assert result.choice.tolist() == [0, 0, -1, 0, 0, 0, 0]
    assert result.value == pytest.approx(19.874300646834765)
    assert result.cost <= budget
