"""Audit of the point-in-time feature builders, labels and campaign responses.

Regression tests for defects the audit found (placeholder dates wrapping to other centuries,
attributes overwriting features, silent drops, bare errors), and behaviour checked by hand during
the audit (edge times, hand-computed values, invariance to the order of the side tables and to
other customers).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml import validate_transactions
from loyalty_ml.exceptions import LoyaltyMLError, SchemaError
from loyalty_ml.features import FeatureConfig, build_features, churn_labels
from loyalty_ml.features.responses import campaign_responses

END = "2024-12-31"  # the data is complete to here: response windows are all closed
AS_OF = pd.Timestamp("2024-02-01")


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-05"]),
            "amount": [10.0, 30.0, 5.0],
        }
    )


def _campaigns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["a", "b"],
            "sent_at": pd.to_datetime(["2024-01-02", "2024-01-03"]),
            "redeemed_at": pd.to_datetime(["2024-01-04", None]),
        }
    )


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2],
            "tier": ["gold", "silver"],
            "signup_date": pd.to_datetime(["2023-01-01", "2023-06-01"]),
        }
    )


# -- no look-ahead: out-of-range dates in non-nanosecond columns --------------------------------
# pandas 3 parses dates to datetime64[us] (Parquet gives [ms]/[us]), so a placeholder such as
# 9999-12-31 reaches the feature builders intact; they cast with .to_numpy("datetime64[ns]"), which
# wraps it silently to 1816-03-29 (and 1500-01-01 to 2084). validate_transactions refuses such dates.


def test_far_future_purchase_in_microsecond_column_never_reaches_features() -> None:
    tx = _tx()
    assert tx["timestamp"].dtype != "datetime64[ns]"  # pandas 3 default resolution
    future = pd.DataFrame(
        {"customer_id": [3], "timestamp": pd.to_datetime(["9999-12-31"]), "amount": [1.0]}
    )
    grown = pd.concat([tx, future], ignore_index=True)
    expected = build_features(tx, as_of=AS_OF)
    try:
        X = build_features(grown, as_of=AS_OF)
    except SchemaError as exc:  # refusing the date, naming the column, is fine too
        assert "timestamp" in str(exc)
        return
    pd.testing.assert_frame_equal(X, expected)


def test_far_future_purchase_is_not_a_labelled_customer() -> None:
    tx = pd.concat(
        [
            _tx(),
            pd.DataFrame(
                {"customer_id": [3], "timestamp": pd.to_datetime(["9999-12-31"]), "amount": [1.0]}
            ),
        ],
        ignore_index=True,
    )
    try:
        y = churn_labels(tx, as_of=AS_OF, horizon_days=30, observation_end="2024-06-01")
    except SchemaError:
        return
    assert y.index.tolist() == [1, 2]


def test_far_future_signup_placeholder_is_not_a_207_year_tenure() -> None:
    customers = _customers().assign(signup_date=pd.to_datetime(["2023-01-01", "9999-12-31"]))
    try:
        X = build_features(_tx(), as_of=AS_OF, customers=customers)
    except SchemaError as exc:
        assert "signup_date" in str(exc)
        return
    assert np.isnan(X.loc[2, "signup_tenure_days"])


def test_far_future_redemption_placeholder_is_not_a_redemption() -> None:
    campaigns = _campaigns().assign(redeemed_at=pd.to_datetime(["2024-01-04", "9999-12-31"]))
    try:
        X = build_features(_tx(), as_of=AS_OF, campaigns=campaigns)
    except SchemaError as exc:
        assert "redeemed_at" in str(exc)
        return
    assert X.loc[2, "offers_redeemed"] == 0.0
    assert np.isnan(X.loc[2, "days_since_last_redemption"])


# -- no look-ahead: customer attributes ----------------------------------------------------------


def test_tier_of_a_customer_not_yet_signed_up_is_unknown() -> None:
    customers = _customers().assign(signup_date=pd.to_datetime(["2023-01-01", "2024-03-01"]))
    X = build_features(_tx(), as_of=AS_OF, customers=customers)
    assert np.isnan(X.loc[2, "signup_tenure_days"])  # documented: not known yet at as_of
    assert pd.isna(X.loc[2, "tier"])


# -- correctness with kept returns ---------------------------------------------------------------


def test_trends_stay_in_documented_range_with_kept_returns() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "timestamp": ["2024-02-10", "2024-03-01"],
            "amount": [-8.0, 10.0],
        }
    )
    tx = validate_transactions(raw, returns="keep")
    config = FeatureConfig(windows=(30,), trend_window_days=30)
    X = build_features(tx, as_of="2024-03-25", config=config)
    # latest window [02-24, 03-25): 10.0; previous [01-25, 02-24): -8.0
    for column in ("freq_trend", "spend_trend", "aov_trend"):
        value = X.loc[1, column]
        assert np.isnan(value) or -1.0 <= value <= 1.0, (column, value)


# -- attribute columns that clash with computed features -----------------------------------------


def test_extra_attribute_named_like_a_feature_is_refused() -> None:
    customers = pd.DataFrame(
        {"customer_id": [1, 2], "spend": [999.0, 999.0], "recency_days": [0.0, 0.0]}
    )
    config = FeatureConfig(extra_attributes=("spend", "recency_days"))
    with pytest.raises(LoyaltyMLError, match="spend"):
        build_features(_tx(), as_of=AS_OF, customers=customers, config=config)


def test_extra_attribute_customer_id_is_a_clear_error() -> None:
    config = FeatureConfig(extra_attributes=("customer_id",))
    with pytest.raises(LoyaltyMLError, match="customer_id"):
        build_features(_tx(), as_of=AS_OF, customers=_customers(), config=config)


# -- clear errors ---------------------------------------------------------------------------------


def _repeat(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return pd.concat([frame, frame[[column]]], axis=1)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("campaigns", "sent_at"),
        ("campaigns", "offer_id"),
        ("campaigns", "customer_id"),
        ("customers", "tier"),
        ("customers", "signup_date"),
        ("customers", "customer_id"),
    ],
)
def test_repeated_columns_in_side_tables_are_schema_errors(table: str, column: str) -> None:
    kwargs = {
        "campaigns": _campaigns() if table != "campaigns" else _repeat(_campaigns(), column),
        "customers": _customers() if table != "customers" else _repeat(_customers(), column),
    }
    with pytest.raises(SchemaError, match=column):
        build_features(_tx(), as_of=AS_OF, **kwargs)


def test_campaign_rows_without_offer_id_are_not_silently_dropped() -> None:
    campaigns = _campaigns().assign(offer_id=["a", None])
    with pytest.raises(SchemaError, match="offer_id"):
        build_features(_tx(), as_of=AS_OF, campaigns=campaigns)


def test_campaign_responses_text_ids_match_or_are_refused() -> None:
    tx = _tx().assign(timestamp=pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-25"]))
    campaigns = pd.DataFrame(
        {"customer_id": [1, 2], "sent_at": pd.to_datetime(["2024-01-10", "2024-01-20"])}
    )
    assert campaign_responses(campaigns, tx, window_days=7, observation_end=END).tolist() == [1, 1]
    text = campaigns.assign(customer_id=["1", "2"])
    try:
        y = campaign_responses(text, tx, window_days=7, observation_end=END)
    except SchemaError as exc:
        assert "customer_id" in str(exc)
        return
    assert y.tolist() == [1, 1]


@pytest.mark.parametrize("case", ["text_amount", "repeated_sent_at"])
def test_campaign_responses_bad_inputs_are_schema_errors(case: str) -> None:
    tx = _tx()
    campaigns = pd.DataFrame({"customer_id": [1], "sent_at": pd.to_datetime(["2024-01-10"])})
    if case == "text_amount":
        tx = tx.assign(amount=["10", "30", "x"])
        column = "amount"
    else:
        campaigns = _repeat(campaigns, "sent_at")
        column = "sent_at"
    with pytest.raises(SchemaError, match=column):
        campaign_responses(campaigns, tx, window_days=7, observation_end=END)


# -- checked and fine ------------------------------------------------------------------------------


def test_edge_times_by_hand() -> None:
    """Exactly at as_of is out; an order straddling as_of keeps its earlier lines; leap day."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2],
            "order_id": ["A", "A", "B", "C", "D"],
            "timestamp": pd.to_datetime(
                [
                    "2024-02-28 23:00",
                    "2024-03-01 01:00",  # second line of A, after as_of
                    "2024-02-29 00:00",  # leap day, midnight
                    "2024-03-01 00:00",  # exactly at as_of
                    "2024-02-29 12:00",
                ]
            ),
            "amount": [10.0, 5.0, 2.0, 100.0, 7.0],
            "quantity": [1.0, 4.0, 1.0, 1.0, 3.0],
        }
    )
    X = build_features(tx, as_of="2024-03-01", config=FeatureConfig(windows=(1, 2)))
    row = X.loc[1]
    assert row["n_orders"] == 2.0
    assert row["spend"] == 12.0
    assert row["items_per_order"] == 1.0
    assert row["recency_days"] == 1.0
    assert row["tenure_days"] == pytest.approx(1 + 1 / 24)
    assert row["n_orders_1d"] == 1.0  # [02-29, 03-01): B only
    assert row["n_orders_2d"] == 2.0
    assert row["ipi_mean"] == pytest.approx(1 / 24)
    assert np.isnan(X.loc[2, "ipi_mean"])  # a single purchase has no interval
    y = churn_labels(tx, as_of="2024-03-01", horizon_days=1, observation_end="2024-03-02")
    assert y.to_dict() == {1: 0, 2: 1}  # the purchase at as_of is in the label window


