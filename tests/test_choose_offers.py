"""Tests of loyalty_ml.policy.offers (choose_offers, summarize_plan) and its knapsack."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, PolicyError
from loyalty_ml.policy._knapsack import _fill, solve_knapsack
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import REASONS, choose_offers, summarize_plan

CATALOG = OfferCatalog(
    [
        Offer(offer_id="d5", cost_per_redemption=5.0, kind="discount"),
        Offer(offer_id="d10", cost_per_redemption=10.0, kind="discount"),
        Offer(
            offer_id="pts", cost_per_redemption=4.0, cost_per_send=0.5, kind="points", breakage=0.25
        ),
    ]
)
IDX = pd.Index([1, 2, 3], name="customer_id")
EFFECTS = pd.DataFrame(
    {"d5": [0.10, 0.0, 0.05], "d10": [0.20, 0.01, 0.15], "pts": [0.05, 0.0, 0.02]}, index=IDX
)
BASELINE = pd.Series([0.1, 0.5, 0.2], index=IDX)


def _plan(**kwargs: object) -> pd.DataFrame:
    args: dict = {"baseline": BASELINE, "value_per_conversion": 40.0, **kwargs}
    return choose_offers(EFFECTS, CATALOG, **args)


def test_cheapest_effective_by_hand() -> None:
    plan = _plan()
    assert list(plan.columns) == [
        "offer_id",
        "expected_uplift",
        "expected_cost",
        "expected_net_value",
        "reason",
        "in_holdout",
    ]
    assert plan.index.equals(IDX)
    # customer 1: pts costs 0.15*4*0.75 + 0.5 = 0.95 (NV 2 - 0.95); d5 costs 0.2*5 = 1.0
    assert plan.loc[1, "offer_id"] == "pts"
    assert plan.loc[1, "expected_cost"] == pytest.approx(0.95)
    assert plan.loc[1, "expected_net_value"] == pytest.approx(1.05)
    assert plan.loc[1, "expected_uplift"] == pytest.approx(0.05)
    # customer 2 would buy anyway: every offer loses money
    assert pd.isna(plan.loc[2, "offer_id"]) and plan.loc[2, "reason"] == "no effective offer"
    assert plan.loc[2, ["expected_cost", "expected_net_value"]].tolist() == [0.0, 0.0]
    # customer 3: pts is not effective (NV 0.8 - 1.16 < 0), d5 is the cheapest effective
    assert plan.loc[3, "offer_id"] == "d5" and plan.loc[3, "expected_cost"] == pytest.approx(1.25)
    assert plan.loc[[1, 3], "reason"].tolist() == ["cheapest effective"] * 2


def test_max_net_value_by_hand() -> None:
    plan = _plan(strategy="max_net_value")
    assert plan["offer_id"].tolist()[::2] == ["d10", "d10"]
    assert plan.loc[1, "expected_net_value"] == pytest.approx(5.0)
    assert plan.loc[3, "expected_net_value"] == pytest.approx(2.5)
    assert plan.loc[1, "reason"] == "max net value"


def test_min_uplift_excludes_small_effects() -> None:
    plan = _plan(min_uplift=0.06)
    assert plan.loc[1, "offer_id"] == "d5" and plan.loc[3, "offer_id"] == "d10"


def test_value_per_customer() -> None:
    plan = _plan(value_per_conversion=pd.Series([40.0, 40.0, 1.0], index=IDX))
    assert plan.loc[3, "reason"] == "no effective offer"


def test_budget_max_net_value_by_hand() -> None:
    # Face-value costs (factor 1, no reserve), so that the knapsack's arithmetic can be checked by hand.
    plan = _plan(strategy="max_net_value", budget=4.0, budget_uplift_factor=1.0, budget_reserve=0.0)
    # Best plan within 4.0 is d10 for customer 1 alone (value 5); customer 3's d10 no longer fits.
    assert plan.loc[1, "offer_id"] == "d10" and plan.loc[1, "reason"] == "max net value"
    assert pd.isna(plan.loc[3, "offer_id"]) and plan.loc[3, "reason"] == "budget exhausted"
    assert plan["expected_cost"].sum() == pytest.approx(3.0)
    # LP bound: steps (1, 3) and (2, 2) of customer 1, then 1/3.5 of customer 3's (3.5, 2.5)
    assert plan.attrs["budget_upper_bound"] == pytest.approx(5 + 2.5 / 3.5)
    assert plan.attrs["budget_cost"] == pytest.approx(3.0)


def test_budget_binds_the_prudent_cost_by_default() -> None:
    # The default counts incremental redemptions twice: customer 1's d10 (p = 0.1 + 0.2) costs
    # 3.0 but is priced (0.1 + 2 * 0.2) * 10 = 5.0 against the budget, and no longer fits in 4.0.
    plan = _plan(strategy="max_net_value", budget=4.0)
    assert (
        plan.loc[1, "offer_id"] == "d5" and plan.loc[1, "reason"] == "cheaper offer within budget"
    )
    # d5 is priced (0.1 + 0.2) * 5 = 1.5 and (0.2 + 0.1) * 5 = 1.5: both customers fit.
    assert plan.loc[3, "offer_id"] == "d5"
    assert plan.attrs["budget_cost"] == pytest.approx(3.0)
    assert plan["expected_cost"].sum() == pytest.approx(1.0 + 1.25)
    # A negative uplift is not doubled: the prudent cost is never below the expected cost.
    negative = choose_offers(
        EFFECTS.assign(d5=[-0.05, 0.0, 0.05]),
        CATALOG,
        baseline=BASELINE,
        value_per_conversion=40.0,
        strategy="max_net_value",
        budget=100.0,
    )
    assert negative.attrs["budget_cost"] >= negative["expected_cost"].sum()


def test_budget_prefers_a_cheaper_offer_when_that_is_better() -> None:
    plan = _plan(strategy="max_net_value", budget=2.5, budget_uplift_factor=1.0, budget_reserve=0.0)
    # d10 for customer 1 (3.0) no longer fits: d5 (1.0, value 3) then customer 3's d5 (1.25)
    assert (
        plan.loc[1, "offer_id"] == "d5" and plan.loc[1, "reason"] == "cheaper offer within budget"
    )
    assert plan.loc[3, "offer_id"] == "d5"
    assert plan["expected_cost"].sum() <= 2.5


def test_budget_cheapest_effective() -> None:
    plan = _plan(budget=1.0, budget_uplift_factor=1.0, budget_reserve=0.0)
    assert plan.loc[1, "offer_id"] == "pts" and plan["offer_id"].isna().sum() == 2
    assert plan.loc[3, "reason"] == "budget exhausted"
    assert _plan(budget=0.0)["offer_id"].isna().all()


def test_consent_eligibility_and_holdout() -> None:
    consent = pd.Series([True, True], index=[1, 3])
    plan = _plan(consent=consent, eligible=pd.Series({1: True, 2: True, 3: False}))
    assert plan.loc[2, "reason"] == "no marketing consent"
    assert plan.loc[3, "reason"] == "not eligible"
    assert plan.loc[1, "offer_id"] == "pts"
    per_offer = pd.DataFrame(
        {"pts": [False, True, True], "d5": [False, True, True], "d10": True}, index=IDX
    )
    plan = _plan(eligible=per_offer)
    assert plan.loc[1, "offer_id"] == "d10" and plan.loc[3, "offer_id"] == "d5"


def test_holdout_is_seeded_and_sized() -> None:
    idx = pd.Index(range(100), name="customer_id")
    effects = pd.DataFrame({"d5": 0.2}, index=idx)
    consent = pd.Series(np.arange(100) < 80, index=idx)
    plan = choose_offers(
        effects,
        CATALOG,
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=40.0,
        holdout_fraction=0.25,
        consent=consent,
        random_state=7,
    )
    assert (plan["reason"] == "holdout").sum() == 20 == plan["in_holdout"].sum()
    assert (plan["reason"] == "no marketing consent").sum() == 20
    assert (
        plan.loc[plan["reason"].isin(["holdout", "no marketing consent"]), "offer_id"].isna().all()
    )
    again = choose_offers(
        effects,
        CATALOG,
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=40.0,
        holdout_fraction=0.25,
        consent=consent,
        random_state=7,
    )
    pd.testing.assert_frame_equal(plan, again)


def test_holdout_reason_says_an_offer_was_withheld() -> None:
    """The reason "holdout" was every customer drawn, also those who would have got nothing (the
    nightly job: 1,852 rows over 35 simulated nights where 105 offers were withheld): it now says
    an offer was withheld, the others keep the reason they would have had, in_holdout marks all."""
    idx = pd.Index(range(200), name="customer_id")
    pays = np.arange(200) % 2 == 0
    effects = pd.DataFrame({"d5": np.where(pays, 0.2, 0.0)}, index=idx)
    plan = choose_offers(
        effects,
        CATALOG,
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=40.0,
        holdout_fraction=0.2,
        random_state=0,
    )
    held = plan["in_holdout"].to_numpy()
    assert held.sum() == 40 and plan.loc[held, "offer_id"].isna().all()
    assert (plan["reason"].eq("holdout").to_numpy() == (held & pays)).all()
    assert set(plan.loc[held & ~pays, "reason"]) == {"no effective offer"}
    # the same reasons as outside the holdout
    assert set(plan.loc[~held & ~pays, "reason"]) == {"no effective offer"}


def test_monthly_cap_from_history() -> None:
    capped = OfferCatalog(
        [
            Offer(offer_id="d5", cost_per_redemption=5.0, max_per_month=1),
            Offer(offer_id="d10", cost_per_redemption=10.0),
        ]
    )
    history = pd.DataFrame(
        {
            "customer_id": [1, 3, 3],
            "offer_id": ["d5", "d5", "d10"],
            "sent_at": pd.to_datetime(["2024-06-03", "2024-05-20", "2024-06-10"]),
        }
    )
    effects = EFFECTS[["d5", "d10"]]
    plan = choose_offers(
        effects,
        capped,
        baseline=BASELINE,
        value_per_conversion=40.0,
        history=history,
        as_of="2024-06-15",
    )
    # customer 1 got d5 this month already, so d10; customer 3's d5 was last month: still allowed
    assert plan.loc[1, "offer_id"] == "d10" and plan.loc[3, "offer_id"] == "d5"
    only_d5 = OfferCatalog([Offer(offer_id="d5", cost_per_redemption=5.0, max_per_month=1)])
    plan = choose_offers(
        EFFECTS[["d5"]],
        only_d5,
        baseline=BASELINE,
        value_per_conversion=40.0,
        history=history,
        as_of="2024-06-15",
    )
    assert plan.loc[1, "reason"] == "monthly cap reached"


def test_a_campaign_id_used_every_week_counts_each_weeks_send() -> None:
    """Sends of one campaign id on three days (a weekly push named alike, or ids left empty) were
    counted once, and a cap of 2 a month let a fourth through; a row retried the same day, a
    few minutes later, is still one send."""
    catalog = OfferCatalog([Offer(offer_id="d5", cost_per_redemption=5.0, max_per_month=2)])
    days = pd.to_datetime(["2024-06-01 09:00", "2024-06-08 09:00", "2024-06-08 09:05"])
    for campaign in (["weekly", "weekly", "weekly"], [None, None, None], None):
        history = pd.DataFrame({"customer_id": 1, "offer_id": "d5", "sent_at": days})
        if campaign is not None:  # without the column: as with empty campaign ids
            history["campaign_id"] = campaign
        plan = choose_offers(
            EFFECTS[["d5"]],
            catalog,
            baseline=BASELINE,
            value_per_conversion=40.0,
            history=history,
            as_of="2024-06-15",
        )
        assert plan.loc[1, "reason"] == "monthly cap reached", campaign
        # the same-day retry is not a send of its own: two rows of June 8 are one
        once = choose_offers(
            EFFECTS[["d5"]],
            OfferCatalog([Offer(offer_id="d5", cost_per_redemption=5.0, max_per_month=3)]),
            baseline=BASELINE,
            value_per_conversion=40.0,
            history=history,
            as_of="2024-06-15",
        )
        assert once.loc[1, "offer_id"] == "d5", campaign


def test_cool_down_rests_customers_sent_any_offer_in_the_last_days() -> None:
    history = pd.DataFrame(
        {
            "customer_id": ["1", 2, 3, 3],  # ids by value: "1" is customer 1
            "offer_id": ["old_mailer", "control", "d5", "d10"],
            "sent_at": pd.to_datetime(["2024-06-10", "2024-06-14", "2024-05-20", "2024-05-01"]),
        }
    )
    plan = _plan(history=history, as_of="2024-06-15", min_days_between_offers=14)
    # 1: any offer counts, even one the catalog no longer holds; 2: a control row rests the
    # customer too (an offer would blur what the control group measures); 3: the last send is 26
    # days back
    assert plan["reason"].tolist() == [
        "contacted recently",
        "in a recent control group",
        "cheapest effective",
    ]
    assert pd.isna(plan.loc[1, "offer_id"]) and plan.loc[1, "expected_cost"] == 0.0
    assert plan.loc[3, "offer_id"] == "d5"
    # a longer rest reaches the send 26 days back; holdout and consent are said first
    longer = _plan(history=history, as_of="2024-06-15", min_days_between_offers=30)
    assert longer.loc[3, "reason"] == "contacted recently"
    no_consent = _plan(
        history=history,
        as_of="2024-06-15",
        min_days_between_offers=30,
        consent=pd.Series([False, True, True], index=IDX),
    )
    assert no_consent.loc[1, "reason"] == "no marketing consent"
    assert REASONS.index("contacted recently") == REASONS.index("holdout") + 1


def test_cool_down_counts_calendar_days_on_the_sends_clock() -> None:
    """Seven days before 2024-03-31 12:00 in London (clocks go forward that night) is
    2024-03-24 12:00 on the wall clock, 167 elapsed hours; a send at 11:30 is outside."""
    sent = pd.to_datetime(["2024-03-24 12:30", "2024-03-24 11:30"]).tz_localize("Europe/London")
    history = pd.DataFrame({"customer_id": [1, 3], "offer_id": ["d5", "d5"], "sent_at": sent})
    plan = _plan(history=history, as_of="2024-03-31 12:00", min_days_between_offers=7)
    assert plan.loc[[1, 3], "reason"].tolist() == ["contacted recently", "cheapest effective"]


def test_cool_down_needs_the_history_and_a_whole_number_of_days() -> None:
    with pytest.raises(ConfigError, match="min_days_between_offers=14 needs the send history"):
        _plan(min_days_between_offers=14)
    history = pd.DataFrame({"customer_id": [1], "offer_id": ["d5"], "sent_at": ["2024-06-01"]})
    for days in (0, -3, 2.5, True, "14"):
        with pytest.raises(ConfigError, match="'min_days_between_offers' parameter"):
            _plan(history=history, as_of="2024-06-15", min_days_between_offers=days)
    with pytest.raises(ConfigError, match=r"monthly caps .* and the cool-down"):
        _plan(history=history, min_days_between_offers=14)


def test_summary() -> None:
    summary = summarize_plan(_plan(consent=pd.Series(True, index=[1, 3])))
    assert summary.by_offer.loc["pts", "customers"] == 1
    assert summary.by_offer.loc["total", "expected_cost"] == pytest.approx(0.95 + 1.25)
    assert summary.by_reason.to_dict() == {"cheapest effective": 2, "no marketing consent": 1}
    flat = summary.to_dict()
    assert flat["plan_total_net_value"] == pytest.approx(1.05 + 0.75)
    assert "Customers by reason" in str(summary)
    # without a budget there are no budget lines
    assert summary.budget is None and "plan_budget" not in flat and "Budget" not in str(summary)


def test_summary_of_a_budgeted_plan_shows_what_the_budget_binds() -> None:
    plan = _plan(budget=2.0)
    assert plan.attrs["budget"] == 2.0
    summary = summarize_plan(plan)
    assert summary.budget is not None
    assert summary.budget["budget"] == 2.0
    assert summary.budget["prudent_cost"] == plan.attrs["budget_cost"]
    assert summary.budget["expected_cost"] == pytest.approx(plan["expected_cost"].sum())
    assert summary.budget["reserve"] == plan.attrs["budget_reserve"]
    # the prudent cost is what fills the budget; the expected cost is at most that
    assert summary.budget["expected_cost"] <= summary.budget["prudent_cost"] <= 2.0
    flat = summary.to_dict()
    assert flat["plan_budget"] == 2.0 and flat["plan_budget_prudent_cost"] > 0
    share = summary.budget["expected_cost"] / 2.0
    assert f"({share:.0%} of the budget)" in str(summary), str(summary)
    # attrs lost on the way (a CSV round trip): the counts alone, no error
    stripped = plan.copy()
    stripped.attrs = {}
    assert summarize_plan(stripped).budget is None


# -- errors ------------------------------------------------------------------------------------------
def test_effects_of_a_model_fitted_on_0_1_arms_get_the_rename_fix() -> None:
    # X5's treatment_flg: UpliftModel.fit(..., control=0) names its arm "1", the catalog "sms"
    sms = OfferCatalog(
        [Offer(offer_id="sms", cost_per_redemption=0.0, cost_per_send=0.5, kind="non_monetary")]
    )
    effects = pd.DataFrame({1: [0.1, 0.0, 0.05]}, index=IDX)
    with pytest.raises(
        PolicyError,
        match=r"columns \['1'\] that are not offers of the catalog \['sms'\]\. .*numbered arms "
        r"\(control=0\): .*effects\.rename\(columns=\{'1': 'sms'\}\), or fit on "
        r"treatment\.map\(\{0: 'control', 1: 'sms'\}\)",
    ):
        choose_offers(effects, sms, baseline=BASELINE, value_per_conversion=1.0)
    plan = choose_offers(
        effects.rename(columns={1: "sms"}), sms, baseline=BASELINE, value_per_conversion=10.0
    )
    assert plan.loc[IDX[0], "offer_id"] == "sms"  # the renamed effects plan as the catalog's
    # effects that have the catalog's one offer already: renaming "1" to it would repeat a column
    with pytest.raises(PolicyError, match=r"effects\.rename\(columns=\{'1': '<offer_id>'\}\)"):
        choose_offers(effects.assign(sms=0.1), sms, baseline=BASELINE, value_per_conversion=1.0)


def test_an_arm_named_by_its_group_beside_one_offer_gets_the_rename_fix() -> None:
    # Lenta's group column: test / control; the catalog names the offer "sms"
    sms = OfferCatalog(
        [Offer(offer_id="sms", cost_per_redemption=0.0, cost_per_send=0.5, kind="non_monetary")]
    )
    effects = pd.DataFrame({"test": [0.1, 0.0, 0.05]}, index=IDX)
    with pytest.raises(
        PolicyError,
        match=r"If the arm 'test' is the catalog's offer 'sms', name it so: "
        r"effects\.rename\(columns=\{'test': 'sms'\}\), or fit on "
        r"treatment\.replace\(\{'test': 'sms'\}\)",
    ):
        choose_offers(effects, sms, baseline=BASELINE, value_per_conversion=1.0)
    # two unknown arms: no guess at which is which
    with pytest.raises(PolicyError) as caught:
        choose_offers(effects.assign(b=0.0), sms, baseline=BASELINE, value_per_conversion=1.0)
    assert "rename" not in str(caught.value)


def test_errors() -> None:
    with pytest.raises(PolicyError, match=r"columns \['d7'\] that are not offers of the catalog"):
        choose_offers(EFFECTS.assign(d7=0.1), CATALOG, baseline=BASELINE, value_per_conversion=1.0)
    with pytest.raises(PolicyError, match="must be an OfferCatalog"):
        choose_offers(EFFECTS, "d5", baseline=BASELINE, value_per_conversion=1.0)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"baseline is missing for customers \[3\]"):
        _plan(baseline=BASELINE.iloc[:2])
    with pytest.raises(DataError, match=r"duplicate customer ids \[.*one row per customer"):
        choose_offers(
            pd.concat([EFFECTS, EFFECTS.iloc[:1]]),
            CATALOG,
            baseline=BASELINE,
            value_per_conversion=1.0,
        )
    with pytest.raises(ConfigError, match="'strategy' parameter of choose_offers"):
        _plan(strategy="random")
    with pytest.raises(ConfigError, match="'budget' parameter"):
        _plan(budget=-1.0)
    for factor in (0.5, float("nan"), "2"):
        with pytest.raises(ConfigError, match="'budget_uplift_factor' parameter"):
            _plan(budget=1.0, budget_uplift_factor=factor)
    with pytest.raises(ConfigError, match="'holdout_fraction' parameter"):
        _plan(holdout_fraction=1.0)
    with pytest.raises(ConfigError, match="history was given without as_of"):
        _plan(history=pd.DataFrame({"customer_id": [], "offer_id": [], "sent_at": []}))
    with pytest.raises(DataError, match="value_per_conversion must be finite"):
        _plan(value_per_conversion=-1.0)
    with pytest.raises(
        DataError, match=r"baseline must be a probability .* customers \[2\] have \[42.0\]"
    ):
        _plan(baseline=BASELINE.where(BASELINE.index != 2, 42.0))


def test_bad_values_per_customer_are_named() -> None:
    """A margin that is negative or infinite names its customers, as a missing one does."""
    values = pd.Series([40.0, -5.0, np.inf], index=IDX)
    with pytest.raises(DataError, match=r"finite and >= 0 .*customers \[2, 3\] have \[-5.0, inf\]"):
        _plan(value_per_conversion=values)


@pytest.mark.parametrize("name", ["value_per_conversion", "baseline", "consent", "eligible"])
def test_a_per_customer_input_indexed_by_cutoff_and_customer_is_refused(name: str) -> None:
    """training_table's (as_of, customer_id) index on a per-customer input was a bare pandas
    TypeError from deep inside the id checks (outside check of session 47)."""
    index = pd.MultiIndex.from_product(
        [pd.to_datetime(["2024-06-30"]), IDX], names=["as_of", "customer_id"]
    )
    given = {
        "value_per_conversion": pd.Series(40.0, index=index),
        "baseline": pd.Series(BASELINE.to_numpy(), index=index),
        "consent": pd.Series(True, index=index),
        "eligible": pd.DataFrame(True, index=index, columns=list(EFFECTS)),
    }
    with pytest.raises(
        DataError, match=rf"{name} has a MultiIndex \['as_of', 'customer_id'\].*xs\(as_of"
    ):
        _plan(**{name: given[name]})


# -- properties ----------------------------------------------------------------------------------------
@st.composite
def _problems(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 25))
    m = draw(st.integers(1, 4))
    catalog = OfferCatalog(
        [
            Offer(
                offer_id=f"o{j}",
                cost_per_redemption=draw(st.floats(0, 20)),
                cost_per_send=draw(st.floats(0, 1)),
            )
            for j in range(m)
        ]
    )
    idx = pd.Index(
        draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True)),
        name="customer_id",
    )
    effects = pd.DataFrame(
        np.array(draw(st.lists(st.floats(-0.2, 0.5), min_size=n * m, max_size=n * m))).reshape(
            n, m
        ),
        index=idx,
        columns=list(catalog.ids),
    )
    baseline = pd.Series(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)), index=idx)
    consent = pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), index=idx)
    if draw(st.booleans()):  # a held-out check of the model's probabilities, as UpliftModel records
        bands = draw(st.integers(1, 4))
        rates = st.lists(st.floats(0, 1), min_size=bands, max_size=bands)
        effects.attrs["cost_calibration"] = {
            o: {
                "effect_to": [
                    *sorted(
                        draw(st.lists(st.floats(-0.2, 0.5), min_size=bands - 1, max_size=bands - 1))
                    ),
                    math.inf,
                ],
                "predicted": draw(rates),
                "observed": draw(rates),
                "observed_se": draw(st.lists(st.floats(0, 0.2), min_size=bands, max_size=bands)),
            }
            for o in catalog.ids
        }
    return {
        "effects": effects,
        "catalog": catalog,
        "baseline": baseline,
        "value_per_conversion": draw(st.floats(0, 100)),
        "budget": draw(st.one_of(st.none(), st.floats(0, 30))),
        "budget_uplift_factor": draw(st.sampled_from([1.0, 2.0, 3.5])),
        "consent": consent,
        "holdout_fraction": draw(st.sampled_from([0.0, 0.2])),
        "strategy": draw(st.sampled_from(["cheapest_effective", "max_net_value"])),
        "random_state": 0,
        # the noise in each offer's level, as UpliftModel.arm_summary_ gives it (or none)
        "arm_mean_se": draw(
            st.one_of(
                st.none(),
                st.lists(st.floats(0, 0.1), min_size=m, max_size=m).map(
                    lambda se: pd.Series(se, index=list(catalog.ids))
                ),
            )
        ),
    }


def _prices(problem: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(buy | offer), clipped to [0, 1], and the expected cost of every offer for every customer."""
    p = (problem["effects"].add(problem["baseline"], axis=0)).clip(0, 1)
    cost = pd.DataFrame(
        {
            o.offer_id: p[o.offer_id] * o.redemption_cost + o.cost_per_send
            for o in problem["catalog"]
        }
    )
    return p, cost


