from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.schema import (
    ColumnMap,
    cleaning_report,
    looks_like_personal_data,
    validate_campaigns,
    validate_customers,
    validate_offers,
)


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cid": [1.0, 2.0, 3.0],
            "signup_date": ["2023-01-01", "2023-02-01", None],
            "Full Name": ["A", "B", "C"],
            "email": ["a@x", "b@x", "c@x"],
            "consent_marketing": ["yes", "no", None],
            "consent_profiling": [True, False, True],
            "tier": ["gold", "silver", "bronze"],
        }
    )


def test_customers_canonical_and_minimised() -> None:
    out = validate_customers(_customers(), columns=ColumnMap(customer_id="cid"))
    assert out.index.name == "customer_id" and out.index.dtype == "int64"
    assert "email" not in out.columns and "Full Name" not in out.columns
    assert out["consent_marketing"].tolist() == [True, False, False]  # missing -> no consent
    assert out["consent_profiling"].dtype == bool
    assert out["signup_date"].dtype == "datetime64[ns]"
    report = cleaning_report(out)
    assert report is not None and report.flagged("missing_consent_marketing") == 1
    assert any("personal-data" in n for n in report.notes)


def test_a_things_name_in_customers_is_kept_and_can_be_a_feature() -> None:
    # a CRM export's tier_name and home_store_name name things; every other "name" is a person's
    raw = _customers().assign(
        tier_name=["Gold", "Silver", "Gold"],
        home_store_name=["Soho", "Soho", "Midtown"],
        username=["ann1", "bob", "cy"],
        display_name=["Ann", "Bob", "Cy"],
        store_manager_name=["D", "D", "E"],
    )
    out = validate_customers(raw, columns=ColumnMap(customer_id="cid"))
    assert {"tier_name", "home_store_name"} <= set(out.columns)
    assert not {"username", "display_name", "store_manager_name"} & set(out.columns)
    from loyalty_ml import FeatureConfig, build_features

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
            "amount": [5.0, 6.0, 7.0],
        }
    )
    config = FeatureConfig(extra_attributes=("tier_name",), min_level_customers=1)
    X = build_features(tx, as_of="2024-02-01", customers=out.reset_index(), config=config)
    assert X["tier_name"].astype(str).tolist() == ["Gold", "Silver", "Gold"]


def test_customers_keep_personal_when_asked() -> None:
    out = validate_customers(
        _customers(), columns=ColumnMap(customer_id="cid"), drop_personal_data=False
    )
    assert "email" in out.columns


def test_customers_errors() -> None:
    dup = _customers().assign(cid=[1, 1, 2])
    with pytest.raises(SchemaError, match=r"customer_id must be unique; \[1\]"):
        validate_customers(dup, columns=ColumnMap(customer_id="cid"))
    with pytest.raises(SchemaError, match="customer_id is missing on 1 row"):
        validate_customers(
            _customers().assign(cid=[1, None, 2]), columns=ColumnMap(customer_id="cid")
        )
    with pytest.raises(SchemaError, match="consent_profiling must be boolean"):
        validate_customers(
            _customers().assign(consent_profiling=["maybe", "y", "n"]),
            columns=ColumnMap(customer_id="cid"),
        )
    with pytest.raises(SchemaError, match=r"missing required column\(s\) \['customer_id'\]"):
        validate_customers(_customers())


def test_personal_data_markers() -> None:
    assert looks_like_personal_data("Email Address")
    assert looks_like_personal_data("phone_number")
    assert not looks_like_personal_data("tier")


def _offers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "offer_id": ["d5", "d15", "pts"],
            "cost_per_redemption": [1.5, 4.5, 1.0],
            "kind": ["discount", "discount", "points"],
            "max_per_month": [2, 1, None],
        }
    )


def test_offers_canonical() -> None:
    out = validate_offers(_offers())
    assert out.index.name == "offer_id"
    assert (out["cost_per_send"] == 0.0).all()
    assert str(out["max_per_month"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"offer_id": ["d5", "d5", "pts"]}, r"offer_id must be unique; \['d5'\]"),
        ({"offer_id": ["control", "d15", "pts"]}, "reserved for the control arm"),
        (
            {"cost_per_redemption": [1.0, -2.0, 1.0]},
            r"cost_per_redemption must be >= 0; offers \['d15'\]",
        ),
        ({"kind": ["discount", "coupon", "points"]}, r"kind must be one of .*'coupon'"),
        ({"max_per_month": [-1, 1, 1]}, r"max_per_month must be >= 0 \(0 retires"),
    ],
)
def test_offers_errors(change: dict[str, list[object]], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        validate_offers(_offers().assign(**change))


def _campaigns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1],
            "offer_id": ["d5", "control", "d15", "d5"],
            "sent_at": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-03-01"],
            "redeemed_at": ["2024-01-03", None, None, None],
        }
    )


