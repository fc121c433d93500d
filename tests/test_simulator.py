"""Tests of the loyalty simulator: tables, determinism, and that its ground truth is real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_ml.datasets.simulator import LoyaltyData, SimulationConfig, simulate
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.schema import columns as C
from loyalty_ml.schema import validate_campaigns, validate_offers, validate_transactions

START, END = "2023-01-01", "2024-12-31"


@pytest.fixture(scope="module")
def data() -> LoyaltyData:
    return simulate(n_customers=3_000, start=START, end=END, seed=7)


@pytest.fixture(scope="module")
def big() -> LoyaltyData:
    return simulate(n_customers=30_000, start=START, end=END, seed=3)


def _window_purchases(data: LoyaltyData) -> pd.DataFrame:
    """Campaign rows joined with ``y``: any transaction in [sent_at, sent_at + window)."""
    window = pd.Timedelta(days=data.truth.response_window_days)
    rows = data.campaigns[[C.CAMPAIGN_ID, C.CUSTOMER_ID, C.SENT_AT]]
    joined = rows.merge(data.transactions[[C.CUSTOMER_ID, C.TIMESTAMP]], on=C.CUSTOMER_ID)
    inside = (joined[C.TIMESTAMP] >= joined[C.SENT_AT]) & (
        joined[C.TIMESTAMP] < joined[C.SENT_AT] + window
    )
    first = joined[inside].groupby([C.CAMPAIGN_ID, C.CUSTOMER_ID])[C.TIMESTAMP].min()
    out = data.campaigns.set_index([C.CAMPAIGN_ID, C.CUSTOMER_ID])
    out["first_in_window"] = first.reindex(out.index)
    out["y"] = out["first_in_window"].notna()
    return out.join(data.truth.effects)


# -- tables ------------------------------------------------------------------------------------


def test_transactions_columns_dtypes_and_order(data: LoyaltyData) -> None:
    tx = data.transactions
    assert list(tx.columns) == list(C.TRANSACTION_COLUMNS)
    expected = {
        C.CUSTOMER_ID: "int64",
        C.TIMESTAMP: "datetime64[ns]",
        C.AMOUNT: "float64",
        C.ORDER_ID: "int64",
        C.QUANTITY: "float64",
        C.PRODUCT_ID: "int64",
        C.CATEGORY: "str",
        C.CHANNEL: "str",
        C.STORE_ID: "str",
        C.DISCOUNT: "float64",
        C.MARGIN: "float64",
    }
    assert {c: str(t) for c, t in tx.dtypes.items()} == expected
    assert tx[C.TIMESTAMP].is_monotonic_increasing
    assert tx[C.ORDER_ID].is_monotonic_increasing
    assert isinstance(tx.index, pd.RangeIndex)
    assert (tx[C.AMOUNT] > 0).all()
    assert (tx[C.DISCOUNT] >= 0).all() and (tx[C.DISCOUNT] > 0).mean() > 0.05
    assert (tx[C.QUANTITY] >= 1).all()
    assert tx[C.TIMESTAMP].min() >= pd.Timestamp(START)
    assert tx[C.TIMESTAMP].max() < pd.Timestamp(END) + pd.Timedelta(days=1)
    # time of day is present, not just dates
    assert (tx[C.TIMESTAMP].dt.hour > 0).mean() > 0.5
    assert not tx.duplicated().any()


def test_orders_lines_channels_and_stores(data: LoyaltyData) -> None:
    tx = data.transactions
    per_order = tx.groupby(C.ORDER_ID)
    assert per_order[C.CUSTOMER_ID].nunique().eq(1).all()
    assert per_order[C.TIMESTAMP].nunique().eq(1).all()
    lines = per_order.size()
    assert lines.min() == 1 and lines.max() <= 6 and 2.0 < lines.mean() < 3.5
    assert set(tx[C.CHANNEL].unique()) == {"store", "app", "web", "delivery"}
    online = tx[C.CHANNEL] != "store"
    assert (tx.loc[online, C.STORE_ID] == "online").all()
    assert tx.loc[~online, C.STORE_ID].str.match(r"^S\d{3}$").all()


def test_categories_have_realistic_margins(data: LoyaltyData) -> None:
    tx = data.transactions
    cats = set(tx[C.CATEGORY].unique())
    assert 6 <= len(cats) <= 10
    assert {"staples", "fresh", "private_label", "prepared_food"} <= cats
    gross = tx[C.AMOUNT] + tx[C.DISCOUNT]
    rate = (tx[C.MARGIN] + tx[C.DISCOUNT]).groupby(tx[C.CATEGORY]).sum() / gross.groupby(
        tx[C.CATEGORY]
    ).sum()
    assert rate.between(0.095, 0.455).all()  # 0.10-0.45 up to rounding to cents
    assert rate["staples"] < rate["private_label"] and rate["fresh"] < rate["prepared_food"]


def test_price_sensitive_customers_buy_more_discounted_lines(data: LoyaltyData) -> None:
    tx = data.transactions
    share = (tx[C.DISCOUNT] > 0).groupby(tx[C.CUSTOMER_ID]).mean()
    ps = data.truth.customers["price_sensitivity"].reindex(share.index)
    assert np.corrcoef(ps, share)[0, 1] > 0.3


def test_customers_table(data: LoyaltyData) -> None:
    cust = data.customers
    assert cust[C.CUSTOMER_ID].is_unique and len(cust) == 3_000
    assert cust[C.SIGNUP_DATE].dtype == "datetime64[ns]"
    for col in (C.AGE_BAND, C.GENDER, C.REGION, C.INCOME_BAND, C.TIER):
        assert cust[col].dtype == "str" and cust[col].notna().all()
    assert cust[C.CONSENT_MARKETING].dtype == bool and cust[C.CONSENT_PROFILING].dtype == bool
    assert 0.08 < (~cust[C.CONSENT_MARKETING]).mean() < 0.16
    assert 0.03 < (~cust[C.CONSENT_PROFILING]).mean() < 0.09
    assert (cust[C.POINTS_BALANCE] >= 0).all()
    assert set(cust[C.TIER]) == {"basic", "silver", "gold"}


def test_signup_before_first_purchase_and_everyone_buys(data: LoyaltyData) -> None:
    first = data.transactions.groupby(C.CUSTOMER_ID)[C.TIMESTAMP].min()
    signup = data.customers.set_index(C.CUSTOMER_ID)[C.SIGNUP_DATE]
    assert first.index.equals(signup.index)
    assert (signup <= first).all()
    assert (first - signup).max() < pd.Timedelta(days=8)
    assert (first == data.truth.customers["first_purchase_at"]).all()


def test_offers_catalog(data: LoyaltyData) -> None:
    offers = data.offers
    assert len(offers) >= 5 and offers[C.OFFER_ID].is_unique
    assert {"disc5", "disc15", "free_item", "double_points", "early_access"} <= set(
        offers[C.OFFER_ID]
    )
    assert set(offers[C.KIND]) <= set(C.OFFER_KINDS)
    assert {"discount", "non_monetary"} <= set(offers[C.KIND])
    assert (offers[C.COST_PER_REDEMPTION] >= 0).all() and (offers[C.COST_PER_SEND] >= 0).all()
    assert offers[C.MAX_PER_MONTH].dtype == "int64"
    validate_offers(offers)


def test_tables_pass_the_data_contracts(data: LoyaltyData) -> None:
    tx = validate_transactions(data.transactions)
    assert len(tx) == len(data.transactions)
    camp = validate_campaigns(data.campaigns, offers=data.offers)
    assert len(camp) == len(data.campaigns)


# -- determinism -------------------------------------------------------------------------------


def test_same_seed_same_tables_different_seed_different() -> None:
    a = simulate(400, start=START, end=END, seed=11)
    b = simulate(400, start=START, end=END, seed=11)
    c = simulate(400, start=START, end=END, seed=12)
    for name in ("transactions", "customers", "offers", "campaigns"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.truth.customers, b.truth.customers)
    pd.testing.assert_frame_equal(a.truth.effects, b.truth.effects)
    assert a.truth.value_per_conversion == b.truth.value_per_conversion
    assert not a.transactions[C.TIMESTAMP].equals(c.transactions[C.TIMESTAMP])
    assert not a.customers.equals(c.customers)


# -- campaigns ---------------------------------------------------------------------------------


def test_campaign_design(data: LoyaltyData) -> None:
    camp = data.campaigns
    assert camp.dtypes[C.SENT_AT] == "datetime64[ns]"
    assert camp.dtypes[C.REDEEMED_AT] == "datetime64[ns]"
    assert camp.dtypes[C.REDEEMED] == np.dtype(bool)
    assert 6 <= camp[C.CAMPAIGN_ID].nunique() <= 8
    assert not camp.duplicated([C.CAMPAIGN_ID, C.CUSTOMER_ID]).any()
    assert camp.groupby(C.CAMPAIGN_ID)[C.SENT_AT].nunique().eq(1).all()
    first_sent = camp[C.SENT_AT].min()
    assert first_sent >= pd.Timestamp(START) + pd.Timedelta(days=150)
    arms = set(camp[C.OFFER_ID])
    assert arms == {C.CONTROL, *data.offers[C.OFFER_ID]}
    share = camp[C.OFFER_ID].value_counts(normalize=True)
    assert abs(share[C.CONTROL] - 1 / 6) < 0.03


def test_only_consenting_customers_with_recent_purchases_are_in_campaigns(
    data: LoyaltyData,
) -> None:
    camp = data.campaigns
    consent = data.customers.set_index(C.CUSTOMER_ID)[C.CONSENT_MARKETING]
    assert consent.reindex(camp[C.CUSTOMER_ID]).all()
    tx = data.transactions
    joined = camp.merge(tx[[C.CUSTOMER_ID, C.TIMESTAMP]], on=C.CUSTOMER_ID)
    recent = (joined[C.TIMESTAMP] < joined[C.SENT_AT]) & (
        joined[C.TIMESTAMP] >= joined[C.SENT_AT] - pd.Timedelta(days=365)
    )
    with_recent = joined[recent].groupby([C.CAMPAIGN_ID, C.CUSTOMER_ID]).size()
    assert len(with_recent) == len(camp)


def test_full_reach_samples_exactly_the_eligible_customers() -> None:
    # eligible = marketing consent and a purchase (responses to earlier campaigns included) in the
    # year before the send
    d = simulate(1_500, start=START, end=END, seed=5, config=SimulationConfig(campaign_reach=1.0))
    consenting = d.customers.loc[d.customers[C.CONSENT_MARKETING], C.CUSTOMER_ID]
    tx = d.transactions[d.transactions[C.CUSTOMER_ID].isin(consenting)]
    for sent_at, rows in d.campaigns.groupby(C.SENT_AT):
        recent = tx[
            (tx[C.TIMESTAMP] < sent_at) & (tx[C.TIMESTAMP] >= sent_at - pd.Timedelta(days=365))
        ]
        assert set(rows[C.CUSTOMER_ID]) == set(recent[C.CUSTOMER_ID])


def test_redemptions_are_first_purchases_in_the_window(data: LoyaltyData) -> None:
    rows = _window_purchases(data)
    control = rows[C.OFFER_ID] == C.CONTROL
    assert not rows.loc[control, C.REDEEMED].any()
    assert rows.loc[control, C.REDEEMED_AT].isna().all()
    treated = rows[~control]
    assert (treated[C.REDEEMED] == treated["y"]).all()
    redeemed = treated[treated[C.REDEEMED]]
    assert (redeemed[C.REDEEMED_AT] == redeemed["first_in_window"]).all()


# -- ground truth ------------------------------------------------------------------------------


def test_effects_cover_every_campaign_row(data: LoyaltyData) -> None:
    effects = data.truth.effects
    index = pd.MultiIndex.from_frame(data.campaigns[[C.CAMPAIGN_ID, C.CUSTOMER_ID]])
    assert effects.index.equals(index)
    assert list(effects.columns) == ["baseline", *data.offers[C.OFFER_ID]]
    offers = list(data.offers[C.OFFER_ID])
    assert effects["baseline"].between(0, 1).all()
    assert (effects[offers] >= 0).all().all() and (effects[offers] < 1).all().all()
    assert (effects[offers].max(axis=1) + effects["baseline"] <= 1).all()
    # modest effects, mostly within 0-0.2
    assert (effects[offers].stack() <= 0.2).mean() > 0.9
    assert data.truth.response_window_days == 30
    assert 1.0 < data.truth.value_per_conversion < 10.0


def test_zero_baseline_means_no_organic_purchase_in_the_window(data: LoyaltyData) -> None:
    rows = _window_purchases(data)
    dead = rows[rows["baseline"] == 0]
    assert len(dead) > 100
    control = dead[C.OFFER_ID] == C.CONTROL
    assert not dead.loc[control, "y"].any()
    # treated customers without a baseline who bought anyway were persuaded: a response order
    assert dead.loc[~control, "y"].any()
    alive = rows[(rows["baseline"] > 0.999) & (rows[C.OFFER_ID] == C.CONTROL)]
    assert alive["y"].mean() > 0.95


def test_campaign_effects_returns_one_campaign(data: LoyaltyData) -> None:
    campaign = data.truth.campaign_ids[2]
    rows = data.truth.campaign_effects(campaign)
    assert rows.index.name == C.CUSTOMER_ID and rows.index.is_unique
    expected = data.campaigns.loc[data.campaigns[C.CAMPAIGN_ID] == campaign, C.CUSTOMER_ID]
    assert rows.index.equals(pd.Index(expected))
    with pytest.raises(ConfigError, match="'nope' is not a simulated campaign"):
        data.truth.campaign_effects("nope")


def test_best_offer_differs_across_customers(data: LoyaltyData) -> None:
    effects = data.truth.effects[list(data.offers[C.OFFER_ID])]
    persuadable = effects[effects.max(axis=1) > 0.02]
    best = persuadable.idxmax(axis=1).value_counts(normalize=True)
    assert (best > 0.05).sum() >= 3
    nothing = data.truth.customers["responsive"].eq(False).mean()
    assert 0.25 < nothing < 0.35


def test_uplift_does_not_depend_on_protected_attributes_directly(data: LoyaltyData) -> None:
    # Same latent behaviour -> same persuasion: tau is a function of behaviour only, so within a
    # narrow band of price sensitivity the disc15 effect per unit of (1 - p0) is the same for all.
    truth = data.truth.customers
    eff = data.truth.effects.reset_index()
    eff = eff[eff["baseline"] < 0.99]
    tau = eff["disc15"] / (1 - eff["baseline"])
    ps = truth["price_sensitivity"].reindex(eff[C.CUSTOMER_ID]).to_numpy()
    responsive = truth["responsive"].reindex(eff[C.CUSTOMER_ID]).to_numpy()
    np.testing.assert_allclose(tau[responsive], 0.40 * ps[responsive] ** 2, rtol=1e-9)
    assert (tau[~responsive] == 0).all()


def test_churned_customers_make_no_organic_purchases(data: LoyaltyData) -> None:
    truth = data.truth.customers
    tx = data.transactions.merge(
        truth["churned_at"], left_on=C.CUSTOMER_ID, right_index=True, how="left"
    )
    after = tx[tx[C.TIMESTAMP] > tx["churned_at"]]
    # the only purchases after dropout are responses to offers: the redeeming purchase of a
    # treated customer, inside the response window
    rows = _window_purchases(data).reset_index()
    responses = rows[rows[C.REDEEMED]][[C.CUSTOMER_ID, C.REDEEMED_AT]]
    matched = after.merge(
        responses,
        left_on=[C.CUSTOMER_ID, C.TIMESTAMP],
        right_on=[C.CUSTOMER_ID, C.REDEEMED_AT],
        how="left",
    )
    assert matched[C.REDEEMED_AT].notna().all()
    assert len(after) > 0  # win-back responses exist
    assert truth["churned_at"].notna().mean() > 0.5


def test_is_churned_and_is_active(data: LoyaltyData) -> None:
    truth = data.truth
    as_of = pd.Timestamp("2024-01-01")
    churned = truth.is_churned(as_of)
    active = truth.is_active("2024-01-01")
    first = truth.customers["first_purchase_at"]
    assert churned.index.equals(first[first < as_of].index)
    assert churned.dtype == bool and (active == ~churned).all()
    expected = truth.customers.loc[churned.index, "churned_at"] < as_of
    assert churned.equals(expected.rename(C.CHURNED))
    assert 0.2 < churned.mean() < 0.8
    dormant = truth.is_dormant(as_of)
    assert dormant.any() and not (dormant & churned).any()


def test_truth_lists_only_spells_and_fades_that_happened(data: LoyaltyData) -> None:
    # A dormant spell or a fade drawn to start after the customer dropped out (or after the end)
    # did not happen: the truth says NaT, as its docstring promises (it listed 58% too many).
    truth = data.truth
    days = pd.date_range(data.transactions[C.TIMESTAMP].min().normalize(), "2025-01-01")
    ever = pd.concat([truth.is_dormant(day) for day in days], axis=1).any(axis=1)
    listed = truth.customers["dormant_from"].notna()
    assert ever.any()
    assert ever.reindex(listed.index, fill_value=False).equals(listed.rename("dormant"))
    fade, churned = truth.customers["fade_start"], truth.customers["churned_at"]
    assert not (fade > churned).any() and not (fade > pd.Timestamp("2025-01-01")).any()
    early = truth.customers["churn_reason"].isin(["after_first_order", "after_second_order"])
    assert fade[early].isna().all() and fade[~early].notna().any()


def test_frequency_boundary_dormancy_and_early_signs(data: LoyaltyData) -> None:
    truth = data.truth.customers
    reasons = truth["churn_reason"].value_counts(normalize=True)
    assert reasons["after_first_order"] > 0.2 and reasons["after_second_order"] > 0.03
    orders = data.transactions.drop_duplicates(C.ORDER_ID)
    n_orders = orders.groupby(C.CUSTOMER_ID).size()
    assert (n_orders == 1).mean() > 0.2
    # long gaps followed by more purchases are over-represented among dormant customers, and
    # dormant customers alive after their spell come back
    gaps = orders.groupby(C.CUSTOMER_ID)[C.TIMESTAMP].diff()
    returned = orders.loc[gaps > pd.Timedelta(days=90), C.CUSTOMER_ID].unique()
    dormant = truth["dormant_from"].notna()
    assert dormant.loc[returned].mean() > 1.3 * dormant.mean()
    spell = truth[dormant & (truth["dormant_until"] < truth["churned_at"].fillna(pd.Timestamp.max))]
    after = orders.merge(spell["dormant_until"], left_on=C.CUSTOMER_ID, right_index=True)
    came_back = after.loc[after[C.TIMESTAMP] > after["dormant_until"], C.CUSTOMER_ID].nunique()
    assert came_back > 0.5 * len(spell)
    # visits thin out before a lifetime dropout
    lifetime = truth[truth["churn_reason"] == "lifetime"]
    lifetime = lifetime.loc[
        lifetime["churned_at"] - lifetime["first_purchase_at"] > pd.Timedelta(days=210),
        "churned_at",
    ]
    joined = orders.merge(lifetime.rename("d"), left_on=C.CUSTOMER_ID, right_index=True)
    before = (joined["d"] - joined[C.TIMESTAMP]).dt.days
    late = before.between(0, 59).sum()
    earlier = before.between(150, 209).sum()
    assert late < 0.7 * earlier


@pytest.mark.slow
def test_true_effects_are_real_in_the_transactions(big: LoyaltyData) -> None:
    rows = _window_purchases(big)
    control = rows[rows[C.OFFER_ID] == C.CONTROL]
    y0 = control["y"].astype(float)
    se0 = y0.std() / np.sqrt(len(y0))
    assert abs(y0.mean() - control["baseline"].mean()) < 4 * se0
    for offer in big.offers[C.OFFER_ID]:
        treated = rows[rows[C.OFFER_ID] == offer]
        y1 = treated["y"].astype(float)
        # treated purchase rate = mean of baseline + uplift over the treated
        se1 = y1.std() / np.sqrt(len(y1))
        assert abs(y1.mean() - (treated["baseline"] + treated[offer]).mean()) < 4 * se1, offer
        # treated minus control = mean true uplift (randomisation makes the arms comparable)
        diff = y1.mean() - y0.mean()
        se = np.sqrt(se0**2 + se1**2)
        assert abs(diff - rows[offer].mean()) < 4 * se, offer
    # and the effects are large enough to be seen at all
    assert rows["free_item"].mean() > 6 * se


# -- invariants for any seed --------------------------------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n=st.integers(1, 60))
def test_invariants_hold_for_any_seed(seed: int, n: int) -> None:
    d = simulate(n, start="2023-01-01", end="2023-10-31", seed=seed)
    tx = d.transactions
    assert tx[C.CUSTOMER_ID].nunique() == n
    assert tx[C.TIMESTAMP].is_monotonic_increasing and (tx[C.AMOUNT] > 0).all()
    first = tx.groupby(C.CUSTOMER_ID)[C.TIMESTAMP].min()
    assert (d.customers.set_index(C.CUSTOMER_ID)[C.SIGNUP_DATE] <= first).all()
    assert (
        d.campaigns[C.CUSTOMER_ID]
        .isin(d.customers.loc[d.customers[C.CONSENT_MARKETING], C.CUSTOMER_ID])
        .all()
    )
    assert len(d.truth.effects) == len(d.campaigns)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    window=st.integers(7, 45),
    first_dropout=st.floats(0.0, 0.9),
    dormancy=st.floats(0.0, 0.9),
    dormant_rate=st.floats(0.0, 1.0),
    seed=st.integers(0, 1000),
)
def test_any_valid_config_gives_consistent_tables(
    window: int, first_dropout: float, dormancy: float, dormant_rate: float, seed: int
) -> None:
    config = SimulationConfig(
        response_window_days=window,
        campaign_interval_days=max(window, 60),
        first_order_dropout=first_dropout,
        dormancy_share=dormancy,
        dormant_rate_factor=dormant_rate,
    )
    d = simulate(300, start="2023-01-01", end="2023-12-31", seed=seed, config=config)
    rows = _window_purchases(d)
    assert d.truth.response_window_days == window
    assert not rows.loc[rows[C.OFFER_ID] == C.CONTROL, C.REDEEMED].any()
    treated = rows[rows[C.OFFER_ID] != C.CONTROL]
    assert (treated[C.REDEEMED] == treated["y"]).all()
    assert not rows.loc[(rows["baseline"] == 0) & (rows[C.OFFER_ID] == C.CONTROL), "y"].any()
    truth = d.truth.customers
    after = d.transactions.merge(truth["churned_at"], left_on=C.CUSTOMER_ID, right_index=True)
    late = after[after[C.TIMESTAMP] > after["churned_at"]]
    assert len(late) == 0 or late[C.ORDER_ID].nunique() <= treated[C.REDEEMED].sum()


def test_short_period_without_campaigns_has_typed_empty_tables() -> None:
    d = simulate(50, start="2023-01-01", end="2023-03-31", seed=0)
    assert len(d.campaigns) == 0 and len(d.truth.effects) == 0
    assert d.campaigns.dtypes[C.SENT_AT] == "datetime64[ns]"
    assert list(d.campaigns.columns) == [
        C.CAMPAIGN_ID,
        C.CUSTOMER_ID,
        C.OFFER_ID,
        C.SENT_AT,
        C.REDEEMED,
        C.REDEEMED_AT,
    ]
    assert d.truth.campaign_ids == []


def test_explicit_campaign_dates_and_control_share() -> None:
    config = SimulationConfig(campaign_dates=("2023-06-01", "2023-09-01"), control_share=0.5)
    d = simulate(2_000, start=START, end="2023-12-31", seed=1, config=config)
    sent = sorted(d.campaigns[C.SENT_AT].unique())
    assert [pd.Timestamp(s) for s in sent] == [
        pd.Timestamp("2023-06-01 09:00"),
        pd.Timestamp("2023-09-01 09:00"),
    ]
    share = (d.campaigns[C.OFFER_ID] == C.CONTROL).mean()
    assert 0.45 < share < 0.55


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -5, 2.5, True, "100"])
def test_bad_n_customers(n: object) -> None:
    with pytest.raises(ConfigError, match="n_customers must be an int >= 1"):
        simulate(n)  # type: ignore[arg-type]


def test_bad_period_and_seed() -> None:
    with pytest.raises(ConfigError, match="start must be before end"):
        simulate(10, start="2024-01-01", end="2023-01-01")
    with pytest.raises(ConfigError, match="start must be before end"):
        simulate(10, start="2024-01-01", end="2024-01-01")
    with pytest.raises(ConfigError, match="'start' parameter must be a date"):
        simulate(10, start="not a date")
    with pytest.raises(ConfigError, match="'end' parameter must be a date"):
        simulate(10, end=None)
    with pytest.raises(ConfigError, match="a number, which pandas would read as nanoseconds"):
        simulate(10, start=20230101)
    with pytest.raises(ConfigError, match="seed must be an int >= 0"):
        simulate(10, seed=-1)
    with pytest.raises(ConfigError, match="config must be a SimulationConfig"):
        simulate(10, config={"mean_orders_per_week": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mean_orders_per_week": 0}, "'mean_orders_per_week' .* a number > 0. Got 0"),
        ({"first_order_dropout": 1.0}, r"'first_order_dropout' .* in \[0, 1\)"),
        ({"no_marketing_consent_share": -0.1}, "'no_marketing_consent_share'"),
        ({"campaign_reach": 0}, r"'campaign_reach' .* \(0, 1\]"),
        ({"control_share": 1.0}, "'control_share' .* None or a number in"),
        ({"fade_days": (90, 60)}, "'fade_days' .* low <= high"),
        ({"dormancy_days": (10,)}, "'dormancy_days'"),
        ({"response_window_days": 0}, "'response_window_days' .* an int >= 1"),
        ({"campaign_interval_days": 10}, "'campaign_interval_days' .* do not overlap"),
        ({"max_lines_per_order": 2}, "'mean_lines_per_order' .* between 1 and"),
        ({"max_campaigns": -1}, "'max_campaigns'"),
        ({"campaign_dates": ("2023-06-01", "2023-06-10")}, "'campaign_dates' .* apart"),
        (
            {"campaign_dates": ("nonsense",)},
            "'campaign_dates' parameter of SimulationConfig must be None or a tuple",
        ),
        (
            {"campaign_dates": "2023-06-01"},
            "'campaign_dates' parameter of SimulationConfig must be None or a tuple",
        ),
        ({"fade_floor": 2.0}, r"'fade_floor' .* \[0, 1\]"),
    ],
)
def test_bad_config(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SimulationConfig(**kwargs)  # type: ignore[arg-type]


def test_campaign_dates_outside_the_period() -> None:
    config = SimulationConfig(campaign_dates=("2023-06-01", "2024-12-20"))
    with pytest.raises(ConfigError, match=r"campaign_dates \['2024-12-20'\] fall outside"):
        simulate(10, start=START, end=END, config=config)