def _effective(problem: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    _, cost = _prices(problem)
    net = problem["effects"] * problem["value_per_conversion"] - cost
    return (net > 0) & (problem["effects"] >= 0), cost


def _clear(problem: dict, effective: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """Effective offers whose net value clears one standard error of the offer's effect, in money
    (|v - r| se), by more than ``tolerance``: all effective ones when the noise is not known."""
    se = problem["arm_mean_se"]
    if se is None:
        return effective
    p, cost = _prices(problem)
    v = problem["value_per_conversion"]
    margin = {o.offer_id: abs(v - o.redemption_cost) * se[o.offer_id] for o in problem["catalog"]}
    uplift = p.sub(problem["baseline"].clip(0, 1), axis=0)
    net = uplift * v - cost
    return effective & (net > pd.Series(margin) + tolerance)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problems())
def test_plan_invariants(problem: dict) -> None:
    plan = choose_offers(
        **{k: v for k, v in problem.items() if k not in ("effects", "catalog")},
        effects=problem["effects"],
        catalog=problem["catalog"],
    )
    assert set(plan["reason"]) <= set(REASONS)
    offered = plan["offer_id"].notna()
    # the budget is never exceeded, neither by the prudent cost it binds nor by the expected cost
    if problem["budget"] is not None:
        assert plan["expected_cost"].sum() <= plan.attrs["budget_cost"] + 1e-9
        assert plan.attrs["budget_cost"] <= problem["budget"] + 1e-9
        assert plan["expected_cost"].sum() <= problem["budget"]
    # holdout and non-consenting customers never get an offer
    assert not offered[plan["reason"].isin(["holdout", "no marketing consent"])].any()
    assert not offered[~problem["consent"]].any()
    # every offer given is effective, and under cheapest_effective no cheaper effective offer
    # exists; with the noise in the levels known and no budget, no cheaper one clear of it, and
    # an offer that does not clear it only where no offer does and none is cheaper
    effective, cost = _effective(problem)
    # clear of the noise by more than rounding, and not short of it by more than rounding
    noise = dict(problem, arm_mean_se=None) if problem["budget"] is not None else problem
    clear, near = _clear(noise, effective, 1e-9), _clear(noise, effective, -1e-9)
    for customer, offer_id in plan.loc[offered, "offer_id"].items():
        assert effective.loc[customer, offer_id]
        if problem["strategy"] == "cheapest_effective":
            cheaper = cost.loc[customer] < cost.loc[customer, offer_id] - 1e-12
            assert not (cheaper & clear.loc[customer]).any()
            if not near.loc[customer, offer_id]:
                assert not clear.loc[customer].any()
                assert not (cheaper & effective.loc[customer]).any()
    # the result does not depend on row order
    shuffled = problem["effects"].sample(frac=1.0, random_state=1)
    again = choose_offers(**{k: v for k, v in problem.items() if k != "effects"}, effects=shuffled)
    pd.testing.assert_frame_equal(again.loc[plan.index], plan)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.floats(0, 10), min_size=3, max_size=3), min_size=n, max_size=n),
            st.lists(st.lists(st.floats(-2, 10), min_size=3, max_size=3), min_size=n, max_size=n),
            st.floats(0, 25),
        )
    )
)
def test_knapsack_against_brute_force(problem: tuple) -> None:
    cost, value, budget = (np.array(problem[0]), np.array(problem[1]), problem[2])
    result = solve_knapsack(cost, value, budget)
    n, m = cost.shape
    best = 0.0
    for combo in itertools.product(range(-1, m), repeat=n):
        c = sum(cost[i, j] for i, j in enumerate(combo) if j >= 0)
        v = sum(value[i, j] for i, j in enumerate(combo) if j >= 0)
        if c <= budget:
            best = max(best, v)
    chosen = result.choice
    assert sum(cost[i, j] for i, j in enumerate(chosen) if j >= 0) <= budget
    assert result.value <= best + 1e-9
    assert best <= result.upper_bound + 1e-9
    # the proven bound: at most one customer's best option short of the LP optimum
    assert result.value >= result.upper_bound - value.max(initial=0.0) - 1e-9