def test_campaigns_canonical() -> None:
    out = validate_campaigns(_campaigns(), offers=_offers())
    assert out["campaign_id"].tolist()[:3] == ["2024-01-01"] * 3
    assert out["redeemed"].tolist() == [True, False, False, False]
    assert out["sent_at"].dtype == "datetime64[ns]"


def test_campaign_errors() -> None:
    with pytest.raises(SchemaError, match=r"not in the offers catalog .*'d99'"):
        validate_campaigns(
            _campaigns().assign(offer_id=["d99", "control", "d5", "d5"]), offers=_offers()
        )
    with pytest.raises(SchemaError, match="more than once in a campaign"):
        validate_campaigns(_campaigns().assign(sent_at="2024-01-01"))
    with pytest.raises(SchemaError, match="redeemed before they were sent"):
        validate_campaigns(_campaigns().assign(redeemed_at=["2023-12-01", None, None, None]))
    with pytest.raises(SchemaError, match="control row"):
        validate_campaigns(_campaigns().assign(redeemed_at=[None, "2024-01-02", None, None]))


def test_offers_cap_past_int64_is_named_as_too_large() -> None:
    """max_per_month=1e20 wrapped negative and was refused as 'must be >= 1'."""
    from loyalty_ml.schema import validate_offers

    offers = pd.DataFrame(
        {"offer_id": ["a"], "cost_per_redemption": [1.0], "max_per_month": [1e20]}
    )
    with pytest.raises(SchemaError, match=r"max_per_month has numbers beyond the int64 range"):
        validate_offers(offers)


@pytest.mark.parametrize("column", ["customer_id", "consent_marketing", "signup_date"])
def test_customers_with_a_repeated_column_are_refused(column: str) -> None:
    """pd.concat(axis=1) twice over a column crashed inside pandas (AttributeError, ValueError)."""
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "consent_marketing": [True, False],
            "signup_date": ["2024-01-01"] * 2,
        }
    )
    with pytest.raises(SchemaError, match=rf"customers has repeated columns \['{column}'\]"):
        validate_customers(pd.concat([customers, customers[[column]]], axis=1))


@pytest.mark.parametrize("column", ["customer_id", "offer_id", "sent_at"])
def test_campaigns_with_a_repeated_column_are_refused(column: str) -> None:
    from loyalty_ml.schema import validate_campaigns

    sends = pd.DataFrame(
        {"customer_id": [1, 2], "offer_id": ["a", "control"], "sent_at": ["2024-01-01"] * 2}
    )
    with pytest.raises(SchemaError, match=rf"campaigns has repeated columns \['{column}'\]"):
        validate_campaigns(pd.concat([sends, sends[[column]]], axis=1))


@pytest.mark.parametrize("value", ["yes", pd.NA, 1])
def test_missing_consent_must_be_a_bool(value: object) -> None:
    """'yes' crashed in pandas' boolean fillna; NA in bool()."""
    customers = pd.DataFrame({"customer_id": [1, 2], "consent_marketing": [True, None]})
    with pytest.raises(ConfigError, match="'missing_consent' parameter of validate_customers"):
        validate_customers(customers, missing_consent=value)  # type: ignore[arg-type]
    out = validate_customers(customers, missing_consent=np.True_)  # type: ignore[arg-type]
    assert out["consent_marketing"].tolist() == [True, True]


def test_missing_redeemed_flags_are_filled_from_the_redemption_time_and_counted() -> None:
    """Session 42: a missing flag became False in silence, even next to a redemption time, and
    the campaign features then dropped that redemption."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.schema import validate_campaigns

    raw = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "offer_id": ["d10"] * 4,
            "sent_at": pd.Timestamp("2024-01-01"),
            "redeemed": [None, False, True, None],
            "redeemed_at": [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-06"), None, None],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = validate_campaigns(raw)
    messages = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert any("missing on 2 row(s)" in m and "(1), else" in m for m in messages), messages
    assert any("1 row(s) have redeemed=False and a redeemed_at" in m for m in messages), messages
    assert out.set_index("customer_id")["redeemed"].to_dict() == {
        1: True,
        2: False,
        3: True,
        4: False,
    }


def test_customers_repeated_exactly_are_kept_once_with_a_warning() -> None:
    """An extract appended twice was refused ("must be unique") while validate_transactions and
    validate_campaigns keep one of exact repeats; a repeated id with other values still is."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning

    raw = _customers()
    with pytest.warns(DataQualityWarning, match="2 rows repeat another row exactly"):
        out = validate_customers(
            pd.concat([raw, raw.iloc[:2]]), columns=ColumnMap(customer_id="cid")
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        once = validate_customers(raw, columns=ColumnMap(customer_id="cid"))
    pd.testing.assert_frame_equal(out, once, check_like=True)
    with pytest.raises(SchemaError, match="must be unique"):
        validate_customers(
            pd.concat([raw, raw.iloc[:1].assign(cid=2)]), columns=ColumnMap(customer_id="cid")
        )
