"""KPIs, the programme report and the privacy helpers on inputs an audit found mishandled.

Regression tests: each asserts the correct behaviour (a hand-computed number, a clear error, a column
recognised as personal data) where the library used to be wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import kpis
from loyalty_ml.exceptions import LoyaltyMLError, SchemaError
from loyalty_ml.features.responses import campaign_responses
from loyalty_ml.privacy import (
    check_no_personal_data,
    personal_data_columns,
    pseudonymise_frame,
    pseudonymise_ids,
)
from loyalty_ml.reporting import write_report
from loyalty_ml.schema import columns as C

SALT = "audit-salt-8f3a9c1e"

# the fixtures' data are complete to then (measure_campaign warns about windows past the data)
END = "2024-12-31"


@pytest.fixture
def tx() -> pd.DataFrame:
    """Six customers; 1 and 2 buy in the 7-day window after 2024-03-01, 3 does not, 4 does."""
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2, 3, 4, 5, 6],
            C.TIMESTAMP: pd.to_datetime(
                ["2024-03-02", "2024-03-03", "2024-02-01", "2024-03-04", "2024-02-01", "2024-02-01"]
            ),
            C.AMOUNT: [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )


@pytest.fixture
def campaigns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2, 3, 4, 5, 6],
            C.OFFER_ID: ["a", "a", "a", C.CONTROL, C.CONTROL, C.CONTROL],
            C.SENT_AT: pd.to_datetime(["2024-03-01"] * 6),
            C.REDEEMED: [True, False, False, False, False, False],
        }
    )


@pytest.fixture
def offers() -> pd.DataFrame:
    return pd.DataFrame({C.OFFER_ID: ["a"], C.COST_PER_REDEMPTION: [1.0]})


# -- cohorts ---------------------------------------------------------------------------------------


def test_cohort_months_up_to_as_of_are_observed_even_when_nobody_bought() -> None:
    # Jan cohort {1, 2}: 1 buys again in Feb. Feb cohort {3, 4}. Nobody buys in March.
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 1, 2, 3, 4],
            C.TIMESTAMP: pd.to_datetime(
                ["2024-01-05", "2024-02-05", "2024-01-06", "2024-02-07", "2024-02-08"]
            ),
            C.AMOUNT: 1.0,
        }
    )
    counts = kpis.cohort_counts(tx, freq="M", as_of="2024-04-01")  # March is observed, and empty
    assert counts.loc["2024-01"].tolist() == [2.0, 1.0, 0.0]
    assert counts.loc["2024-02", 1] == 0.0
    curve = kpis.retention_curves(tx, freq="M", as_of="2024-04-01")["all"]
    assert curve[1] == pytest.approx((1 + 0) / (2 + 2))
    assert curve[2] == 0.0


# -- transactions checks shared by the KPIs ------------------------------------------------------


def test_summary_refuses_blank_customer_ids_like_missing_ones() -> None:
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: ["a", "", "", " "],
            C.TIMESTAMP: pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
            C.AMOUNT: [1.0, 2.0, 3.0, 4.0],
        }
    )
    with pytest.raises(SchemaError, match="customer_id"):
        kpis.summary(tx, period_start="2024-01-01", period_end="2024-02-01")


def test_clv_inputs_refuses_text_margins_with_a_schema_error() -> None:
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2],
            C.TIMESTAMP: pd.to_datetime(["2024-03-02", "2024-03-03"]),
            C.AMOUNT: [10.0, 20.0],
            C.MARGIN: ["1.5", "2"],
        }
    )
    with pytest.raises(SchemaError, match="margin"):
        kpis.clv_inputs(tx, period_start="2024-03-01", period_end="2024-04-01")


def test_measure_campaign_refuses_infinite_margins(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    tx = tx.assign(**{C.MARGIN: [1.0, np.inf, 3.0, 4.0, 5.0, 6.0]})
    with pytest.raises(SchemaError, match="margin"):
        kpis.measure_campaign(campaigns, tx, offers, window_days=7)


# -- campaigns -------------------------------------------------------------------------------------


def test_measure_campaign_does_not_double_count_a_duplicated_row(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    doubled = pd.concat([campaigns, campaigns.iloc[[0]]], ignore_index=True)
    try:
        result = kpis.measure_campaign(doubled, tx, offers, window_days=7, observation_end=END)
    except LoyaltyMLError as exc:  # refusing it, naming the customer, is fine too
        assert "1" in str(exc)
        return
    expected = kpis.measure_campaign(campaigns, tx, offers, window_days=7, observation_end=END)
    pd.testing.assert_frame_equal(result, expected)


def test_measure_campaign_a_return_is_not_a_conversion(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    tx = tx.copy()
    tx.loc[2, [C.TIMESTAMP, C.AMOUNT]] = [pd.Timestamp("2024-03-05"), -30.0]  # customer 3 returns
    result = kpis.measure_campaign(campaigns, tx, offers, window_days=7, observation_end=END).loc[
        "a"
    ]
    responses = campaign_responses(campaigns, tx, window_days=7, observation_end="2024-12-31")
    treated = (campaigns[C.OFFER_ID] == "a").to_numpy()
    assert result["conversion_rate"] == pytest.approx(responses[treated].mean())  # 2/3
    assert result["incremental_revenue"] == pytest.approx((0.0 - 40.0 / 3) * 3)


def test_measure_campaign_compares_aware_times_in_different_zones(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    naive = kpis.measure_campaign(campaigns, tx, offers, window_days=7, observation_end=END)
    tx_berlin = tx.assign(**{C.TIMESTAMP: tx[C.TIMESTAMP].dt.tz_localize("UTC")})
    tx_berlin[C.TIMESTAMP] = tx_berlin[C.TIMESTAMP].dt.tz_convert("Europe/Berlin")
    sent_utc = campaigns.assign(**{C.SENT_AT: campaigns[C.SENT_AT].dt.tz_localize("UTC")})
    aware = kpis.measure_campaign(sent_utc, tx_berlin, offers, window_days=7, observation_end=END)
    pd.testing.assert_frame_equal(aware, naive)


def test_measure_campaign_offers_with_offer_id_as_index_and_column(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    expected = kpis.measure_campaign(campaigns, tx, offers, window_days=7, observation_end=END)
    both = offers.set_index(C.OFFER_ID, drop=False)
    pd.testing.assert_frame_equal(
        kpis.measure_campaign(campaigns, tx, both, window_days=7, observation_end=END), expected
    )


def test_measure_campaign_single_control_row_gives_no_zero_width_ci() -> None:
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: [4],
            C.TIMESTAMP: pd.to_datetime(["2024-03-02"]),
            C.AMOUNT: [10.0],
        }
    )
    campaigns = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2, 3, 4],
            C.OFFER_ID: ["a", "a", "a", C.CONTROL],
            C.SENT_AT: pd.to_datetime(["2024-03-01"] * 4),
            C.REDEEMED: False,
        }
    )
    offers = pd.DataFrame({C.OFFER_ID: ["a"], C.COST_PER_REDEMPTION: [1.0]})
    row = kpis.measure_campaign(campaigns, tx, offers, window_days=7, observation_end=END).loc["a"]
    assert row["uplift"] == -1.0
    low, high = row["uplift_low"], row["uplift_high"]
    assert (np.isnan(low) and np.isnan(high)) or high - low > 0.1


# -- report ----------------------------------------------------------------------------------------


def test_report_skips_a_campaign_without_control_group(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame, tmp_path: Path
) -> None:
    tx = pd.concat(
        [
            tx,
            pd.DataFrame({C.CUSTOMER_ID: [7], C.TIMESTAMP: [pd.Timestamp("2024-03-05")]}).assign(
                **{C.AMOUNT: 5.0}
            ),
            # the data reach the period's end (else the report warns of windows cut short)
            pd.DataFrame({C.CUSTOMER_ID: [99], C.TIMESTAMP: [pd.Timestamp("2024-03-31")]}).assign(
                **{C.AMOUNT: 5.0}
            ),
        ],
        ignore_index=True,
    )
    broadcast = pd.DataFrame(
        {
            C.CUSTOMER_ID: [7],
            C.OFFER_ID: ["a"],
            C.SENT_AT: pd.to_datetime(["2024-03-01"]),
            C.REDEEMED: [False],
            C.CAMPAIGN_ID: ["bcast"],
        }
    )
    both = pd.concat([campaigns.assign(**{C.CAMPAIGN_ID: "spring"}), broadcast], ignore_index=True)
    path = write_report(
        tx,
        tmp_path,
        period_start="2024-02-01",
        period_end="2024-04-01",
        campaigns=both,
        offers=offers,
        response_window_days=7,
    )
    page = path.read_text(encoding="utf-8")
    assert "spring" in page  # the measurable campaign is still shown


# -- privacy: minimisation and pseudonymisation ----------------------------------------------------


@pytest.mark.parametrize(
    "column", ["Telefon", "IP", "dob", "Adresse", "Geburtsdatum", "PLZ", "credit_card"]
)
def test_common_personal_data_column_names_are_detected(column: str) -> None:
    assert personal_data_columns([column, "frequency"], protected=False) == [column]
    frame = pd.DataFrame({column: ["x"], "score": [0.5]}, index=pd.Index([17], name=C.CUSTOMER_ID))
    assert pseudonymise_frame(frame, salt=SALT).columns.tolist() == ["score"]


def test_channel_share_feature_of_a_mobile_channel_is_not_personal_data() -> None:
    check_no_personal_data(["channel_share_mobile", "channel_share_web"])


def test_pseudonymise_frame_drops_personal_columns_under_multiindex_columns() -> None:
    frame = pd.DataFrame(
        [["a@example.com", 0.5]],
        columns=pd.MultiIndex.from_tuples([("contact", "email"), ("score", "p")]),
        index=pd.Index([17], name=C.CUSTOMER_ID),
    )
    out = pseudonymise_frame(frame, salt=SALT)
    assert out.columns.tolist() == [("score", "p")]
    assert "17" not in [str(i) for i in out.index]


def test_pseudonymise_refuses_blank_ids_as_missing() -> None:
    with pytest.raises(LoyaltyMLError, match="missing"):
        pseudonymise_ids(["C1", "", " "], salt=SALT)