# -- against the simulator's ground truth ----------------------------------------------------------------
@pytest.fixture(scope="module")
def simulated_plan_inputs() -> dict:
    """Effects estimated on earlier campaigns of a simulated programme, and the truth for the last one."""
    from loyalty_ml.datasets.simulator import simulate
    from loyalty_ml.features import experiment_table
    from loyalty_ml.models.uplift import UpliftModel

    data = simulate(n_customers=12_000, start="2023-01-01", end="2024-06-30", seed=3)
    X, y, t = experiment_table(
        data.transactions, data.campaigns, window_days=data.truth.response_window_days
    )
    rows = data.campaigns.loc[X.index]
    last = (rows["campaign_id"] == rows["campaign_id"].max()).to_numpy()
    model = UpliftModel(random_state=0, n_jobs=1).fit(X[~last], y[~last], treatment=t[~last])
    customers = rows.loc[last, "customer_id"].to_numpy()
    effects = model.predict_effects(X[last]).set_axis(customers)
    return {
        "effects": effects,
        "baseline": model.predict_baseline(X[last]).set_axis(customers),
        "truth": data.truth.campaign_effects(rows["campaign_id"].max()).loc[customers],
        "catalog": OfferCatalog.from_frame(data.offers),
        "value": data.truth.value_per_conversion,
    }


