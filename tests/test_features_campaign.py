"""Campaign response features: only what was known before as_of."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.features import build_features


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01"]),
            "amount": [1.0, 1.0, 1.0],
        }
    )


@pytest.fixture
def campaigns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "campaign_id": ["c1", "c1", "c2", "c2", "c3", "c1"],
            "customer_id": [1, 2, 1, 2, 1, 9],
            "offer_id": ["o1", "control", "o2", "o1", "o1", "o1"],
            "sent_at": pd.to_datetime(
                ["2024-01-05", "2024-01-05", "2024-01-20", "2024-01-20", "2024-02-05", "2024-01-05"]
            ),
            "redeemed": [True, False, True, False, True, True],
            "redeemed_at": pd.to_datetime(
                ["2024-01-08", None, "2024-02-02", None, "2024-02-06", "2024-01-06"]
            ),
        }
    )


def test_exact_values(tx: pd.DataFrame, campaigns: pd.DataFrame) -> None:
    X = build_features(tx, as_of="2024-02-01", campaigns=campaigns)
    # customer 1: offers of 01-05 and 01-20 were sent; only the first was redeemed before as_of
    assert X.loc[1, "offers_received"] == 2.0
    assert X.loc[1, "offers_redeemed"] == 1.0
    assert X.loc[1, "redemption_rate"] == 0.5
    assert X.loc[1, "days_since_last_offer"] == 12.0
    assert X.loc[1, "days_since_last_redemption"] == 24.0
    # customer 2: the control row is not an offer
    assert X.loc[2, "offers_received"] == 1.0
    assert X.loc[2, "offers_redeemed"] == 0.0
    assert np.isnan(X.loc[2, "days_since_last_redemption"])
    # customer 3: no campaign at all
    assert X.loc[3, ["offers_received", "offers_redeemed"]].tolist() == [0.0, 0.0]
    assert X.loc[3, ["redemption_rate", "days_since_last_offer"]].isna().all()
    X = build_features(tx, as_of="2024-02-10", campaigns=campaigns)
    assert X.loc[1, ["offers_received", "offers_redeemed"]].tolist() == [3.0, 3.0]


def test_redeemed_flag_false_is_not_a_redemption(tx: pd.DataFrame, campaigns: pd.DataFrame) -> None:
    flagged = campaigns.assign(redeemed=[False, False, True, False, True, True])
    X = build_features(tx, as_of="2024-02-01", campaigns=flagged)
    assert X.loc[1, "offers_redeemed"] == 0.0


def test_undatable_redemptions_are_left_out(tx: pd.DataFrame, campaigns: pd.DataFrame) -> None:
    X = build_features(tx, as_of="2024-02-01", campaigns=campaigns.drop(columns="redeemed_at"))
    assert "offers_received" in X.columns
    assert not {"offers_redeemed", "redemption_rate", "days_since_last_redemption"} & set(X.columns)


def test_errors(tx: pd.DataFrame, campaigns: pd.DataFrame) -> None:
    with pytest.raises(
        SchemaError, match=r"campaigns is missing required column\(s\) \['sent_at'\]"
    ):
        build_features(tx, as_of="2024-02-01", campaigns=campaigns.drop(columns="sent_at"))
    # integers written as text ("1" from a CSV) are the transactions' integer ids, as in the jobs
    text_ids = campaigns.assign(customer_id=campaigns["customer_id"].astype(str))
    pd.testing.assert_frame_equal(
        build_features(tx, as_of="2024-02-01", campaigns=text_ids),
        build_features(tx, as_of="2024-02-01", campaigns=campaigns),
    )
    words = campaigns.assign(customer_id="C" + campaigns["customer_id"].astype(str))
    with pytest.raises(SchemaError, match=r"holds text ids such as .* cannot match"):
        build_features(tx, as_of="2024-02-01", campaigns=words)
    bad = campaigns.assign(redeemed_at=campaigns["redeemed_at"].astype(str))
    with pytest.raises(SchemaError, match="redeemed_at must be tz-naive datetime64"):
        build_features(tx, as_of="2024-02-01", campaigns=bad)


def test_sends_on_another_clock_than_the_purchases_warn() -> None:
    """Transactions validated on Berlin time, campaigns with zone-aware sends validated without
    the timezone (put on UTC): a send at 23:30 Berlin read 21:30 and counted before an as_of of
    23:00, for every customer, in silence. Naive sends with no timezone record no clock."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.schema import validate_campaigns, validate_transactions

    raw_tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-09-01 10:00", "2024-09-02 11:00"]),
            "amount": [10.0, 20.0],
        }
    )
    tx = validate_transactions(raw_tx, timezone="Europe/Berlin")
    sends = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["d5", "d5"],
            "sent_at": pd.to_datetime(["2024-09-30 23:30"] * 2).tz_localize("Europe/Berlin"),
        }
    )
    utc = validate_campaigns(sends)
    with pytest.warns(DataQualityWarning, match=r"clock 'UTC' but the transactions' .*Berlin"):
        build_features(tx, as_of="2024-09-30 23:00", campaigns=utc)
    berlin = validate_campaigns(sends, timezone="Europe/Berlin")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X = build_features(tx, as_of="2024-09-30 23:00", campaigns=berlin)
        naive = validate_campaigns(sends.assign(sent_at=sends["sent_at"].dt.tz_localize(None)))
        assert naive.attrs == {}
        build_features(tx, as_of="2024-09-30 23:00", campaigns=naive)
    assert (X["offers_received"] == 0).all()  # the 23:30 send is after 23:00


def test_one_clock_under_two_names_does_not_warn_and_offsets_in_text_count() -> None:
    """'UTC' and 'Etc/UTC', 'Europe/Kiev' and 'Europe/Kyiv' are one clock (the names were compared
    as text); sends written with offsets in a CSV were put on UTC without recording it."""
    import io
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.schema import validate_campaigns, validate_transactions

    raw_tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-09-01 10:00", "2024-09-02 11:00"]),
            "amount": [10.0, 20.0],
        }
    )
    sends = pd.DataFrame(
        {"customer_id": [1, 2], "offer_id": "d5", "sent_at": ["2024-09-20 10:00"] * 2}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for tx_zone, send_zone in (("Etc/UTC", "UTC"), ("Europe/Kiev", "Europe/Kyiv")):
            build_features(
                validate_transactions(raw_tx, timezone=tx_zone),
                as_of="2024-09-30",
                campaigns=validate_campaigns(sends, timezone=send_zone),
            )
    text = "customer_id,offer_id,sent_at\n1,d5,2024-09-30T23:30:00+02:00\n"
    from_csv = validate_campaigns(pd.read_csv(io.StringIO(text)))
    assert from_csv.attrs == {"loyalty_ml_clock": "UTC"}
    assert validate_campaigns(from_csv).attrs == {"loyalty_ml_clock": "UTC"}  # kept when again
    berlin = validate_transactions(raw_tx, timezone="Europe/Berlin")
    with pytest.warns(DataQualityWarning, match="validate the transactions with timezone='UTC'"):
        build_features(berlin, as_of="2024-09-30 23:00", campaigns=from_csv)
