"""Audit of the simulator's ground truth: is ``data.truth`` exactly what ``simulate`` does?

Guards pin what was checked and found right. Eight confirmed defects are fixed and now regression
tests (quantity not float64 as the canonical schema says; zone-aware campaign dates, a period over
292 years, infinite parameters and 2**70 customers gave raw errors; a hidden cap of 2 orders a day;
docstrings on basket size and lines per order). Two remain strict xfails, documented limitations:
``min_basket`` is not enforced, and ``value_per_conversion`` is the mean margin of all orders. Statistical tolerances are in standard
errors (SE) of the quantity compared; the numbers quoted in the reasons were measured on the seeds
used here (and agree with larger runs over 40-100 seeds).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
import loyalty_ml.datasets.simulator as simulator_module
from loyalty_ml.datasets.simulator import LoyaltyData, SimulationConfig, simulate
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.features.responses import campaign_responses
from loyalty_ml.schema import columns as C
from loyalty_ml.schema.canonical import TRANSACTIONS_SCHEMA, check_canonical

OFFERS = ("disc5", "disc15", "free_item", "double_points", "early_access")
END_OF_DATA = "2025-01-01"  # end + 1 day of the default period


def _experiment_rows(seeds: range, n: int = 2_000, config: SimulationConfig | None = None):
    """Campaign rows of several simulations with the truth and ``y`` = a purchase in the window."""
    parts = []
    for seed in seeds:
        d = simulate(n, seed=seed, config=config)
        y = campaign_responses(
            d.campaigns,
            d.transactions,
            window_days=d.truth.response_window_days,
            observation_end=END_OF_DATA,
        )
        rows = d.campaigns.set_index([C.CAMPAIGN_ID, C.CUSTOMER_ID]).join(d.truth.effects)
        rows["y"] = y.to_numpy()
        rows["seed"] = seed
        parts.append(rows.reset_index())
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return _experiment_rows(range(20))


@pytest.fixture(scope="module")
def data() -> LoyaltyData:
    return simulate(2_000, seed=1)


# -- guards: the truth is the truth -----------------------------------------------------------


def test_control_purchase_rate_matches_baseline_overall_and_by_band(rows: pd.DataFrame) -> None:
    control = rows[rows[C.OFFER_ID] == C.CONTROL]
    p = control["baseline"]
    # sum of independent Bernoulli(p_i): z = (sum y - sum p) / sqrt(sum p(1-p))
    z = (control["y"].sum() - p.sum()) / np.sqrt((p * (1 - p)).sum())
    assert abs(z) < 4, z
    assert not control.loc[p == 0, "y"].any()  # a dropped-out customer never buys organically
    bands = pd.cut(p, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    for _, g in control[p > 0].groupby(bands[p > 0], observed=True):
        q = g["baseline"]
        zb = (g["y"].sum() - q.sum()) / np.sqrt((q * (1 - q)).sum())
        assert abs(zb) < 4, (g["baseline"].mean(), g["y"].mean())


@pytest.mark.parametrize("offer", OFFERS)
def test_arm_purchase_rate_and_uplift_match_truth(rows: pd.DataFrame, offer: str) -> None:
    control = rows[rows[C.OFFER_ID] == C.CONTROL]
    treated = rows[rows[C.OFFER_ID] == offer]
    p1 = treated["baseline"] + treated[offer]
    z1 = (treated["y"].sum() - p1.sum()) / np.sqrt((p1 * (1 - p1)).sum())
    assert abs(z1) < 4, (treated["y"].mean(), p1.mean())
    # randomised: treated minus control estimates the mean true uplift over all rows
    diff = treated["y"].mean() - control["y"].mean()
    se = np.sqrt(treated["y"].var() / len(treated) + control["y"].var() / len(control))
    assert abs(diff - rows[offer].mean()) < 4 * se, (diff, rows[offer].mean(), se)


def test_arms_are_independent_of_customer_covariates(rows: pd.DataFrame) -> None:
    control = rows[rows[C.OFFER_ID] == C.CONTROL]
    shares = rows[C.OFFER_ID].value_counts(normalize=True)
    n = len(rows)
    for arm, share in shares.items():
        assert abs(share - 1 / 6) < 4 * np.sqrt((1 / 6) * (5 / 6) / n), (arm, share)
    for offer in OFFERS:
        treated = rows[rows[C.OFFER_ID] == offer]
        for col in ("baseline", "free_item", "disc15", "double_points"):
            se = np.sqrt(treated[col].var() / len(treated) + control[col].var() / len(control))
            assert abs(treated[col].mean() - control[col].mean()) < 4.5 * se, (offer, col)


def test_tables_pass_the_library_validators_without_warnings(data: LoyaltyData) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tx = lml.validate_transactions(data.transactions)
        cust = lml.validate_customers(data.customers)
        lml.validate_offers(data.offers)
        camp = lml.validate_campaigns(data.campaigns, offers=data.offers)
    assert len(tx) == len(data.transactions) and len(cust) == len(data.customers)
    assert len(camp) == len(data.campaigns)
    steps = tx.attrs["cleaning_report"]["steps"]
    assert all(step[2] == 0 and step[3] == 0 for step in steps), steps


def test_features_do_not_see_behaviour_after_as_of(data: LoyaltyData) -> None:
    # as_of inside the response window of a campaign: redemptions after as_of exist
    as_of = pd.Timestamp("2024-02-20 13:00")
    full = lml.build_features(
        data.transactions, as_of=as_of, customers=data.customers, campaigns=data.campaigns
    )
    camp = data.campaigns[data.campaigns[C.SENT_AT] < as_of].copy()
    late = camp[C.REDEEMED_AT] >= as_of
    assert late.sum() > 10
    camp.loc[late, C.REDEEMED] = False
    camp.loc[late, C.REDEEMED_AT] = pd.NaT
    past = data.transactions[data.transactions[C.TIMESTAMP] < as_of]
    cut = lml.build_features(past, as_of=as_of, customers=data.customers, campaigns=camp)
    pd.testing.assert_frame_equal(full, cut)


def test_seed_determinism_and_numpy_seed() -> None:
    a = simulate(300, seed=3)
    b = simulate(300, seed=np.int64(3))  # type: ignore[arg-type]
    c = simulate(300, seed=4)
    for name in ("transactions", "customers", "campaigns"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.truth.effects, b.truth.effects)
    assert not a.truth.customers["purchase_rate"].equals(c.truth.customers["purchase_rate"])
    assert not a.campaigns[C.OFFER_ID].equals(c.campaigns[C.OFFER_ID])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_customers": 0}, "n_customers must be an int >= 1"),
        ({"n_customers": np.int64(-3)}, "n_customers must be an int >= 1"),
        ({"n_customers": 5, "seed": 1.0}, "seed must be an int >= 0"),
        ({"n_customers": 5, "seed": None}, "seed must be an int >= 0"),
        ({"n_customers": 5, "start": "2024-01-01", "end": "2023-01-01"}, "start must be before"),
        ({"n_customers": 5, "start": "1500-01-01"}, "'start' parameter must be a date"),
    ],
)
def test_bad_parameters_raise_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        simulate(**kwargs)  # type: ignore[arg-type]


def test_one_customer_and_a_two_day_period_work() -> None:
    d = simulate(1, seed=0)
    assert d.transactions[C.CUSTOMER_ID].nunique() == 1
    d = simulate(5, start="2023-01-01", end="2023-01-02", seed=0)
    assert d.transactions[C.TIMESTAMP].max() < pd.Timestamp("2023-01-03")
    assert len(d.campaigns) == 0


# -- confirmed defects ---------------------------------------------------------------------------


def test_simulated_transactions_are_in_canonical_form(data: LoyaltyData) -> None:
    check_canonical(data.transactions, TRANSACTIONS_SCHEMA)


@pytest.mark.xfail(
    strict=True,
    reason="documented limitation (_sim_offers.offers_frame): the simulator redeems an offer with any purchase in the response window and does not enforce min_basket (~79% of disc15 and ~60% of disc5 redemptions are below it); choose_offers does not read min_basket either",
)
def test_redemptions_respect_the_min_basket_of_the_offer(data: LoyaltyData) -> None:
    basket = data.transactions.groupby([C.CUSTOMER_ID, C.TIMESTAMP])[C.AMOUNT].sum()
    redeemed = data.campaigns[data.campaigns[C.REDEEMED]]
    keys = pd.MultiIndex.from_arrays([redeemed[C.CUSTOMER_ID], redeemed[C.REDEEMED_AT]])
    amount = basket.reindex(keys).to_numpy()
    assert not np.isnan(amount).any()  # every redemption is a real purchase (this part holds)
    minimum = redeemed[C.OFFER_ID].map(data.offers.set_index(C.OFFER_ID)[C.MIN_BASKET]).to_numpy()
    below = pd.Series(amount < minimum).groupby(redeemed[C.OFFER_ID].to_numpy()).mean()
    assert below.max() == 0, below.to_dict()


@pytest.mark.xfail(
    strict=True,
    reason="documented (SimulationTruth.value_per_conversion): the benchmarks plan with the mean margin of all orders (3.40); the extra orders double_points and early_access create average 4.78 (SE 0.22), because responders buy bigger baskets",
)
def test_value_per_conversion_is_the_margin_of_the_extra_purchases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    captured = {}
    original = simulator_module.run_campaigns

    def capture(*args, **kwargs):  # type: ignore[no-untyped-def]
        captured["history"] = original(*args, **kwargs)
        return captured["history"]

    monkeypatch.setattr(simulator_module, "run_campaigns", capture)
    d = simulator_module.simulate(20_000, seed=0)
    h = captured["history"]
    start = pd.Timestamp("2023-01-01")
    responses = pd.DataFrame(
        {
            C.CUSTOMER_ID: h.response_customer + 1,
            C.TIMESTAMP: simulator_module._timestamps(start, h.response_time),
            "campaign": h.response_campaign,
        }
    )
    arms = pd.DataFrame({"campaign": h.campaign, C.CUSTOMER_ID: h.customer + 1, "arm": h.arm})
    responses = responses.merge(arms, on=["campaign", C.CUSTOMER_ID])
    orders = d.transactions.groupby([C.CUSTOMER_ID, C.TIMESTAMP])[C.MARGIN].sum().reset_index()
    responses = responses.merge(orders, on=[C.CUSTOMER_ID, C.TIMESTAMP], how="left")
    assert responses[C.MARGIN].notna().all()
    value = d.truth.value_per_conversion
    big_arms = [OFFERS.index("double_points") + 1, OFFERS.index("early_access") + 1]
    big_basket = responses[responses["arm"].isin(big_arms)]
    se = big_basket[C.MARGIN].std() / np.sqrt(len(big_basket))
    assert len(big_basket) > 200
    assert abs(big_basket[C.MARGIN].mean() - value) < 4 * se, (
        big_basket[C.MARGIN].mean(),
        value,
        se,
    )


def test_mean_basket_is_about_16_as_the_catalog_says(data: LoyaltyData) -> None:
    """Once a defect: the catalog said baskets average about 20; they average 15.5-15.9."""
    basket = data.transactions.groupby(C.ORDER_ID)[C.AMOUNT].sum()
    assert 14.0 <= basket.mean() <= 18.0, basket.mean()


def test_very_long_period_gives_a_library_error() -> None:
    with contextlib.suppress(ConfigError):
        simulate(5, start="1700-01-01", end="2000-12-31", seed=0)


def test_zone_aware_campaign_dates_work_or_raise_config_error() -> None:
    try:
        config = SimulationConfig(campaign_dates=("2023-06-01T00:00+02:00",))
        d = simulate(50, seed=0, config=config)
    except ConfigError:
        return
    assert set(d.campaigns[C.SENT_AT]) <= {pd.Timestamp("2023-06-01 09:00")}


@pytest.mark.parametrize("name", ["mean_lifetime_days", "rate_shape"])
def test_infinite_config_values_are_refused_or_work(name: str) -> None:
    try:
        config = SimulationConfig(**{name: float("inf")})
    except ConfigError:
        return
    simulate(20, seed=0, config=config)


def test_numpy_numbers_are_accepted_as_numbers() -> None:
    # np.arange / np.float32 sweeps: integer parameters took NumPy ints, number ones refused them
    # with "must be a number > 0"
    config = SimulationConfig(mean_orders_per_week=np.int64(2), control_share=np.float32(0.25))
    assert config.mean_orders_per_week == 2 and config.control_share == pytest.approx(0.25)
    with pytest.raises(ConfigError, match="mean_orders_per_week"):
        SimulationConfig(mean_orders_per_week=np.float64("nan"))
    with pytest.raises(ConfigError, match="control_share"):
        SimulationConfig(control_share=np.bool_(True))  # type: ignore[arg-type]
    simulate(20, seed=0, config=config)


def test_absurd_n_customers_gives_a_library_error() -> None:
    with pytest.raises(ConfigError):
        simulate(2**70)


def test_mean_orders_per_week_is_the_mean_base_rate() -> None:
    d = simulate(5_000, end="2023-03-31", seed=0, config=SimulationConfig(mean_orders_per_week=7.0))
    rate = d.truth.customers["purchase_rate"]
    se = rate.std() / np.sqrt(len(rate))
    # 65+ customers (13%) get x1.1, so the documented mean is at most 7 * 1.013
    assert 7.0 - 4 * se <= rate.mean() <= 7.0 * 1.013 + 4 * se, (rate.mean(), se)


@pytest.mark.parametrize("mean_lines", [1.0, 5.5])
def test_mean_lines_per_order_is_honoured(mean_lines: float) -> None:
    config = SimulationConfig(mean_lines_per_order=mean_lines)
    d = simulate(2_000, end="2023-12-31", seed=0, config=config)
    lines = d.transactions.groupby(C.ORDER_ID).size()
    # documented as approximate (1.0 gives about 1.04, 5.5 about 5.34): within 5%
    assert abs(lines.mean() - mean_lines) < 0.05 * mean_lines, lines.mean()
