"""Audit: money given in other currency scales and number types (x0.01, x150 yen, x16,000 rupiah/dong;
float32 as Parquet downcasts, int64 whole currency), tiny baskets, ids near 2**53 and 2**63.

The economics are scale-free: ratio, share and count features, churn predictions, binary uplift
effects and offer plans must not move when every money column is scaled; spend-like features and
KPIs scale exactly.

Defects found (2026-12-03), first written as strict xfails:

- fixed: the reason codes printed window spend with no decimals, so with money x0.01 a customer
  with spend_365d = 0.0728 read "spent 0 in the last 365 days" (19 reasons in one explain call);
  amounts under 1 now show three significant digits (``models/explain.py:_amount_text``);
- fixed: ChurnModel predictions moved by up to 0.091 with money x150 or x16,000. Cause: a customer
  whose two trend windows hold the same spend, summed in another order, got spend_trend and
  aov_trend of about 1e-17 instead of 0, and LightGBM keeps 0 in a bin of its own, so the trees
  split differently. Trends now count relative changes under 1e-12 as flat
  (``features/trends.py:_symmetric_ratio``); predictions at x150 and x16,000 are identical.
- fixed: UpliftModel effects moved by up to 0.017 at x16,000: ratio features differed in their
  last bit on hundreds of rows (margin x k over amount x k), and the uplift learners' float64
  encoding passed that to LightGBM's bins. The uplift matrix is now rounded to float32, as the
  churn model's is (``models/_uplift_encoding.py``); effects move by at most 3e-9 (the linear
  blend's standardised money columns).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml

TX_MONEY = ["amount", "discount", "margin"]
OFFER_MONEY = ["cost_per_redemption", "cost_per_send", "min_basket"]
# features measured in money: they scale with it; every other numeric feature must not move
MONEY_FEATURES = {"spend", "aov", "spend_30d", "spend_90d", "spend_365d"}
AS_OF = "2024-07-01"
CUTOFFS = pd.date_range(end="2024-04-01", periods=2, freq="60D")


def _scale_tx(tx: pd.DataFrame, factor: float, dtype: str | None = None) -> pd.DataFrame:
    tx = tx.copy()
    for column in TX_MONEY:
        values = tx[column] * factor
        tx[column] = values.round().astype("int64") if dtype == "int64" else values
        if dtype not in (None, "int64"):
            tx[column] = values.astype(dtype)
    return tx


def _scale_offers(offers: pd.DataFrame, factor: float, dtype: str | None = None) -> pd.DataFrame:
    offers = offers.copy()
    for column in OFFER_MONEY:
        offers[column] = (offers[column] * factor).astype(dtype or "float64")
    return offers


@pytest.fixture(scope="module")
def sim():
    return lml.simulate(800, seed=2)


@pytest.fixture(scope="module")
def campaigns(sim):
    return lml.validate_campaigns(sim.campaigns, offers=sim.offers)


def _features(sim, campaigns, tx_raw: pd.DataFrame) -> pd.DataFrame:
    tx = lml.validate_transactions(tx_raw)
    return lml.build_features(tx, as_of=AS_OF, customers=sim.customers, campaigns=campaigns)


@pytest.fixture(scope="module")
def base_features(sim, campaigns):
    return _features(sim, campaigns, sim.transactions)


def _fit_churn(sim, campaigns, tx_raw: pd.DataFrame):
    tx = lml.validate_transactions(tx_raw)
    X_train, y_train = lml.training_table(
        tx, cutoffs=CUTOFFS, horizon_days=90, customers=sim.customers, campaigns=campaigns
    )
    model = lml.ChurnModel(random_state=0).fit(X_train, y_train)
    X = lml.build_features(tx, as_of=AS_OF, customers=sim.customers, campaigns=campaigns)
    return model, X


@pytest.fixture(scope="module")
def base_churn(sim, campaigns):
    return _fit_churn(sim, campaigns, sim.transactions)


@pytest.fixture(scope="module")
def base_uplift(sim, campaigns, base_features):
    tx = lml.validate_transactions(sim.transactions)
    X_exp, y_exp, t_exp = lml.experiment_table(
        tx, campaigns, window_days=30, customers=sim.customers
    )
    model = lml.UpliftModel(random_state=0).fit(X_exp, y_exp, treatment=t_exp)
    return model.predict_effects(base_features), model.predict_baseline(base_features)


# -- features ----------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1e-2, 150, 16_000])
def test_features_scale_free_or_scale_exactly(sim, campaigns, base_features, factor):
    X = _features(sim, campaigns, _scale_tx(sim.transactions, factor))
    assert X.index.equals(base_features.index)
    assert list(X.columns) == list(base_features.columns)
    for column in base_features.columns:
        a, b = base_features[column], X[column]
        if not pd.api.types.is_numeric_dtype(a) or pd.api.types.is_bool_dtype(a):
            pd.testing.assert_series_equal(a, b)
            continue
        expected = a * factor if column in MONEY_FEATURES else a
        np.testing.assert_allclose(b, expected, rtol=1e-12, atol=0, err_msg=column)


@pytest.mark.parametrize(("factor", "dtype"), [(1, "float32"), (16_000, "float32"), (150, "int64")])
def test_float32_and_int64_money_read_as_their_float64_values(sim, campaigns, factor, dtype):
    # float32 / int64 money gives the features of the same values held as float64 (no extra
    # rounding, no dtype-driven difference)
    given = _scale_tx(sim.transactions, factor, dtype)
    as64 = given.astype({c: "float64" for c in TX_MONEY})
    tx = lml.validate_transactions(given)
    assert all(tx[c].dtype == np.float64 for c in TX_MONEY)
    pd.testing.assert_frame_equal(
        _features(sim, campaigns, given), _features(sim, campaigns, as64), check_exact=True
    )


# -- models ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factor",
    [
        1e-2,
        150,
        16_000,
    ],
)
def test_churn_predictions_unchanged_by_scale(sim, campaigns, base_churn, factor):
    model0, X0 = base_churn
    model, X = _fit_churn(sim, campaigns, _scale_tx(sim.transactions, factor))
    p0 = model0.predict_proba(X0)[:, 1]
    p = model.predict_proba(X)[:, 1]
    # x0.01: identical (max |diff| 0.0)
    np.testing.assert_array_equal(p, p0)
    # the reasons name the same features in the same order
    r0, r = model0.explain(X0.head(100), top_k=3), model.explain(X.head(100), top_k=3)
    for k in (1, 2, 3):
        pd.testing.assert_series_equal(r[f"reason_{k}_feature"], r0[f"reason_{k}_feature"])


def test_uplift_effects_unchanged_by_scale(sim, campaigns, base_uplift):
    effects0, baseline0 = base_uplift
    tx = lml.validate_transactions(_scale_tx(sim.transactions, 16_000, "float32"))
    X_exp, y_exp, t_exp = lml.experiment_table(
        tx, campaigns, window_days=30, customers=sim.customers
    )
    model = lml.UpliftModel(random_state=0).fit(X_exp, y_exp, treatment=t_exp)
    X = lml.build_features(tx, as_of=AS_OF, customers=sim.customers, campaigns=campaigns)
    # the trees are identical; the linear blend standardises the money columns, whose float
    # rounding moves effects by up to 3e-9 (measured)
    np.testing.assert_allclose(model.predict_effects(X), effects0, rtol=0, atol=1e-7)
    np.testing.assert_allclose(model.predict_baseline(X), baseline0, rtol=0, atol=1e-7)


# -- offer plans -------------------------------------------------------------------------------


def _plan(sim, effects, baseline, factor, budget, dtype=None):
    catalog = lml.OfferCatalog.from_frame(_scale_offers(sim.offers, factor, dtype))
    customers = lml.validate_customers(sim.customers)
    return lml.choose_offers(
        effects,
        catalog,
        baseline=baseline,
        value_per_conversion=12.0 * factor,
        budget=None if budget is None else budget * factor,
        strategy="max_net_value",
        holdout_fraction=0.1,
        consent=customers["consent_marketing"],
        random_state=0,
    )


@pytest.mark.parametrize("budget", [None, 5.0, 60.0])
@pytest.mark.parametrize(
    ("factor", "dtype"),
    [(1e-2, None), (150, None), (16_000, None), (16_000, "float32"), (1e6, None)],
)
def test_choose_offers_same_plan_when_all_money_scales(sim, base_uplift, budget, factor, dtype):
    effects, baseline = base_uplift
    plan0 = _plan(sim, effects, baseline, 1, budget)
    plan = _plan(sim, effects, baseline, factor, budget, dtype)
    pd.testing.assert_series_equal(plan["offer_id"], plan0["offer_id"])
    pd.testing.assert_series_equal(plan["reason"], plan0["reason"])
    np.testing.assert_allclose(plan["expected_uplift"], plan0["expected_uplift"], rtol=1e-12)
    np.testing.assert_allclose(plan["expected_cost"], plan0["expected_cost"] * factor, rtol=1e-6)
    if budget is not None:
        assert plan.attrs["budget_cost"] <= budget * factor
        assert math.fsum(plan["expected_cost"]) <= budget * factor


# -- KPIs and the report -----------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1e-2, 16_000])
def test_kpis_scale_exactly(sim, campaigns, factor):
    def kpis(f):
        tx = lml.validate_transactions(_scale_tx(sim.transactions, f))
        s = lml.kpis.summary(
            tx, period_start="2024-07-01", period_end="2024-10-01", previous_start="2024-04-01"
        )
        m = lml.kpis.measure_campaign(campaigns, tx, _scale_offers(sim.offers, f), window_days=30)
        return s, m

    s0, m0 = kpis(1)
    s, m = kpis(factor)
    money = s.index.isin(["revenue", "aov"])
    np.testing.assert_allclose(s, s0 * np.where(money, factor, 1), rtol=1e-12)
    money_cols = [
        c
        for c in m0.columns
        if c.startswith(("incremental_revenue", "incremental_margin", "incremental_profit"))
        or c in ("redemption_cost", "send_cost", "reward_cost", "cannibalised_cost")
    ]
    for column in m0.select_dtypes("number").columns:
        expected = m0[column] * (factor if column in money_cols else 1)
        np.testing.assert_allclose(m[column], expected, rtol=1e-9, err_msg=column)


def test_report_prints_rupiah_scale_readably(sim, campaigns, tmp_path):
    tx = lml.validate_transactions(_scale_tx(sim.transactions, 16_000))
    lml.write_report(
        tx,
        tmp_path,
        customers=sim.customers,
        campaigns=campaigns,
        offers=_scale_offers(sim.offers, 16_000),
    )
    html = (tmp_path / "report.html").read_text()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    text = re.sub(r"<style.*?</style>", "", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    assert not re.search(r"\d[eE][+-]?\d", text)
    assert re.search(r"revenue \d{1,3}(,\d{3}){2,}", re.sub(r"\s+", " ", text))


# -- precision and extremes --------------------------------------------------------------------


def test_million_row_float32_sums_match_fsum():
    rng = np.random.default_rng(0)
    n = 1_000_000
    amount = (rng.gamma(2.0, 45_000.0, n) + rng.random(n)).astype(np.float32)
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 3, n).astype("int64"),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 180 * 86_400, n), unit="s"),
            "amount": amount,
        }
    )
    exact = math.fsum(amount.astype(np.float64))
    naive32 = float(np.add.reduce(amount, dtype=np.float32))
    revenue = lml.kpis.summary(tx, period_start="2024-01-01", period_end="2024-07-01")["revenue"]
    assert abs(revenue - exact) / exact < 1e-12 < abs(naive32 - exact) / exact
    X = lml.build_features(tx, as_of="2024-07-01")
    for customer, group in tx.groupby("customer_id")["amount"]:
        ref = math.fsum(group.to_numpy(np.float64))
        assert abs(X.loc[customer, "spend"] - ref) / ref < 1e-12


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_one_cent_baskets_kept_and_summed():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-01-05", "2024-03-01", "2024-04-01"]
            ),
            "amount": [0.01, 0.01, 0.01, 0.02, 0.01],
        }
    )
    valid = lml.validate_transactions(tx)
    assert len(valid) == 5
    X = lml.build_features(valid, as_of="2024-05-01")
    np.testing.assert_allclose(X["spend"].to_numpy(), [0.02, 0.04])
    np.testing.assert_allclose(X["n_orders"].to_numpy(), [2, 3])
    s = lml.kpis.summary(valid, period_start="2024-01-01", period_end="2024-05-01")
    assert s["revenue"] == pytest.approx(0.05 + 0.01) and s["orders"] == 5


@pytest.mark.parametrize("offset", [2**53, 2**63 - 10_000])
def test_ids_near_float_and_int64_limits_survive_the_flow(sim, offset):
    def shift(frame):
        return frame.assign(customer_id=frame["customer_id"].astype("int64") + np.int64(offset))

    tx = lml.validate_transactions(shift(sim.transactions))
    customers = lml.validate_customers(shift(sim.customers))
    campaigns = lml.validate_campaigns(shift(sim.campaigns), offers=sim.offers)
    known = set(customers.index.tolist())
    assert customers.index.dtype == np.int64 and tx["customer_id"].dtype == np.int64
    assert set(tx["customer_id"].tolist()) <= known
    assert set(campaigns["customer_id"].tolist()) <= known
    people = customers.reset_index()
    X = lml.build_features(tx, as_of=AS_OF, customers=people, campaigns=campaigns)
    assert X.index.dtype == np.int64 and set(X.index.tolist()) <= known
    X_train, y_train = lml.training_table(
        tx, cutoffs=CUTOFFS, horizon_days=90, customers=people, campaigns=campaigns
    )
    assert set(X_train.index.get_level_values("customer_id").tolist()) <= known
    churn = lml.ChurnModel(random_state=0).fit(X_train, y_train)
    p = pd.Series(churn.predict_proba(X)[:, 1], index=X.index)
    actions = lml.TriggerPolicy(boundaries=lml.estimate_boundaries(tx, as_of=AS_OF)).assign(X, p)
    assert actions.index.equals(X.index)
    effects = pd.DataFrame(0.05, index=X.index, columns=list(sim.offers["offer_id"]))
    plan = lml.choose_offers(
        effects,
        lml.OfferCatalog.from_frame(sim.offers),
        baseline=pd.Series(0.3, index=X.index),
        value_per_conversion=12.0,
        budget=20.0,
        holdout_fraction=0.1,
        consent=customers["consent_marketing"],
        random_state=0,
    )
    assert plan.index.equals(X.index) and plan.index.dtype == np.int64


def test_holdout_tells_apart_ids_one_apart_above_2_53():
    # 2**53 and 2**53 + 1 are one float64: the holdout must still read them as two customers
    ids = pd.Index(np.arange(2**53, 2**53 + 400, dtype=np.int64), name="customer_id")
    effects = pd.DataFrame({"d": 0.1}, index=ids)
    catalog = lml.OfferCatalog(
        [lml.Offer(offer_id="d", cost_per_redemption=1.0, cost_per_send=0.0)]
    )
    plan = lml.choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.2, index=ids),
        value_per_conversion=20.0,
        holdout_fraction=0.5,
        random_state=0,
    )
    assert (plan["reason"] == "holdout").sum() == 200
    assert plan.index.equals(ids)


# -- confirmed defect --------------------------------------------------------------------------


def test_explain_spend_window_shows_nonzero_spend_in_large_currency(sim, campaigns):
    model, X = _fit_churn(sim, campaigns, _scale_tx(sim.transactions, 1e-2))
    reasons = model.explain(X, top_k=5)
    for k in range(1, 6):
        feature = reasons[f"reason_{k}_feature"]
        text = reasons[f"reason_{k}"]
        window = feature.fillna("").str.fullmatch(r"spend_\d+d")
        if not window.any():
            continue
        values = pd.Series(
            [X.at[c, f] for c, f in feature[window].items()], index=feature[window].index
        )
        wrong = text[window].str.startswith("spent 0 in") & (values > 0)
        assert not wrong.any(), text[window][wrong].head().tolist()