def _true_net_value(
    plan: pd.DataFrame, truth: pd.DataFrame, catalog: OfferCatalog, value: float
) -> float:
    total = 0.0
    for offer in catalog:
        rows = truth.loc[plan["offer_id"] == offer.offer_id]
        p_buy = (rows["baseline"] + rows[offer.offer_id]).clip(0, 1)
        total += float((rows[offer.offer_id] * value - offer.expected_cost(p_buy)).sum())
    return total


@pytest.mark.parametrize("strategy", ["cheapest_effective", "max_net_value"])
def test_plan_on_simulated_truth_captures_most_of_the_oracle(
    simulated_plan_inputs: dict, strategy: str
) -> None:
    s = simulated_plan_inputs
    truth, catalog = s["truth"], s["catalog"]
    arms = list(s["effects"].columns)
    plan = choose_offers(
        s["effects"],
        catalog,
        baseline=s["baseline"],
        value_per_conversion=s["value"],
        strategy=strategy,
    )
    oracle = choose_offers(
        truth[arms],
        catalog,
        baseline=truth["baseline"],
        value_per_conversion=s["value"],
        strategy=strategy,
    )
    achieved = _true_net_value(plan, truth, catalog, s["value"])
    best = _true_net_value(oracle, truth, catalog, s["value"])
    assert best > 0
    assert achieved >= 0.6 * best, (achieved, best)
    # whether to make an offer at all is mostly the oracle's call; which offer is harder, because
    # several offers have nearly equal costs and effects. Under cheapest effective the oracle sends
    # most customers early access, whose small effect the default (5 leaves of 785 rows at this
    # size) estimates near 0 (mean -0.06 points): the plan sends double points instead and still
    # earns more than the oracle (103% here; 15 leaves of 100 rows: 49% the same offer, 75% of the
    # value).
    same_decision = plan["offer_id"].notna() == oracle["offer_id"].notna()
    assert same_decision.mean() > 0.6
    same_offer = plan["offer_id"].fillna("none") == oracle["offer_id"].fillna("none")
    assert same_offer.mean() > (0.25 if strategy == "cheapest_effective" else 0.5)


def test_budgeted_plan_on_simulated_truth(simulated_plan_inputs: dict) -> None:
    s = simulated_plan_inputs
    unconstrained = choose_offers(
        s["effects"],
        s["catalog"],
        baseline=s["baseline"],
        value_per_conversion=s["value"],
        strategy="max_net_value",
    )
    budget = 0.3 * unconstrained["expected_cost"].sum()
    plan = choose_offers(
        s["effects"],
        s["catalog"],
        baseline=s["baseline"],
        value_per_conversion=s["value"],
        strategy="max_net_value",
        budget=budget,
    )
    assert plan["expected_cost"].sum() <= budget
    total = plan["expected_net_value"].sum()
    assert total <= plan.attrs["budget_upper_bound"] + 1e-9
    # the greedy is within one customer's best option of the LP bound
    assert (
        total >= plan.attrs["budget_upper_bound"] - unconstrained["expected_net_value"].max() - 1e-9
    )
    assert (plan["reason"] == "budget exhausted").any()
    assert _true_net_value(plan, s["truth"], s["catalog"], s["value"]) > 0


# -- from an audit of the prudent budget ----------------------------------------------------------
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
        budget_reserve=0.0,  # the whole budget: the float sums must still stay within it
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
        budget_reserve=0.0,
    )
    assert plan["offer_id"].notna().sum() == 4


def test_budget_reserve_is_kept_back() -> None:
    # Four sends of 0.1 fill a budget of 0.4 exactly; a 1% reserve keeps one out.
    idx = pd.Index([0, 1, 2, 3], name="customer_id")
    options = {
        "baseline": pd.Series(0.1, index=idx),
        "value_per_conversion": 10.0,
        "budget": 0.4,
        "budget_reserve": 0.01,
    }
    effects = pd.DataFrame({"a": [0.2] * 4}, index=idx)
    plan = choose_offers(effects, _single_offer(0.0, 0.1), **options)
    assert plan["offer_id"].notna().sum() == 3
    assert plan.attrs["budget_cost"] <= 0.4 * 0.99
    assert plan.attrs["budget_reserve"] == 0.01
    assert plan["reason"].value_counts()["budget exhausted"] == 1
    # A budget 1% larger than the four sends takes all four again.
    options["budget"] = 0.4 / 0.99
    assert choose_offers(effects, _single_offer(0.0, 0.1), **options)["offer_id"].notna().all()


def test_auto_budget_reserve_keeps_nothing_back_when_every_cost_is_certain() -> None:
    """Sends alone cost what they cost: the default spends such a budget to the cent."""
    idx = pd.Index([0, 1, 2, 3], name="customer_id")
    options = {"baseline": pd.Series(0.1, index=idx), "value_per_conversion": 10.0, "budget": 0.4}
    effects = pd.DataFrame({"a": [0.2] * 4}, index=idx)
    plan = choose_offers(effects, _single_offer(0.0, 0.1), **options)
    assert plan["offer_id"].notna().all()
    assert plan.attrs["budget_reserve"] == 0.0
    assert plan.attrs["budget_cost"] <= 0.4


def test_auto_budget_reserve_keeps_one_percent_when_a_cost_is_an_estimate() -> None:
    # One offer of the catalog has a redemption cost: its cost is an estimate, so 1% is kept
    # back, even though the four customers' best offer is the send.
    idx = pd.Index([0, 1, 2, 3], name="customer_id")
    catalog = OfferCatalog(
        [
            Offer(offer_id="a", cost_per_redemption=0.0, cost_per_send=0.1, kind="discount"),
            Offer(offer_id="b", cost_per_redemption=5.0, kind="discount"),
        ]
    )
    effects = pd.DataFrame({"a": [0.2] * 4, "b": [0.0] * 4}, index=idx)
    plan = choose_offers(
        effects, catalog, baseline=pd.Series(0.1, index=idx), value_per_conversion=10.0, budget=0.4
    )
    assert plan.attrs["budget_reserve"] == 0.01
    assert plan["offer_id"].eq("a").sum() == 3
    assert plan.attrs["budget_cost"] <= 0.4 * 0.99


@pytest.mark.parametrize("reserve", [-0.01, 1.0, float("nan"), "1%", True])
def test_budget_reserve_is_validated(reserve: object) -> None:
    with pytest.raises(ConfigError, match=r"budget_reserve.*\[0, 1\)"):
        _plan(budget=1.0, budget_reserve=reserve)


def test_an_effect_past_certainty_counts_for_the_conversions_it_can_buy() -> None:
    """p0 = 0.9 and an estimated uplift of 0.3: at most 0.1 more conversions (p capped at 1)."""
    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [5.0]})
    )
    index = pd.Index([1, 2], name="customer_id")
    effects = pd.DataFrame({"d5": [0.3, 0.05]}, index=index)
    plan = choose_offers(
        effects,
        catalog,
        baseline=pd.Series([0.9, 0.1], index=index),
        value_per_conversion=40.0,
        strategy="max_net_value",
    )
    # customer 1: uplift 0.1, cost 1.0 x 5 = 5, NV 0.1 x 40 - 5 = -1: no offer (0.3 would say +7)
    # customer 2: uplift 0.05 as estimated, cost 0.15 x 5 = 0.75, NV 2 - 0.75 = 1.25
    assert plan["offer_id"].isna().tolist() == [True, False]
    assert plan.loc[2, "expected_uplift"] == 0.05
    assert plan.loc[2, "expected_net_value"] == pytest.approx(1.25)


