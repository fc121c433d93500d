from __future__ import annotations

import pandas as pd
import pytest

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.privacy import (
    check_no_personal_data,
    is_protected_attribute,
    personal_data_columns,
    select_needed_columns,
)


def test_protected_attributes_and_their_encodings() -> None:
    assert is_protected_attribute("gender")
    assert is_protected_attribute("Age_Band_18-29")
    assert is_protected_attribute("income_band=high")
    assert not is_protected_attribute("region")
    assert not is_protected_attribute("gendered_products_share")
    assert not is_protected_attribute("HOMEOWNER_DESC")
    assert not is_protected_attribute("age_of_account_days")


def test_personal_data_columns() -> None:
    columns = ["customer_email", "Phone Number", "gender", "frequency"]
    assert personal_data_columns(columns) == ["customer_email", "Phone Number", "gender"]
    assert personal_data_columns(columns, protected=False) == ["customer_email", "Phone Number"]


def test_clean_features_pass() -> None:
    check_no_personal_data(pd.DataFrame({"recency_days": [1], "frequency": [2]}))


def test_personal_data_is_always_refused() -> None:
    with pytest.raises(SchemaError, match=r"personal data \['postcode'\]"):
        check_no_personal_data(["postcode", "frequency"], allow_protected=True)


def test_protected_attributes_need_an_explicit_opt_in() -> None:
    with pytest.raises(
        SchemaError,
        match=r"features must not hold protected attributes \['gender_F'\].*allow_protected=True",
    ):
        check_no_personal_data(["gender_F", "frequency"])
    check_no_personal_data(["gender_F", "frequency"], allow_protected=True)


def test_select_needed_columns_keeps_only_those() -> None:
    frame = pd.DataFrame(
        {"tier": ["gold"], "email": ["a@x"], "region": ["N"]},
        index=pd.Index([7], name="customer_id"),
    )
    out = select_needed_columns(frame, ["region", "tier", "region"])
    assert out.columns.tolist() == ["region", "tier"]
    assert out.index.tolist() == [7]
    out.loc[7, "tier"] = "silver"
    assert frame.loc[7, "tier"] == "gold"  # a copy
    with pytest.raises(
        SchemaError,
        match=r"customers lacks needed column\(s\) \['points'\]; it has \['tier', 'email', 'region'\]",
    ):
        select_needed_columns(frame, ["tier", "points"])


def test_other_spellings_of_personal_data_and_protected_attributes_are_caught() -> None:
    # Straße (lower() keeps the ß), social_security_number, MobileNo, CellNumber and addr were
    # kept by validate_customers; Gender or gender_code became features without the opt-in
    import warnings

    from loyalty_ml.exceptions import ConfigError, DataQualityWarning
    from loyalty_ml.features import FeatureConfig
    from loyalty_ml.schema import validate_campaigns, validate_customers
    from loyalty_ml.schema.tables import looks_like_personal_data

    names = ["Straße", "social_security_number", "MobileNo", "CellNumber", "addr"]
    assert all(looks_like_personal_data(n) for n in names)
    raw = pd.DataFrame({"customer_id": [1], **{n: ["x"] for n in names}, "tier": ["gold"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(validate_customers(raw).columns) == ["tier"]
    # dunnhumby's hh_demographic bands (AGE_DESC, INCOME_DESC) became features without the opt-in
    for spelling in ("Gender", "gender_code", "sex", "Age", "AGE_DESC", "INCOME_DESC", "age_group"):
        assert is_protected_attribute(spelling)
        with pytest.raises(ConfigError, match="protected attributes"):
            FeatureConfig(extra_attributes=(spelling,))
    sends = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["coupon", "control"],
            "sent_at": pd.to_datetime(["2024-01-01", "2024-01-01"]),
            "email": ["a@b.c", "d@e.f"],
            "campaign_email_to": ["a@b.c", "d@e.f"],
            "customer_name": ["Ann", "Bob"],
            "campaign_name": ["spring", "spring"],
            "segment_name": ["lapsing", "lapsing"],  # names a thing, read by measure_campaign(by=)
        }
    )
    with pytest.warns(DataQualityWarning, match=r"dropped columns .*'email', 'campaign_email_to'"):
        kept = validate_campaigns(sends)
    assert not {"email", "campaign_email_to", "customer_name"} & set(kept.columns)
    assert {"campaign_name", "segment_name"} <= set(kept.columns)
