"""Surfaces R, D, E, F, G, H, I and J of experiments/bench_offer_surface.py: known response surfaces beyond the default three.

R reads the columns ``build_features`` gives; these tests pin that it says what its docstring says
on a hand-made table, that it runs on Online Retail II's real features (skipped without
``../shared/data``), and that the benchmark's one seed works end to end on it. D (Hillstrom's
customers) and E (Online Retail II's) price every reward by its redemptions and have steep
baselines: the same checks, and one seed of D on Hillstrom within its budgets. F (Hillstrom's
customers, six rewards) has a placebo SMS and a push that backfires off the phone channel. G
(Hillstrom's customers, four rewards) was written the way an outside check would be, and H
(Hillstrom's customers, five rewards) adds its effects to the probability, not the logit; I
(Hillstrom's customers, five rewards) values each customer's conversion at their own margin; J
(Hillstrom's customers, four rewards) multiplies the baseline by each reward's lift and gives the
arms unequal shares.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from bench_modules import import_bench


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return import_bench("bench_offer_surface")


def _table() -> pd.DataFrame:
    """Four customers: lapsed or not, quiet for 60 days or not, small or big baskets, broad or not."""
    return pd.DataFrame(
        {
            "recency_days": [10.0, 90.0, 200.0, 30.0],
            "n_orders": [5.0, 2.0, 1.0, 12.0],
            "spend": [500.0, 100.0, 40.0, 5000.0],
            "aov": [100.0, 50.0, 40.0, 416.0],
            "n_orders_90d": [2.0, 0.0, 0.0, 4.0],
            "n_products": [60.0, 10.0, 3.0, 120.0],
            "freq_trend": [0.5, np.nan, -1.0, 1.0],
        }
    )


def test_surface_r_shifts_are_the_stated_terms(bench: ModuleType) -> None:
    X = _table()
    shifts = bench._shifts_r(X)
    spend = bench._z(np.log1p(X["spend"].to_numpy()))
    np.testing.assert_allclose(shifts["email"], [0.1, 0.35, 0.35, 0.1])
    np.testing.assert_allclose(shifts["pct10"], 0.4 * np.array([0, 1, 1, 0]) - 0.25 * spend)
    # median aov is 75: the two smaller baskets get the extra 0.4
    np.testing.assert_allclose(shifts["free_shipping"], [0.2, 0.6, 0.6, 0.2])
    # a missing trend counts as 0, a falling one too
    np.testing.assert_allclose(shifts["bundle"], [0.5 + 0.15, 0.0, 0.0, 0.5 + 0.3])


def test_surface_r_effects_are_probability_differences(bench: ModuleType) -> None:
    surface = bench.ALL_SURFACES["R"]
    baseline, effects = bench.response_surface(_table(), 1.0, surface)
    assert list(effects.columns) == list(surface.catalog.ids)
    assert np.all((baseline > 0) & (baseline < 1))
    treated = effects.to_numpy() + baseline[:, None]
    assert np.all((treated > 0) & (treated < 1))
    # every R shift here is >= 0 but pct10's for the big spender
    assert (effects.drop(columns="pct10").to_numpy() >= 0).all()


def test_surface_r_on_online_retail_features(bench: ModuleType, online_retail_path: Path) -> None:
    table = bench.retail_features(online_retail_path)
    assert table.index.is_unique and table.index.name == "customer_id"
    assert len(table) > 20_000
    surface = bench.ALL_SURFACES["R"]
    baseline, effects = bench.response_surface(table, 0.5, surface)
    assert 0.15 < baseline.mean() < 0.35, baseline.mean()
    assert np.isfinite(effects.to_numpy()).all()
    assert (effects.std() > 0).all(), effects.std()
    rows = bench.one_seed(table, 0, 1.0, "R", customers=4_000)
    frame = pd.DataFrame(rows)
    assert len(frame) == 6  # two strategies x three budgets
    assert frame["customers"].eq(4_000).all()
    assert not frame["overspent"].any() and not frame["true_overspent"].any()
    assert frame["capture"].notna().all()


def test_targeted_arms_send_the_rewards_more_to_customers_of_low_baseline(
    bench: ModuleType,
) -> None:
    rng = np.random.default_rng(0)
    n = 40_000
    baseline = 1 / (1 + np.exp(-rng.normal(-1.5, 1.0, n)))
    arms = np.array(["control", "a", "b", "c"])
    low = baseline < np.median(baseline)
    plain = bench.targeted_arms(baseline, arms, None, 0.0, rng)
    # no targeting: the design's equal shares, whatever the baseline
    assert abs((plain[low] != "control").mean() - (plain[~low] != "control").mean()) < 0.02
    sent = bench.targeted_arms(baseline, arms, None, 1.0, rng)
    # targeting: the lapsing half gets more rewards, the last reward most of all
    assert (sent[low] != "control").mean() > (sent[~low] != "control").mean() + 0.15
    share = {a: (sent[low] == a).mean() / (sent[~low] == a).mean() for a in arms[1:]}
    assert share["a"] < share["b"] < share["c"], share
    # the design's shares are the base: a 10% control stays small
    small = bench.targeted_arms(baseline, arms, [0.1, 0.3, 0.3, 0.3], 1.0, rng)
    assert (small == "control").mean() < 0.2


# -- the stress surfaces D (Hillstrom's customers) and E (Online Retail II's) ------------------------
def _hillstrom_table() -> pd.DataFrame:
    """Four customers of Hillstrom's shape: a light web newbie, a heavy phone buyer of both
    lines, a lapsed multichannel one, a middling urban web buyer."""
    return pd.DataFrame(
        {
            "recency": [1, 2, 12, 6],
            "history": [30.0, 2000.0, 100.0, 300.0],
            "mens": [0, 1, 1, 0],
            "womens": [1, 1, 0, 1],
            "zip_code": ["Urban", "Rural", "Surburban", "Urban"],
            "newbie": [1, 0, 0, 0],
            "channel": ["Web", "Phone", "Multichannel", "Web"],
        }
    )


@pytest.mark.parametrize(("name", "table"), [("D", _hillstrom_table), ("E", _table)])
def test_surfaces_d_and_e_price_every_reward_by_its_redemptions(
    bench: ModuleType, name: str, table: object
) -> None:
    surface = bench.ALL_SURFACES[name]
    assert surface.covariates == ("hillstrom" if name == "D" else "online_retail")
    # no reward is a send alone: every cost in a plan is an estimate
    assert all(o.redemption_cost > 0 and o.cost_per_send == 0 for o in surface.catalog)
    X = table()  # type: ignore[operator]
    baseline, effects = bench.response_surface(X, 1.0, surface)
    assert list(effects.columns) == ["points_2x", "pct5", "pct15", "gift"]
    treated = effects.to_numpy() + baseline[:, None]
    assert np.all((baseline > 0) & (baseline < 1)) and np.all((treated > 0) & (treated < 1))
    # steep baselines: the heaviest, most recent buyer is the likeliest to buy anyway
    heavy = 1 if name == "D" else 3
    assert baseline.argmax() == heavy, baseline


def test_surface_d_shifts_are_the_stated_terms(bench: ModuleType) -> None:
    X = _hillstrom_table()
    shifts = bench._shifts_d(X)
    history = bench._z(np.log1p(X["history"].to_numpy()))
    recency = bench._z(X["recency"].to_numpy(dtype=float))
    np.testing.assert_allclose(shifts["points_2x"], 0.25 + 0.2 * (history > 0.5))
    np.testing.assert_allclose(shifts["pct5"], 0.35 - 0.25 * history + 0.2 * np.array([1, 0, 0, 1]))
    np.testing.assert_allclose(shifts["pct15"], 0.7 - 0.35 * history + 0.3 * np.array([1, 0, 0, 0]))
    np.testing.assert_allclose(
        shifts["gift"], 0.9 + 0.4 * (recency > 0.5) - 0.3 * np.array([0, 1, 0, 0])
    )


@pytest.mark.parametrize("name", ["D", "I", "J"])  # I: a margin per customer, as a Series
def test_a_hillstrom_surface_runs_one_seed_within_its_budgets(
    bench: ModuleType, hillstrom_path: Path, name: str
) -> None:
    from loyalty_ml.datasets.hillstrom import load_hillstrom

    rows = bench.one_seed(load_hillstrom(hillstrom_path), 0, 1.0, name, customers=6_000)
    frame = pd.DataFrame(rows)
    assert len(frame) == 6 and frame["capture"].notna().all()
    assert not frame["overspent"].any() and not frame["true_overspent"].any()


# -- the stress surface F: six rewards, small effects on the cheap sends, one that backfires -------
def test_surface_f_shifts_are_the_stated_terms(bench: ModuleType) -> None:
    X = _hillstrom_table()
    shifts = bench._shifts_f(X)
    history = bench._z(np.log1p(X["history"].to_numpy()))
    recency = bench._z(X["recency"].to_numpy(dtype=float))
    web, phone = np.array([1, 0, 0, 1]), np.array([0, 1, 0, 0])
    np.testing.assert_allclose(shifts["email"], 0.05)
    np.testing.assert_allclose(shifts["sms"], 0.0)
    np.testing.assert_allclose(shifts["push"], -0.2 + 0.25 * phone)
    np.testing.assert_allclose(shifts["free_shipping"], 0.15 + 0.35 * web * (history < 0))
    np.testing.assert_allclose(shifts["pct10"], 0.3 + 0.3 * (recency > 0.5) - 0.3 * history)
    np.testing.assert_allclose(
        shifts["bogo"], 0.8 * np.array([1, 0, 0, 0]) + 0.4 * np.array([0, 1, 0, 0]) - 0.1
    )


def test_surface_f_push_backfires_off_the_phone_channel(bench: ModuleType) -> None:
    surface = bench.ALL_SURFACES["F"]
    assert surface.covariates == "hillstrom" and len(surface.catalog.ids) == 6
    _, effects = bench.response_surface(_hillstrom_table(), 1.0, surface)
    assert (effects["sms"] == 0).all() and (effects["email"] > 0).all()
    # the cheapest reward harms every customer but the phone buyer (the second)
    assert effects["push"].to_numpy()[1] > 0 and (effects["push"].to_numpy()[[0, 2, 3]] < 0).all()
    # a constant true effect has no correlation with the estimate: NaN, not a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(bench._correlation(np.array([0.1, 0.2, 0.3]), np.zeros(3)))
    assert bench._correlation(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) > 0.9


# -- surface G: four rewards, written the way an outside check would be --------------------------
def test_surface_g_shifts_are_the_stated_terms(bench: ModuleType) -> None:
    surface = bench.ALL_SURFACES["G"]
    assert surface.covariates == "hillstrom" and surface.value == 30.0
    assert [(o.offer_id, o.cost_per_redemption, o.cost_per_send) for o in surface.catalog] == [
        ("email", 0.0, 0.03),
        ("push", 0.0, 0.01),
        ("cashback5", 5.0, 0.0),
        ("gift", 9.0, 0.0),
    ]
    shifts = bench._shifts_g(_hillstrom_table())
    # by hand: the newbie alone gains on the e-mail; the push works off the phone channel, but not
    # on the lapsed buyer (recency 12); the cashback on the two lightest histories and on women's
    # buyers; the gift more in the country, less for men's buyers
    np.testing.assert_allclose(shifts["email"], [0.23, 0.08, 0.08, 0.08])
    np.testing.assert_allclose(shifts["push"], [0.4, 0.1, 0.1, 0.4])
    np.testing.assert_allclose(shifts["cashback5"], [0.55, 0.2, 0.35, 0.2])
    np.testing.assert_allclose(shifts["gift"], [0.55, 0.65, 0.35, 0.55])
    baseline, effects = bench.response_surface(_hillstrom_table(), 1.0, surface)
    assert np.all((baseline > 0) & (baseline < 1)) and (effects.to_numpy() > 0).all()


# -- surface H: five rewards whose effects add to the probability, not its logit -----------------
def test_surface_h_adds_the_stated_terms_to_the_probability(bench: ModuleType) -> None:
    surface = bench.ALL_SURFACES["H"]
    assert surface.scale == "probability" and surface.value == 30.0
    assert [(o.offer_id, o.cost_per_redemption, o.cost_per_send) for o in surface.catalog] == [
        ("email", 0.0, 0.02),
        ("sms", 0.0, 0.12),
        ("points", 2.0, 0.0),
        ("coupon", 5.0, 0.0),
        ("gift", 12.0, 0.3),
    ]
    baseline, effects = bench.response_surface(_hillstrom_table(), 1.0, surface)
    # by hand, e.g. the first customer: 0.08 + 0.014 x 11 + 0.04 x 30 / 1000 - 0.02 (newbie)
    np.testing.assert_allclose(baseline, [0.2152, 0.30, 0.114, 0.176])
    np.testing.assert_allclose(effects["email"], [0.014, 0.014, 0.004, 0.014])
    # the urban web newbie loses on the SMS; the lapsed multichannel buyer gains most
    np.testing.assert_allclose(effects["sms"], [-0.014, 0.021, 0.031, 0.006])
    np.testing.assert_allclose(effects["points"], [0.023, 0.038, 0.053, 0.008])
    np.testing.assert_allclose(effects["coupon"], [0.013, -0.002, 0.048, 0.018])
    np.testing.assert_allclose(effects["gift"], [-0.005, 0.015, 0.015, -0.005])
    # half the strength halves each effect: the scale is the probability's, not the logit's
    _, half = bench.response_surface(_hillstrom_table(), 0.5, surface)
    np.testing.assert_allclose(half, effects / 2, atol=1e-15)
    with pytest.raises(SystemExit, match="H and J add to probabilities"):
        bench.shifted(surface, -1.5)


# -- surface I: five rewards and a margin per customer ----------------------------------------------
def test_surface_i_is_the_stated_terms(bench: ModuleType) -> None:
    surface = bench.ALL_SURFACES["I"]
    assert surface.scale == "logit" and surface.margin is not None
    assert [
        (o.offer_id, o.cost_per_redemption, o.cost_per_send, o.breakage) for o in surface.catalog
    ] == [
        ("email", 0.0, 0.1, 0.0),
        ("sms", 0.0, 0.5, 0.0),
        ("d10", 4.0, 0.0, 0.0),
        ("d20", 9.0, 0.0, 0.0),
        ("pts", 6.0, 0.0, 0.2),
    ]
    X = _hillstrom_table()
    # by hand: the light web newbie, the heavy phone buyer, the lapsed multichannel one, the
    # middling web buyer (recency 6, so not "over 6")
    np.testing.assert_allclose(
        bench._logit_i(X)[[0, 3]],
        [-3.25 + 0.5 + 0.3 * np.log(0.15) - 0.3 + 0.1, -3.25 + 0.3 * np.log(1.5) + 0.1],
    )
    shifts = bench._shifts_i(X)
    np.testing.assert_allclose(shifts["email"], [0.45, 0.45, -0.05, 0.45])
    np.testing.assert_allclose(shifts["sms"], [0.7, -0.25, 0.0, 0.0])
    np.testing.assert_allclose(shifts["d10"], [0.25, 0.25, 0.7, 0.25])
    np.testing.assert_allclose(shifts["d20"], [0.45, 0.1, 1.2, 0.45])
    np.testing.assert_allclose(shifts["pts"], [0.4, 0.35, 0.95, 0.4])
    # 0.3 x (25 + 0.2 x history), history capped at 1,500
    np.testing.assert_allclose(bench._margin_i(X), [9.3, 97.5, 13.5, 25.5])


def test_true_net_value_reads_each_customers_own_margin(bench: ModuleType) -> None:
    from loyalty_ml.policy.catalog import Offer, OfferCatalog

    catalog = OfferCatalog(
        [Offer(offer_id="pts", cost_per_redemption=6.0, kind="points", breakage=0.2)]
    )
    truth = pd.DataFrame(
        {"pts": [0.1, 0.2, 0.3], "baseline": [0.1, 0.2, 0.3]}, index=pd.Index([7, 8, 9])
    )
    plan = pd.DataFrame({"offer_id": ["pts", pd.NA, "pts"]}, index=pd.Index([9, 8, 7]))
    value = pd.Series([10.0, 1000.0, 50.0], index=truth.index)
    net, cost = bench.true_net_value(plan, truth, catalog, value)
    # customer 7: 0.1 x 10 - 0.2 x 6 x 0.8 = 0.04; customer 9: 0.3 x 50 - 0.6 x 4.8 = 12.12
    assert cost == pytest.approx(0.96 + 2.88)
    assert net == pytest.approx(0.04 + 12.12)


# -- surface J: relative lifts and unequal arms --------------------------------------------------
def test_surface_j_multiplies_the_baseline_by_the_stated_lifts(bench: ModuleType) -> None:
    from scipy.special import expit

    surface = bench.ALL_SURFACES["J"]
    assert surface.scale == "probability" and surface.value == 30.0
    assert [(o.offer_id, o.cost_per_redemption, o.cost_per_send) for o in surface.catalog] == [
        ("tip_email", 0.0, 0.1),
        ("pct10", 4.0, 0.02),
        ("free_ship", 2.5, 0.02),
        ("cash15", 8.0, 0.05),
    ]
    # every threshold at its edge: the newbie bought 3 months ago (recency <= 3), the
    # multichannel buyer 8 (lapsed for cash15, not yet for pct10's >= 9), the web buyer 9; both
    # of the last two with $300 of history (cash15's history >= 300)
    X = _hillstrom_table().assign(recency=[3, 2, 8, 9], history=[30.0, 2000.0, 300.0, 300.0])
    baseline, effects = bench.response_surface(X, 1.0, surface)
    # by hand: -2.25 + 0.45 (log history - 5.06) - 0.08 (recency - 6) - 0.35 newbie
    # + 0.3 multichannel + 0.15 womens - 0.1 rural
    logit = [
        -2.25 + 0.45 * (np.log(30) - 5.06) + 0.24 - 0.35 + 0.15,
        -2.25 + 0.45 * (np.log(2000) - 5.06) + 0.32 + 0.15 - 0.10,
        -2.25 + 0.45 * (np.log(300) - 5.06) - 0.16 + 0.30,
        -2.25 + 0.45 * (np.log(300) - 5.06) - 0.24 + 0.15,
    ]
    np.testing.assert_allclose(baseline, expit(logit))
    lifts = effects.div(baseline, axis=0)
    # the recent newbie loses on the e-mail; the buyer of both lines gains most from it
    np.testing.assert_allclose(lifts["tip_email"], [-0.25, 0.30, 0.10, 0.10])
    np.testing.assert_allclose(lifts["pct10"], [0.50, 0.50, 0.15, 0.75])
    np.testing.assert_allclose(lifts["free_ship"], [0.15, 0.65, 0.35, 0.15])
    np.testing.assert_allclose(lifts["cash15"], [0.25, 0.55, 1.55, 1.25])
    _, half = bench.response_surface(X, 0.5, surface)
    np.testing.assert_allclose(half, effects / 2, atol=1e-15)
    with pytest.raises(SystemExit, match="surfaces H and J add to probabilities"):
        bench.shifted(surface, -1.5)


def test_surface_j_draws_its_unequal_arms(
    bench: ModuleType, hillstrom_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty_ml.datasets.hillstrom import load_hillstrom

    seen: list[np.ndarray] = []
    real = bench.UpliftModel

    class Recording(real):  # type: ignore[misc, valid-type]
        def fit(self, X: pd.DataFrame, y: np.ndarray, **kwargs: object) -> object:
            seen.append(np.asarray(kwargs["treatment"]))
            return super().fit(X, y, **kwargs)

    monkeypatch.setattr(bench, "UpliftModel", Recording)
    bench.one_seed(load_hillstrom(hillstrom_path), 0, 1.0, "J", customers=20_000)
    shares = pd.Series(seen[0]).value_counts(normalize=True)
    # 40% control, then 15 / 25 / 12 / 8% in the catalog's order; about 10,000 training rows,
    # so each share within 1.5 points
    expected = {
        "control": 0.40,
        "tip_email": 0.15,
        "pct10": 0.25,
        "free_ship": 0.12,
        "cash15": 0.08,
    }
    for arm, share in expected.items():
        assert abs(shares[arm] - share) < 0.015, (arm, shares[arm])