# -- arm_mean_se: max_net_value keeps its best offer over a cheaper one within the noise ---------
NOISE_CATALOG = OfferCatalog(
    [
        Offer(offer_id="cheap", cost_per_redemption=1.0),
        Offer(offer_id="dear", cost_per_redemption=3.0),
    ]
)
NOISE_IDX = pd.Index(["a", "b", "c"], name="customer_id")
# a: dear is better by far (NV 3.65 against 1.7); b: by 0.08; c: no offer pays (buys anyway)
NOISE_EFFECTS = pd.DataFrame(
    {"cheap": [0.10, 0.10, 0.0], "dear": [0.25, 0.14, 0.0]}, index=NOISE_IDX
)
NOISE_BASELINE = pd.Series([0.2, 0.2, 0.9], index=NOISE_IDX)
SE = pd.Series({"control": 0.5, "cheap": 0.01, "dear": 0.01})  # the control's entry is ignored


def _noisy(effects: pd.DataFrame = NOISE_EFFECTS, **kwargs: object) -> pd.DataFrame:
    args: dict = {
        "baseline": NOISE_BASELINE,
        "value_per_conversion": 20.0,
        "strategy": "max_net_value",
        **kwargs,
    }
    return choose_offers(effects, NOISE_CATALOG, **args)


def test_max_net_value_keeps_its_best_offer_over_a_cheaper_one_within_noise() -> None:
    """Until session 47 b moved to the cheaper offer (its 0.08 lead is within the noise); on the
    known response surfaces that cost more than it gave (experiments/RESULTS.md)."""
    plain = _noisy()
    assert plain["offer_id"].tolist()[:2] == ["dear", "dear"]
    assert plain.loc["b", "expected_net_value"] == pytest.approx(0.14 * 20 - 0.34 * 3)  # 1.78
    noisy = _noisy(arm_mean_se=SE)
    # b: the gap 1.78 - 1.7 = 0.08 is under sqrt((19 * 0.01)^2 + (17 * 0.01)^2) = 0.255, but
    # cheap is not as dear as dear: b keeps its best
    assert noisy.loc["b", ["offer_id", "reason"]].tolist() == ["dear", "max net value"]
    assert noisy.loc["a", ["offer_id", "reason"]].tolist() == ["dear", "max net value"]
    assert pd.isna(noisy.loc["c", "offer_id"]) and noisy.loc["c", "reason"] == "no effective offer"
    assert set(noisy["reason"]) <= set(REASONS)
    pd.testing.assert_frame_equal(noisy, plain)


def test_cheapest_effective_with_noise_keeps_offers_whose_value_clears_it() -> None:
    cheapest = _noisy(strategy="cheapest_effective")
    noisy = _noisy(strategy="cheapest_effective", arm_mean_se=SE)
    # a and b: cheap's 1.7 clears (20 - 1) * 0.01 = 0.19 by far, so nothing moves
    pd.testing.assert_frame_equal(noisy, cheapest)
    assert cheapest.attrs["arm_mean_se"] is None and cheapest.attrs["arm_effect_se"] is None
    assert noisy.attrs["arm_mean_se"] == pytest.approx({"cheap": 0.01, "dear": 0.01})
    assert noisy.attrs["arm_effect_se"] == pytest.approx({"cheap": 0.01, "dear": 0.01})


def test_auto_warns_when_the_model_recorded_other_arms_than_the_offers() -> None:
    """Columns renamed after predict_effects: "auto" finds no record of the offers and would plan
    without the noise rules for every offer, in silence."""
    recorded = NOISE_EFFECTS.rename(columns={"cheap": "arm_1", "dear": "arm_2"})
    recorded.attrs = {"arm_mean_se": {"arm_1": 0.01, "arm_2": 0.01}, "control_mean_se": 0.01}
    renamed = recorded.rename(columns={"arm_1": "cheap", "arm_2": "dear"})  # attrs travel along
    with pytest.warns(DataQualityWarning, match=r"not for offers .*cheap.*noise in each offer"):
        plan = _noisy(effects=renamed)
    assert plan.attrs["arm_mean_se"] is None  # what the warning is about
    named = NOISE_EFFECTS.copy()
    named.attrs = {"arm_mean_se": {"cheap": 0.01, "dear": 0.01}, "control_mean_se": 0.01}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _noisy(effects=named).attrs["arm_mean_se"] is not None
        _noisy(effects=renamed, arm_mean_se=None)  # turned off on purpose: nothing to say


SEND_AND_COUPON = OfferCatalog(
    [
        Offer(offer_id="push", cost_per_redemption=0.0, cost_per_send=0.01),
        Offer(offer_id="coupon", cost_per_redemption=2.0),
    ]
)
CLEAR_IDX = pd.Index(["a", "b", "c"], name="customer_id")
CLEAR_EFFECTS = pd.DataFrame(
    {"push": [0.01, 0.05, 0.01], "coupon": [0.10, 0.10, 0.01]}, index=CLEAR_IDX
)
CLEAR_SE = pd.Series({"push": 0.011, "coupon": 0.011})


def _clear_plan(effects: pd.DataFrame = CLEAR_EFFECTS, **kwargs: object) -> pd.DataFrame:
    args: dict = {
        "baseline": pd.Series(0.2, index=CLEAR_IDX),
        "value_per_conversion": 30.0,
        **kwargs,
    }
    return choose_offers(effects, SEND_AND_COUPON, **args)


def test_cheapest_effective_skips_a_cheap_offer_whose_value_is_within_its_noise() -> None:
    plain = _clear_plan()
    assert plain["offer_id"].tolist() == ["push", "push", "push"]
    noisy = _clear_plan(arm_mean_se=CLEAR_SE)
    # a: push's 0.01 * 30 - 0.01 = 0.29 is within 30 * 0.011 = 0.33 of 0; the coupon's
    # 0.1 * 30 - 0.3 * 2 = 2.4 clears 28 * 0.011 = 0.308
    assert noisy.loc["a", ["offer_id", "reason"]].tolist() == [
        "coupon",
        "cheapest offer clear of noise",
    ]
    assert noisy.loc["a", "expected_net_value"] == pytest.approx(2.4)
    # b: push's 1.49 clears the noise; c: no offer does (the coupon is not even effective), so
    # the cheapest effective one, as without the noise
    assert noisy.loc["b", ["offer_id", "reason"]].tolist() == ["push", "cheapest effective"]
    assert noisy.loc["c", ["offer_id", "reason"]].tolist() == ["push", "cheapest effective"]
    assert set(noisy["reason"]) <= set(REASONS)
    # the control's noise counts too: an effect is a difference with the control's level
    both = CLEAR_EFFECTS.copy()
    both.attrs["control_mean_se"] = 0.05
    moved = _clear_plan(both, arm_mean_se=CLEAR_SE)
    # b's 1.49 is within 30 * sqrt(0.011^2 + 0.05^2) = 1.54 now; its coupon's 2.4 clears 1.43
    assert moved.loc["b", "offer_id"] == "coupon"
    assert moved.attrs["arm_effect_se"]["push"] == pytest.approx((0.011**2 + 0.05**2) ** 0.5)
    # with a budget the rule is off (the noise goes into the prudent cost): a's menu is the push
    roomy = _clear_plan(arm_mean_se=CLEAR_SE, budget=100.0, budget_reserve=0.0)
    assert roomy["offer_id"].tolist() == ["push", "push", "push"]
    assert "cheapest offer clear of noise" not in set(roomy["reason"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 0.05))
def test_noise_only_ever_moves_a_cheapest_effective_customer_to_an_offer_clear_of_it(
    seed: int, se: float
) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    index = pd.Index(np.arange(n), name="customer_id")
    effects = pd.DataFrame(rng.uniform(-0.05, 0.3, (n, 3)), index=index, columns=list(CATALOG.ids))
    baseline = pd.Series(rng.uniform(0, 0.6, n), index=index)
    args: dict = {"baseline": baseline, "value_per_conversion": 40.0}
    plain = choose_offers(effects, CATALOG, **args)
    noisy = choose_offers(
        effects, CATALOG, arm_mean_se=pd.Series(se, index=list(CATALOG.ids)), **args
    )
    # the same customers get an offer, none a cheaper one, and a moved one's offer clears the noise
    assert (noisy["offer_id"].isna() == plain["offer_id"].isna()).all()
    assert (noisy["expected_cost"] >= plain["expected_cost"] - 1e-12).all()
    moved = noisy["offer_id"].fillna("-") != plain["offer_id"].fillna("-")
    assert (noisy.loc[moved, "reason"] == "cheapest offer clear of noise").all()
    assert (noisy.loc[~moved, "reason"] == plain.loc[~moved, "reason"]).all()
    redemption = {o.offer_id: o.redemption_cost for o in CATALOG}
    margin = np.array([abs(40.0 - redemption[o]) * se for o in noisy.loc[moved, "offer_id"]])
    assert (noisy.loc[moved, "expected_net_value"].to_numpy() > margin).all()
    if se == 0.0:
        pd.testing.assert_frame_equal(noisy, plain)


def test_with_a_budget_the_noise_raises_the_prudent_cost_instead_of_moving_customers() -> None:
    budget = 10.0  # room for every offer: the choice is as without the noise
    noisy = _noisy(arm_mean_se=SE, budget=budget, budget_reserve=0.0)
    plain = _noisy(budget=budget, budget_reserve=0.0)
    cols = ["offer_id", "expected_cost", "expected_net_value", "reason"]
    pd.testing.assert_frame_equal(noisy[cols], plain[cols])
    # a and b get dear (r = 3) at p0 = 0.2: each positive uplift raised by the offer's se alone
    # (the frame records no control_mean_se), then counted twice
    assert plain.attrs["budget_cost"] == pytest.approx((0.2 + 2 * 0.25 + 0.2 + 2 * 0.14) * 3)
    assert noisy.attrs["budget_cost"] == pytest.approx((0.4 + 2 * (0.25 + 0.14 + 2 * 0.01)) * 3)
    assert noisy.attrs["arm_mean_se"] == pytest.approx({"cheap": 0.01, "dear": 0.01})
    assert noisy.attrs["control_mean_se"] == 0.0 and plain.attrs["control_mean_se"] is None


