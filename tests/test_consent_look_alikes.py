"""Consent answers under a shop's or a CRM's own column name are refused, not read as "consent
managed upstream" (which would offer, or profile, every customer who said no)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import SchemaError
from loyalty_ml.privacy.consent import split_by_consent
from loyalty_ml.schema._consent_names import consent_look_alikes, reads_as_refusal

MARKETING_NAMES = [
    "Accepts Email Marketing",  # Shopify's customer export
    "AcceptsMarketing",
    "email_opt_in",
    "OptIn",
    "marketing_opt_in",
    "sms_opt_in_flag",
    "opted_out",
    "unsubscribed",
    "is_subscribed",
    "newsletter",
    "do_not_contact",
    "DNC",
    "marketing_allowed",
    "email_permission",
    "can_contact",
    "contactable",
    "gdpr_consent",
    "Marketing Consent",
]
ATTRIBUTES = [
    "tier",
    "n_contactable",
    "subscription_tier",
    "subscription_plan",
    "newsletter_opens",
    "marketing_channel",
    "contact_count",
    "last_contact_date",
    "accepts_returns",
    "email_opens",
    "preferred_channel",
]


@pytest.mark.parametrize("name", MARKETING_NAMES)
def test_a_marketing_answer_under_another_name_is_found(name: str) -> None:
    assert consent_look_alikes(["tier", name], "consent_marketing") == [name]


@pytest.mark.parametrize("name", ATTRIBUTES)
def test_attributes_that_share_a_word_are_not(name: str) -> None:
    assert consent_look_alikes([name], "consent_marketing") == []
    assert consent_look_alikes([name], "consent_profiling") == []


@pytest.mark.parametrize("name", ["analytics_opt_in", "personalisation_consent", "allow_tracking"])
def test_a_profiling_answer_under_another_name_is_found(name: str) -> None:
    assert consent_look_alikes([name, "tracking_events"], "consent_profiling") == [name]


def test_refusals_are_told_apart_from_agreements() -> None:
    refusals = ["opted_out", "unsubscribed", "do_not_contact", "DNC"]
    assert all(reads_as_refusal(n) for n in refusals)
    assert not any(reads_as_refusal(n) for n in set(MARKETING_NAMES) - set(refusals))


def _shop_customers(column: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [1, 2, 3], "tier": ["a", "b", "a"], column: ["yes", "no", "no"]}
    )


def test_validate_customers_refuses_an_unmapped_answer_before_it_drops_personal_data() -> None:
    # "Accepts Email Marketing" holds "email": it was dropped as personal data, the table then had
    # no flag, and every job read consent as managed upstream, offering the two who said no
    raw = _shop_customers("Accepts Email Marketing")
    with pytest.raises(
        SchemaError, match=r"no 'consent_marketing' column but has \['Accepts Email"
    ):
        lml.validate_customers(raw)
    mapped = lml.validate_customers(
        raw, columns=lml.ColumnMap(consent_marketing="Accepts Email Marketing")
    )
    assert mapped["consent_marketing"].tolist() == [True, False, False]
    # dropped, it is consent managed upstream, by the user's choice
    assert "consent_marketing" not in lml.validate_customers(
        raw.drop(columns="Accepts Email Marketing")
    )


def test_a_refusal_flag_is_told_to_be_negated() -> None:
    with pytest.raises(
        SchemaError, match=r"customers\['consent_marketing'\] = ~customers\['DNC'\]"
    ):
        lml.validate_customers(_shop_customers("DNC"))


def test_the_jobs_consent_split_refuses_it_on_a_raw_table() -> None:
    raw = _shop_customers("email_opt_in").set_index("customer_id")
    with pytest.raises(
        SchemaError,
        match=r"consent check: customers has no 'consent_marketing' column but has \['email",
    ):
        split_by_consent(raw.assign(consent_profiling=True), assume_consent_when_absent=True)


def test_with_the_flag_present_other_answers_are_left_alone() -> None:
    raw = _shop_customers("newsletter").assign(consent_marketing=[True, True, False])
    out = lml.validate_customers(raw)
    assert out["consent_marketing"].tolist() == [True, True, False]
    assert "newsletter" in out.columns


def test_a_flag_in_the_sources_own_words_says_how_to_map_it() -> None:
    raw = pd.DataFrame({"customer_id": [1, 2, 3], "consent_marketing": ["opt-in", "opt-out", "Y"]})
    with pytest.raises(
        SchemaError,
        match=r"\['opt-in', 'opt-out'\]\) are not guessed: .*map\(\{'opt-in': True or False",
    ):
        lml.validate_customers(raw)


def test_a_consent_flag_with_no_value_at_all_warns() -> None:
    # a broken export: every flag empty reads as no consent, and nobody was scored, in silence
    raw = pd.DataFrame(
        {"customer_id": [1, 2, 3], "consent_profiling": [None] * 3, "consent_marketing": True}
    )
    with pytest.warns(
        lml.DataQualityWarning, match=r"consent_profiling has no value on any of its 3"
    ):
        validated = lml.validate_customers(raw)
    assert not validated["consent_profiling"].any()
    with pytest.warns(
        lml.DataQualityWarning, match=r"consent_profiling has no value on any of its 3"
    ):
        split = split_by_consent(raw.set_index("customer_id"))
    assert len(split.profiling_allowed) == 0 and len(split.marketing_allowed) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for: missing reads as consent
        lml.validate_customers(raw, missing_consent=True)
        # some values missing: counted in the cleaning report, as before
        lml.validate_customers(raw.assign(consent_profiling=[True, None, None]))