def test_dst_day_in_local_wall_clock() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "timestamp": [
                "2024-03-30 10:00+01:00",
                "2024-03-31 10:00+02:00",  # Europe/Berlin springs forward that night
                "2024-04-01 10:00+02:00",
            ],
            "amount": [1.0, 1.0, 1.0],
        }
    )
    utc = build_features(validate_transactions(raw), as_of="2024-04-02")
    local = build_features(validate_transactions(raw, timezone="Europe/Berlin"), as_of="2024-04-02")
    assert utc.loc[1, "ipi_mean"] == pytest.approx(23.5 / 24)
    assert local.loc[1, "ipi_mean"] == 1.0
    assert local.loc[1, "ipi_std"] == 0.0


def test_campaign_and_channel_features_by_hand() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-03"]),
            "amount": [1.0, 1.0, 1.0, 1.0],
            "channel": ["app", "web", "app", None],
        }
    )
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "offer_id": ["a", "b", "control", "a"],
            "sent_at": pd.to_datetime(["2024-01-02", "2024-01-20", "2024-01-03", "2024-02-01"]),
            "redeemed_at": pd.to_datetime(["2024-01-04", "2024-02-02", None, None]),
        }
    )
    X = build_features(tx, as_of=AS_OF, campaigns=campaigns)
    assert X.loc[1, "channel_share_app"] == pytest.approx(2 / 3)
    assert X.loc[1, "n_channels"] == 2.0
    assert np.isnan(X.loc[2, "channel_share_app"])
    assert X.loc[1, "offers_received"] == 2.0  # control is not an offer
    assert X.loc[1, "offers_redeemed"] == 1.0  # the redemption on 02-02 is after as_of
    assert X.loc[1, "redemption_rate"] == 0.5
    assert X.loc[1, "days_since_last_offer"] == 12.0
    assert X.loc[1, "days_since_last_redemption"] == 28.0
    assert X.loc[2, "offers_received"] == 0.0  # sent exactly at as_of