def _control_too_high(
    control_se: float | None, attrs: dict | None = None, **kwargs: object
) -> pd.DataFrame:
    """100 alike customers whose true p0 is 0.10 and true uplift 0.05, estimated from a control
    arm whose mean came out 0.035 too high: p0 0.135 and uplift 0.005 (the control's excess and
    0.01 of shrinkage). One offer, redemption cost 1, a conversion worth 100."""
    index = pd.Index(np.arange(100), name="customer_id")
    effects = pd.DataFrame({"d": 0.005}, index=index)
    if control_se is not None:
        effects.attrs["control_mean_se"] = control_se
    effects.attrs.update(attrs or {})
    catalog = OfferCatalog([Offer(offer_id="d", cost_per_redemption=1.0)])
    return choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.135, index=index),
        value_per_conversion=100.0,
        budget=10.0,
        budget_reserve=0.0,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_noise_in_the_control_arm_keeps_a_budget_on_the_true_costs() -> None:
    true_cost = 0.10 + 0.05  # what each customer given the offer costs in truth
    # the factor alone: prudent cost 0.135 + 2 * 0.005 = 0.145 < 0.15, 68 customers, 10.2 spent
    alone = _control_too_high(0.03, arm_mean_se=None)
    assert alone["offer_id"].notna().sum() == 68
    assert alone["offer_id"].notna().sum() * true_cost > 10.0
    # with the se of the effect, sqrt(0.01^2 + 0.03^2): 0.135 + 2 * (0.005 + 0.0316) = 0.208
    se = pd.Series({"d": 0.01})
    noisy = _control_too_high(0.03, arm_mean_se=se)
    taken = int(noisy["offer_id"].notna().sum())
    assert taken == 48 and taken * true_cost <= 10.0
    assert noisy.attrs["budget_cost"] == pytest.approx(48 * (0.135 + 2 * (0.005 + 0.1**0.5 / 10)))
    assert noisy.attrs["control_mean_se"] == 0.03
    assert noisy.attrs["arm_mean_se"] == {"d": 0.01}
    # the expected costs and net values reported are the estimates, not the prudent ones
    given = noisy["offer_id"].notna()
    assert np.allclose(noisy.loc[given, "expected_cost"], 0.14)
    # without the control's se, only the offer's: 0.135 + 2 * 0.015 = 0.165, 60 customers
    assert _control_too_high(None, arm_mean_se=se)["offer_id"].notna().sum() == 60


def test_the_offers_own_effect_se_replaces_the_pooled_control_noise() -> None:
    """With pooled campaigns the model records each offer's effect's standard error against the
    control rows of the campaigns that sent it, larger than the pooled control's: 0.05 here."""
    true_cost = 0.10 + 0.05
    se = pd.Series({"d": 0.01})
    own = _control_too_high(0.03, arm_mean_se=se, attrs={"arm_effect_se": {"d": 0.05}})
    # 0.135 + 2 * (0.005 + 0.05) = 0.245 a customer: 40 within 10
    taken = int(own["offer_id"].notna().sum())
    assert taken == 40 and taken * true_cost <= 10.0
    assert own.attrs["budget_cost"] == pytest.approx(40 * 0.245)
    assert own.attrs["arm_effect_se"] == {"d": 0.05}
    # recorded for other offers only (effects from elsewhere): sqrt(0.01^2 + 0.03^2), 48
    other = _control_too_high(0.03, arm_mean_se=se, attrs={"arm_effect_se": {"e": 0.05}})
    assert other["offer_id"].notna().sum() == 48
    assert other.attrs["arm_effect_se"] == pytest.approx({"d": 0.1**0.5 / 10})
    # the noise off: the factor alone, whatever is recorded
    off = _control_too_high(0.03, arm_mean_se=None, attrs={"arm_effect_se": {"d": 0.05}})
    assert off["offer_id"].notna().sum() == 68 and off.attrs["arm_effect_se"] is None


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        ({"d": -0.01}, r"numbers >= 0.*\['d'\] have \[-0.01\]"),
        ({"d": float("nan")}, "numbers >= 0"),
        ({"d": float("inf")}, "numbers >= 0"),
        ({"d": "high"}, "numbers >= 0"),
        ([0.05], "a dict of offer id"),
    ],
)
def test_a_bad_arm_effect_se_is_refused(recorded: object, message: str) -> None:
    with pytest.raises(DataError, match=r"attrs\['arm_effect_se'\] must .*" + message):
        _control_too_high(
            0.03, arm_mean_se=pd.Series({"d": 0.01}), attrs={"arm_effect_se": recorded}
        )


@pytest.mark.parametrize("recorded", [-0.01, float("nan"), float("inf"), "high", [0.01]])
def test_a_bad_control_mean_se_is_refused(recorded: object) -> None:
    with pytest.raises(DataError, match=r"attrs\['control_mean_se'\] must be a number >= 0"):
        _control_too_high(recorded, arm_mean_se=pd.Series({"d": 0.01}))  # type: ignore[arg-type]
    # ignored when the noise is not used at all
    off = _control_too_high(recorded, arm_mean_se=None)  # type: ignore[arg-type]
    assert off["offer_id"].notna().sum() == 68


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([0.01, 0.01], "must be .auto., None or a Series indexed by offer id"),
        (pd.Series({"cheap": 0.01}), r"no entry for offers \['dear'\]"),
        (pd.Series({"cheap": 0.01, "dear": -0.1}), r"numbers >= 0.*\['dear'\] have \[-0.1\]"),
        (pd.Series({"cheap": 0.01, "dear": "high"}), r"numbers >= 0.*\['dear'\]"),
        (pd.Series([0.01, 0.01, 0.02], index=["cheap", "dear", "dear"]), "more than one entry"),
    ],
)
def test_bad_arm_mean_se_is_refused(given: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _noisy(arm_mean_se=given)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 2**31 - 1),
    st.floats(0.0, 0.05),
)
def test_arm_mean_se_never_moves_max_net_value_to_an_offer_of_another_cost(
    seed: int, se: float
) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    index = pd.Index(np.arange(n), name="customer_id")
    effects = pd.DataFrame(rng.uniform(-0.05, 0.3, (n, 3)), index=index, columns=list(CATALOG.ids))
    baseline = pd.Series(rng.uniform(0, 0.6, n), index=index)
    args: dict = {"baseline": baseline, "value_per_conversion": 40.0, "strategy": "max_net_value"}
    plain = choose_offers(effects, CATALOG, **args)
    noisy = choose_offers(
        effects, CATALOG, arm_mean_se=pd.Series(se, index=list(CATALOG.ids)), **args
    )
    # three offers whose expected costs differ for every customer: only an offer exactly as dear
    # as the best could be taken instead, so the plan is the plain one
    pd.testing.assert_frame_equal(noisy, plain)


def test_arm_mean_se_auto_reads_what_the_uplift_model_recorded() -> None:
    from loyalty_ml.models.uplift import UpliftModel

    rng = np.random.default_rng(0)
    n = 4000
    X = pd.DataFrame({"x": rng.uniform(size=n)}, index=pd.Index(np.arange(n), name="customer_id"))
    t = rng.choice([0, 1, 2], n)  # integer arms, control 0
    y = (rng.uniform(size=n) < 0.2 + 0.04 * (t == 1) + 0.06 * (t == 2)).astype(int)
    model = UpliftModel(n_estimators=20, random_state=0).fit(X, y, treatment=t, control=0)
    effects = model.predict_effects(X)
    recorded = effects.attrs["arm_mean_se"]
    assert recorded == pytest.approx(
        model.arm_summary_["mean_outcome_se"].loc[["1", "2"]].to_dict()
    )
    assert effects.attrs["control_mean_se"] == model.arm_summary_["mean_outcome_se"].loc["0"] > 0
    catalog = OfferCatalog(
        [Offer(offer_id="1", cost_per_redemption=1.0), Offer(offer_id="2", cost_per_redemption=2.0)]
    )
    args: dict = {
        "baseline": model.predict_baseline(X),
        "value_per_conversion": 30.0,
        "strategy": "max_net_value",
    }
    auto = choose_offers(effects, catalog, **args)
    explicit = choose_offers(effects, catalog, arm_mean_se=pd.Series(recorded), **args)
    off = choose_offers(effects, catalog, arm_mean_se=None, **args)
    pd.testing.assert_frame_equal(auto, explicit)
    assert auto.attrs["arm_mean_se"] == pytest.approx(recorded)
    assert off.attrs["arm_mean_se"] is None
    # arm 2 is dearer and barely better: the noise in the levels does not move its customers to
    # arm 1 (until session 47 it did), so the plan is the one without the record
    pd.testing.assert_frame_equal(auto, off)
    # a hand-made frame, or one with an offer the model did not measure, plans as estimated
    plain = effects.copy()
    plain.attrs = {}
    pd.testing.assert_frame_equal(choose_offers(plain, catalog, **args), off)
    partial = effects.copy()
    partial.attrs["arm_mean_se"] = {"1": recorded["1"]}
    with pytest.warns(DataQualityWarning, match=r"not for offers \['2'\]"):
        pd.testing.assert_frame_equal(choose_offers(partial, catalog, **args), off)
    with pytest.raises(DataError, match="'auto', None or a Series"):
        choose_offers(effects, catalog, arm_mean_se="on", **args)  # type: ignore[arg-type]


