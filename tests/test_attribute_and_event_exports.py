"""Customers and events tables as CRMs and app analytics export them (a probe, session 63).

Each test failed before its fix: letterless or non-Latin event kinds merged into one column,
attributes read differently by their dtype (text points, a yes/no column with a blank, blank
tiers, dates), and text attributes that name customers rather than groups of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.features.config import FeatureConfig

AS_OF = "2024-04-01"
ONE = FeatureConfig(min_level_customers=1)


def _tx() -> pd.DataFrame:
    return lml.validate_transactions(
        pd.DataFrame(
            {
                "customer_id": [1, 1, 1, 2, 2, 3],
                "timestamp": pd.to_datetime(
                    [
                        "2024-01-01",
                        "2024-02-01",
                        "2024-03-15",
                        "2024-01-10",
                        "2024-03-01",
                        "2024-02-20",
                    ]
                ),
                "amount": [10.0, 20.0, 30.0, 5.0, 15.0, 100.0],
            }
        )
    )


def _events(kinds: list[str]) -> pd.DataFrame:
    return lml.validate_events(
        pd.DataFrame(
            {
                "customer_id": [1, 2, 3, 1],
                "timestamp": ["2024-03-01", "2024-03-05", "2024-03-10", "2024-03-11"],
                "event": kinds,
                "value": [5, None, 2, None],
            }
        )
    )


def test_event_kinds_in_other_scripts_keep_columns_of_their_own() -> None:
    # a review and a complaint: both were counted as one kind, event_blank
    X = lml.build_features(
        _tx(), as_of=AS_OF, events=_events(["отзыв", "жалоба", "отзыв", "жалоба"]), config=ONE
    )
    assert X.loc[1, "event_отзыв_90d"] == 1.0 and X.loc[1, "event_жалоба_90d"] == 1.0
    assert X.loc[3, "event_отзыв_90d"] == 1.0 and X.loc[3, "event_жалоба_90d"] == 0.0
    assert not X.columns.str.startswith("event_blank").any()
    accented = lml.build_features(_tx(), as_of=AS_OF, events=_events(["café"] * 4), config=ONE)
    assert "event_café_90d" in accented.columns  # was event_caf_90d


def test_kinds_without_a_letter_are_refused_not_merged() -> None:
    with pytest.raises(SchemaError, match=r"without a letter or digit.*'★'.*'☆'"):
        lml.build_features(_tx(), as_of=AS_OF, events=_events(["★", "☆", "★", "☆"]), config=ONE)


def test_channels_in_other_scripts_keep_columns_of_their_own() -> None:
    tx = _tx()  # sorted by time: customer 1 buys on the 1st, 3rd and 6th rows
    tx = tx.assign(channel=["магазин", "сайт", "сайт", "магазин", "сайт", "магазин"])
    X = lml.build_features(tx, as_of=AS_OF)
    assert {"channel_share_магазин", "channel_share_сайт"} <= set(X.columns)
    assert X.loc[1, "channel_share_магазин"] == pytest.approx(2 / 3)


def _attributes(column: str, values: list[object], **config: object) -> pd.Series:
    customers = pd.DataFrame({"customer_id": [1, 2, 3], column: values})
    extra = () if column in ("tier", "points_balance") else (column,)
    cfg = FeatureConfig(min_level_customers=1, extra_attributes=extra, **config)  # type: ignore[arg-type]
    return lml.build_features(_tx(), as_of=AS_OF, customers=customers, config=cfg)[column]


def test_points_balance_as_text_is_read_as_validation_reads_it() -> None:
    # it became a category ('1,000', '2', '3'): on the simulator 292 of 348 customers "(rare)"
    with pytest.raises(SchemaError, match=r"points_balance has values that are not numbers"):
        _attributes("points_balance", ["1,000", "2", "3"], include_points_balance=True)
    read = _attributes("points_balance", ["1000", "2", None], include_points_balance=True)
    assert read.dtype == "float64" and read.tolist()[:2] == [1000.0, 2.0]


def test_a_yes_no_attribute_with_a_blank_stays_numeric() -> None:
    assert _attributes("has_app", [True, False, True]).tolist() == [1.0, 0.0, 1.0]
    with_blank = _attributes("has_app", [True, False, None])
    assert with_blank.dtype == "float64"  # was a category of 'True' / 'False'
    assert with_blank.tolist()[:2] == [1.0, 0.0] and np.isnan(with_blank.iloc[2])


def test_blank_tiers_are_missing_and_blanks_around_a_tier_are_not_a_level() -> None:
    tier = _attributes("tier", ["gold", "", None])
    assert tier.tolist()[0] == "gold" and tier.isna().tolist() == [False, True, True]
    assert list(tier.cat.categories) == ["gold"]
    # "gold " and "gold" were two levels at min_level_customers=1 and one when pooling
    assert list(_attributes("tier", ["gold", "gold ", "silver"]).cat.categories) == [
        "gold",
        "silver",
    ]


def test_dates_are_refused_as_attributes() -> None:
    # a last login at the export is the future at every as_of before it
    dates = pd.to_datetime(["2024-05-01", "2024-01-01", "2024-02-01"])
    with pytest.raises(SchemaError, match=r"last_login holds dates.*events"):
        _attributes("last_login", list(dates))
    with pytest.raises(SchemaError, match=r"holds dates"):
        _attributes("last_login", [d.date() for d in dates])


def _customers(n: int, column: str, values: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    tx = lml.validate_transactions(
        pd.DataFrame(
            {
                "customer_id": np.arange(n),
                "timestamp": pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 60, n), "D"),
                "amount": rng.uniform(5, 50, n),
            }
        )
    )
    return tx, pd.DataFrame({"customer_id": np.arange(n), column: values})


def test_an_attribute_of_one_value_per_customer_is_refused() -> None:
    # card numbers under a name that does not say so: every one was a level in the model
    tx, customers = _customers(200, "Membership", [f"6277{i:012d}" for i in range(200)])
    config = FeatureConfig(min_level_customers=1, extra_attributes=("Membership",))
    with pytest.raises(SchemaError, match=r"200 distinct values for 200 customers"):
        lml.build_features(tx, as_of="2024-04-01", customers=customers, config=config)
    # a trait customers share is kept
    tx, customers = _customers(200, "region", [f"r{i % 12}" for i in range(200)])
    config = FeatureConfig(min_level_customers=1, extra_attributes=("region",))
    X = lml.build_features(tx, as_of="2024-04-01", customers=customers, config=config)
    assert len(X["region"].cat.categories) == 12


@pytest.mark.parametrize("name", ["Loyalty Card", "loyalty_card", "Membership Card", "Kundenkarte"])
def test_a_card_named_after_its_programme_is_an_id(name: str) -> None:
    customers = pd.DataFrame({"customer_id": [1, 2, 3], name: ["6277001", "6277002", "6277003"]})
    config = FeatureConfig(min_level_customers=1, extra_attributes=(name,))
    with pytest.raises(ConfigError, match=r"reads as a customer id"):
        lml.build_features(_tx(), as_of=AS_OF, customers=customers, config=config)


def test_the_cleaning_report_keeps_a_left_out_columns_values_to_the_warning() -> None:
    # the report is logged to MLflow: a refund note held customers' e-mails
    note = "refund asked by ann@example.com (declined)"
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-09"]),
            "amount": [10.0, -10.0, 5.0, 7.0],
            "Refund Note": [None, note, None, note],
        }
    )
    with pytest.warns(lml.DataQualityWarning, match=r"Refund Note.*ann@example\.com"):
        _, report = lml.validate_transactions(raw, returns="keep", return_report=True)
    logged = str(report.to_json())
    assert "'Refund Note' left out may mark returns" in logged
    assert "ann@example.com" not in logged


def test_errors_about_events_name_their_validator() -> None:
    events = pd.DataFrame(
        {
            "customer_id": [1],
            "timestamp": pd.to_datetime(["2024-03-01"]),
            "event": ["nps"],
            "value": ["9"],
        }
    )
    with pytest.raises(SchemaError, match=r"events\.value must be numeric.*validate_events"):
        lml.build_features(_tx(), as_of=AS_OF, events=events)
