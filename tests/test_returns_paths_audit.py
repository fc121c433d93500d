"""Audit: with ``returns="keep"``, does every path read a return in an order of its own as the
features and labels do since commit 7210d92 (not an order, not a purchase, not activity)?

Each path is compared with the same data with returns dropped, where the purchase side must not
change. Confirmed defects are strict xfails that assert the correct behaviour.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml import kpis
from loyalty_ml.kpis._common import purchase_lines

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online_retail_ii" / "online_retail_ii_2009_2010.parquet"

AS_OF = "2024-07-01"


def _with_own_order_returns(tx: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """5% of orders get a later refund order of the same customer; 3 customers get a refund five
    days before their first purchase, 3 one after their last purchase."""
    rng = np.random.default_rng(seed)
    orders = (
        tx.groupby("order_id")
        .agg(
            customer_id=("customer_id", "first"),
            timestamp=("timestamp", "first"),
            amount=("amount", "sum"),
        )
        .reset_index()
    )
    pick = orders.sample(frac=0.05, random_state=seed)
    when = pick["timestamp"].to_numpy() + pd.to_timedelta(rng.integers(1, 40, len(pick)), unit="D")
    first = tx.groupby("customer_id")["timestamp"].min()
    last = tx.groupby("customer_id")["timestamp"].max()
    before, after = first.index[:3], last.index[3:6]
    ids = np.r_[pick["customer_id"].to_numpy(), before.to_numpy(), after.to_numpy()]
    times = np.r_[
        when,
        (first.loc[before] - pd.Timedelta(days=5)).to_numpy(),
        (last.loc[after] + pd.Timedelta(days=3)).to_numpy(),
    ]
    paid = np.r_[pick["amount"].to_numpy(), np.full(6, 20.0)]
    ret = pd.DataFrame(
        {
            "customer_id": ids,
            "timestamp": times,
            "amount": -(paid * 0.5).round(2),
            "order_id": [f"R{i}" for i in range(len(ids))],
            "quantity": -1,
            "product_id": "P1",
            "category": tx["category"].iloc[0],
            "channel": tx["channel"].iloc[0],
            "store_id": "online",
            "discount": 0.0,
            "margin": -(paid * 0.1).round(2),
        }
    )
    both = pd.concat([tx, ret], ignore_index=True)
    return both.loc[both["timestamp"] <= tx["timestamp"].max()].reset_index(drop=True)


@pytest.fixture(scope="module")
def sim() -> dict[str, pd.DataFrame]:
    data = lml.simulate(300, seed=1)
    raw = _with_own_order_returns(data.transactions)
    return {
        "kept": lml.validate_transactions(raw, returns="keep"),
        "dropped": lml.validate_transactions(raw),
        "campaigns": lml.validate_campaigns(data.campaigns, offers=data.offers),
        "offers": data.offers,
    }


# --------------------------------------------------------------------------------------------
# checked and right: features, labels, training table, boundaries, label checks
# --------------------------------------------------------------------------------------------


def _assert_same_purchases(
    kept: pd.DataFrame, dropped: pd.DataFrame, *, as_of: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features with returns kept list, count and date the purchases of the run without them."""
    X, Xd = (lml.build_features(t, as_of=as_of) for t in (kept, dropped))
    assert X.index.equals(Xd.index)
    pd.testing.assert_series_equal(X["n_orders"], Xd["n_orders"])
    pd.testing.assert_series_equal(X["recency_days"], Xd["recency_days"])
    return X, Xd


def test_features_labels_and_boundaries_ignore_own_order_returns(sim: dict) -> None:
    kept, dropped = sim["kept"], sim["dropped"]
    assert (kept["amount"] < 0).sum() > 10
    X, Xd = _assert_same_purchases(kept, dropped, as_of=AS_OF)
    cutoffs = pd.date_range(end="2024-04-01", periods=3, freq="45D")
    # filterwarnings=error: no label check (first purchase, gaps, typical gap) fires on either
    Xt, yt = lml.training_table(kept, cutoffs=cutoffs, horizon_days=90)
    Xt2, yt2 = lml.training_table(dropped, cutoffs=cutoffs, horizon_days=90)
    pd.testing.assert_series_equal(yt, yt2)
    assert Xt.index.equals(Xt2.index) and Xt.index.equals(yt.index)
    b, bd = (lml.estimate_boundaries(t, as_of=AS_OF) for t in (kept, dropped))
    assert (b.sleep_days, b.churn_days) == (bd.sleep_days, bd.churn_days)
    policy = lml.TriggerPolicy(boundaries=b)
    p = pd.Series(np.random.default_rng(0).uniform(0, 0.6, len(X)), index=X.index)
    a, ad = policy.assign(X, p), lml.TriggerPolicy(boundaries=bd).assign(Xd, p)
    pd.testing.assert_frame_equal(a, ad)


