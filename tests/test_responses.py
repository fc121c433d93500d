"""Tests of loyalty_ml.features.responses (campaign_responses)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, LeakageError, SchemaError
from loyalty_ml.features.responses import campaign_responses

CAMPAIGNS = pd.DataFrame(
    {
        "customer_id": [1, 1, 2, 3],
        "offer_id": ["d5", "control", "d5", "control"],
        "sent_at": pd.to_datetime(
            ["2024-01-01 09:00", "2024-02-01 09:00", "2024-01-01 09:00", "2024-01-01 00:00"]
        ),
    },
    index=[10, 11, 12, 13],
)
TX = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 2, 2, 2],
        "timestamp": pd.to_datetime(
            [
                "2024-01-01 09:00",  # exactly at sent_at: inside
                "2024-01-03 12:00",
                "2024-02-08 09:00",  # exactly at sent_at + 7 days: outside
                "2024-01-01 08:59",  # before the send: outside
                "2024-01-05 10:00",  # a return only
                "2024-01-06 10:00",
            ]
        ),
        "amount": [10.0, 5.0, 7.0, 4.0, -3.0, 2.0],
        "margin": [2.0, 1.0, 1.5, 1.0, -0.5, 0.25],
    }
)


def test_purchase_window_is_half_open() -> None:
    result = campaign_responses(CAMPAIGNS, TX, window_days=7)
    assert result.index.tolist() == [10, 11, 12, 13]
    assert result.name == "purchase" and result.dtype == "int64"
    assert result.tolist() == [1, 0, 1, 0]


def test_spend_and_margin_sum_the_window() -> None:
    spend = campaign_responses(CAMPAIGNS, TX, window_days=7, outcome="spend")
    assert spend.tolist() == pytest.approx([15.0, 0.0, -1.0, 0.0])
    margin = campaign_responses(CAMPAIGNS, TX, window_days=7, outcome="margin")
    assert margin.tolist() == pytest.approx([3.0, 0.0, -0.25, 0.0])
    # a longer window reaches the purchase on 2024-02-08
    # (it closes after the last transaction: the data is stated complete to a later date)
    assert campaign_responses(
        CAMPAIGNS, TX, window_days=8, observation_end="2024-03-01"
    ).tolist() == [1, 1, 1, 0]


def test_a_window_that_closes_after_the_data_is_refused_not_counted_as_no_purchase() -> None:
    late = CAMPAIGNS.assign(sent_at=pd.Timestamp("2024-02-05"))  # 7 days end after 2024-02-08
    with pytest.raises(LeakageError, match=r"window of 4 campaign row\(s\).*ends after the data"):
        campaign_responses(late, TX, window_days=7)
    # stated complete to a later date, the quiet days are observed: no purchase is a 0
    assert campaign_responses(late, TX, window_days=7, observation_end="2024-02-12").tolist() == [
        1,
        1,
        0,
        0,
    ]  # customer 1 bought on 2024-02-08


def test_a_window_that_closes_at_the_end_of_the_last_day_of_dated_data_is_known() -> None:
    """Dates without times: the last day's purchases sit at its midnight, but the day is whole, so
    a window closing at the next midnight is observed to its end."""
    dated = pd.DataFrame(
        {
            "customer_id": [1, 2, 1],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-20", "2024-01-31"]),
            "amount": 1.0,
        }
    )
    sends = pd.DataFrame({"customer_id": [1, 2], "sent_at": pd.to_datetime(["2024-01-25"] * 2)})
    assert campaign_responses(sends, dated, window_days=7).tolist() == [1, 0]
    with pytest.raises(LeakageError, match=r"ends after the data \(2024-02-01 00:00:00\)"):
        campaign_responses(sends, dated, window_days=8)
    # a time of day on one purchase: the data ends at its last timestamp
    timed = dated.assign(timestamp=dated["timestamp"].where(dated.index != 1, "2024-01-20 10:00"))
    with pytest.raises(LeakageError, match=r"ends after the data \(2024-01-31 00:00:00\)"):
        campaign_responses(sends, timed, window_days=7)


def test_a_stated_last_day_of_dated_data_is_observed_to_its_end_as_churn_labels_read_it() -> None:
    """observation_end="2024-01-31" on dates without times names the 31st, observed to its end,
    as churn_labels reads it: a window closing at the next midnight is known and counts the
    purchase dated the 31st (read as the 31st's midnight, the window was refused). On timed data
    the same value stays that instant."""
    dated = pd.DataFrame(
        {
            "customer_id": [1, 2, 1],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-20", "2024-01-31"]),
            "amount": 1.0,
        }
    )
    sends = pd.DataFrame({"customer_id": [1, 2], "sent_at": pd.to_datetime(["2024-01-25"] * 2)})
    assert campaign_responses(
        sends, dated, window_days=7, observation_end="2024-01-31"
    ).tolist() == [1, 0]
    assert campaign_responses(
        sends, dated, window_days=7, outcome="spend", observation_end="2024-01-31"
    ).tolist() == [1.0, 0.0]
    # the day after the stated one is not observed, and the message says how the end was read
    with pytest.raises(
        LeakageError,
        match=r"observation_end=2024-01-31, to the end of that day: the timestamps are dates "
        r"without times, so 2024-02-01 00:00:00",
    ):
        campaign_responses(sends, dated, window_days=8, observation_end="2024-01-31")
    # timed data: the 31st's midnight is the last instant observed, the 31st is after it
    timed = dated.assign(
        timestamp=pd.to_datetime(["2024-01-02 10:00", "2024-01-20 00:00", "2024-01-31 00:00"])
    )
    with pytest.raises(LeakageError, match=r"ends after the data \(2024-01-31 00:00:00\)"):
        campaign_responses(sends, timed, window_days=7, observation_end="2024-01-31")
    assert campaign_responses(
        sends, timed, window_days=6, observation_end="2024-01-31"
    ).tolist() == [0, 0]
    # a time of day stated on dated data is that instant too
    with pytest.raises(LeakageError, match=r"ends after the data \(2024-01-31 12:00:00\)"):
        campaign_responses(sends, dated, window_days=7, observation_end="2024-01-31 12:00")


def test_a_return_alone_is_not_a_purchase() -> None:
    camp = pd.DataFrame({"customer_id": [2], "sent_at": pd.to_datetime(["2024-01-05"])})
    assert campaign_responses(camp, TX, window_days=1).tolist() == [0]
    assert campaign_responses(camp, TX, window_days=2).tolist() == [1]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30))
def test_matches_a_row_by_row_count(seed: int, window: int) -> None:
    rng = np.random.default_rng(seed)
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 6, 40),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 90 * 24, 40), unit="h"),
            "amount": rng.uniform(1, 10, 40),
        }
    )
    camp = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 8, 15),
            "sent_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 90, 15), unit="D"),
        }
    )
    spend = campaign_responses(
        camp, tx, window_days=window, outcome="spend", observation_end="2024-06-01"
    )
    for i, row in camp.iterrows():
        inside = (
            (tx["customer_id"] == row["customer_id"])
            & (tx["timestamp"] >= row["sent_at"])
            & (tx["timestamp"] < row["sent_at"] + pd.Timedelta(days=window))
        )
        assert spend[i] == pytest.approx(tx.loc[inside, "amount"].sum())


def test_errors() -> None:
    with pytest.raises(ConfigError, match="'outcome' parameter of campaign_responses"):
        campaign_responses(CAMPAIGNS, TX, window_days=7, outcome="visits")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'window_days' parameter"):
        campaign_responses(CAMPAIGNS, TX, window_days=0)
    with pytest.raises(SchemaError, match=r"transactions lacks columns \['margin'\]"):
        campaign_responses(CAMPAIGNS, TX.drop(columns="margin"), window_days=7, outcome="margin")
    with pytest.raises(SchemaError, match=r"campaigns lacks columns \['sent_at'\]"):
        campaign_responses(CAMPAIGNS.drop(columns="sent_at"), TX, window_days=7)
    with pytest.raises(
        SchemaError, match=r"campaigns.sent_at has missing timestamps at rows \[10\]"
    ):
        campaign_responses(
            CAMPAIGNS.assign(sent_at=CAMPAIGNS["sent_at"].where(CAMPAIGNS.index != 10)),
            TX,
            window_days=7,
        )


def test_lines_without_a_margin_in_a_window_warn() -> None:
    """Session 42: a 60.00 purchase of unknown margin made the margin outcome 0, as no purchase."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-02-03", "2024-02-04"]),
            "amount": [60.0, 5.0],
            "margin": [np.nan, 0.5],
        }
    )
    campaigns = pd.DataFrame(
        {"customer_id": [1, 2], "sent_at": pd.to_datetime(["2024-02-01", "2024-02-01"])}
    )
    with pytest.warns(DataQualityWarning, match=r"1 campaign row\(s\) have lines without a margin"):
        out = campaign_responses(
            campaigns, tx, window_days=7, outcome="margin", observation_end="2024-03-01"
        )
    assert out.tolist() == [0.0, 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        campaign_responses(
            campaigns, tx, window_days=7, outcome="spend", observation_end="2024-03-01"
        )


def test_a_free_item_at_zero_is_a_response_as_it_is_a_purchase_for_the_labels() -> None:
    # campaign_responses and measure_campaign counted amount > 0 while the features and churn
    # labels count amount >= 0: a redeemed free item recorded at 0 was "retained" for the labels
    # and "no response" for the uplift model
    import warnings

    import loyalty_ml as lml
    from loyalty_ml.features.responses import campaign_responses
    from loyalty_ml.kpis import measure_campaign

    t = pd.Timestamp
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "order_id": ["A", "B", "C", "D", "E"],
            "timestamp": [
                t("2024-01-05"),
                t("2024-02-10"),
                t("2024-01-06"),
                t("2024-02-12"),
                t("2024-03-30"),
            ],
            "amount": [12.0, 0.0, 9.0, -9.0, 5.0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tx = lml.validate_transactions(raw, zero_amounts="keep", returns="keep")
    sends = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["free_item", "control"],
            "sent_at": [t("2024-02-01"), t("2024-02-01")],
            "redeemed": [True, False],
        }
    )
    assert campaign_responses(sends, tx, window_days=30).tolist() == [1, 0]  # 2 only returned
    assert lml.churn_labels(tx, as_of="2024-02-01", horizon_days=30).loc[1] == 0
    offers = pd.DataFrame({"offer_id": ["free_item"], "cost_per_redemption": [3.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        measured = measure_campaign(sends, tx, offers, window_days=30)
    assert measured.loc["free_item", "conversion_rate"] == 1.0
    assert measured.loc["free_item", "control_rate"] == 0.0


def test_a_campaign_nobody_answered_is_not_read_as_ids_that_do_not_match() -> None:
    # campaign_responses on the window's transactions of a win-back campaign nobody came back
    # from: [0, 0, 0] and no warning that the ids match no customer
    import warnings

    tx = pd.DataFrame(
        {"customer_id": [9], "timestamp": [pd.Timestamp("2024-02-03")], "amount": [5.0]}
    )
    sends = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "offer_id": ["winback"] * 3,
            "sent_at": [pd.Timestamp("2024-02-01")] * 3,
            "redeemed": [False] * 3,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = campaign_responses(sends, tx, window_days=7, observation_end="2024-03-01")
    assert out.tolist() == [0, 0, 0]


def test_a_later_line_of_an_order_begun_before_the_send_is_no_response() -> None:
    """campaign_responses (the uplift model's outcomes) counted any line >= 0 in the window, so
    customer 1, whose order o1 began the evening before the send and got a second line the next
    morning, "responded" while measure_campaign (purchase_lines: an order at its first line) did
    not convert them. Both now agree: 1 no, 2 (a refund-only order in the window) no, 3 (a plain
    purchase) yes; the spend, like measure_campaign's revenue, still reads the later line."""
    from loyalty_ml.kpis import measure_campaign

    t = pd.Timestamp
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 4],
            "order_id": ["o1", "o1", "o2", "r2", "o3", "o4"],
            "timestamp": [
                t("2024-02-29 20:00"),  # o1 begins the evening before the send
                t("2024-03-01 09:00"),  # ... its second line the next morning, in the window
                t("2024-02-20 10:00"),
                t("2024-03-03 10:00"),  # refund-only order in the window
                t("2024-03-02 12:00"),  # plain purchase in the window
                t("2024-02-10 10:00"),
            ],
            "amount": [10.0, 4.0, 15.0, -15.0, 20.0, 8.0],
        }
    )
    sends = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "offer_id": ["late_line", "refund", "plain", "control"],
            "sent_at": t("2024-03-01 08:00"),
            "redeemed": False,
        }
    )
    end = "2024-03-15"
    responses = campaign_responses(sends, tx, window_days=7, observation_end=end)
    assert responses.tolist() == [0, 0, 1, 0]
    offers = pd.DataFrame(
        {"offer_id": ["late_line", "refund", "plain"], "cost_per_redemption": [1.0, 1.0, 1.0]}
    )
    measured = measure_campaign(sends, tx, offers, window_days=7, observation_end=end)
    by_arm = responses.groupby(sends["offer_id"]).mean()
    assert measured["conversion_rate"].to_dict() == by_arm.drop("control").to_dict()
    assert (measured["control_rate"] == by_arm["control"]).all()
    spend = campaign_responses(sends, tx, window_days=7, outcome="spend", observation_end=end)
    assert spend.tolist() == [4.0, -15.0, 20.0, 0.0]
    assert measured.loc["late_line", "incremental_revenue"] == 4.0


def test_a_line_without_an_order_id_is_an_order_of_its_own() -> None:
    """Dating purchases by order must not trip over lines with a missing order id (which the
    features read as orders of their own): their own time and amount say whether they respond."""
    tx = TX.assign(order_id=[None, "a", None, "b", None, "c"])
    assert campaign_responses(CAMPAIGNS, tx, window_days=7).tolist() == [1, 0, 1, 0]
    assert campaign_responses(CAMPAIGNS, TX, window_days=7).tolist() == [1, 0, 1, 0]
