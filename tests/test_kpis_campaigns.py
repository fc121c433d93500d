"""Tests of loyalty_ml.kpis.campaigns: measurement against control, by hand and on the simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError
from loyalty_ml.kpis import measure_campaign

Z95 = 1.959963984540054


def _tx(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
            "amount": [r[2] for r in rows],
            "margin": [r[3] for r in rows],
        }
    )


@pytest.fixture
def experiment() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    campaigns = pd.DataFrame(
        {
            "campaign_id": "spring",
            "customer_id": ["t1", "t2", "t3", "t4", "c1", "c2", "c3", "c4"],
            "offer_id": ["d10"] * 4 + ["control"] * 4,
            "sent_at": pd.Timestamp("2024-03-01"),
            "redeemed": [True, True, False, False, False, False, False, False],
        }
    )
    # window of 7 days: [2024-03-01 00:00, 2024-03-08 00:00)
    tx = _tx(
        [
            ("t1", "2024-03-02 10:00", 30.0, 10.0),  # in, day 2
            ("t2", "2024-03-07 23:59", 20.0, 5.0),  # in, day 7
            ("t3", "2024-03-08 00:00", 100.0, 40.0),  # window end excluded
            ("t4", "2024-02-28", 50.0, 20.0),  # before the send
            ("c1", "2024-03-01 00:00", 10.0, 2.0),  # at the send: included
            ("c3", "2024-03-08 00:00", 80.0, 30.0),  # window end excluded
            ("zz", "2024-03-03", 999.0, 999.0),  # not in the campaign
        ]
    )
    offers = pd.DataFrame(
        {"offer_id": ["d10"], "cost_per_redemption": [2.0], "cost_per_send": [1.5]}
    )
    return campaigns, tx, offers


def test_measure_campaign_by_hand(experiment) -> None:
    campaigns, tx, offers = experiment
    out = measure_campaign(campaigns, tx, offers, window_days=7)
    assert out.index.tolist() == ["d10"]
    r = out.loc["d10"]
    assert r["n_treated"] == 4 and r["n_control"] == 4
    assert r["redemptions"] == 2 and r["redemption_rate"] == 0.5
    assert r["conversion_rate"] == 0.5  # t1, t2
    assert r["control_rate"] == 0.25  # c1
    assert r["uplift"] == 0.25
    # se = sqrt(.5 x .5 / 4 + .25 x .75 / 4) = sqrt(0.109375)
    se = np.sqrt(0.109375)
    assert r["uplift_low"] == pytest.approx(0.25 - Z95 * se)
    assert r["uplift_high"] == pytest.approx(0.25 + Z95 * se)
    # relative = .25 / .25 = 1; Var = .0625 / .25^2 + .5^2 x .046875 / .25^4 = 1 + 3 -> se 2
    assert r["relative_uplift"] == 1.0
    assert r["relative_uplift_low"] == pytest.approx(1.0 - Z95 * 2.0)
    assert r["incremental_conversions"] == 1.0  # .25 x 4
    # revenue per row: treated [30, 20, 0, 0] mean 12.5; control [10, 0, 0, 0] mean 2.5
    # -> (12.5 - 2.5) x 4 = 40; s_t^2 = 675 / 3 = 225, s_c^2 = 75 / 3 = 25
    # se = 4 sqrt(225 / 4 + 25 / 4) = 4 sqrt(62.5)
    assert r["incremental_revenue"] == pytest.approx(40.0)
    assert r["incremental_revenue_high"] == pytest.approx(40.0 + Z95 * 4 * np.sqrt(62.5))
    # margin per row: treated [10, 5, 0, 0] mean 3.75; control [2, 0, 0, 0] mean .5 -> 3.25 x 4 = 13
    assert r["incremental_margin"] == pytest.approx(13.0)
    # costs: 2 redemptions x 2 = 4; 4 sends x 1.5 = 6; total 10
    assert (r["redemption_cost"], r["send_cost"], r["reward_cost"]) == (4.0, 6.0, 10.0)
    assert r["incremental_profit"] == pytest.approx(3.0)  # 13 - 10
    # margin se: s_t^2 = 68.75 / 3, s_c^2 = 3 / 3 -> 4 sqrt((68.75 / 3) / 4 + 1 / 4)
    margin_se = 4 * np.sqrt(68.75 / 3 / 4 + 1 / 4)
    assert r["incremental_profit_low"] == pytest.approx(3.0 - Z95 * margin_se)
    # would have bought anyway: min(1, .25 / .5) = .5 of the 4 redemption cost
    assert r["cannibalisation_share"] == 0.5
    assert r["cannibalised_cost"] == pytest.approx(2.0)
    assert r["roi"] == pytest.approx(0.3)  # 3 / 10
    # cumulative incremental margin: day 1: (0 - .5) x 4 = -2; days 2-6: (2.5 - .5) x 4 = 8;
    # day 7: 13 >= 10 -> payback on day 7
    assert r["payback_days"] == 7.0


def test_contacts_without_an_offer_are_left_out(experiment) -> None:
    """nightly_sends records a churn-only policy's trigger contacts as "contact" rows of the
    campaigns history; they are no offer (no catalog row, no control group), so measuring the
    history with them measures the offers as without them, instead of refusing the table."""
    campaigns, tx, offers = experiment
    contacts = pd.DataFrame(
        {
            "campaign_id": "2024-03-01:contact:email",
            "customer_id": ["t1", "c2", "zz"],
            "offer_id": "contact",
            "sent_at": pd.Timestamp("2024-03-01"),
            "redeemed": False,
        }
    )
    expected = measure_campaign(campaigns, tx, offers, window_days=7)
    for by in ("offer_id", ["campaign_id", "offer_id"]):
        got = measure_campaign(
            pd.concat([campaigns, contacts], ignore_index=True), tx, offers, window_days=7, by=by
        )
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_short_window_changes_outcomes(experiment) -> None:
    campaigns, tx, offers = experiment
    r = measure_campaign(campaigns, tx, offers, window_days=1).loc["d10"]
    # [Mar 1, Mar 2): only c1 converts; treated 0 / 4, control 1 / 4
    assert r["conversion_rate"] == 0.0 and r["control_rate"] == 0.25
    assert r["relative_uplift"] == -1.0
    assert np.isnan(r["cannibalisation_share"])  # no treated buyer to share
    assert np.isnan(r["payback_days"])  # never pays back


def test_margin_rate_without_margin_column(experiment) -> None:
    campaigns, tx, offers = experiment
    r = measure_campaign(
        campaigns, tx.drop(columns="margin"), offers, window_days=7, margin_rate=0.5
    ).loc["d10"]
    assert r["incremental_margin"] == pytest.approx(20.0)  # 40 incremental revenue x .5
    assert r["incremental_profit"] == pytest.approx(10.0)  # 20 - 10
    assert r["roi"] == pytest.approx(1.0)
    # day 2: treated 30 x .5 / 4 = 3.75 vs control 5 / 4 = 1.25 -> 2.5 x 4 = 10 >= 10
    assert r["payback_days"] == 2.0


def test_an_arm_that_ends_at_a_loss_has_not_paid_back(experiment) -> None:
    """t1's margin reached the cost on day 7 (13 >= 10); a refund on day 7 later takes 20 of margin
    back, so the arm ends at a loss: the first crossing read a payback of 7 days for it."""
    campaigns, tx, offers = experiment
    refund = _tx([("t1", "2024-03-07 23:59:30", -40.0, -20.0)])
    r = measure_campaign(campaigns, pd.concat([tx, refund]), offers, window_days=7).loc["d10"]
    assert r["incremental_profit"] < 0 and np.isnan(r["payback_days"])
    # a margin that dips below the cost and comes back pays back on the day it comes back for good
    dip = _tx([("t1", "2024-03-03 10:00", -30.0, -10.0), ("t1", "2024-03-05 10:00", 30.0, 10.0)])
    r = measure_campaign(campaigns, pd.concat([tx, dip]), offers, window_days=7).loc["d10"]
    assert r["payback_days"] == 7.0


def test_lines_without_a_margin_warn_or_take_the_margin_rate(experiment) -> None:
    """A line with no margin added none in silence (an arm's incremental margin read 4 instead of
    16), and margin_rate was ignored for it."""
    from loyalty_ml.exceptions import DataQualityWarning

    campaigns, tx, offers = experiment
    gap = tx.assign(margin=tx["margin"].where(tx["customer_id"] != "t2"))
    with pytest.warns(DataQualityWarning, match="1 of 7 transaction lines have no margin"):
        r = measure_campaign(campaigns, gap, offers, window_days=7).loc["d10"]
    assert r["incremental_margin"] == pytest.approx(8.0)  # 13 less t2's 5 / 4 x 4
    filled = measure_campaign(campaigns, gap, offers, window_days=7, margin_rate=0.25).loc["d10"]
    assert filled["incremental_margin"] == pytest.approx(13.0)  # t2: 20 x .25 = 5, as given


def test_no_margin_leaves_profit_nan(experiment) -> None:
    campaigns, tx, offers = experiment
    r = measure_campaign(campaigns, tx.drop(columns="margin"), offers, window_days=7).loc["d10"]
    assert r["incremental_revenue"] == pytest.approx(40.0)
    assert np.isnan(r["incremental_profit"]) and np.isnan(r["roi"]) and np.isnan(r["payback_days"])


def test_each_campaign_uses_its_own_control(experiment) -> None:
    campaigns, tx, offers = experiment
    second = pd.DataFrame(
        {
            "campaign_id": "summer",
            "customer_id": ["t1", "c1"],
            "offer_id": ["d10", "control"],
            "sent_at": pd.Timestamp("2024-06-01"),
            "redeemed": [False, False],
        }
    )
    more_tx = pd.concat([tx, _tx([("c1", "2024-06-02", 5.0, 1.0)])], ignore_index=True)
    both = pd.concat([campaigns, second], ignore_index=True)
    # the data is complete to the end of the summer window
    end = {"observation_end": "2024-06-08"}
    out = measure_campaign(
        both, more_tx, offers, window_days=7, by=["campaign_id", "offer_id"], **end
    )
    assert out.index.tolist() == [("spring", "d10"), ("summer", "d10")]
    assert out.loc[("spring", "d10"), "uplift"] == 0.25  # as before
    summer = out.loc[("summer", "d10")]
    assert (summer["conversion_rate"], summer["control_rate"], summer["uplift"]) == (0, 1, -1)
    # pooled: treated 2 / 5, control 2 / 5 -> no uplift
    pooled = measure_campaign(both, more_tx, offers, window_days=7, **end).loc["d10"]
    assert pooled["uplift"] == pytest.approx(0.0)


def test_offers_indexed_by_offer_id_and_without_send_cost(experiment) -> None:
    campaigns, tx, offers = experiment
    catalog = offers.drop(columns="cost_per_send").set_index("offer_id")
    r = measure_campaign(campaigns, tx, catalog, window_days=7).loc["d10"]
    assert r["send_cost"] == 0.0 and r["reward_cost"] == 4.0


def test_inputs_are_not_mutated(experiment) -> None:
    campaigns, tx, offers = experiment
    copies = [campaigns.copy(), tx.copy(), offers.copy()]
    measure_campaign(campaigns, tx, offers, window_days=7)
    for before, after in zip(copies, [campaigns, tx, offers], strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_errors(experiment) -> None:
    campaigns, tx, offers = experiment
    with pytest.raises(
        ConfigError,
        match=r"'window_days' parameter of measure_campaign must be an int from 1 to 3,650 \(ten years\)\. Got 0",
    ):
        measure_campaign(campaigns, tx, offers, window_days=0)
    with pytest.raises(ConfigError, match=r"by must include 'offer_id'"):
        measure_campaign(campaigns, tx, offers, window_days=7, by="campaign_id")
    with pytest.raises(ConfigError, match=r"confidence must be a number in \(0, 1\); got 95"):
        measure_campaign(campaigns, tx, offers, window_days=7, confidence=95)
    with pytest.raises(ConfigError, match=r"margin_rate must be a number in \[0, 1\]"):
        measure_campaign(campaigns, tx, offers, window_days=7, margin_rate=30.0)
    with pytest.raises(
        DataError, match=r"no control rows labelled 'holdout'.*\['d10', 'control'\]"
    ):
        measure_campaign(campaigns, tx, offers, window_days=7, control="holdout")
    with pytest.raises(SchemaError, match=r"campaigns use offers \['d10'\] that are not in"):
        measure_campaign(campaigns, tx, offers.assign(offer_id="d20"), window_days=7)
    with pytest.raises(SchemaError, match=r"offers.offer_id must be unique; \['d10'\]"):
        measure_campaign(campaigns, tx, pd.concat([offers, offers]), window_days=7)
    with pytest.raises(
        SchemaError, match=r"campaigns is missing required column\(s\) \['redeemed'\]"
    ):
        measure_campaign(campaigns.drop(columns="redeemed"), tx, offers, window_days=7)
    with pytest.raises(SchemaError, match=r"campaigns\.sent_at must be datetime64"):
        measure_campaign(campaigns.astype({"sent_at": "str"}), tx, offers, window_days=7)
    bad = campaigns.copy()
    bad.loc[2, "customer_id"] = None
    with pytest.raises(
        SchemaError, match=r"campaigns.customer_id has missing values at rows \[2\]"
    ):
        measure_campaign(bad, tx, offers, window_days=7)
    with pytest.raises(DataError, match="8 campaigns rows have a response window ending after"):
        measure_campaign(campaigns, tx, offers, window_days=7, observation_end="2024-03-05")
    with pytest.raises(SchemaError, match="cannot be matched on customer_id and time"):
        measure_campaign(campaigns.assign(customer_id=range(8)), tx, offers, window_days=7)
    stratified = campaigns.assign(campaign_id=["a"] * 4 + ["b"] * 4)
    with pytest.raises(DataError, match="has no control rows with the same"):
        measure_campaign(stratified, tx, offers, window_days=7, by=["campaign_id", "offer_id"])


@pytest.fixture(scope="module")
def simulated():
    simulator = pytest.importorskip(
        "loyalty_ml.datasets.simulator", reason="the simulator has not landed in this checkout"
    )
    data = simulator.simulate(n_customers=5000, start="2023-01-01", end="2024-06-30", seed=0)
    out = measure_campaign(
        data.campaigns,
        data.transactions,
        data.offers,
        window_days=data.truth.response_window_days,
    )
    return data, out


def test_recovers_true_incremental_effect_on_simulator(simulated) -> None:
    data, out = simulated
    effects = data.truth.effects
    arm = data.campaigns.set_index(["campaign_id", "customer_id"])["offer_id"].reindex(
        effects.index
    )
    assert set(out.index) == set(data.offers["offer_id"])
    for offer, row in out.iterrows():
        # the true effect of the arm: mean over its customers of their true uplift for that offer
        truth = effects.loc[(arm == offer).to_numpy(), offer].mean()
        assert row["uplift_low"] <= truth <= row["uplift_high"], (offer, truth, row["uplift"])
    # and the control rate estimates the true baseline of the control customers
    baseline = effects.loc[(arm == "control").to_numpy(), "baseline"].mean()
    p_c, n_c = out["control_rate"].iloc[0], out["n_control"].iloc[0]
    assert abs(p_c - baseline) <= Z95 * np.sqrt(p_c * (1 - p_c) / n_c)


def test_simulated_money_columns_are_consistent(simulated) -> None:
    _, out = simulated
    np.testing.assert_allclose(
        out["incremental_profit"], out["incremental_margin"] - out["reward_cost"]
    )
    np.testing.assert_allclose(out["reward_cost"], out["redemption_cost"] + out["send_cost"])
    assert (out["cannibalised_cost"] <= out["redemption_cost"] + 1e-9).all()
    assert (out["uplift_low"] < out["uplift"]).all() and (out["uplift"] < out["uplift_high"]).all()
    paid_back = out["payback_days"].dropna()
    assert paid_back.between(1, 30).all()  # a day of the 30-day response window


def test_nullable_integer_ids_match_plain_integer_ids() -> None:
    # transactions read back from Parquet with Int64 ids, campaigns with int64 ids
    tx = pd.DataFrame(
        {
            "customer_id": pd.array([1, 2, 3, 4], dtype="Int64"),
            "timestamp": pd.to_datetime(["2024-03-02"] * 4),
            "amount": [10.0, -5.0, 30.0, -5.0],  # 2 and 4 only return something
        }
    )
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "offer_id": ["a", "a", "control", "control"],
            "sent_at": pd.to_datetime(["2024-03-01"] * 4),
            "redeemed": [True, False, False, False],
        }
    )
    offers = pd.DataFrame({"offer_id": ["a"], "cost_per_redemption": [1.0]})
    row = measure_campaign(campaigns, tx, offers, window_days=7, observation_end="2024-03-08")
    assert (row.loc["a", "conversion_rate"], row.loc["a", "control_rate"]) == (0.5, 0.5)


def test_a_send_log_with_repeated_index_labels_is_measured_as_with_unique_ones(experiment) -> None:
    """Two send logs concatenated without ignore_index repeat labels: once a pandas 'cannot
    reindex on an axis with duplicate labels'."""
    campaigns, tx, offers = experiment
    tied = campaigns.set_axis(np.arange(len(campaigns)) // 2)
    pd.testing.assert_frame_equal(
        measure_campaign(tied, tx, offers, window_days=7),
        measure_campaign(campaigns, tx, offers, window_days=7),
    )


def test_windows_past_the_data_warn_unless_observation_end_says_where_it_ends(experiment) -> None:
    """Session 42: a window still open at the last transaction counted as no purchase in silence;
    measured the day after a send, every arm read 0 conversions and ROI -100%."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning

    campaigns, tx, offers = experiment
    early = tx[tx["timestamp"] < "2024-03-03"]  # an extract that ends two days into the window
    with pytest.warns(DataQualityWarning, match=r"8 of 8 sends have a 7-day response window"):
        cut = measure_campaign(campaigns, early, offers, window_days=7)
    assert cut.loc["d10", "conversion_rate"] == 0.25  # t2's purchase on day 7 is missing
    with pytest.raises(DataError, match="response window ending after observation_end"):
        measure_campaign(campaigns, early, offers, window_days=7, observation_end="2024-03-03")
    # data that reach the end of every window: no warning (the fixture's last line is 03-08)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        measure_campaign(campaigns, tx, offers, window_days=7)
        measure_campaign(campaigns, tx, offers, window_days=7, observation_end="2024-03-08")


def test_a_stated_last_day_of_dated_data_covers_that_day_as_churn_labels_read_it(
    experiment,
) -> None:
    """On dates without times observation_end="2024-03-07" names the 7th, observed to its end, as
    churn_labels and campaign_responses read it: the 7-day windows from 03-01 close at the next
    midnight and are measured (read as the 7th's midnight, they were refused). Timed data keep
    the instant."""
    campaigns, tx, offers = experiment
    dated = tx.assign(timestamp=tx["timestamp"].dt.normalize())
    dated = dated[dated["timestamp"] < "2024-03-08"]
    row = measure_campaign(campaigns, dated, offers, window_days=7, observation_end="2024-03-07")
    # t1 (03-02) and t2 (03-07, the stated last day) convert; c1 at the send
    assert row.loc["d10", "conversion_rate"] == 0.5
    assert row.loc["d10", "control_rate"] == 0.25
    with pytest.raises(DataError, match=r"observation_end=2024-03-06 \(to the end of that day"):
        measure_campaign(campaigns, dated, offers, window_days=7, observation_end="2024-03-06")
    # a zone's data: its own midnights are dates without times
    zoned = dated.assign(timestamp=dated["timestamp"].dt.tz_localize("Europe/Berlin"))
    sent = campaigns.assign(sent_at=campaigns["sent_at"].dt.tz_localize("Europe/Berlin"))
    zoned_row = measure_campaign(sent, zoned, offers, window_days=7, observation_end="2024-03-07")
    assert zoned_row.loc["d10", "conversion_rate"] == 0.5
    # timed data (the fixture's times of day): the 7th's midnight is the last instant observed
    early = tx[tx["timestamp"] < "2024-03-08"]
    with pytest.raises(DataError, match=r"observation_end=2024-03-07 00:00:00 \(sent at"):
        measure_campaign(campaigns, early, offers, window_days=7, observation_end="2024-03-07")


def test_sends_before_the_first_transaction_are_warned_of() -> None:
    # an extract that starts 20 days after a send halved every arm's conversion, in silence
    from loyalty_ml.datasets import simulate
    from loyalty_ml.exceptions import DataQualityWarning

    d = simulate(n_customers=600, start="2023-01-01", end="2023-12-31", seed=3)
    sends = d.campaigns[d.campaigns["campaign_id"] == d.campaigns["campaign_id"].iloc[0]]
    sent = sends["sent_at"].min()
    cut = d.transactions[d.transactions["timestamp"] >= sent + pd.Timedelta(days=20)]
    with pytest.warns(DataQualityWarning, match=r"sent before the first transaction"):
        measure_campaign(sends, cut, d.offers, window_days=30)


def _orders_around_a_send() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Sends on 2024-03-01 (window of 7 days) and validated lines with order ids, returns kept.

    t1's order o1 begins the evening before the send and has a second line inside the window; t2
    has a refund-only order in the window; t3 buys in it. Control c1 buys in it, c2 does not.
    """
    import loyalty_ml as lml

    raw = pd.DataFrame(
        {
            "customer_id": ["t1", "t1", "t2", "t2", "t3", "c1"],
            "order_id": ["o1", "o1", "o0", "r1", "o3", "o4"],
            "timestamp": [
                "2024-02-29 23:00",
                "2024-03-01 09:00",
                "2024-02-10",
                "2024-03-03",
                "2024-03-04",
                "2024-03-02",
            ],
            "amount": [40.0, 15.0, 25.0, -10.0, 20.0, 10.0],
        }
    )
    tx = lml.validate_transactions(raw, returns="keep", observation_end="2024-03-10")
    campaigns = pd.DataFrame(
        {
            "customer_id": ["t1", "t2", "t3", "t4", "c1", "c2"],
            "offer_id": ["a"] * 4 + ["control"] * 2,
            "sent_at": pd.Timestamp("2024-03-01"),
            "redeemed": False,
        }
    )
    offers = pd.DataFrame({"offer_id": ["a"], "cost_per_redemption": [1.0]})
    return campaigns, tx, offers


def test_a_purchase_is_an_order_begun_in_the_window_as_in_the_other_kpis() -> None:
    """A later line of an order begun before the send counted as a conversion (t1), though
    summary and churn_labels date the order at its first line, before the window; a refund-only
    order in the window is not one either (t2). Revenue still reads every line in the window."""
    import loyalty_ml as lml

    campaigns, tx, offers = _orders_around_a_send()
    out = measure_campaign(campaigns, tx, offers, window_days=7, observation_end="2024-03-10").loc[
        "a"
    ]
    assert out["conversion_rate"] == 0.25  # t3 only, not t1 (o1 began before) nor t2 (a refund)
    assert out["control_rate"] == 0.5  # c1
    # money at each line's own time: t1's 15, t2's -10 and t3's 20 against c1's 10 of 2 rows
    assert out["incremental_revenue"] == pytest.approx((25.0 / 4 - 10.0 / 2) * 4)
    # the same purchases as the period KPIs count: active customers of the window among t1..t4
    week = lml.kpis.summary(tx, period_start="2024-03-01", period_end="2024-03-08")
    assert week["active_customers"] == 2  # t3 and c1