def test_empty_cutoff_warning_names_the_first_purchase_not_an_earlier_refund() -> None:
    # a refund dated two months before the shop's first sale (of an order before the extract)
    days = pd.date_range("2024-03-01", periods=60, freq="D")
    sales = pd.DataFrame(
        {
            "customer_id": np.arange(60) % 6,
            "timestamp": days,
            "amount": 10.0,
            "order_id": [f"O{i}" for i in range(60)],
        }
    )
    refund = pd.DataFrame(
        {"customer_id": [0], "timestamp": [pd.Timestamp("2024-01-01")], "amount": [-5.0]}
    ).assign(order_id="R0")
    tx = lml.validate_transactions(pd.concat([refund, sales]), returns="keep")
    cutoffs = pd.to_datetime(["2024-02-01", "2024-04-01", "2024-04-15"])
    with pytest.warns(lml.DataQualityWarning, match=r"first purchase is on 2024-03-01"):
        lml.training_table(tx, cutoffs=cutoffs, horizon_days=14)


def test_churn_model_fits_and_scores_with_returns_kept(sim: dict) -> None:
    cutoffs = pd.date_range(end="2024-04-01", periods=3, freq="45D")
    Xt, yt = lml.training_table(sim["kept"], cutoffs=cutoffs, horizon_days=90)
    model = lml.ChurnModel(random_state=0, n_estimators=20).fit(Xt, yt)
    X = lml.build_features(sim["kept"], as_of=AS_OF)
    p = model.predict_proba(X)[:, 1]
    assert len(p) == len(X) and np.isfinite(p).all()


def test_kpis_count_the_purchases_the_features_count(sim: dict) -> None:
    kept, dropped = sim["kept"], sim["dropped"]
    period = {"period_start": "2024-01-01", "period_end": AS_OF, "previous_start": "2023-07-01"}
    a, b = kpis.summary(kept, **period), kpis.summary(dropped, **period)
    same = ["active_customers", "orders", "purchase_frequency", "retention_rate"]
    pd.testing.assert_series_equal(a[same], b[same])
    assert a["revenue"] < b["revenue"]  # refunds net against revenue (documented)
    am, bm = (kpis.active_members(t, as_of=AS_OF, window_days=90) for t in (kept, dropped))
    assert am["active_members"] == bm["active_members"]
    pd.testing.assert_frame_equal(
        kpis.cohort_retention(kept, as_of="2024-12-01"),
        kpis.cohort_retention(dropped, as_of="2024-12-01"),
    )
    clv = {"period_start": "2024-01-01", "period_end": AS_OF, "period_days": 365.0}
    ca, cb = kpis.clv_inputs(kept, **clv), kpis.clv_inputs(dropped, **clv)
    assert ca.index.equals(cb.index)
    pd.testing.assert_series_equal(ca["orders"], cb["orders"])


def test_campaign_paths_do_not_count_a_refund_as_a_response(sim: dict) -> None:
    kept, dropped = sim["kept"], sim["dropped"]
    camp = sim["campaigns"].loc[sim["campaigns"]["sent_at"] < "2024-11-01"]
    pd.testing.assert_series_equal(
        lml.campaign_responses(camp, kept, window_days=30),
        lml.campaign_responses(camp, dropped, window_days=30),
    )
    Xa, ya, ta = lml.experiment_table(kept, camp, window_days=30, progress=False)
    Xb, yb, tb = lml.experiment_table(dropped, camp, window_days=30, progress=False)
    assert Xa.index.equals(Xb.index)
    pd.testing.assert_series_equal(ya, yb)
    pd.testing.assert_series_equal(ta, tb)
    ma = kpis.measure_campaign(camp, kept, sim["offers"], window_days=30)
    mb = kpis.measure_campaign(camp, dropped, sim["offers"], window_days=30)
    cols = ["n_treated", "n_control", "conversion_rate", "control_rate", "uplift"]
    pd.testing.assert_frame_equal(ma[cols], mb[cols])
    X = lml.build_features(kept, as_of=AS_OF, campaigns=sim["campaigns"])
    Xd = lml.build_features(dropped, as_of=AS_OF, campaigns=sim["campaigns"])
    offer_cols = [c for c in X.columns if "offer" in c or "redem" in c]
    assert "redemption_rate" in offer_cols
    pd.testing.assert_frame_equal(X[offer_cols], Xd[offer_cols])


def _one_customer_refund() -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-03-20"]),
            "amount": [40.0, -15.0, 10.0],
            "order_id": ["a", "r", "b"],
        }
    )
    camp = pd.DataFrame(
        {
            "customer_id": [1],
            "sent_at": pd.to_datetime(["2024-02-01"]),
            "offer_id": ["disc5"],
        }
    )
    return tx, camp


def test_refund_in_response_window_is_no_purchase_and_nets_spend_as_documented() -> None:
    tx, camp = _one_customer_refund()
    purchase = lml.campaign_responses(camp, tx, window_days=30, outcome="purchase")
    spend = lml.campaign_responses(camp, tx, window_days=30, outcome="spend")
    assert purchase.tolist() == [0]
    assert spend.tolist() == [-15.0]  # "returns in the window count negatively" (docstring)


# --------------------------------------------------------------------------------------------
# confirmed defects
# --------------------------------------------------------------------------------------------