# -- equally cheap offers within noise: the one better on average ------------------------------
SENDS = OfferCatalog(
    [
        Offer(offer_id="mens", cost_per_redemption=0.0, cost_per_send=0.05, kind="non_monetary"),
        Offer(offer_id="womens", cost_per_redemption=0.0, cost_per_send=0.05, kind="non_monetary"),
    ]
)
SEND_IDX = pd.Index(["a", "b", "c"], name="customer_id")
# a: womens ahead by 0.002 (money 0.004); b: womens ahead by 0.05 (money 0.10); c: mens ahead
SEND_EFFECTS = pd.DataFrame(
    {"mens": [0.070, 0.02, 0.09], "womens": [0.072, 0.07, 0.03]}, index=SEND_IDX
)
SEND_SE = pd.Series({"mens": 0.003, "womens": 0.003})  # level sd in money: 2 x 0.003 x sqrt(2)


def _sends(average: dict | None, catalog: OfferCatalog = SENDS, **kwargs: object) -> pd.DataFrame:
    effects = SEND_EFFECTS.copy()
    if average is not None:
        effects.attrs["arm_average_effect"] = average
    args: dict = {
        "baseline": pd.Series(0.1, index=SEND_IDX),
        "value_per_conversion": 2.0,
        "strategy": "max_net_value",
        "arm_mean_se": SEND_SE,
        **kwargs,
    }
    return choose_offers(effects, catalog, **args)


def test_equally_cheap_offers_within_noise_fall_back_on_the_better_average() -> None:
    plain = _sends(None)
    assert plain["offer_id"].tolist() == ["womens", "womens", "mens"]
    fallback = _sends({"mens": 0.077, "womens": 0.045})  # Hillstrom's visit effects
    # a: 0.004 apart, under the noise 0.0085: the offer better on average; b: 0.10 apart, kept
    assert fallback["offer_id"].tolist() == ["mens", "womens", "mens"]
    assert fallback.loc["a", "reason"] == "offer better on average within noise"
    assert fallback.loc[["b", "c"], "reason"].tolist() == ["max net value"] * 2
    assert fallback.loc["a", "expected_net_value"] == pytest.approx(0.070 * 2 - 0.05)
    assert set(fallback["reason"]) <= set(REASONS)
    # the other way round, nobody moves: womens is already each close customer's best
    assert (
        _sends({"mens": 0.045, "womens": 0.077})["offer_id"].tolist() == plain["offer_id"].tolist()
    )
    # off with the noise rule: arm_mean_se=None, a budget, or cheapest_effective
    average = {"mens": 0.077, "womens": 0.045}
    assert _sends(average, arm_mean_se=None)["offer_id"].tolist() == plain["offer_id"].tolist()
    assert _sends(average, budget=10.0)["offer_id"].tolist() == plain["offer_id"].tolist()
    # a record missing an offer is not used (effects from elsewhere)
    pd.testing.assert_frame_equal(_sends({"mens": 0.077}), plain)


def test_offers_as_dear_up_to_float_rounding_are_equally_dear() -> None:
    """A send cost of 0.06 - 0.01 (0.049999999999999996) is the same price as 0.05: the fallback
    must not be lost to the last bit (nor to a redemption cost times 1 - breakage)."""
    rounded = OfferCatalog(
        [
            Offer(offer_id="mens", cost_per_redemption=0.0, cost_per_send=0.05),
            Offer(offer_id="womens", cost_per_redemption=0.0, cost_per_send=0.06 - 0.01),
        ]
    )
    fallback = _sends({"mens": 0.077, "womens": 0.045}, catalog=rounded)
    assert fallback.loc["a", ["offer_id", "reason"]].tolist() == [
        "mens",
        "offer better on average within noise",
    ]


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        ([0.07, 0.04], "must be a dict of offer id"),
        ({"mens": 0.07, "womens": float("nan")}, r"finite numbers; offers \['womens'\]"),
        ({"mens": "high", "womens": 0.04}, r"finite numbers; offers \['mens'\]"),
    ],
)
def test_a_bad_arm_average_effect_is_refused(recorded: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _sends(recorded)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 0.05))
def test_the_average_fallback_never_gives_up_more_than_the_noise(seed: int, se: float) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    # two e-mails as dear up to the last bit, a cheaper push and a coupon: only the e-mails may
    # stand in for each other
    ids = ["e1", "e2", "push", "coupon"]
    catalog = OfferCatalog(
        [
            Offer(offer_id="e1", cost_per_redemption=0.0, cost_per_send=0.15),
            Offer(offer_id="e2", cost_per_redemption=0.0, cost_per_send=0.1 + 0.05),
            Offer(offer_id="push", cost_per_redemption=0.0, cost_per_send=0.01),
            Offer(offer_id="coupon", cost_per_redemption=2.0),
        ]
    )
    index = pd.Index(np.arange(n), name="customer_id")
    effects = pd.DataFrame(rng.uniform(-0.05, 0.3, (n, 4)), index=index, columns=ids)
    effects.attrs["arm_average_effect"] = dict(zip(ids, rng.uniform(0, 0.1, 4), strict=True))
    args: dict = {
        "baseline": pd.Series(rng.uniform(0, 0.6, n), index=index),
        "value_per_conversion": 40.0,
        "strategy": "max_net_value",
    }
    plain = choose_offers(effects, catalog, arm_mean_se=None, **args)
    noisy = choose_offers(effects, catalog, arm_mean_se=pd.Series(se, index=ids), **args)
    assert (noisy["offer_id"].isna() == plain["offer_id"].isna()).all()
    moved = noisy["offer_id"].fillna("-") != plain["offer_id"].fillna("-")
    assert (noisy.loc[moved, "reason"] == "offer better on average within noise").all()
    # a move only ever goes from one e-mail to the other, better on average, never to the cheaper
    # push nor the coupon
    assert set(noisy.loc[moved, "offer_id"]) | set(plain.loc[moved, "offer_id"]) <= {"e1", "e2"}
    level = effects.attrs["arm_average_effect"]
    to = noisy.loc[moved, "offer_id"].map(level)
    assert (to > plain.loc[moved, "offer_id"].map(level)).all()
    lost = plain["expected_net_value"] - noisy["expected_net_value"]
    assert (lost <= 40.0 * se * math.sqrt(2) + 1e-9).all()


def test_an_offer_named_total_cannot_hide_in_the_summary() -> None:
    """summarize_plan's totals row is 'total': an offer of that name was overwritten by it."""
    import loyalty_ml as lml

    offers = pd.DataFrame({"offer_id": ["total", "disc5"], "cost_per_redemption": [1.0, 2.0]})
    catalog = lml.OfferCatalog.from_frame(offers)
    ids = pd.Index([1, 2, 3, 4], name="customer_id")
    effects = pd.DataFrame(
        {"total": [0.2, 0.2, 0.0, 0.0], "disc5": [0.0, 0.0, 0.3, 0.3]}, index=ids
    )
    plan = lml.choose_offers(
        effects, catalog, baseline=pd.Series(0.1, index=ids), value_per_conversion=20.0
    )
    with pytest.raises(DataError, match="an offer is named 'total'"):
        lml.summarize_plan(plan)


def _small_plan() -> pd.DataFrame:
    import loyalty_ml as lml

    offers = pd.DataFrame({"offer_id": ["sms", "disc5"], "cost_per_redemption": [0.0, 2.0]})
    offers["cost_per_send"] = [0.1, 0.0]
    catalog = lml.OfferCatalog.from_frame(offers)
    ids = pd.Index([1, 2, 3, 4], name="customer_id")
    effects = pd.DataFrame({"sms": [0.2, 0.2, 0.0, 0.0], "disc5": [0.0, 0.0, 0.3, 0.3]}, index=ids)
    return lml.choose_offers(
        effects, catalog, baseline=pd.Series(0.1, index=ids), value_per_conversion=20.0
    )


def test_summarize_plan_refuses_a_customer_listed_twice() -> None:
    """Two plans concatenated would count a customer twice in the totals: refused by id."""
    plan = _small_plan()
    assert summarize_plan(plan).by_offer.loc["total", "customers"] == 4
    twice = pd.concat([plan, plan.iloc[[2]]])
    with pytest.raises(DataError, match=r"more than once.*3"):
        summarize_plan(twice)


def test_summarize_plan_refuses_offers_without_a_cost() -> None:
    """A missing cost on an offered row was skipped by the sums: the totals understated the plan."""
    plan = _small_plan()
    plan.loc[3, "expected_cost"] = float("nan")
    with pytest.raises(DataError, match=r"1 customers given an offer have no expected_cost.*3"):
        summarize_plan(plan)


def test_one_customer_under_ids_of_the_same_text_is_refused() -> None:
    """7, "7" and " 7" are one customer to the holdout and consent: three offers, or one held out
    while another row of it was offered, before."""
    import loyalty_ml as lml

    catalog = lml.OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [5.0]})
    )
    idx = pd.Index([7, "7", " 7", 8], dtype=object)
    effects = pd.DataFrame({"d5": [0.1] * 4}, index=idx)
    with pytest.raises(DataError, match=r"duplicate customer ids \[7, '7', ' 7'\] \(ids of the"):
        lml.choose_offers(
            effects, catalog, baseline=pd.Series(0.1, index=idx), value_per_conversion=40.0
        )
    distinct = pd.Index([7, "C7", 8], dtype=object)
    plan = lml.choose_offers(
        effects.iloc[:3].set_axis(distinct),
        catalog,
        baseline=pd.Series(0.1, index=distinct),
        value_per_conversion=40.0,
    )
    assert plan["offer_id"].notna().sum() == 3


