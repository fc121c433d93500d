"""Adversarial inputs to the KPIs, privacy helpers and report: a clear error or a correct result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import kpis
from loyalty_ml.exceptions import ConfigError, DataError, SchemaError
from loyalty_ml.privacy import (
    check_no_personal_data,
    erase_customers,
    exclude_without_profiling_consent,
    may_profile,
    profiled_only,
    pseudonymise_frame,
    pseudonymise_ids,
    select_needed_columns,
    split_by_consent,
    withhold_offers_without_marketing_consent,
)
from loyalty_ml.reporting import write_report
from loyalty_ml.schema import columns as C

SALT = "test-salt-0f1e2d3c"


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 1, 2, 3, 4, 5],
            C.TIMESTAMP: pd.to_datetime(
                ["2024-01-02", "2024-03-02", "2024-01-03", "2024-03-03", "2024-03-04", "2024-03-05"]
            ),
            C.AMOUNT: [5.0, 6.0, -7.0, 0.0, 8.0, 9.0],
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


# -- erasure -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ids", ["12", 1])
def test_erasure_refuses_a_single_id_instead_of_a_list(tx: pd.DataFrame, ids: object) -> None:
    # "12" used to erase customers 1 and 2 (read letter by letter); 1 raised a bare TypeError
    with pytest.raises(
        ConfigError, match=r"'ids' parameter of erase_customers must be a list.*Pass \["
    ):
        erase_customers(ids, transactions=tx)  # type: ignore[arg-type]


def test_erasure_matches_whole_float_ids(tx: pd.DataFrame) -> None:
    # ids read back from a CSV with missing values are floats: 1.0 is customer 1
    floats = tx.assign(**{C.CUSTOMER_ID: [1.0, 1.0, 2.0, np.nan, 4.0, 5.0]})
    out, report = erase_customers([1], transactions=floats)
    assert report.rows_removed == {"transactions": 2} and report.n_found == 1
    assert 1.0 not in out["transactions"][C.CUSTOMER_ID].tolist()
    out, report = erase_customers(np.array([1.0, 2.0]), transactions=tx)
    assert report.rows_removed == {"transactions": 3}
    assert out["transactions"][C.CUSTOMER_ID].tolist() == [3, 4, 5]


# -- pseudonymisation ----------------------------------------------------------------------------------
def test_pseudonym_of_a_whole_float_id_is_that_of_the_integer() -> None:
    expected = pseudonymise_ids([13085, 7], salt=SALT)
    assert pseudonymise_ids([13085.0, 7.0], salt=SALT) == expected
    floats = pd.Series([13085.0, np.nan, 7.0]).dropna()
    assert pseudonymise_ids(floats, salt=SALT).tolist() == expected


def test_pseudonymise_refuses_a_single_str() -> None:
    with pytest.raises(ConfigError, match=r"read one character at a time: 'C-17'. Pass \['C-17'\]"):
        pseudonymise_ids("C-17", salt=SALT)


def test_pseudonymise_frame_refuses_missing_ids_in_an_index_level() -> None:
    index = pd.MultiIndex.from_arrays(
        [pd.to_datetime(["2024-01-01"] * 3), [1.0, np.nan, 2.0]], names=[C.AS_OF, C.CUSTOMER_ID]
    )
    frame = pd.DataFrame({"score": [0.1, 0.2, 0.3]}, index=index)
    with pytest.raises(DataError, match=r"missing ids: 1 missing at positions \[1\]"):
        pseudonymise_frame(frame, salt=SALT)
    hashed = pseudonymise_frame(frame.iloc[[0, 2]], salt=SALT)
    assert hashed.index.get_level_values(C.CUSTOMER_ID).tolist() == pseudonymise_ids(
        [1, 2], salt=SALT
    )


def test_pseudonymise_frame_refuses_what_is_not_a_dataframe() -> None:
    with pytest.raises(SchemaError, match="frame must be a pandas DataFrame; got list"):
        pseudonymise_frame([1, 2], salt=SALT)  # type: ignore[arg-type]


# -- minimisation --------------------------------------------------------------------------------------
def test_minimisation_refuses_a_single_column_name_as_str() -> None:
    # "email" used to pass the check, read as the letters e, m, a, i, l
    with pytest.raises(ConfigError, match=r"'columns' parameter of check_no_personal_data"):
        check_no_personal_data("email")
    with pytest.raises(ConfigError, match=r"'needed' parameter of select_needed_columns"):
        select_needed_columns(pd.DataFrame({C.TIER: ["gold"]}), "tier")
    with pytest.raises(SchemaError, match="customers must be a pandas DataFrame; got list"):
        select_needed_columns([1], [C.TIER])  # type: ignore[arg-type]


# -- consent -------------------------------------------------------------------------------------------
@pytest.fixture
def text_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: ["1", "2", "3"],
            C.CONSENT_PROFILING: ["Y", "Y", "N"],
            C.CONSENT_MARKETING: ["yes", "no", "yes"],
        }
    )


def test_consent_matches_text_ids_to_integer_ids(
    tx: pd.DataFrame, text_customers: pd.DataFrame
) -> None:
    # the customers' ids are text, the transactions' integers: consenting customers used to be
    # read as absent from the customers table, and every row dropped
    assert may_profile([1, 2, 3, 4], text_customers).tolist() == [True, True, False, False]
    _, _, mask = profiled_only(tx, text_customers)
    assert mask.tolist() == [True, True, True, False, False, False]
    split = split_by_consent(text_customers)
    features = pd.DataFrame({"f": [1.0, 2.0, 3.0]}, index=pd.Index([1, 2, 3], name=C.CUSTOMER_ID))
    kept, reasons = exclude_without_profiling_consent(features, split)
    assert kept.index.tolist() == [1, 2]
    assert reasons.index.tolist() == [3]
    assert reasons["reason"].iloc[0].startswith("consent_profiling is False")
    plan = pd.DataFrame({C.CUSTOMER_ID: [1, 2, 3], C.OFFER_ID: ["a", "a", "a"]})
    out = withhold_offers_without_marketing_consent(plan, split)
    assert out[C.OFFER_ID].isna().tolist() == [False, True, False]


def test_consent_refuses_missing_customer_ids() -> None:
    customers = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1.0, np.nan, np.nan],
            C.CONSENT_PROFILING: [True, True, False],
            C.CONSENT_MARKETING: [True, True, False],
        }
    )
    # two missing ids used to be reported as a duplicated id
    with pytest.raises(
        SchemaError,
        match=r"customers.customer_id is missing at rows \[1, 2\]. Drop those rows first: every",
    ):
        split_by_consent(customers)


# -- KPIs: transactions --------------------------------------------------------------------------------
def test_kpis_refuse_infinite_amounts(tx: pd.DataFrame) -> None:
    bad = tx.assign(**{C.AMOUNT: [np.inf, 1.0, 1.0, 1.0, 1.0, 1.0]})
    with pytest.raises(SchemaError, match=r"amount has infinite values at rows \[0\]"):
        kpis.summary(bad, period_start="2024-01-01", period_end="2024-04-01")


def test_kpis_refuse_a_repeated_column(tx: pd.DataFrame) -> None:
    repeated = pd.concat([tx, tx[[C.AMOUNT]]], axis=1)
    with pytest.raises(SchemaError, match=r"several columns named \['amount'\]"):
        kpis.summary(repeated, period_start="2024-01-01", period_end="2024-04-01")


# -- KPIs: CLV -----------------------------------------------------------------------------------------
def test_clv_refuses_series_of_different_customers() -> None:
    aov = pd.Series([10.0, 20.0], index=[1, 2])
    frequency = pd.Series([1.0, 2.0], index=[2, 3])
    with pytest.raises(ConfigError, match=r"\[1\] are only in aov and \[3\] only in purchase_freq"):
        kpis.clv_lifetime(aov=aov, purchase_frequency=frequency, lifetime=3.0)
    with pytest.raises(ConfigError, match="must be indexed by the same customers"):
        kpis.clv_margin_churn(
            aov=aov, purchase_frequency=1.0, margin_rate=0.3, churn_rate=frequency / 4
        )
    # the same customers in another order align
    shuffled = kpis.clv_lifetime(aov=aov, purchase_frequency=aov.iloc[::-1] / 10, lifetime=1.0)
    assert shuffled.loc[[1, 2]].tolist() == [10.0, 40.0]


def test_clv_discounted_numpy_periods_and_empty_margins() -> None:
    assert kpis.clv_discounted(100.0, discount_rate=0.0, periods=np.int64(2)) == 200.0
    with pytest.raises(ConfigError, match="margins has no columns"):
        kpis.clv_discounted(pd.DataFrame(index=[1, 2]), discount_rate=0.1)


# -- KPIs: campaigns -----------------------------------------------------------------------------------
@pytest.mark.parametrize("flags", [["Y", "N"], ["yes", "no"], ["True", "False"], [1, 0]])
def test_campaign_redeemed_flags_as_text(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame, flags: list[object]
) -> None:
    redeemed = [flags[0]] + [flags[1]] * 5
    out = kpis.measure_campaign(
        campaigns.assign(**{C.REDEEMED: redeemed}),
        tx,
        offers,
        window_days=7,
        observation_end="2024-12-31",  # the fixture's data are complete to then
    )
    assert out.loc["a", "redemptions"] == 1.0


def test_campaign_redeemed_must_be_a_flag(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    # 2 used to count as two redemptions
    with pytest.raises(SchemaError, match=r"campaigns.redeemed must be boolean"):
        kpis.measure_campaign(
            campaigns.assign(**{C.REDEEMED: [2, 0, 0, 0, 0, 0]}),
            tx,
            offers,
            window_days=7,
            observation_end="2024-12-31",
        )


@pytest.mark.parametrize(
    ("end", "match"),
    [
        (20240401, "nanoseconds since 1970"),
        ("not a date", "'observation_end' parameter must be a date"),
        (pd.Timestamp("2024-04-01", tz="UTC"), "observation_end=.* is time-zone aware"),
    ],
)
def test_campaign_observation_end_is_parsed_like_every_date(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame, end: object, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        kpis.measure_campaign(campaigns, tx, offers, window_days=7, observation_end=end)


def test_campaign_clocks_must_match(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    aware = tx.assign(**{C.TIMESTAMP: tx[C.TIMESTAMP].dt.tz_localize("UTC")})
    with pytest.raises(SchemaError, match=r"sent_at is time-zone naive but transactions.timestamp"):
        kpis.measure_campaign(campaigns, aware, offers, window_days=7)
    both = campaigns.assign(**{C.SENT_AT: campaigns[C.SENT_AT].dt.tz_localize("UTC")})
    out = kpis.measure_campaign(both, aware, offers, window_days=7, observation_end="2024-04-01")
    assert out.loc["a", "n_treated"] == 3.0


def test_campaign_with_only_control_rows(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    with pytest.raises(DataError, match="holds only control rows"):
        kpis.measure_campaign(
            campaigns.assign(**{C.OFFER_ID: C.CONTROL}), tx, offers, window_days=7
        )


@pytest.mark.parametrize(
    ("cost", "error", "match"),
    [
        (
            "1,5",
            SchemaError,
            r"cost_per_redemption has values that are not numbers \[row a: '1,5'\]",
        ),
        (np.nan, SchemaError, "cost_per_redemption has missing values"),
        (-1.0, SchemaError, r"cost_per_redemption must be >= 0; got \[-1.0\] for offers \['a'\]"),
    ],
)
def test_campaign_offer_costs_are_checked(
    tx: pd.DataFrame,
    campaigns: pd.DataFrame,
    offers: pd.DataFrame,
    cost: object,
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        kpis.measure_campaign(
            campaigns, tx, offers.assign(**{C.COST_PER_REDEMPTION: [cost]}), window_days=7
        )


# -- KPIs: programme health and cohorts ----------------------------------------------------------------
@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_active_members_reads_signup_dates_like_the_schema(tx: pd.DataFrame) -> None:
    customers = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2, 3, 4],
            C.SIGNUP_DATE: pd.to_datetime(["2023-01-01", None, "2023-01-01", "2025-01-01"]),
        }
    )
    # an unknown signup date used to drop the member
    out = kpis.active_members(tx, as_of="2024-04-01", customers=customers)
    # members 1, 2 and 3; customer 2's only row is a return, which is not a purchase
    assert out.tolist() == [3.0, 2.0, pytest.approx(2 / 3)]
    aware = customers.assign(**{C.SIGNUP_DATE: customers[C.SIGNUP_DATE].dt.tz_localize("UTC")})
    assert kpis.active_members(tx, as_of="2024-04-01", customers=aware).tolist() == out.tolist()
    garbage = customers.assign(**{C.SIGNUP_DATE: ["2023-01-01", "garbage", None, None]})
    with pytest.raises(SchemaError, match=r"signup_date has values that are not dates"):
        kpis.active_members(tx, as_of="2024-04-01", customers=garbage)


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_active_members_matches_text_ids_and_refuses_ids_that_cannot_match(
    tx: pd.DataFrame,
) -> None:
    as_int = kpis.active_members(
        tx, as_of="2024-04-01", customers=pd.DataFrame({C.CUSTOMER_ID: [1, 2, 3]})
    )
    # text ids used to report 0 active members
    as_text = kpis.active_members(
        tx, as_of="2024-04-01", customers=pd.DataFrame({C.CUSTOMER_ID: ["1", "2", "3"]})
    )
    pd.testing.assert_series_equal(as_text, as_int)
    with pytest.raises(
        SchemaError, match=r"customers.customer_id holds text ids such as \['C-1'\]"
    ):
        kpis.active_members(
            tx, as_of="2024-04-01", customers=pd.DataFrame({C.CUSTOMER_ID: ["C-1", "2"]})
        )
    with pytest.raises(SchemaError, match=r"customers.customer_id is missing at rows \[1\]"):
        kpis.active_members(
            tx, as_of="2024-04-01", customers=pd.DataFrame({C.CUSTOMER_ID: [1, None]})
        )


def test_points_and_benefits_must_be_finite() -> None:
    with pytest.raises(SchemaError, match=r"points_balance must be numbers >= 0; got \[inf\]"):
        kpis.points_liability(pd.Series([np.inf, 3.0]), point_value=0.01, breakage_rate=0.2)
    with pytest.raises(ConfigError, match=r"point_value .*got inf. It must be finite"):
        kpis.points_liability(pd.Series([1.0]), point_value=np.inf, breakage_rate=0.2)
    with pytest.raises(ConfigError, match="fixed_per_member"):
        kpis.TierBenefit(fixed_per_member=np.inf)


def test_tier_distribution_refuses_an_order_given_as_str() -> None:
    with pytest.raises(ConfigError, match=r"order must be a list of tier names.*\['gold'\]"):
        kpis.tier_distribution(pd.Series(["gold"]), order="gold")
    with pytest.raises(SchemaError, match="tiers must be a customers DataFrame"):
        kpis.tier_distribution(["gold"])  # type: ignore[arg-type]


def test_retention_curves_refuse_repeated_group_labels(tx: pd.DataFrame) -> None:
    groups = pd.Series(["a", "b", "a", "b", "a", "b"], index=[1, 2, 3, 4, 5, 1])
    with pytest.raises(ConfigError, match=r"customers \[1\] appear more than once"):
        kpis.retention_curves(tx, groups=groups)


# -- report --------------------------------------------------------------------------------------------
def test_report_with_campaigns_on_another_clock(
    tmp_path: Path, tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    aware = tx.assign(**{C.TIMESTAMP: tx[C.TIMESTAMP].dt.tz_localize("Europe/Paris")})
    with pytest.raises(SchemaError, match="sent_at is time-zone naive"):
        write_report(aware, tmp_path, campaigns=campaigns, offers=offers, response_window_days=3)
    text = campaigns.assign(**{C.SENT_AT: "2024-03-01"})
    with pytest.raises(SchemaError, match=r"campaigns.sent_at must be datetime64; got str"):
        write_report(tx, tmp_path, campaigns=text, offers=offers, response_window_days=3)
    flags = campaigns.assign(**{C.REDEEMED: ["Y", "N", "N", "N", "N", "N"]})
    path = write_report(tx, tmp_path, campaigns=flags, offers=offers, response_window_days=3)
    assert "Campaigns whose results came in" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"confidence": "0.9"}, "confidence must be a number in \\(0, 1\\); got '0.9'"),
        ({"confidence": float("nan")}, "confidence must be a number"),
        ({"margin_rate": "0.3"}, "margin_rate must be a number in \\[0, 1\\] or None; got '0.3'"),
    ],
)
def test_campaign_rates_must_be_numbers(
    tx: pd.DataFrame,
    campaigns: pd.DataFrame,
    offers: pd.DataFrame,
    options: dict[str, object],
    match: str,
) -> None:
    # text used to raise a bare TypeError from the comparison
    with pytest.raises(ConfigError, match=match):
        kpis.measure_campaign(campaigns, tx, offers, window_days=7, **options)  # type: ignore[arg-type]


def test_tier_ranges_must_not_overlap() -> None:
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2],
            C.TIMESTAMP: pd.to_datetime(["2024-06-01", "2024-06-02"]),
            C.AMOUNT: [50.0, 700.0],
        }
    )
    tiers = pd.DataFrame(
        {"min_value": [0.0, 100.0, 90.0], "max_value": [100.0, 500.0, np.inf]},
        index=pd.Index(["base", "silver", "gold"], name="tier"),
    )
    benefits = dict.fromkeys(tiers.index, kpis.TierBenefit())
    # gold's [90, inf) overlaps silver: the last tier used to win silently
    with pytest.raises(
        ConfigError, match=r"tiers \['gold', 'silver'\] have inverted or overlapping"
    ):
        kpis.estimate_tier_costs(tx, tiers, benefits=benefits, as_of="2025-01-01")


def test_campaign_counts_are_whole_numbers(
    tx: pd.DataFrame, campaigns: pd.DataFrame, offers: pd.DataFrame
) -> None:
    """Customers are counted, not measured: n_treated / n_control are integers (3, not 3.0)."""
    out = kpis.measure_campaign(campaigns, tx, offers, window_days=7, observation_end="2024-04-01")
    for column in ("n_treated", "n_control"):
        assert pd.api.types.is_integer_dtype(out[column]), out[column].dtype
    assert out.loc["a", "n_treated"] == 3