def _outage_with_refunds() -> pd.DataFrame:
    """Purchases on days 0-59 and 90-199 (five a day); days 60-89 hold only refunds, one every
    third day (refunds processed while the shop's sales feed was down)."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for d in [*range(60), *range(90, 200)]:
        for k in range(5):
            t = start + pd.Timedelta(days=d, hours=10 + k)
            rows.append((int(rng.integers(0, 80)), t, 10.0, f"o{d}-{k}"))
    for d in range(60, 90, 3):
        rows.append((d % 80, start + pd.Timedelta(days=d, hours=12), -5.0, f"r{d}"))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id"])


def test_gap_finder_with_returns_dropped_reports_the_outage() -> None:
    with pytest.warns(lml.exceptions.DataQualityWarning, match="no transactions at all"):
        tx = lml.validate_transactions(_outage_with_refunds())
    with pytest.warns(lml.exceptions.DataQualityWarning, match="overlaps days with no purchase"):
        lml.churn_labels(tx, as_of="2024-02-20", horizon_days=30)


def test_gap_finder_does_not_count_refunds_as_activity() -> None:
    with pytest.warns(lml.exceptions.DataQualityWarning, match="no transactions at all"):
        _, report = lml.validate_transactions(
            _outage_with_refunds(), returns="keep", return_report=True
        )
    assert any("2024-03-01" in note for note in report.notes)


def _tiers_data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 40
    raw = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "timestamp": pd.Timestamp("2024-06-01")
            + pd.to_timedelta(rng.integers(0, 240, n), unit="h"),
            "amount": rng.uniform(5, 50, n).round(2),
            "order_id": [f"o{i}" for i in range(n)],
        }
    )
    refund = pd.DataFrame(  # customer 7 (a buyer) refunds in an order of its own, 999 never bought
        {
            "customer_id": [7, 999],
            "timestamp": pd.to_datetime(["2024-06-12", "2024-06-12"]),
            "amount": [-3.0, -4.0],
            "order_id": ["r7", "r999"],
        }
    )
    return lml.validate_transactions(pd.concat([raw, refund]), returns="keep")


def test_propose_tiers_on_visits_with_a_refund_only_customer() -> None:
    tiers = kpis.propose_tiers(_tiers_data(), as_of="2024-06-20", window_days=30, basis="visits")
    assert tiers["members"].sum() == 40


def test_propose_tiers_on_spend_leaves_out_refund_only_customers() -> None:
    tiers = kpis.propose_tiers(_tiers_data(), as_of="2024-06-20", window_days=30, basis="spend")
    assert tiers["members"].sum() == 40


def test_value_per_conversion_counts_purchase_orders_only(sim: dict) -> None:
    from loyalty_ml.tracking.train import _value_per_conversion

    kept = sim["kept"]
    orders = purchase_lines(kept)[["customer_id", "order_id"]].drop_duplicates()
    expected = kept["margin"].sum() / len(orders)  # net of refunds, per purchase order
    assert _value_per_conversion(kept) == pytest.approx(expected)


# --------------------------------------------------------------------------------------------
# the real file: Online Retail II with "C" invoices kept as own-order returns
# --------------------------------------------------------------------------------------------


@pytest.mark.skipif(
    not ONLINE_RETAIL.exists(),
    reason=f"real data not found at {ONLINE_RETAIL} (../shared/data is absent on this machine)",
)
def test_online_retail_cancellations_kept_as_returns() -> None:
    raw = pd.read_parquet(
        ONLINE_RETAIL,
        columns=["Customer ID", "InvoiceDate", "Invoice", "StockCode", "Quantity", "Price"],
    )
    raw["amount"] = raw["Quantity"] * raw["Price"]
    raw = raw.drop(columns="Price")
    cm = lml.ColumnMap(
        customer_id="Customer ID",
        timestamp="InvoiceDate",
        order_id="Invoice",
        product_id="StockCode",
        quantity="Quantity",
    )
    kept, rk = lml.validate_transactions(raw, columns=cm, returns="keep", return_report=True)
    dropped, rd = lml.validate_transactions(raw, columns=cm, return_report=True)
    # (the kept returns' note says how many of them other rules dropped: those without a customer)
    assert [n for n in rk.notes if not n.startswith("negative_amount: ")] == rd.notes == []
    # 4,381 customers with any row, 4,312 with a purchase: the 69 refund-only ones are no customer
    assert kept["customer_id"].nunique() > dropped["customer_id"].nunique()
    _assert_same_purchases(kept, dropped, as_of="2010-09-01")
    cutoffs = pd.date_range(end="2010-09-01", periods=3, freq="30D")
    _, y = lml.training_table(kept, cutoffs=cutoffs, horizon_days=90)
    _, yd = lml.training_table(dropped, cutoffs=cutoffs, horizon_days=90)
    pd.testing.assert_series_equal(y, yd)
    b, bd = (lml.estimate_boundaries(t, as_of="2010-12-01") for t in (kept, dropped))
    assert (b.sleep_days, b.churn_days) == (bd.sleep_days, bd.churn_days)
    a, ad = (kpis.active_members(t, as_of="2010-12-01", window_days=90) for t in (kept, dropped))
    assert a["active_members"] == ad["active_members"]