_START = pd.Timestamp("2024-01-01")
_AS_OF = _START + pd.Timedelta(days=40)
_CONFIG = FeatureConfig(windows=(7, 30), trend_window_days=10, channels=("app", "web"))


@st.composite
def _lines(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 4),
                st.integers(0, 80 * 24),
                st.integers(-3, 50),
                st.sampled_from(["a", "b", None]),
                st.sampled_from(["app", "web", None]),
                st.integers(0, 3),  # order ids reused over time and by several customers
            ),
            min_size=1,
            max_size=20,
        )
    )
    frame = pd.DataFrame(
        rows, columns=["customer_id", "hours", "amount", "category", "channel", "order_id"]
    )
    frame["timestamp"] = _START + pd.to_timedelta(frame.pop("hours"), unit="h")
    return frame.assign(amount=frame["amount"].astype("float64"), quantity=1.0, store_id=1)


@pytest.mark.filterwarnings(
    "ignore:.*is a customer of the transactions:loyalty_ml.exceptions.DataQualityWarning"
)
@pytest.mark.filterwarnings(  # drawn lines may all fall at or after the cut-off: an empty table
    "ignore:build_features. no customer has a purchase before:loyalty_ml.exceptions.DataQualityWarning"
)
@settings(max_examples=25, deadline=None)
@given(tx=_lines(), seed=st.integers(0, 2**16), text_ids=st.booleans())
def test_side_table_order_ids_kind_and_other_customers_change_nothing(
    tx: pd.DataFrame, seed: int, text_ids: bool
) -> None:
    campaigns = pd.DataFrame(
        {
            "customer_id": [0, 1, 2, 3, 0],
            "offer_id": ["o1", "control", "o1", "o2", "o2"],
            "sent_at": _START + pd.to_timedelta([5, 10, 39, 45, 20], unit="D"),
            "redeemed_at": _START + pd.to_timedelta([6, np.nan, 41, 46, 25], unit="D"),
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [0, 1, 2, 3, 9],
            "tier": ["g", "s", "g", None, "x"],
            "signup_date": _START + pd.to_timedelta([-5, 3, 50, np.nan, 2], unit="D"),
        }
    )
    if text_ids:
        tx, campaigns, customers = (
            f.assign(customer_id=f["customer_id"].astype(str)) for f in (tx, campaigns, customers)
        )
    X = build_features(tx, as_of=_AS_OF, campaigns=campaigns, customers=customers, config=_CONFIG)
    rng = np.random.default_rng(seed)
    shuffled = build_features(
        tx.iloc[rng.permutation(len(tx))].reset_index(drop=True),
        as_of=_AS_OF,
        campaigns=campaigns.iloc[rng.permutation(len(campaigns))],
        customers=customers.iloc[rng.permutation(len(customers))],
        config=_CONFIG,
    )
    pd.testing.assert_frame_equal(shuffled, X)
    first = tx["customer_id"].iloc[0]
    alone = build_features(
        tx[tx["customer_id"] == first],
        as_of=_AS_OF,
        campaigns=campaigns,
        customers=customers,
        config=_CONFIG,
    )
    pd.testing.assert_frame_equal(alone, X.loc[alone.index])


