"""Tests that kill mutants which survived the feature / label / KPI test files (session 44).

Each test names the mutant it kills. Tiny hand-made tables; every expected number is computed by hand
in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import validate_transactions
from loyalty_ml.features import FeatureConfig, build_features, churn_labels, estimate_boundaries
from loyalty_ml.kpis import clv_inputs, measure_campaign, summary

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-01-01")


def _tx(rows: list[tuple[object, str, float]], **extra: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
            "amount": [r[2] for r in rows],
            **extra,
        }
    )


# -- rhythm ---------------------------------------------------------------------------------------


def test_ipi_median_is_a_median_and_cv_divides_by_the_mean() -> None:
    """Kills rhythm.py:52 ``median = mean`` and rhythm.py:53 ``std / median``.

    Orders on Jan 1, 2, 3 and 13: gaps 1, 1, 10 -> mean 4, median 1,
    std (ddof=0) = sqrt((9 + 9 + 36) / 3) = sqrt(18), cv = sqrt(18) / 4.
    as_of Jan 20: recency 7 -> overdue_ratio 7 / 1, days_overdue 7 - 1.
    """
    tx = _tx([(1, "2024-01-01", 1.0), (1, "2024-01-02", 1.0), (1, "2024-01-03", 1.0),
              (1, "2024-01-13", 1.0)])  # fmt: skip
    r = build_features(tx, as_of="2024-01-20").loc[1]
    assert r["ipi_mean"] == pytest.approx(4.0)
    assert r["ipi_median"] == pytest.approx(1.0)
    assert r["ipi_std"] == pytest.approx(math.sqrt(18.0))
    assert r["ipi_cv"] == pytest.approx(math.sqrt(18.0) / 4.0)
    assert r["overdue_ratio"] == pytest.approx(7.0)
    assert r["days_overdue"] == pytest.approx(6.0)


# -- trends ---------------------------------------------------------------------------------------


def test_previous_trend_window_is_exactly_one_window_long() -> None:
    """Kills trends.py:47 ``as_of - 2 * t`` -> ``as_of - 3 * t``.

    T = 30, as_of Mar 31: latest [Mar 1, Mar 31), previous [Jan 31, Mar 1). The Jan 15 order is
    in neither: n_prev 0, freq_trend (1 - 0) / (1 + 0) = +1, spend_trend +1, aov_trend NaN.
    """
    tx = _tx([(1, "2024-01-15", 10.0), (1, "2024-03-20", 10.0)])
    r = build_features(tx, as_of="2024-03-31", config=FeatureConfig(trend_window_days=30)).loc[1]
    assert r["n_orders_prev_30d"] == 0.0
    assert r["freq_trend"] == 1.0
    assert r["spend_trend"] == 1.0
    assert np.isnan(r["aov_trend"])


def test_equal_spend_in_both_windows_is_exactly_flat() -> None:
    """Kills trends.py:28 (the ``_FLAT`` snap to 0 removed).

    Latest window: one order of 3.3; previous: 1.1 + 2.2, which is 3.3000000000000003 in floats.
    The spends are equal, so spend_trend must be exactly 0, not -7e-17 of noise.
    """
    assert 1.1 + 2.2 != 3.3  # the premise: float sums differ in the last bit
    tx = _tx([(1, "2024-02-05", 1.1), (1, "2024-02-10", 2.2), (1, "2024-03-10", 3.3)])
    r = build_features(tx, as_of="2024-03-31", config=FeatureConfig(trend_window_days=30)).loc[1]
    assert r["spend_trend"] == 0.0
    assert r["freq_trend"] == pytest.approx(-1.0 / 3.0)  # (1 - 2) / 3


# -- orders without order ids ---------------------------------------------------------------------


def test_two_customers_at_the_same_instant_keep_their_own_orders() -> None:
    """Kills _prepared.py:304 (without order ids, an order start no longer needs a new customer).

    Customer 1's last purchase and customer 2's first are both at Jan 5 00:00 (daily data):
    they are adjacent rows after sorting, but two orders of two customers.
    """
    tx = _tx([(1, "2024-01-01", 10.0), (1, "2024-01-05", 20.0),
              (2, "2024-01-05", 30.0), (2, "2024-01-09", 40.0)])  # fmt: skip
    X = build_features(tx, as_of="2024-01-20")
    assert X["n_orders"].tolist() == [2.0, 2.0]
    assert X["spend"].tolist() == [30.0, 70.0]
    assert X["recency_days"].tolist() == [15.0, 11.0]
    assert X["tenure_days"].tolist() == [19.0, 15.0]
    assert X["ipi_mean"].tolist() == [4.0, 4.0]


# -- channel --------------------------------------------------------------------------------------


def test_a_refund_line_at_the_order_start_does_not_set_the_orders_channel() -> None:
    """Kills channel.py:105 (``& (snap.r_amount >= 0)`` dropped from ``placed``).

    Order A: a -5 refund booked in the app and a 20 purchase in the web shop, same instant. The
    order was placed on the web; 'app' sorts first, so without the filter it would win the tie.
    """
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "order_id": ["A", "A", "B"],
            "timestamp": pd.to_datetime(
                ["2024-01-05 10:00", "2024-01-05 10:00", "2024-01-06 00:00"]
            ),
            "amount": [-5.0, 20.0, 10.0],
            "channel": ["app", "web", "app"],
        }
    )
    tx = validate_transactions(raw, returns="keep")
    r = build_features(tx, as_of="2024-02-01").loc[1]
    assert r["channel_share_web"] == 1.0
    assert r["channel_share_app"] == 0.0
    assert r["n_channels"] == 1.0  # the refund's channel is not one bought in


def test_an_orders_channel_is_that_of_its_first_instant() -> None:
    """Kills channel.py:105 (``snap.r_at_order_start &`` dropped from ``placed``).

    Order A starts on the web at 10:00; a later line of the same order (12:00) is in the app.
    The order's channel is the web ('app' would win a tie over every line).
    """
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "order_id": ["A", "A", "B"],
            "timestamp": pd.to_datetime(
                ["2024-01-05 10:00", "2024-01-05 12:00", "2024-01-06 00:00"]
            ),
            "amount": [20.0, 5.0, 10.0],
            "channel": ["web", "app", "app"],
        }
    )
    r = build_features(tx, as_of="2024-02-01").loc[1]
    assert r["channel_share_web"] == 1.0
    assert r["channel_share_app"] == 0.0


# -- basket: margin rates of a subset of customers ------------------------------------------------


def test_features_of_some_customers_use_every_customers_category_margin_rates() -> None:
    """Kills basket.py:70 (``category_rates`` ignored: rates over the kept customers only).

    Category x: customer 1 margin 1 on 10 (rate .1), customer 2 margin 9 on 10: over everyone
    x has rate 10 / 20 = .5 >= .3 (high); over customer 1 alone .1 (not high).
    """
    from loyalty_ml.features.build import features_at, prepare_inputs

    tx = _tx([(1, "2024-01-05", 10.0), (2, "2024-01-06", 10.0)],
             category=["x", "x"], margin=[1.0, 9.0])  # fmt: skip
    config = FeatureConfig(high_margin_threshold=0.3)
    cutoff = pd.Timestamp("2024-02-01")
    full = build_features(tx, as_of=cutoff, config=config)
    assert full.loc[1, "high_margin_share"] == 1.0
    inputs = prepare_inputs(tx, customers=None, campaigns=None, config=config,
                            channels_as_of=cutoff, cutoffs=[cutoff])  # fmt: skip
    some = features_at(inputs, cutoff, np.array([1]))
    assert some.loc[1, "high_margin_share"] == 1.0


# -- labels ---------------------------------------------------------------------------------------


def test_a_zero_amount_order_in_the_window_is_a_purchase() -> None:
    """Kills labels.py:110 ``amount >= 0`` -> ``amount > 0``.

    churn_labels' docstring: a purchase is an order "with a line of non-negative amount"; the
    features count zero-amount orders too. Customer 1's only window order is a 0 (free sample).
    """
    raw = _tx([(1, "2024-01-05", 10.0), (1, "2024-02-10", 0.0), (2, "2024-01-06", 5.0),
               (3, "2024-03-31", 1.0)])  # fmt: skip
    tx = validate_transactions(raw, zero_amounts="keep")
    labels = churn_labels(tx, as_of="2024-02-01", horizon_days=30)
    assert labels.to_dict() == {1: 0, 2: 1}


# -- campaign features ----------------------------------------------------------------------------


def test_an_offer_sent_after_as_of_is_neither_received_nor_redeemed() -> None:
    """An offer sent Feb 10 and redeemed Feb 15, after as_of Feb 1, is not in the features. (A row
    redeemed before it was sent, which the mutant run used to kill campaign.py's ``sent &``, is
    refused since: see the last test.)"""
    tx = _tx([(1, "2024-01-05", 10.0)])
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "offer_id": ["o1", "o2"],
            "sent_at": pd.to_datetime(["2024-01-10", "2024-02-10"]),
            "redeemed_at": pd.to_datetime([None, "2024-02-15"]),
        }
    )
    r = build_features(tx, as_of="2024-02-01", campaigns=campaigns).loc[1]
    assert r["offers_received"] == 1.0
    assert r["offers_redeemed"] == 0.0
    assert r["redemption_rate"] == 0.0
    assert np.isnan(r["days_since_last_redemption"])


# -- boundaries -----------------------------------------------------------------------------------


def _weekly() -> pd.DataFrame:
    """Customers 1, 2: orders on day 3 and day 10 (gap 7); customer 3: one order on day 1.

    End of data: day 10. Closed gaps [7, 7]; open gaps [0, 0, 9]. At risk: 5 on day 0, 3 on
    days 1-7, 1 on days 8-9. Hazard 2/3 on day 7 -> S = 1 before day 7, 1/3 from it; t_end 9.
    p_return = 1 - (1/3) / P(gap >= t) = 2/3 up to day 7 and 0 from day 8: both levels are
    crossed on day 8, so sleep_days = 8 and churn_days = max(8, 8 + 1) = 9.
    """
    return _tx([(1, str(T0 + 3 * DAY), 1.0), (1, str(T0 + 10 * DAY), 1.0),
                (2, str(T0 + 3 * DAY), 1.0), (2, str(T0 + 10 * DAY), 1.0),
                (3, str(T0 + 1 * DAY), 1.0)])  # fmt: skip


def test_churn_boundary_is_after_the_sleep_boundary_when_both_levels_cross_on_one_day() -> None:
    """Kills boundaries.py:434 (``max(..., sleep_days + 1)`` dropped)."""
    b = estimate_boundaries(_weekly(), min_at_risk=1, min_customers=1)
    assert b.curve["p_return"].tolist() == pytest.approx([2 / 3] * 8 + [0.0, 0.0])
    assert b.sleep_days == 8.0
    assert b.churn_days == 9.0


def test_orders_curve_counts_a_kth_order_exactly_churn_days_before_the_end() -> None:
    """Kills boundaries.py:284 ``kth <= settled_before`` -> ``<``.

    churn_days 9, end day 10: settled before day 1. Customer 3's first order is on day 1 exactly
    (eligible: its next order had the full churn_days to happen); customers 1 and 2 are not
    (day 3). k=1: 1 eligible customer, who churned -> churn 1.0.
    """
    b = estimate_boundaries(_weekly(), min_at_risk=1, min_customers=1)
    assert b.orders_curve["customers"].to_dict() == {1: 1}
    assert b.orders_curve["churn"].to_dict() == {1: 1.0}


def test_gaps_are_counted_in_whole_days_rounded_down() -> None:
    """Kills boundaries.py:414 ``np.floor(gaps)`` -> ``np.ceil(gaps)``.

    As _weekly but the second orders at day 10 12:00: gaps of 7.5 days are events of day 7.
    """
    tx = _tx([(1, str(T0 + 3 * DAY), 1.0), (1, str(T0 + 10.5 * DAY), 1.0),
              (2, str(T0 + 3 * DAY), 1.0), (2, str(T0 + 10.5 * DAY), 1.0),
              (3, str(T0 + 1 * DAY), 1.0)])  # fmt: skip
    b = estimate_boundaries(tx, min_at_risk=1, min_customers=1)
    assert b.curve.loc[7, "returned"] == 2
    assert b.curve["returned"].sum() == 2


# -- KPIs -----------------------------------------------------------------------------------------


def test_a_refund_alone_does_not_make_a_customer_active_in_the_previous_period() -> None:
    """Kills summary.py:127 (previous period read from every row instead of purchase lines).

    Previous [Jan 1, Feb 1): customer 1 buys; customer 2 only returns (bought in December).
    Period [Feb 1, Mar 1): customer 1 buys. N_0 = 1 (customer 1), N_t = 1 -> retention 1.0.
    """
    raw = _tx([(2, "2023-12-20", 40.0), (1, "2024-01-10", 20.0), (2, "2024-01-15", -40.0),
               (1, "2024-02-10", 10.0), (1, "2024-02-28", 10.0)])  # fmt: skip
    tx = validate_transactions(raw, returns="keep")
    s = summary(tx, period_start="2024-02-01", period_end="2024-03-01", previous_start="2024-01-01")
    assert s["previous_active_customers"] == 1.0
    assert s["retained_customers"] == 1.0
    assert s["retention_rate"] == 1.0
    assert s["churn_rate"] == 0.0


def test_clv_inputs_leave_out_a_customer_with_only_a_return_in_the_window() -> None:
    """Kills clv.py:264 (customers without a purchase in the window kept with 0 orders)."""
    raw = _tx([(2, "2024-01-10", 40.0), (1, "2024-02-10", 10.0), (2, "2024-02-15", -40.0),
               (1, "2024-02-28", 30.0)])  # fmt: skip
    tx = validate_transactions(raw, returns="keep")
    out = clv_inputs(tx, period_start="2024-02-01", period_end="2024-03-01", period_days=29.0)
    assert out.index.tolist() == [1]
    assert out.loc[1, ["orders", "revenue", "aov", "purchase_frequency"]].tolist() == [
        2.0, 40.0, 20.0, 2.0,
    ]  # fmt: skip


def _campaign(treated: list[tuple[str, bool]], control: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [c for c, _ in treated] + control,
            "offer_id": ["d10"] * len(treated) + ["control"] * len(control),
            "sent_at": pd.Timestamp("2024-03-01"),
            "redeemed": [r for _, r in treated] + [False] * len(control),
        }
    )


OFFERS = pd.DataFrame({"offer_id": ["d10"], "cost_per_redemption": [2.0], "cost_per_send": [0.0]})
# a customer outside the campaign spans the data over every 7-day window: no coverage warning
_SPAN = [("zz", "2024-02-29", 1.0), ("zz", "2024-03-08", 1.0)]


def test_incremental_revenue_scales_by_the_treated_arm_with_unequal_arms() -> None:
    """Kills campaigns.py:367 ``* n_t`` -> ``* n_c``.

    Treated t1, t2 (t1 buys 30): mean 15; control c1..c4 (c1 buys 10): mean 2.5.
    Incremental revenue (15 - 2.5) x n_t = 12.5 x 2 = 25 (not x 4 = 50).
    """
    campaigns = _campaign([("t1", True), ("t2", False)], ["c1", "c2", "c3", "c4"])
    tx = _tx([("t1", "2024-03-02", 30.0), ("c1", "2024-03-03", 10.0), *_SPAN])
    r = measure_campaign(campaigns, tx, OFFERS, window_days=7).loc["d10"]
    assert (r["n_treated"], r["n_control"]) == (2, 4)
    assert r["incremental_revenue"] == pytest.approx(25.0)
    assert r["incremental_conversions"] == pytest.approx(0.5)  # (.5 - .25) x 2


def test_cannibalisation_share_is_capped_at_one() -> None:
    """Kills campaigns.py:332 (``min(1.0, p_c / p_t)`` uncapped).

    Treated 1 of 4 buys (p_t .25), control 2 of 4 (p_c .5): everyone treated who bought would
    have bought anyway -> share min(1, 2) = 1, cannibalised cost = the whole 1 x 2 redemption cost.
    """
    campaigns = _campaign([("t1", True), ("t2", False), ("t3", False), ("t4", False)],
                          ["c1", "c2", "c3", "c4"])  # fmt: skip
    tx = _tx([("t1", "2024-03-02", 30.0), ("c1", "2024-03-03", 10.0),
              ("c2", "2024-03-04", 10.0), *_SPAN])  # fmt: skip
    r = measure_campaign(campaigns, tx, OFFERS, window_days=7).loc["d10"]
    assert r["uplift"] == pytest.approx(-0.25)
    assert r["cannibalisation_share"] == 1.0
    assert r["cannibalised_cost"] == pytest.approx(2.0)


@pytest.mark.filterwarnings(
    "ignore:estimate_boundaries. as_of=:loyalty_ml.exceptions.DataQualityWarning"
)  # settled on purpose
def test_loyalty_boundary_measures_the_drop_from_the_highest_churn_before_it() -> None:
    """Kills boundaries.py:313 ``top = churn[:at].max()`` -> ``churn[0]``.

    A starter kit then one refill: customers with exactly j orders (daily, settled long before
    as_of): 20 x 1, 200 x 2, 30 x 3, 20 x 4, 12 x 5, 8 x 6, 6 x 7, 60 x 8 (356 in all).
    churn(k) = N_k / (customers with >= k orders): 20/356 = .056, 200/336 = .595, 30/136 = .221,
    20/106 = .189, 12/86 = .140, 8/74 = .108, 6/66 = .091, 60/60 = 1.
    Sharpest real drop 2 -> 3: first_repeat_orders 3; plateau .091 (k = 7); top = churn(2) = .595
    (churn(1) is lower); within 10% of .595 - .091 = .050 of the plateau: first at k = 5 (.140 -
    .091 = .049). Measured from churn(1) instead, top - plateau < 0 and no k is close.
    """
    sizes = {1: 20, 2: 200, 3: 30, 4: 20, 5: 12, 6: 8, 7: 6, 8: 60}
    rows, cid = [], 0
    for j, count in sizes.items():
        for _ in range(count):
            cid += 1
            rows += [(cid, str(T0 + i * DAY), 1.0) for i in range(j)]
    b = estimate_boundaries(_tx(rows), as_of=str(T0 + 60 * DAY))
    assert (b.sleep_days, b.churn_days) == (2.0, 3.0)
    assert b.orders_curve["customers"].tolist() == [356, 336, 136, 106, 86, 74, 66, 60]
    assert b.first_repeat_orders == 3
    assert b.loyalty_orders == 5


def test_a_redemption_dated_before_its_send_is_refused_as_validate_campaigns_refuses_it() -> None:
    """build_features counted it (offers_redeemed 1, redemption_rate 1, days_since_last_redemption
    dated 10 days before the offer existed) where validate_campaigns refuses the same row."""
    from loyalty_ml.exceptions import SchemaError

    tx = _tx([(1, "2024-01-01", 10.0), (1, "2024-01-15", 5.0), (2, "2024-01-05", 3.0)])
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["a", "a"],
            "sent_at": pd.to_datetime(["2024-01-20", "2024-01-02"]),
            "redeemed_at": pd.to_datetime(["2024-01-10", None]),
        }
    )
    with pytest.raises(SchemaError, match=r"1 row\(s\) were redeemed before they were sent"):
        build_features(tx, as_of="2024-02-01", campaigns=campaigns)
    fixed = campaigns.assign(redeemed_at=pd.to_datetime(["2024-01-25", None]))
    assert build_features(tx, as_of="2024-02-01", campaigns=fixed).loc[1, "offers_redeemed"] == 1