@pytest.mark.parametrize("dtype", ["bool", "boolean", "object"])
def test_boolean_effects_are_refused(dtype: str) -> None:
    """A mask passed as effects was read as an uplift of 1 for every customer it marked."""
    import loyalty_ml as lml

    catalog = lml.OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [5.0]})
    )
    ids = pd.Index([1, 2, 3], name="customer_id")
    effects = pd.DataFrame({"d5": pd.Series([True, False, True], index=ids, dtype=dtype)})
    with pytest.raises(DataError, match=r"effects columns \['d5'\] hold booleans"):
        lml.choose_offers(
            effects, catalog, baseline=pd.Series(0.1, index=ids), value_per_conversion=40.0
        )


def test_per_customer_inputs_indexed_by_row_numbers_are_refused() -> None:
    # consent=customers["consent_marketing"] of a raw customers table (ids 1..4 in a column, rows
    # 0..3): matched by label, customers who refused marketing got the offer and consenting ones
    # were refused, in silence
    from loyalty_ml.exceptions import SchemaError

    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [1.0]})
    )
    customers = pd.DataFrame(
        {"customer_id": [1, 2, 3, 4], "consent_marketing": [False, True, False, True]}
    )
    ids = pd.Index([1, 2, 3, 4], name="customer_id")
    effects = pd.DataFrame({"d5": [0.1] * 4}, index=ids)
    common = {"baseline": pd.Series(0.1, index=ids), "value_per_conversion": 20.0}
    for name, value in [
        ("consent", customers["consent_marketing"]),
        ("eligible", customers["consent_marketing"]),
        ("value_per_conversion", pd.Series(20.0, index=customers.index)),
    ]:
        with pytest.raises(SchemaError, match=f"{name} is indexed by row numbers"):
            choose_offers(effects, catalog, **{**common, name: value})
    consent = customers.set_index("customer_id")["consent_marketing"]
    plan = choose_offers(effects, catalog, **common, consent=consent)
    assert plan["offer_id"].notna().tolist() == [False, True, False, True]
    # effects indexed by row numbers too: both sides are positions, which is how they are read
    positional = choose_offers(
        effects.reset_index(drop=True),
        catalog,
        baseline=pd.Series(0.1, index=customers.index),
        value_per_conversion=20.0,
        consent=customers["consent_marketing"],
    )
    assert positional["offer_id"].notna().tolist() == [False, True, False, True]


def test_effects_stacked_over_cutoffs_are_refused_by_name() -> None:
    index = pd.MultiIndex.from_tuples(
        [(pd.Timestamp("2024-06-30"), 1), (pd.Timestamp("2024-06-30"), 2)],
        names=["as_of", "customer_id"],
    )
    effects = pd.DataFrame({"d5": [0.1, 0.1]}, index=index)
    with pytest.raises(PolicyError, match=r"MultiIndex \['as_of', 'customer_id'\].*xs\(as_of"):
        choose_offers(
            effects, CATALOG, baseline=pd.Series(0.1, index=index), value_per_conversion=20.0
        )


def test_a_budget_breaks_ties_alike_for_integer_and_text_ids() -> None:
    """Two customers tied on cost and value, a budget for one: sorted as numbers 9 came before 10,
    as text after it, so the same customers got opposite offers with int and str ids."""
    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["push"], "cost_per_redemption": [0.0], "cost_per_send": [1.0]})
    )
    plans = []
    for ids in ([9, 10, 11], ["9", "10", "11"], [11.0, 9.0, 10.0]):
        effects = pd.DataFrame({"push": 0.1}, index=pd.Index(ids, name="customer_id"))
        plan = choose_offers(
            effects,
            catalog,
            baseline=pd.Series(0.1, index=effects.index),
            value_per_conversion=50.0,
            budget=2.0,
            budget_reserve=0.0,
        )
        plans.append(plan["offer_id"].set_axis(plan.index.map(lambda i: str(int(float(i))))))
    for other in plans[1:]:
        pd.testing.assert_series_equal(plans[0].sort_index(), other.sort_index())
    assert plans[0].notna().sum() == 2


def test_the_knapsack_spends_a_remainder_on_every_cheap_option_that_fits() -> None:
    """The dear option is the more efficient, so the greedy takes it for 25 customers and leaves 3
    of a budget of 203; the cheap option (1 cent) lies below the hull and enters only through the
    fill, which made one upgrade a round, 50 at most: 925 customers were told "budget exhausted"
    with 250 sends' worth of budget left."""
    n = 1_000
    cost = np.tile([0.01, 8.0], (n, 1))
    value = np.tile([0.02, 20.0], (n, 1))
    result = solve_knapsack(cost, value, 203.0)
    assert (result.choice == 1).sum() == 25
    # 300 would cost 6e-17 over the budget on the floats' exact values (0.01 is a hair above it)
    assert (result.choice == 0).sum() == 299
    assert math.fsum(cost[np.arange(n), result.choice][result.choice >= 0]) <= 203.0


def test_the_fill_takes_every_affordable_upgrade_however_many_rounds_it_needs() -> None:
    """A probe's catalogue on which a fill round that stops at its first upgrade that no longer
    fits takes one upgrade a round: 1-cent sends alternate in gain with dear options, each of which
    fits what is left alone but not after the send before it. The fill's 200 rounds left 200 of
    the 400 sends out with 2.005 of the budget unspent."""
    k, remaining = 400, 4.005
    dear = remaining - 0.01 * np.arange(k) - 0.005  # the r-th fits alone in round r only
    cost = np.concatenate([np.full(k, 0.01), dear])[:, None]
    gain = 1000.0 - 2.0 * np.arange(k)  # send r, dear r, send r + 1, dear r + 1, ...
    value = np.concatenate([gain, gain - 1.0])[:, None]
    choice = np.full(2 * k, -1, dtype=np.int64)
    _fill(choice, cost, value, remaining)
    assert (choice[:k] == 0).all()
    spent = math.fsum(cost[choice >= 0, 0])
    assert spent <= remaining
    assert (cost[choice < 0, 0] > remaining - spent).all()  # nothing left out fits what is left


def test_margins_too_large_to_sum_are_refused_not_an_overflow() -> None:
    """value_per_conversion=1e308 for 100 customers made a budgeted plan die on a bare
    OverflowError from math.fsum (the knapsack's bound sums the values)."""
    n = 100
    index = pd.Index(range(n), name="customer_id")
    rng = np.random.default_rng(0)
    effects = pd.DataFrame({"d5": rng.uniform(0.05, 0.3, n)}, index=index)
    baseline = pd.Series(rng.uniform(0.05, 0.3, n), index=index)
    with pytest.raises(
        DataError, match=r"at most 1e\+15 .*; got \[1e\+308\]\. No conversion earns that much"
    ):
        choose_offers(effects, CATALOG, baseline=baseline, value_per_conversion=1e308, budget=50.0)
    per_customer = pd.Series(np.r_[1e300, np.full(n - 1, 40.0)], index=index)
    with pytest.raises(DataError, match=r"customers \[0\] have \[1e\+300\]"):
        choose_offers(effects, CATALOG, baseline=baseline, value_per_conversion=per_customer)
    # the largest margin accepted, and a budget near the float maximum, sum finitely
    catalog = OfferCatalog([Offer(offer_id="d5", cost_per_redemption=1e12, cost_per_send=1e13)])
    plan = choose_offers(
        effects, catalog, baseline=baseline, value_per_conversion=1e15, budget=1.7e308
    )
    assert np.isfinite(plan.attrs["budget_cost"]) and plan["offer_id"].notna().any()


def test_row_numbers_against_unnamed_labels_say_how_to_keep_them_as_ids() -> None:
    # A retailer's own wide table with no id column (Lenta's SMS campaign: a RangeIndex) split into
    # training and scoring rows: effects of the scoring rows are labelled by row number too, but
    # no longer a RangeIndex, so the table's consent column is refused. The message said effects
    # was "indexed by customer_id", which it was not, and its fix (set_index('customer_id')) has
    # no column to use; it now names unnamed labels and the fix for such a table.
    from loyalty_ml.exceptions import SchemaError

    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["sms"], "cost_per_send": [0.1], "cost_per_redemption": [0.0]})
    )
    table = pd.DataFrame({"consent": [True, False, True, False, True, True]})
    scoring = table.iloc[[1, 2, 4, 5]]
    effects = pd.DataFrame({"sms": [0.05] * 4}, index=scoring.index)
    common = {"baseline": pd.Series(0.1, index=scoring.index), "value_per_conversion": 20.0}
    with pytest.raises(SchemaError, match="consent is indexed by row numbers") as err:
        choose_offers(effects, catalog, **common, consent=table["consent"])
    assert "indexed by customer_id" not in str(err.value)
    assert "unnamed labels (e.g. [1, 2, 4])" in str(err.value)
    assert "table.rename_axis('customer_id')" in str(err.value)
    # following it: the row numbers are ids everywhere, and consent is matched by them
    named = table.rename_axis("customer_id")
    scoring = named.iloc[[1, 2, 4, 5]]
    effects = pd.DataFrame({"sms": [0.05] * 4}, index=scoring.index)
    plan = choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.1, index=scoring.index),
        value_per_conversion=20.0,
        consent=named["consent"],
    )
    assert plan["offer_id"].notna().tolist() == [False, True, True, True]