@pytest.mark.parametrize(
    "lines",
    [
        # a refund in an order of its own at the instant of a purchase: a return at the till
        [(1, 0.0, "o1", "a", 0), (1, -1.0, "o2", "a", 0)],
        # the refund ties with an order whose first line is a refund but which buys later
        [(1, -3.0, "o1", "a", 24), (1, -1.0, "o3", "b", 24), (1, 5.0, "o1", "a", 48)],
        # two purchase orders and a refund-only order at one instant, on two channels
        [
            (1, 2.0, "o4", "b", 0),
            (1, -3.0, "o1", "a", 0),
            (1, 5.0, "o3", "b", 0),
            (1, -1.0, "o1", "b", 0),
        ],
    ],
)
def test_refunds_tied_with_purchases_give_the_same_features_in_any_row_order(
    lines: list[tuple[int, float, str, str, int]],
) -> None:
    """Once a defect found by the property test above: a refund-only order joins the customer's
    latest purchase order before it, and at one instant which order that was (or whether there
    was one) followed the rows' order; spend, AOV and categories changed with it."""
    tx = pd.DataFrame(lines, columns=["customer_id", "amount", "order_id", "category", "hours"])
    tx["timestamp"] = _START + pd.to_timedelta(tx.pop("hours"), unit="h")
    tx = tx.assign(channel=np.where(np.arange(len(tx)) % 2 == 0, "app", "web"), quantity=1.0)
    expected = build_features(tx, as_of=_AS_OF, config=_CONFIG)
    for order in itertools.permutations(range(len(tx))):
        got = build_features(tx.iloc[list(order)], as_of=_AS_OF, config=_CONFIG)
        pd.testing.assert_frame_equal(got, expected)


def test_a_text_redeemed_flag_is_read_as_a_boolean() -> None:
    # a raw CRM export: redeemed as "yes"/"no" text next to a redemption date
    campaigns = _campaigns().assign(
        redeemed_at=pd.to_datetime(["2024-01-20", "2024-01-21"]), redeemed=["no", "yes"]
    )
    X = build_features(_tx(), as_of=AS_OF, campaigns=campaigns)
    assert X["offers_redeemed"].sum() == 1.0  # "no" is not a redemption
    with pytest.raises(SchemaError, match="redeemed must be boolean"):
        build_features(_tx(), as_of=AS_OF, campaigns=campaigns.assign(redeemed=["nope", "yes"]))


def _exchange() -> pd.DataFrame:
    """Customer 1 buys (A), returns 5 in order B on 02-01 and buys 20 in the same order on 02-20
    (an exchange); customer 3's order C starts with a return and is paid later."""
    t = pd.Timestamp
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 3, 3],
            "order_id": ["A", "B", "B", "C", "C"],
            "timestamp": [
                t("2024-01-01"),
                t("2024-02-01"),
                t("2024-02-20"),
                t("2024-02-01"),
                t("2024-02-20"),
            ],
            "amount": [30.0, -5.0, 20.0, -4.0, 12.0],
        }
    )
    return validate_transactions(raw, returns="keep")


def test_a_purchase_line_after_the_cutoff_does_not_make_an_earlier_return_a_purchase() -> None:
    """Dated at its first line, order B was a purchase at 02-10 on the strength of its 02-20
    line: n_orders 2 and recency 9 days, and customer 3 a customer with spend -4."""
    tx = _exchange()
    cut = pd.Timestamp("2024-02-10")
    past = tx[tx["timestamp"] < cut]
    columns = ["recency_days", "n_orders", "spend"]
    full = build_features(tx, as_of=cut)[columns]
    pd.testing.assert_frame_equal(full, build_features(past, as_of=cut)[columns])
    assert full.index.tolist() == [1]
    assert full.loc[1].tolist() == [40.0, 1.0, 25.0]
    labels = churn_labels(tx, as_of=cut, horizon_days=5)
    assert labels.index.tolist() == [1]
    # after its purchase line the order is a purchase from that line's time
    later = build_features(tx, as_of="2024-03-01")[columns]
    assert later.loc[1].tolist() == [10.0, 2.0, 45.0]
    assert later.loc[3].tolist() == [10.0, 1.0, 12.0]


def test_an_exchange_within_one_instant_stays_one_order() -> None:
    """A return and a purchase line of one order at the same time (an exchange at the till) are
    one purchase order, as before."""
    t = pd.Timestamp("2024-02-01")
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "order_id": ["A", "B", "B"],
            "timestamp": [pd.Timestamp("2024-01-01"), t, t],
            "amount": [30.0, -5.0, 20.0],
        }
    )
    out = build_features(validate_transactions(raw, returns="keep"), as_of="2024-03-01")
    assert out.loc[1, ["n_orders", "spend"]].tolist() == [2.0, 45.0]


def test_a_customers_column_cannot_replace_signup_tenure_days() -> None:
    """A CRM export's 'signup_tenure_days' (at the export date) replaced the point-in-time
    feature: 375 days where the customer had signed up 11 days before as_of."""
    from loyalty_ml.exceptions import ConfigError

    tx = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "amount": [10.0, 12.0],
            "timestamp": pd.to_datetime(["2024-01-15", "2024-01-20"]),
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [1],
            "signup_date": pd.to_datetime(["2024-01-10"]),
            "signup_tenure_days": [375.0],
        }
    )
    assert build_features(tx, as_of="2024-01-21", customers=customers).loc[
        1, "signup_tenure_days"
    ] == pytest.approx(11.0)
    config = FeatureConfig(extra_attributes=("signup_tenure_days",))
    with pytest.raises(ConfigError, match="names 'signup_tenure_days', a feature computed"):
        build_features(tx, as_of="2024-01-21", customers=customers, config=config)


def test_unsigned_ids_past_int64_are_ids_like_any_other() -> None:
    """uint64 hashed ids past 2**63 crashed with a raw OverflowError in the id coding."""
    big = 2**63
    tx = pd.DataFrame(
        {
            "customer_id": np.array([big + 5, big + 5, big + 9], dtype="uint64"),
            "order_id": np.array([big + 1, big + 2, big + 3], dtype="uint64"),
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    X = build_features(tx, as_of="2024-01-20")
    assert X.index.tolist() == [big + 5, big + 9]
    assert X["n_orders"].tolist() == [2.0, 1.0]
    assert churn_labels(tx, as_of="2024-01-06", horizon_days=3).index.tolist() == [big + 5, big + 9]


def test_listed_channels_count_the_labels_of_their_column_name() -> None:
    """channels=("app", "store"), as a trained model's channel_share_app names them, gave 0.0 for
    every customer on data labelled "App" / "Store"."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "amount": [1.0, 2.0, 3.0],
            "channel": ["App", "Store", "App"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
        }
    )
    columns = ["channel_share_app", "channel_share_store"]
    seen = build_features(tx, as_of="2024-02-01")[columns]
    listed = build_features(
        tx, as_of="2024-02-01", config=FeatureConfig(channels=("app", "store"))
    )[columns]
    pd.testing.assert_frame_equal(listed, seen)
    assert listed.loc[1].tolist() == [0.5, 0.5]


def test_experiment_rows_without_a_campaign_are_refused() -> None:
    """A row with a missing campaign_id was dropped and counted among the customers without a
    purchase before the send."""
    from loyalty_ml import experiment_table, validate_campaigns

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-02-03", "2024-03-01"]),
            "amount": [5.0, 8.0, 6.0, 2.0],
        }
    )
    campaigns = validate_campaigns(
        pd.DataFrame(
            {
                "campaign_id": ["c1", np.nan],
                "customer_id": [1, 2],
                "offer_id": ["coupon", "control"],
                "sent_at": pd.to_datetime(["2024-02-01", "2024-02-01"]),
            }
        )
    )
    with pytest.raises(SchemaError, match=r"campaign_id is missing at rows \[1\]"):
        experiment_table(tx, campaigns, window_days=7)
    X, _, t = experiment_table(tx, campaigns.drop(columns="campaign_id"), window_days=7)
    assert len(X) == 2 and sorted(t.tolist()) == ["control", "coupon"]
